"""Grace and the director: cached avatars outlive the app servers, a dead app server is routed
around, and stale objects are refreshed in the background.

Each test gets its own varnishd in front of two app servers, since it kills some of them.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

import pytest
from pytest_django.live_server_helper import LiveServer

from avatars import services
from tests.conftest import image_bytes, require_binary
from tests.personas import Personas, make_personas
from tests.varnish.conftest import Edge, address_of, close_to, colour_of, start_app_server
from tests.varnish.harness import Varnish

pytestmark = pytest.mark.varnish

ALICE_BLUE = (20, 120, 220)
RED = (220, 30, 30)
NOBODY = hashlib.md5(b"nobody@example.com", usedforsecurity=False).hexdigest()


class Cluster(Edge):
    """Two app servers behind one varnishd; `kill` stops one from answering for good."""

    def __init__(self, varnish: Varnish, apps: list[LiveServer]) -> None:
        super().__init__(varnish, apps)
        self.alive = list(apps)

    def kill(self, number: int) -> None:
        app = self.apps[number - 1]
        if app in self.alive:
            # Only the listening socket: the database connection it shares with the test
            # (in-memory SQLite) is released after Varnish stops sending requests.
            app.thread.terminate()
            self.alive.remove(app)


@pytest.fixture
def cluster(
    django_db_setup, django_db_blocker, tmp_path, settings, transactional_db
) -> Iterator[Cluster]:
    require_binary("varnishd")
    apps = [start_app_server(django_db_blocker) for _ in range(2)]
    cluster = Cluster(Varnish(tmp_path, [address_of(app) for app in apps]), apps)
    try:
        cluster.varnish.start()
        settings.VARNISH_NODES = [cluster.varnish.url]
        yield cluster
    finally:
        cluster.varnish.stop()
        for app in apps:
            app.stop()


@pytest.fixture
def people(cluster) -> Personas:
    return make_personas()


def test_cached_avatars_are_served_stale_while_every_app_server_is_down(
    cluster: Cluster, people, settings
):
    # A one-second TTL so the test need not wait a week; stale-if-error keeps its week.
    settings.AVATAR_SHARED_MAX_AGE = 1
    settings.AVATAR_STALE_WHILE_REVALIDATE = 0
    path = f"/avatar/{people.alice_address.md5}"
    assert cluster.get(path).cache == "MISS"

    cluster.kill(1)
    cluster.kill(2)
    time.sleep(1.2)
    # Expired, the probes not yet aware: the refetch fails and the stale copy is served.
    before_probes = cluster.get(path)
    cluster.varnish.wait_for_health("app1", "sick")
    cluster.varnish.wait_for_health("app2", "sick")
    after_probes = cluster.get(path)
    never_cached = cluster.get(f"/avatar/{NOBODY}")

    for response in (before_probes, after_probes):
        assert (response.status, response.cache) == (200, "HIT-STALE")
        assert close_to(colour_of(response), ALICE_BLUE)
    assert never_cached.status == 503


def test_a_stale_object_is_served_at_once_and_refreshed_in_the_background(
    cluster: Cluster, people, settings
):
    settings.AVATAR_SHARED_MAX_AGE = 1
    settings.AVATAR_STALE_WHILE_REVALIDATE = 60
    path = f"/avatar/{people.alice_address.md5}"
    assert cluster.get(path).cache == "MISS"
    # A change the edge is not told about (no purge), so only expiry can reveal it.
    settings.VARNISH_NODES = []
    services.avatar_upload(
        owner=people.alice,
        data=image_bytes((300, 300), RED),
        choices=services.UploadChoices(),
        addresses=[people.alice_address],
    )
    time.sleep(1.2)

    stale = cluster.get(path)
    deadline = time.monotonic() + 5
    while not close_to(colour_of(refreshed := cluster.get(path)), RED):
        assert time.monotonic() < deadline, "never refreshed"
        time.sleep(0.05)

    assert stale.cache == "HIT-STALE" and close_to(colour_of(stale), ALICE_BLUE)
    assert refreshed.cache == "HIT"


def test_a_dead_app_server_is_routed_around(cluster: Cluster, people):
    address = people.alice_address
    # Distinct sizes: every request is a miss that needs an app server.
    sizes = iter(range(20, 2000))
    assert cluster.get(f"/avatar/{address.md5}?s={next(sizes)}").status == 200

    cluster.kill(2)
    statuses = []
    while cluster.varnish.backend_health().get("app2") != "sick":
        statuses.append(cluster.get(f"/avatar/{address.md5}?s={next(sizes)}").status)
        time.sleep(0.05)
    statuses += [cluster.get(f"/avatar/{address.md5}?s={next(sizes)}").status for _ in range(20)]

    assert statuses and set(statuses) == {200}
    assert cluster.varnish.backend_health() == {"app1": "healthy", "app2": "sick", "app": "healthy"}
