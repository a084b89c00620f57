"""A PostgreSQL of the test's own, on a free port, that a test may stop and start again.

The machine's PostgreSQL is shared and must never be stopped, so outage tests run their own:
`initdb` into a temporary folder and `postgres` in the foreground of a child process, as the
`postgres` user when the tests run as root (PostgreSQL refuses to run as root). Data stays on
disk between `stop()` and `start()`, like a database server restarting.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

from tests.processes import process_stop

REPO = Path(__file__).resolve().parent.parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_postgres() -> dict[str, object]:
    """Popen arguments that run the child as the postgres user when we are root."""
    if os.geteuid() != 0:
        return {}
    return {"user": "postgres", "group": "postgres", "extra_groups": []}


@dataclass
class Postgres:
    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="avatars-pg-")))
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "avatars") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> Postgres:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        subprocess.run(
            [
                *(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres"),
                *("-A", "trust", "--no-sync", "--no-instructions"),
            ],
            check=True,
            capture_output=True,
            cwd=self.root,
            **_as_postgres(),  # type: ignore[call-overload]
        )
        return self

    def start(self, timeout: float = 30) -> None:
        log = (self.root / "postgres.log").open("ab")
        self.process = subprocess.Popen(
            [
                *(str(PG_BIN / "postgres"), "-D", str(self.data), "-p", str(self.port)),
                *("-c", "listen_addresses=127.0.0.1", "-k", str(self.root), "-c", "fsync=off"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.root,
            **_as_postgres(),  # type: ignore[call-overload]
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg2.connect(self.url("postgres"), connect_timeout=1).close()
                return
            except psycopg2.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "postgres did not start: " + (self.root / "postgres.log").read_text()
                    ) from None
                time.sleep(0.05)

    def stop(self) -> None:
        """A fast shutdown: open connections are cut, as when a database server goes away."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(2)  # SIGINT: PostgreSQL's fast shutdown
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def execute(
        self, sql: str, params: tuple[object, ...] = (), database: str = "avatars"
    ) -> list[tuple[object, ...]]:
        connection = psycopg2.connect(self.url(database), connect_timeout=5)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()

    def create_migrated_database(self, env: dict[str, str]) -> None:
        """The `avatars` database with every migration applied, as `make run` leaves it."""
        self.execute("CREATE DATABASE avatars", database="postgres")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=REPO,
            env={**env, "DATABASE_URL": self.url()},
            check=True,
            capture_output=True,
            timeout=120,
        )


def shared_database_url() -> str:
    """The test database, for server processes of the test's own; they need its committed
    rows. Only PostgreSQL can be shared: SQLite's test database lives in this process."""
    import pytest
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("server processes cannot share an in-memory SQLite test database")
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def app_env(**extra: str) -> dict[str, str]:
    """The environment for a child process of the app: this one's, minus what the tests set
    for themselves (their database, Redis, Varnish), plus `extra`."""
    drop = {
        "DATABASE_URL",
        "REDIS_URL",
        "VARNISH_NODES",
        "SITE_URL",
        "VAR_DIR",
        "DJANGO_SETTINGS_MODULE",
        # What tells the settings that a test run is importing them (they then ignore a
        # run.env); a child is the app, and reads the run.env of its VAR_DIR as the app does.
        "PYTEST_VERSION",
        "AVATARS_IGNORE_RUN_ENV",
    }
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **extra}


@dataclass
class AppProcess:
    """gunicorn as `make run` starts it (deploy/gunicorn.conf.py), one worker unless asked, its
    log kept."""

    env: dict[str, str]
    log: Path
    workers: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> AppProcess:
        env = {
            **self.env,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "WEB_CONCURRENCY": str(self.workers),
        }
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *(str(Path(sys.executable).with_name("gunicorn")), "gravatar.wsgi"),
                    *("-c", "deploy/gunicorn.conf.py"),
                ],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start: " + self.output()) from None
                time.sleep(0.05)

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        process_stop(self.process, grace=20)
        self.process = None


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)}: {result.stderr}")
    return result.stdout
