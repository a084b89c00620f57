"""Grace and the director: cached avatars outlive the app servers, a dead app server is routed
around, and stale objects are refreshed in the background.

Each test gets its own varnishd in front of two app servers, since it kills some of them.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
from collections.abc import Iterator

import pytest
from pytest_django.live_server_helper import LiveServer

from avatars import services
from tests.conftest import image_bytes, require_binary
from tests.personas import Personas, make_personas
from tests.varnish.conftest import Edge, address_of, close_to, colour_of, start_app_server
from tests.varnish.harness import Response, Varnish, wait_until

pytestmark = pytest.mark.varnish

ALICE_BLUE = (20, 120, 220)
RED = (220, 30, 30)
NOBODY = hashlib.md5(b"nobody@example.com", usedforsecurity=False).hexdigest()


class Cluster(Edge):
    """Two app servers behind one varnishd; `kill` stops one from answering for good."""

    def __init__(self, varnish: Varnish, apps: list[LiveServer]) -> None:
        super().__init__(varnish, apps)
        self.alive = list(apps)
        self.accepted: list[list[socket.socket]] = []
        for app in apps:
            # Varnish keeps backend connections open, and the live server's handler threads
            # outlive its listening socket; the sockets are recorded so `kill` can close them.
            accepted: list[socket.socket] = []
            self.accepted.append(accepted)
            httpd = app.thread.httpd
            serve = httpd.process_request

            def recording(request, client_address, serve=serve, accepted=accepted):
                accepted.append(request)
                serve(request, client_address)

            httpd.process_request = recording  # type: ignore[method-assign]

    def kill(self, number: int) -> None:
        app = self.apps[number - 1]
        if app in self.alive:
            app.thread.terminate()
            for connection in self.accepted[number - 1]:
                with contextlib.suppress(OSError):  # already closed by its handler
                    connection.shutdown(socket.SHUT_RDWR)
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


def first_stale(cluster: Cluster, path: str) -> Response:
    """The first response once the one-second TTL has run out (fresh HITs until then)."""

    def expired() -> Response | None:
        response = cluster.get(path)
        return None if response.cache == "HIT" else response

    return wait_until(expired, timeout=5, what=f"the cached {path} expires")


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
    # Expired, the probes not yet aware: the refetch fails and the stale copy is served.
    before_probes = first_stale(cluster, path)
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

    stale = first_stale(cluster, path)

    def refreshed() -> Response | None:
        response = cluster.get(path)
        return response if close_to(colour_of(response), RED) else None

    fresh = wait_until(refreshed, timeout=5, what="the background fetch brings the new image")

    assert stale.cache == "HIT-STALE" and close_to(colour_of(stale), ALICE_BLUE)
    assert fresh.cache == "HIT"


def test_a_dead_app_server_is_routed_around(cluster: Cluster, people):
    address = people.alice_address
    # Distinct sizes: every request is a miss that needs an app server.
    sizes = iter(range(20, 2000))
    assert cluster.get(f"/avatar/{address.md5}?s={next(sizes)}").status == 200

    cluster.kill(2)
    statuses = []

    def app2_marked_sick() -> bool:
        statuses.append(cluster.get(f"/avatar/{address.md5}?s={next(sizes)}").status)
        return cluster.varnish.backend_health().get("app2") == "sick"

    wait_until(app2_marked_sick, timeout=15, what="the probe marks the killed app2 sick")
    statuses += [cluster.get(f"/avatar/{address.md5}?s={next(sizes)}").status for _ in range(20)]

    assert statuses and set(statuses) == {200}
    assert cluster.varnish.backend_health() == {"app1": "healthy", "app2": "sick", "app": "healthy"}
