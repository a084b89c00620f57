"""The shared cache is a cache: with Redis frozen or gone every page and the avatar endpoint
still answer within a second, the outage is logged once, and Redis is used again when it
answers.

"Frozen" is a socket that completes the TCP handshake and never reads (as a Redis stuck in a
long command or a half-dead host looks); "gone" is a port nothing listens on; and a real
redis-server of the test's own is stopped and started again for the way back.
"""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from avatars import cache as cache_module
from avatars import renditions
from gravatar.settings import redis_cache
from tests.conftest import require_binary
from tests.personas import Personas, make_personas
from tests.postgres import free_port

pytestmark = pytest.mark.django_db

TIMEOUT_MS = 250
UNKNOWN = "0" * 32


@pytest.fixture(autouse=True)
def _bounded(request) -> Iterator[None]:
    """Without timeouts a frozen Redis hangs forever: fail the test instead."""

    def give_up(*_: object) -> None:
        raise TimeoutError("a request hung on the cache")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.setitimer(signal.ITIMER_REAL, 20)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def frozen_redis(frozen_listener: socket.socket) -> str:
    return f"redis://127.0.0.1:{frozen_listener.getsockname()[1]}/0"


@pytest.fixture
def gone_redis() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


@pytest.fixture(params=["frozen_redis", "gone_redis"])
def broken_redis(request, settings) -> str:
    url: str = request.getfixturevalue(request.param)
    settings.CACHES = {"default": redis_cache(url, timeout_ms=TIMEOUT_MS)}
    renditions.memory_cache().clear()
    return url


@pytest.fixture
def people() -> Personas:
    return make_personas()


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.monotonic()
    result = call()
    return time.monotonic() - start, result


def test_every_page_and_the_avatar_endpoint_answer_within_a_second(broken_redis, people):
    visitor, alice = Client(), Client()
    alice.force_login(people.alice)
    requests: list[tuple[str, Callable[[], object]]] = [
        ("avatar", lambda: visitor.get(f"/avatar/{people.alice_address.md5}?s=64")),
        ("default", lambda: visitor.get(f"/avatar/{UNKNOWN}?d=identicon&s=48")),
        ("home", lambda: visitor.get("/")),
        ("sign-up page", lambda: visitor.get("/signup/")),
        ("sign-up", lambda: visitor.post("/signup/", {"email": "new@example.com"})),
        ("sign-in link", lambda: visitor.post("/login/link/", {"email": "bob@example.com"})),
        ("password reset", lambda: visitor.post("/password/reset/", {"email": "x@example.com"})),
        ("login page", lambda: visitor.get("/login/")),
        # Sessions are in the database: a cache outage signs nobody out.
        ("dashboard", lambda: alice.get("/account/")),
    ]

    for name, call in requests:
        elapsed, response = timed(call)
        assert response.status_code in {200, 302}, (name, response.status_code)
        assert elapsed < 1, (name, elapsed)


def test_after_one_failure_redis_is_left_alone_for_a_while(broken_redis, caplog):
    caplog.set_level(logging.WARNING, logger="avatars.cache")

    first, _ = timed(lambda: cache.get("some-key"))
    rest, values = timed(lambda: [cache.get(f"key-{n}", "miss") for n in range(50)])
    cache.set("some-key", b"value")
    cache.delete("some-key")

    assert first < 2 * TIMEOUT_MS / 1000 + 0.2
    assert values == ["miss"] * 50
    assert rest < 0.1
    assert cache.get_many(["a", "b"]) == {}
    assert cache.add("fresh", 1) is False
    unreachable = [record for record in caplog.records if "unreachable" in record.getMessage()]
    assert len(unreachable) == 1


@pytest.fixture
def own_redis() -> Iterator[Callable[[bool], None]]:
    """A real redis-server on a free port; call it with False to stop it, True to start."""
    binary = require_binary("redis-server")
    port = free_port()
    processes: list[subprocess.Popen[bytes]] = []

    def running(up: bool) -> None:
        if up:
            process = subprocess.Popen(
                [binary, "--port", str(port), "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL,
            )
            processes.append(process)
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    return
                except OSError:
                    assert time.monotonic() < deadline, "redis-server did not start"
                    time.sleep(0.02)
        for process in processes:
            process.terminate()
            process.wait(10)
        processes.clear()

    running(True)
    running.url = f"redis://127.0.0.1:{port}/0"  # type: ignore[attr-defined]
    yield running
    running(False)


def test_redis_is_used_again_once_it_answers(own_redis, settings, caplog, monkeypatch):
    monkeypatch.setattr(cache_module, "SKIP_SECONDS", 0.2)
    settings.CACHES = {"default": redis_cache(own_redis.url, timeout_ms=TIMEOUT_MS)}
    caplog.set_level(logging.WARNING, logger="avatars.cache")
    cache.set("kept", b"yes")
    assert cache.get("kept") == b"yes"

    own_redis(False)
    during = [cache.get("kept", "miss") for _ in range(20)]
    own_redis(True)  # an empty Redis, as after a restart without persistence
    deadline = time.monotonic() + 5
    while cache.add("back", 1) is not True:
        assert time.monotonic() < deadline, "Redis never used again"
        time.sleep(0.05)

    assert during == ["miss"] * 20
    assert cache.get("back") == 1
    messages = [record.getMessage() for record in caplog.records]
    assert sum("unreachable" in message for message in messages) == 1
    assert sum("answers again" in message for message in messages) == 1
