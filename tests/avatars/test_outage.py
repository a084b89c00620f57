"""A database outage (avatars/outage.py): 503 with Retry-After and no-store instead of a 500
and a traceback per request, one log line for the outage, and the first request after it
connects again.

The app runs as `make run` runs it (gunicorn, one worker, persistent connections) on a
PostgreSQL of the test's own, which the test stops under it and starts again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.template.loader import render_to_string

from tests.conftest import image_bytes
from tests.postgres import AppProcess, Postgres, app_env, manage
from tests.varnish.harness import Response, request

EMAIL = "someone@example.com"
MD5 = hashlib.md5(EMAIL.encode(), usedforsecurity=False).hexdigest()
UNKNOWN = "f" * 32
OUTAGE = "database unreachable"
RECOVERY = "database reachable again"


@dataclass
class Origin:
    postgres: Postgres
    app: AppProcess

    def get(self, path: str) -> Response:
        return request(self.app.url, path, timeout=5)


@pytest.fixture(scope="module")
def origin(tmp_path_factory) -> Iterator[Origin]:
    var_dir = tmp_path_factory.mktemp("var")
    postgres = Postgres().init()
    app: AppProcess | None = None
    try:
        postgres.start()
        env = app_env(
            VAR_DIR=str(var_dir),
            DATABASE_URL=postgres.url(),
            # Every request reaches the database: a hash resolved just before the outage would
            # otherwise be answered from memory for up to a second (avatars/resolution.py).
            AVATAR_RESOLUTION_MEMORY_ENTRIES="0",
        )
        postgres.create_migrated_database(env)
        manage(env, "collectstatic", "--noinput", "-v0")  # as `make run` does
        photo = var_dir / "photo.jpg"
        photo.write_bytes(image_bytes((300, 300), (20, 120, 220)))
        manage(env, "setavatar", EMAIL, str(photo))
        app = AppProcess(env, var_dir / "gunicorn.log").start()
        yield Origin(postgres, app)
    finally:
        if app is not None:
            app.stop()
        postgres.remove()


def test_an_outage_answers_503_logs_once_and_ends_with_the_first_request_after_it(origin):
    assert origin.get(f"/avatar/{MD5}").status == 200

    origin.postgres.stop()
    during = [origin.get(f"/avatar/{MD5}") for _ in range(10)]
    during += [origin.get(f"/avatar/{UNKNOWN}?d=identicon") for _ in range(10)]
    origin.postgres.start()
    after = origin.get(f"/avatar/{MD5}")

    for response in during:
        assert response.status == 503
        assert response.header("Retry-After") == "30"
        assert response.header("Cache-Control") == "no-store"
        assert b"briefly unavailable" in response.body
    assert after.status == 200 and after.header("Content-Type") == "image/jpeg"
    log = origin.app.output()
    assert log.count(OUTAGE) == 1, log
    assert log.count(RECOVERY) == 1, log
    assert "Traceback" not in log


def test_pages_that_need_no_database_still_answer_during_an_outage(origin):
    origin.postgres.stop()
    try:
        home, health = origin.get("/"), origin.get("/healthz")
    finally:
        origin.postgres.start()

    assert (home.status, health.status) == (200, 200)


@pytest.mark.parametrize(
    ("template", "says"), [("500.html", "went wrong"), ("503.html", "briefly unavailable")]
)
def test_error_pages_are_the_sites_own_and_need_no_database(template, says):
    # No django_db mark: any query, the session's included, would raise here.
    page = render_to_string(template)

    assert says in page
    assert 'class="brand"' in page  # the site's own header, from base.html
