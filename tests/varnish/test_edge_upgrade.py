"""After an upgrade, `manage.py purge_edge` drops every default or rendition from varnishd."""

from __future__ import annotations

import hashlib

import pytest
from django.core.management import CommandError, call_command

from avatars import renditions
from tests.personas import Personas, make_personas
from tests.varnish.conftest import Edge

pytestmark = pytest.mark.varnish

NOBODY = hashlib.md5(b"nobody@example.com", usedforsecurity=False).hexdigest()


@pytest.fixture
def people(fresh_edge) -> Personas:
    return make_personas()


def warm(edge: Edge, *paths: str) -> dict[str, str]:
    """Each path cached: {path: its ETag (or status) as Varnish now serves it}."""
    served = {}
    for path in paths:
        first = edge.get(path)
        assert first.status in {200, 302, 404}, (path, first.status, edge.varnish.backend_health())
        again = edge.get(path)
        assert again.cache == "HIT", (path, first.cache, again.cache)
        served[path] = again.header("ETag") or str(again.status)
    return served


def test_purging_every_default_serves_the_new_drawings_at_once(
    fresh_edge: Edge, people, monkeypatch
):
    """A new RENDITION_VERSION reaches the edge: defaults are fetched fresh after the command,
    uploaded images stay cached until their own purge."""
    default = f"/avatar/{NOBODY}?s=40&d=identicon"
    known_default = f"/avatar/{people.bob_address.md5}?d=retro"
    image = f"/avatar/{people.alice_address.md5}?s=40"
    not_found = f"/avatar/{NOBODY}?d=404"
    before = warm(fresh_edge, default, known_default, image, not_found)
    monkeypatch.setattr(renditions, "RENDITION_VERSION", renditions.RENDITION_VERSION + 1)
    assert fresh_edge.get(default).header("ETag") == before[default]

    call_command("purge_edge", "--defaults")

    for path in (default, known_default):
        fresh = fresh_edge.get(path)
        assert fresh.cache == "MISS", path
        assert fresh.header("ETag") != before[path]
        assert fresh.header("ETag") == fresh_edge.direct(path).header("ETag")
    assert fresh_edge.get(image).cache == "HIT"
    assert fresh_edge.get(not_found).cache == "HIT"


def test_purging_every_rendition_leaves_the_defaults(fresh_edge: Edge, people):
    default = f"/avatar/{NOBODY}?s=40&d=identicon"
    image = f"/avatar/{people.alice_address.sha256}.webp?s=40"
    warm(fresh_edge, default, image)

    call_command("purge_edge", "--renditions")

    assert fresh_edge.get(image).cache == "MISS"
    assert fresh_edge.get(default).cache == "HIT"


def test_purging_everything_drops_every_kind_of_answer(fresh_edge: Edge, people):
    paths = [
        f"/avatar/{NOBODY}?s=40&d=identicon",
        f"/avatar/{people.alice_address.md5}",
        f"/avatar/{NOBODY}?d=404",
        f"/avatar/{NOBODY}?d=https://img.example.com/a.png",
        "/avatar/",
    ]
    warm(fresh_edge, *paths)

    call_command("purge_edge", "--all")

    assert [fresh_edge.get(path).cache for path in paths] == ["MISS"] * len(paths)


def test_without_varnish_nodes_the_command_says_there_is_nothing_to_purge(settings, db):
    settings.VARNISH_NODES = []
    with pytest.raises(CommandError, match="VARNISH_NODES is empty"):
        call_command("purge_edge", "--defaults")
