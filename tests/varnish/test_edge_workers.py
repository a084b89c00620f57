"""Through Varnish, in front of gunicorn with two workers (other processes than the one making
the change): the purge after a commit must never refetch an answer a worker still remembers
(avatars/resolution.py orders its invalidation before the purge)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from avatars import resolution, services
from tests.conftest import require_binary
from tests.personas import Personas, make_personas
from tests.postgres import AppProcess, app_env, shared_database_url
from tests.varnish.harness import Varnish, request


@pytest.fixture
def node(transactional_db: None, settings: Any, tmp_path: Path) -> Iterator[Personas]:
    """Committed personas, their files where a server with VAR_DIR=tmp_path reads them, and this
    process's resolution cache on the same node (the same generation file)."""
    storages = dict(settings.STORAGES)
    storages["default"] = {**storages["default"], "OPTIONS": {"location": str(tmp_path / "media")}}
    settings.STORAGES = storages
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.VAR_DIR = tmp_path
    settings.REDIS_URL = ""
    resolution._process = None
    yield make_personas()
    resolution._process = None


def test_a_change_is_served_through_varnish_at_once_while_workers_held_the_old_answer(
    node: Personas, settings: Any, tmp_path: Path
) -> None:
    require_binary("varnishd")
    app = AppProcess(
        app_env(DATABASE_URL=shared_database_url(), VAR_DIR=str(tmp_path)),
        tmp_path / "gunicorn.log",
        workers=2,
    ).start()
    varnish = Varnish(tmp_path / "varnish", [("127.0.0.1", app.port)])
    try:
        varnish.start()
        settings.VARNISH_NODES = [varnish.url]
        known = f"/avatar/{node.alice_address.md5}?s=80&d=404"
        assert request(varnish.url, known).status == 200
        assert request(varnish.url, known).cache == "HIT"
        # Both workers remember alice's image (each request is a new connection).
        assert {request(app.url, known).status for _ in range(20)} == {200}

        services.user_privacy_update(
            user=node.alice, display_name="", display_name_public=False, hide_avatar=True
        )

        # The purge went out before user_privacy_update returned; Varnish's refetch must not find
        # the old answer in either worker, although their entries would live another second.
        statuses = [request(varnish.url, known).status for _ in range(10)]
        assert statuses == [404] * 10, statuses
    finally:
        varnish.stop()
        app.stop()
