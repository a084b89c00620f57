"""Rate limits of the REST API (spec §5, profiles/ratelimit.py): per client address, reported
on every /v3/ answer, shared by every worker and node (Redis; the database without it), and
failing open, bounded and logged, when the Redis store freezes."""

from __future__ import annotations

import http.client
import json
import logging
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
import redis

from avatars.responses import edge_cache_control
from profiles import ratelimit
from profiles.models import RateCounter
from tests.avatars.test_resolution import RedisServer, until
from tests.postgres import AppProcess, app_env, manage

pytestmark = pytest.mark.django_db

UNKNOWN = "fedcba9876543210" * 4


@pytest.fixture(params=["database", "redis"])
def store(request, settings) -> Iterator[str]:
    """Each test runs against both stores: the database (no REDIS_URL, the embedded default)
    and a Redis of the test's own."""
    settings.API_RATE_LIMIT = 3
    if request.param == "database":
        settings.REDIS_URL = ""
        yield request.param
        return
    server = RedisServer()
    settings.REDIS_URL = server.url
    try:
        yield request.param
    finally:
        server.stop()


def limits(response) -> tuple[int, int, int]:
    return (
        int(response["X-RateLimit-Limit"]),
        int(response["X-RateLimit-Remaining"]),
        int(response["X-RateLimit-Reset"]),
    )


