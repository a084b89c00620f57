"""A PostgreSQL that is frozen or vanishes must not hold a request: connections give up after
DATABASE_CONNECT_TIMEOUT (the outage middleware then answers 503) and carry TCP keepalives that
notice a dead peer in seconds (gravatar/settings.py, parse_database_url).

"Frozen" is a socket that completes the TCP handshake and never answers (a database host
under a kernel hang, or a proxy whose backend is gone); the app runs as `make run` runs it.
"""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Iterator

import psycopg2
import pytest

from gravatar.settings import POSTGRES_DEAD_PEER_OPTIONS, parse_database_url
from tests.postgres import AppProcess, Postgres, app_env, manage
from tests.varnish.harness import request

EMAIL_MD5 = hashlib.md5(b"someone@example.com", usedforsecurity=False).hexdigest()
DEFAULT_CONNECT_TIMEOUT = 3  # the settings' default
MARGIN = 3  # start-up of a worker's first request, rendering the 503


@pytest.fixture
def frozen_database(frozen_listener: socket.socket) -> str:
    return f"postgres://postgres@127.0.0.1:{frozen_listener.getsockname()[1]}/avatars"


def test_a_frozen_database_answers_503_within_the_connect_timeout(frozen_database, tmp_path):
    env = app_env(VAR_DIR=str(tmp_path), DATABASE_URL=frozen_database)
    manage(env, "collectstatic", "--noinput", "-v0")  # as `make run` does; needs no database
    app = AppProcess(env, tmp_path / "gunicorn.log").start()
    try:
        started = time.monotonic()
        # Without a connect timeout libpq waits for ever, until gunicorn kills the worker at 30 s.
        response = request(app.url, f"/avatar/{EMAIL_MD5}", timeout=20)
        elapsed = time.monotonic() - started
    finally:
        app.stop()

    assert response.status == 503, app.output()
    assert response.header("Cache-Control") == "no-store"
    assert elapsed < DEFAULT_CONNECT_TIMEOUT + MARGIN, f"{elapsed:.1f} s"
    assert "timeout expired" in app.output()


def test_a_connect_timeout_in_the_url_wins_over_the_default():
    options = parse_database_url(
        "postgres://db.internal/avatars?connect_timeout=10&keepalives_idle=30",
        conn_max_age=0,
        connect_timeout=DEFAULT_CONNECT_TIMEOUT,
    )["OPTIONS"]

    assert options["connect_timeout"] == "10"
    assert options["keepalives_idle"] == "30"
    assert options["keepalives_count"] == POSTGRES_DEAD_PEER_OPTIONS["keepalives_count"]


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    server = Postgres().init()
    try:
        server.start()
        yield server
    finally:
        server.remove()


def test_connections_detect_a_dead_peer_in_seconds(postgres):
    entry = parse_database_url(
        postgres.url("postgres"), conn_max_age=0, connect_timeout=DEFAULT_CONNECT_TIMEOUT
    )
    # Django passes OPTIONS to psycopg2 as they are; read what reached the kernel's socket.
    connection = psycopg2.connect(
        host=entry["HOST"], port=entry["PORT"], user=entry["USER"], dbname=entry["NAME"],
        **entry["OPTIONS"],
    )  # fmt: skip
    try:
        sock = socket.socket(fileno=socket.dup(connection.fileno()))
        try:
            seen = {
                "keepalive": sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                "idle": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
                "interval": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
                "count": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
                "user_timeout_ms": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT),
            }
        finally:
            sock.close()
    finally:
        connection.close()

    assert seen == {"keepalive": 1, "idle": 5, "interval": 2, "count": 3, "user_timeout_ms": 11000}
    # idle + interval x count: the seconds a vanished peer can hold a query.
    assert seen["idle"] + seen["interval"] * seen["count"] <= 15
