"""A real varnishd with deploy/varnish/default.vcl in front of the real app.

The app runs in Django's live server threads inside the test process, so it reads the test
database (SQLite or PostgreSQL) and each test's settings. One varnishd per module (its VCL
compiles with gcc at every start); each test starts with an empty cache.
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from PIL import Image
from pytest_django.live_server_helper import LiveServer

from tests.conftest import require_binary
from tests.varnish.harness import Response, Varnish, request

# Seconds from the start of each change to the first response through Varnish showing it.
CHANGE_LATENCIES: list[float] = []


@dataclass
class Edge:
    varnish: Varnish
    apps: list[LiveServer]

    def get(self, path: str, headers: dict[str, str] | None = None, **kwargs) -> Response:
        return request(self.varnish.url, path, headers=headers, **kwargs)

    def direct(self, path: str, headers: dict[str, str] | None = None, **kwargs) -> Response:
        """The same request straight to the (first) app server, bypassing Varnish."""
        return request(self.apps[0].url, path, headers=headers, **kwargs)


def start_app_server(django_db_blocker) -> LiveServer:
    with django_db_blocker.unblock():
        return LiveServer("127.0.0.1:0")


def address_of(server: LiveServer) -> tuple[str, int]:
    return ("127.0.0.1", server.thread.port)


@pytest.fixture(scope="module")
def edge(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Edge]:
    require_binary("varnishd")
    app = start_app_server(django_db_blocker)
    varnish = Varnish(tmp_path_factory.mktemp("varnish"), [address_of(app)])
    try:
        varnish.start()
        yield Edge(varnish, [app])
    finally:
        varnish.stop()
        app.stop()


@pytest.fixture
def fresh_edge(edge: Edge, settings, transactional_db) -> Edge:
    """The module's Varnish, emptied, with the app purging it."""
    edge.varnish.forget_everything()
    settings.VARNISH_NODES = [edge.varnish.url]
    return edge


def colour_of(response: Response) -> tuple[int, int, int]:
    """The colour at the centre of the image in the response."""
    assert response.status == 200, (response.status, response.body[:200])
    image = Image.open(io.BytesIO(response.body)).convert("RGB")
    pixel = image.getpixel((image.width // 2, image.height // 2))
    assert isinstance(pixel, tuple)
    return (int(pixel[0]), int(pixel[1]), int(pixel[2]))


def close_to(actual: tuple[int, int, int], expected: tuple[int, int, int], tolerance=12) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def measure_until(check: Callable[[], bool], *, since: float, timeout: float = 5) -> float:
    """Seconds from `since` until `check()` holds, recorded for the change-latency summary."""
    while not check():
        if time.monotonic() - since > timeout:
            raise AssertionError(f"not visible through Varnish after {timeout}s")
        time.sleep(0.02)
    elapsed = time.monotonic() - since
    CHANGE_LATENCIES.append(elapsed)
    return elapsed


def pytest_terminal_summary(terminalreporter) -> None:
    if not CHANGE_LATENCIES:
        return
    ordered = sorted(CHANGE_LATENCIES)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    terminalreporter.write_line(
        f"Changes visible through Varnish: n={len(ordered)}, "
        f"median {statistics.median(ordered) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms"
    )
