"""A database restart costs no request: the avatar endpoint runs without Django's per-request
health check (`SELECT 1`), notices the connection the server dropped, and reads again on a new
one (avatars.selectors)."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import image_bytes
from tests.postgres import AppProcess, Postgres, app_env, manage


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    server = Postgres().init()
    server.start()
    yield server
    server.remove()


def get(app: AppProcess, path: str) -> tuple[int, bytes]:
    """On a new connection each time, so that each request may reach another worker."""
    try:
        with urllib.request.urlopen(f"{app.url}{path}", timeout=10) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_after_a_database_restart_no_request_fails_and_none_gets_a_wrong_image(
    postgres: Postgres, tmp_path: Path
) -> None:
    env = app_env(
        DATABASE_URL=postgres.url(),
        VAR_DIR=str(tmp_path / "var"),
        # Every request queries: the restart must meet a reused connection, not a cached answer.
        AVATAR_RESOLUTION_MEMORY_ENTRIES="0",
    )
    postgres.create_migrated_database(env)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(image_bytes((300, 300), (10, 160, 90)))
    manage(env, "setavatar", "alice@example.com", str(photo))
    known = "/avatar/" + hashlib.md5(b"alice@example.com").hexdigest() + "?s=80"  # noqa: S324
    app = AppProcess(env, tmp_path / "gunicorn.log", workers=2).start()
    try:
        status, image = get(app, known)
        assert status == 200
        # Both workers hold a connection by now: each request is a new TCP connection.
        for number in range(20):
            assert get(app, f"/avatar/{number:032x}?d=404")[0] == 404
        postgres.stop()
        postgres.start()
        answers = []
        for number in range(20):
            answers.append(get(app, known))
            answers.append(get(app, f"/avatar/{100 + number:032x}?d=404"))
    finally:
        app.stop()
    assert [status for status, _ in answers] == [200, 404] * 20, app.output()[-3000:]
    assert all(body == image for status, body in answers if status == 200)
