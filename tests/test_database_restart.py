"""A database restart costs no request: the avatar endpoint runs without Django's per-request
health check, notices the connection the server dropped, and reads again on a new one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import image_bytes, require_binary
from tests.gunicorn import ROOT, Gunicorn, free_port

UNKNOWN = "{:032x}"


class PrivatePostgres:
    """A PostgreSQL of the test's own, on a free port, that it may restart."""

    def __init__(self) -> None:
        initdb = require_binary("initdb") if shutil.which("initdb") else _pg_binary("initdb")
        self.pg_ctl = str(Path(initdb).parent / "pg_ctl")
        self.folder = Path(tempfile.mkdtemp(prefix="avatars-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        # PostgreSQL refuses to run as root.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.folder, "postgres")
        self._run(initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self._ctl("start")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        self._run(self.pg_ctl, "-D", str(self.data), "stop", "-m", "immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def _ctl(self, *action: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = self.folder / "postgres.log"
        self._run(self.pg_ctl, "-D", str(self.data), "-o", options, "-l", str(log), "-w", *action)

    def _run(self, *command: str) -> None:
        subprocess.run([*self.as_user, *command], check=True, capture_output=True, timeout=60)


def _pg_binary(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        return require_binary(name)
    return str(found[-1])


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    yield server
    server.stop()


def test_after_a_database_restart_no_request_fails_and_none_gets_a_wrong_image(postgres, tmp_path):
    env = {
        "DATABASE_URL": postgres.url,
        "VAR_DIR": str(tmp_path / "var"),
        # Every request queries: the restart must meet a reused connection, not a cached answer.
        "AVATAR_RESOLUTION_MEMORY_ENTRIES": "0",
    }
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(image_bytes((300, 300), (10, 160, 90)))
    manage = [sys.executable, "manage.py"]
    for command in (
        ["migrate", "--noinput", "-v0"],
        ["setavatar", "alice@example.com", str(photo)],
    ):
        subprocess.run(
            manage + command, cwd=ROOT, env=os.environ | env, check=True, capture_output=True
        )
    known = "/avatar/" + _md5("alice@example.com") + "?s=80"
    with Gunicorn(tmp_path / "gunicorn.log", workers=2, **env) as server:
        status, image = server.get(known)
        assert status == 200
        # Both workers hold a connection by now (each request is a new TCP connection).
        for number in range(20):
            assert server.get(f"/avatar/{UNKNOWN.format(number)}?d=404")[0] == 404
        postgres.restart()
        answers = []
        for number in range(20):
            answers.append(server.get(known))
            answers.append(server.get(f"/avatar/{UNKNOWN.format(100 + number)}?d=404"))
    assert [status for status, _ in answers] == [200, 404] * 20, (
        tmp_path / "gunicorn.log"
    ).read_text()[-3000:]
    assert all(body == image for status, body in answers if status == 200)


def _md5(email: str) -> str:
    import hashlib

    return hashlib.md5(email.encode()).hexdigest()  # noqa: S324 - Gravatar's hash