def test_every_answer_reports_the_limit_until_it_refuses(client, store):
    window = 3600
    reset = (int(time.time()) // window + 1) * window
    seen = []
    for _ in range(3):
        response = client.get(f"/v3/profiles/{UNKNOWN}")
        assert response.status_code == 404
        seen.append(limits(response))
    assert seen == [(3, 2, reset), (3, 1, reset), (3, 0, reset)]
    refused = client.get(f"/v3/profiles/{UNKNOWN}")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    assert json.loads(refused.content) == {
        "error": "Rate limit exceeded",
        "code": "rate_limit_exceeded",
    }
    assert limits(refused) == (3, 0, reset)
    assert 0 < int(refused["Retry-After"]) <= window
    assert refused["Cache-Control"] == "no-store"
    assert refused["Access-Control-Allow-Origin"] == "*"
    assert "X-RateLimit-Remaining" in refused["Access-Control-Expose-Headers"]


def test_each_client_address_has_its_own_count(client, store):
    for _ in range(3):
        client.get("/v3/profiles/alice", REMOTE_ADDR="192.0.2.1")
    assert client.get("/v3/profiles/alice", REMOTE_ADDR="192.0.2.1").status_code == 429
    assert client.get("/v3/profiles/alice", REMOTE_ADDR="192.0.2.2").status_code == 404


def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, store, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    forwarded = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    for _ in range(3):
        client.get("/v3/profiles/alice", **forwarded)
    assert client.get("/v3/profiles/alice", **forwarded).status_code == 429
    # The proxy's own address was not counted; an untrusted sender cannot pick an address.
    assert client.get("/v3/profiles/alice", REMOTE_ADDR="127.0.0.1").status_code == 404
    spoofed = {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "10.9.9.9"}
    for _ in range(3):
        client.get("/v3/profiles/alice", **spoofed)
    assert client.get("/v3/profiles/alice", REMOTE_ADDR="203.0.113.9").status_code == 429


def test_every_v3_path_counts_and_reports(client, store):
    for path in ("/v3/openapi", "/v3/openapi.json", "/v3/nothing-here", "/api/v3/profiles/x"):
        response = client.get(path)
        assert "X-RateLimit-Remaining" in response, path
    assert client.get("/v3/profiles/alice").status_code == 429


def test_the_legacy_formats_and_the_page_are_never_limited(client, store):
    for _ in range(5):
        for path in ("/alice", "/alice.json", f"/{UNKNOWN}.qr", "/avatar/" + UNKNOWN):
            response = client.get(path)
            assert response.status_code in {200, 404}, path
            assert "X-RateLimit-Limit" not in response


def test_a_new_window_starts_from_zero(store):
    window = 3600
    start = 1_800_000_000 // window * window
    for expected in (2, 1, 0):
        assert ratelimit.quota_take(client="192.0.2.5", now=start + 10).remaining == expected
    assert ratelimit.quota_take(client="192.0.2.5", now=start + 10).exceeded
    fresh = ratelimit.quota_take(client="192.0.2.5", now=start + window + 1)
    assert (fresh.remaining, fresh.exceeded, fresh.reset) == (2, False, start + 2 * window)


def test_the_database_keeps_only_the_current_windows_rows(settings):
    settings.REDIS_URL = ""
    ratelimit._pruned.clear()
    for number in range(5):
        ratelimit.quota_take(client=f"192.0.2.{number}", now=1_800_000_000)
    assert RateCounter.objects.count() == 5
    ratelimit.quota_take(client="192.0.2.200", now=1_800_000_000 + 3600)
    assert list(RateCounter.objects.values_list("client", flat=True)) == ["192.0.2.200"]


def test_a_frozen_redis_fails_open_within_its_timeout_and_says_so(
    client, settings, frozen_listener, caplog, monkeypatch
):
    """Served, reported as uncounted, one log line; later requests skip the store until
    STORE_RETRY_SECONDS have passed, so a frozen Redis costs one timeout, not one per request."""
    settings.API_RATE_LIMIT = 3
    settings.REDIS_TIMEOUT_MS = 200
    settings.REDIS_URL = f"redis://127.0.0.1:{frozen_listener.getsockname()[1]}/0"
    asked = []
    real_send = ratelimit._Redis._send

    def send_counted(self, *args, **kwargs):
        asked.append(1)
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(ratelimit._Redis, "_send", send_counted)
    with caplog.at_level(logging.WARNING, logger="profiles.ratelimit"):
        started = time.monotonic()
        first = client.get(f"/v3/profiles/{UNKNOWN}")
        first_took = time.monotonic() - started
        later = [client.get(f"/v3/profiles/{UNKNOWN}") for _ in range(5)]
    assert first.status_code == 404 and all(r.status_code == 404 for r in later)
    assert first_took < 2 * 0.2 + 1.0
    assert len(asked) == 1, "the store was asked again while known to be down"
    assert limits(first)[:2] == (3, 3)  # not counted
    assert first["Cache-Control"] == edge_cache_control()
    lines = [r for r in caplog.records if r.name == "profiles.ratelimit"]
    assert len(lines) == 1 and "not counted" in lines[0].getMessage()
    # Once the interval is over, the store is tried again (and, still frozen, skipped again).
    ratelimit._store(settings.REDIS_URL).breaker.down_until = 0.0
    client.get(f"/v3/profiles/{UNKNOWN}")
    assert len(asked) == 2


# Shared by every worker and node ----------------------------------------------------------


def _get(app: AppProcess, path: str) -> tuple[int, int]:
    """On a new connection each time, so that requests spread over the workers."""
    connection = http.client.HTTPConnection("127.0.0.1", app.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status, int(response.getheader("X-RateLimit-Remaining") or -1)
    finally:
        connection.close()


@pytest.fixture
def app_database(tmp_path: Path) -> dict[str, str]:
    """The embedded default: a migrated SQLite file, no Redis, a generous limit of 6."""
    env = app_env(
        VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        API_RATE_LIMIT="6",
    )
    manage(env, "migrate", "--noinput", "-v0")
    return env


def test_two_workers_share_the_embedded_defaults_count(app_database, tmp_path):
    app = AppProcess(app_database, tmp_path / "app.log", workers=2).start()
    try:
        answers = [_get(app, f"/v3/profiles/{UNKNOWN}") for _ in range(7)]
    finally:
        app.stop()
    assert answers == [(404, 5), (404, 4), (404, 3), (404, 2), (404, 1), (404, 0), (429, 0)]


def test_two_nodes_share_the_count_through_redis(app_database, tmp_path):
    """A client's first request on a node waits for Redis; later ones are counted on the node
    and sent in the background, so each node learns the other's hits with its own next
    reply: alternating between two nodes, one request gets past the limit (the N - 1 of
    profiles/ratelimit.py), never more, and then both refuse."""
    server = RedisServer()
    env = {**app_database, "REDIS_URL": server.url}
    nodes = [AppProcess(env, tmp_path / f"node{n}.log", workers=1).start() for n in (1, 2)]
    store = redis.Redis(host="127.0.0.1", port=server.port, db=3, socket_timeout=2)
    try:
        answers = []
        for number in range(10):
            answers.append(_get(nodes[number % 2], f"/v3/profiles/{UNKNOWN}")[0])
            # Each node's background batch reaches Redis before the next request.
            until(partial(_counted_is, store, number + 1), "the hit was sent to Redis")
    finally:
        for node in nodes:
            node.stop()
        server.stop()
    assert answers == [404] * 7 + [429] * 3


def _counted(store: redis.Redis) -> int:
    """Every hit this test's own Redis holds (one client, one window): what was sent, under
    whichever prefix (the app processes use the real one, this process the test's)."""
    keys = store.keys("ratelimit:*")
    assert isinstance(keys, list)  # the synchronous client's reply
    values = store.mget(keys) if keys else []
    assert isinstance(values, list)
    return sum(int(value) for value in values)


def _counted_is(store: redis.Redis, expected: int) -> bool:
    return _counted(store) == expected


def test_a_hot_client_costs_no_round_trip(settings, monkeypatch):
    """After its first request in a process, a client's hits are counted here and sent in
    batches: the answers stay exact in one process, and Redis ends with every hit."""
    server = RedisServer()
    settings.REDIS_URL = server.url
    settings.API_RATE_LIMIT = 1000
    sent = []
    real_send = ratelimit._Redis._send

    def send_counted(self, batch, *args, **kwargs):
        sent.append(sum(batch.values()))
        return real_send(self, batch, *args, **kwargs)

    monkeypatch.setattr(ratelimit._Redis, "_send", send_counted)
    try:
        remaining = [ratelimit.quota_take(client="192.0.2.77").remaining for _ in range(200)]
        assert remaining == list(range(999, 799, -1))
        store = redis.Redis(host="127.0.0.1", port=server.port, db=3, socket_timeout=2)
        until(partial(_counted_is, store, 200), "every hit reached Redis")
        assert len(sent) < 50, f"{len(sent)} round trips for 200 hits"
    finally:
        server.stop()
