"""`manage.py purge_worker` as it runs beside the app: a process of its own that outlives
database and Varnish outages, logging each once, and delivers what queued up once they end.

The worker runs against a PostgreSQL of the test's own (tests/postgres.py), stopped and
started under it, and a real varnishd with the shipped VCL, stopped and started too.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import require_binary
from tests.postgres import REPO, Postgres, app_env
from tests.varnish.harness import Varnish

MD5 = "0bc83cb571cd1c50ba6f3e8a78ef1346"
DATABASE_DOWN = "purge worker: database unreachable"
DATABASE_BACK = "purge worker: database reachable again"
DATABASE_STILL_DOWN = "database still unreachable"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def postgres(tmp_path_factory) -> Iterator[Postgres]:
    server = Postgres().init()
    try:
        server.start()
        server.create_migrated_database(app_env(VAR_DIR=str(tmp_path_factory.mktemp("var"))))
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="module")
def varnish(tmp_path_factory) -> Iterator[Varnish]:
    require_binary("varnishd")
    node = Varnish(tmp_path_factory.mktemp("varnish"), [("127.0.0.1", closed_port())])
    node.start()
    yield node
    node.stop()


class Worker:
    def __init__(self, postgres: Postgres, varnish: Varnish, var_dir: Path) -> None:
        self.log = var_dir / "worker.log"
        env = app_env(
            DATABASE_URL=postgres.url(),
            VARNISH_NODES=varnish.url,
            VAR_DIR=str(var_dir),
            LOG_LEVEL="DEBUG",
        )
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "purge_worker", "--interval", "0.1"],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text()

    def wait_for(self, text: str, *, count: int = 1, timeout: float = 20) -> None:
        until(lambda: self.output().count(text) >= count, timeout, f"{text!r} x{count} in log")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(15)


def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not seen within {timeout}s: {what}"
        time.sleep(0.05)


@pytest.fixture
def worker(postgres, varnish, tmp_path) -> Iterator[Worker]:
    running = Worker(postgres, varnish, tmp_path)
    yield running
    running.stop()
    # A failed test may leave them stopped; the next one needs them.
    if postgres.process is None:
        postgres.start()
    if varnish.process is None:
        varnish.start()


def queue_purge(postgres: Postgres) -> int:
    rows = postgres.execute(
        "INSERT INTO avatars_purgerequest (digests, created_at, attempts, next_attempt_at,"
        " last_error) VALUES (%s, now(), 0, now(), '') RETURNING id",
        (MD5,),
    )
    return int(str(rows[0][0]))


def delivered(postgres: Postgres, pk: int) -> bool:
    rows = postgres.execute("SELECT delivered_at FROM avatars_purgerequest WHERE id = %s", (pk,))
    return rows[0][0] is not None


def test_the_worker_outlives_a_database_outage_and_logs_it_once(postgres, worker):
    first = queue_purge(postgres)
    until(lambda: delivered(postgres, first), 20, "the first purge delivered")

    postgres.stop()
    worker.wait_for(DATABASE_DOWN)
    # It keeps trying, backing off, without another line at the default level.
    worker.wait_for(DATABASE_STILL_DOWN, count=2)
    postgres.start()
    after = queue_purge(postgres)
    until(lambda: delivered(postgres, after), 30, "the purge queued after the outage delivered")

    assert worker.process.poll() is None, worker.output()
    log = worker.output()
    assert log.count(DATABASE_DOWN) == 1
    assert log.count(DATABASE_BACK) == 1
    assert "Traceback" not in log
    assert worker.stop() == 0


def test_the_worker_outlives_a_varnish_outage_and_logs_it_once(postgres, varnish, worker):
    varnish.stop()
    pk = queue_purge(postgres)
    worker.wait_for("is not taking purges")
    worker.wait_for("still not taking purges", count=1)
    assert not delivered(postgres, pk)

    varnish.start()
    until(lambda: delivered(postgres, pk), 30, "the purge delivered once Varnish is back")

    log = worker.output()
    assert log.count("is not taking purges") == 1
    assert log.count("takes purges again") == 1
    assert worker.process.poll() is None and "Traceback" not in log
