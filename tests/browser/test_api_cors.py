"""A browser app on another origin calls /v3/ with a bearer credential, in real Chromium. The
Authorization header makes the browser send a CORS preflight first and send the call only if
the preflight allowed it; the app can then read each answer's rate limit only because /v3/
exposes the X-RateLimit-* headers (settings.CORS_EXPOSE_HEADERS)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from api import services
from tests.api.conftest import personal_token
from tests.conftest import ImageServer
from tests.personas import Personas
from tests.profiles.published import publish_alice

# The page's script: each call's status, the headers it could read, and the body's keys.
CALLS = """async ([site, key, token]) => {
  const read = async (path, credential) => {
    const headers = credential ? {Authorization: `Bearer ${credential}`} : {};
    const response = await fetch(site + path, {headers});
    const body = await response.json();
    return {
      status: response.status,
      limit: response.headers.get("X-RateLimit-Limit"),
      remaining: response.headers.get("X-RateLimit-Remaining"),
      reset: response.headers.get("X-RateLimit-Reset"),
      keys: Object.keys(body),
    };
  };
  return {
    keyed: await read("/v3/profiles/alice", key),
    public: await read("/v3/profiles/alice", ""),
    me: await read("/v3/me/profile", token),
    refused: await read("/v3/me/profile", "avp_forged"),
  };
}"""


@pytest.fixture
def app_origin() -> Iterator[ImageServer]:
    server = ImageServer()
    server.serve("/", b"<!doctype html><title>An app</title>", 200, **{"Content-Type": "text/html"})
    yield server
    server.close()


def test_a_browser_app_reads_the_rate_limit_of_every_answer(
    new_page, site, personas: Personas, app_origin
):
    publish_alice(personas)
    _, key = services.site_key_create(owner=personas.bob, name="app")
    token = personal_token(personas.alice)
    page = new_page()
    page.goto(app_origin.url("/"))
    seen: dict[str, Any] = page.evaluate(CALLS, [site, key, token])
    for name, call in seen.items():
        assert call["limit"] is not None, name
        assert int(call["remaining"]) < int(call["limit"]), name
        assert int(call["reset"]) > 0, name
    assert seen["keyed"]["status"] == 200 and "contact_info" in seen["keyed"]["keys"]
    assert (seen["keyed"]["limit"], seen["public"]["limit"]) == ("1000", "100")
    assert seen["public"]["status"] == 200 and "contact_info" not in seen["public"]["keys"]
    assert seen["me"]["status"] == 200 and seen["me"]["limit"] == "1000"
    assert seen["refused"]["status"] == 401 and seen["refused"]["keys"] == ["error", "code"]
