"""A database outage behind Varnish: the app answers 503 with no-store, and Varnish serves its
stale copy of a cached avatar instead, never storing the 503 over it.

The app runs as `make run` runs it (gunicorn) on a PostgreSQL of the test's own, stopped and
started under it; objects live one second so that they are stale when the outage begins.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator

import pytest

from tests.conftest import image_bytes, require_binary
from tests.postgres import AppProcess, Postgres, app_env, manage
from tests.varnish.conftest import close_to, colour_of
from tests.varnish.harness import Response, Varnish, request

pytestmark = pytest.mark.varnish

EMAIL = "someone@example.com"
MD5 = hashlib.md5(EMAIL.encode(), usedforsecurity=False).hexdigest()
BLUE = (20, 120, 220)


def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not seen within {timeout}s: {what}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[tuple[Postgres, Varnish]]:
    require_binary("varnishd")
    var_dir = tmp_path_factory.mktemp("var")
    postgres = Postgres().init()
    app: AppProcess | None = None
    varnish: Varnish | None = None
    try:
        postgres.start()
        env = app_env(
            VAR_DIR=str(var_dir),
            DATABASE_URL=postgres.url(),
            AVATAR_SHARED_MAX_AGE="1",
            AVATAR_STALE_WHILE_REVALIDATE="0",
        )
        postgres.create_migrated_database(env)
        photo = var_dir / "photo.jpg"
        photo.write_bytes(image_bytes((300, 300), BLUE))
        manage(env, "setavatar", EMAIL, str(photo))
        app = AppProcess(env, var_dir / "gunicorn.log").start()
        varnish = Varnish(var_dir / "varnish", [("127.0.0.1", app.port)]).start()
        yield postgres, varnish
    finally:
        if varnish is not None:
            varnish.stop()
        if app is not None:
            app.stop()
        postgres.remove()


def test_a_cached_avatar_is_served_stale_while_the_database_is_down(stack):
    postgres, varnish = stack
    path = f"/avatar/{MD5}"

    def get(url_path: str = path) -> Response:
        return request(varnish.url, url_path)

    assert get().cache == "MISS"

    postgres.stop()
    try:
        # Fresh for a second; then every refetch answers 503 and the stale copy is served.
        until(lambda: get().cache == "HIT-STALE", 10, "the stale copy served")
        stale = [get() for _ in range(5)]
        never_cached = get(f"/avatar/{'e' * 32}")
    finally:
        postgres.start()
    until(lambda: get().cache == "MISS", 10, "a fresh copy fetched after the outage")

    for response in stale:
        assert (response.status, response.cache) == (200, "HIT-STALE")
        assert close_to(colour_of(response), BLUE)
    assert never_cached.status == 503
    assert get().cache == "HIT"
