"""/edge-health, the URL a DNS or load-balancer monitor asks each Varnish node: 200 while the
node's probes see at least one app server healthy, 503 while they see none, never cached and
never sent to the app.

One varnishd in front of two app server addresses; the test brings a real app server up on
one of them and takes it down again.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_django.live_server_helper import LiveServer

from deploy.cluster import EDGE_HEALTH_PATH
from tests.conftest import require_binary
from tests.postgres import free_port
from tests.varnish.harness import Response, Varnish, request, wait_until

pytestmark = pytest.mark.varnish


@pytest.fixture
def edge_in_front_of_nothing(tmp_path) -> Iterator[tuple[Varnish, int]]:
    """Varnish in front of two addresses where nothing listens yet; the second one's port."""
    require_binary("varnishd")
    ports = [free_port(), free_port()]
    varnish = Varnish(tmp_path, [("127.0.0.1", port) for port in ports])
    try:
        varnish.start()
        yield varnish, ports[1]
    finally:
        varnish.stop()


def health(varnish: Varnish, method: str = "GET") -> Response:
    return request(varnish.url, EDGE_HEALTH_PATH, method=method)


def test_it_follows_the_probes_from_no_app_server_to_one_and_back(
    edge_in_front_of_nothing, django_db_blocker
):
    varnish, second_port = edge_in_front_of_nothing

    varnish.wait_for_health("app1", "sick")
    varnish.wait_for_health("app2", "sick")
    both_down = health(varnish)
    with django_db_blocker.unblock():
        app = LiveServer(f"127.0.0.1:{second_port}")
    try:
        varnish.wait_for_health("app2", "healthy")
        one_up = health(varnish)
        one_up_head = health(varnish, method="HEAD")
    finally:
        app.stop()

    def unavailable() -> Response | None:
        response = health(varnish)
        return response if response.status == 503 else None

    down_again = wait_until(
        unavailable, timeout=10, what="/edge-health says 503 once the last app server is gone"
    )

    assert both_down.status == 503
    assert both_down.body == b"unavailable: no app server is healthy\n"
    assert one_up.status == 200
    assert one_up.body == b"ok: an app server is healthy\n"
    assert (one_up_head.status, one_up_head.body) == (200, b"")
    for response in (both_down, one_up, down_again):
        assert response.header("Cache-Control") == "no-store"
        assert response.header("Content-Type") == "text/plain; charset=utf-8"
        assert response.cache is None  # answered by Varnish itself, not from the cache


def test_it_never_reaches_the_app_or_the_cache(edge_in_front_of_nothing, django_db_blocker):
    varnish, second_port = edge_in_front_of_nothing
    with django_db_blocker.unblock():
        app = LiveServer(f"127.0.0.1:{second_port}")
    try:
        wait_until(
            lambda: health(varnish).status == 200, timeout=10, what="an app server is healthy"
        )
        before = varnish.counters("MAIN.backend_req", "MAIN.cache_hit", "MAIN.cache_miss")
        answers = [
            request(varnish.url, f"{EDGE_HEALTH_PATH}?from=monitor").status for _ in range(5)
        ]
        after = varnish.counters("MAIN.backend_req", "MAIN.cache_hit", "MAIN.cache_miss")
    finally:
        app.stop()

    assert answers == [200] * 5
    # The probes' own requests are not backend requests; nothing else went to the app.
    assert after == before
