"""An avatar whose stored file cannot be read gets a stand-in (the default, the d=<url>
redirect or the d=404), kept for STAND_IN_MAX_AGE and never a week, so the real image returns
within a minute of storage; the failure is logged once a minute, not per request
(avatars/providers.py pick, avatars/responses.py).
"""

from __future__ import annotations

import logging

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.cache import get_max_age

from avatars import providers, renditions
from avatars.responses import STAND_IN_MAX_AGE
from tests.conftest import decode
from tests.personas import Personas

pytestmark = pytest.mark.django_db

ALICE_BLUE = (20, 120, 220)
UNREADABLE = "unreadable, answered with a short-lived stand-in"


@pytest.fixture(autouse=True)
def _nothing_cached(monkeypatch, settings) -> None:
    """Renditions made by an earlier run (a Redis keeps them) would hide the lost file."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    renditions.memory_cache().clear()
    monkeypatch.setattr(providers, "unreadable", providers._UnreadableReports())


def avatar_url(people: Personas, size: int, **query: str) -> str:
    extra = "".join(f"&{key}={value}" for key, value in query.items())
    return f"/avatar/{people.alice_address.md5}?s={size}{extra}"


def is_alice(content: bytes) -> bool:
    pixel = decode(content).convert("RGB").getpixel((10, 10))
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= 12 for a, b in zip(pixel, ALICE_BLUE, strict=True))


def cache_control(response) -> set[str]:
    return {part.strip() for part in response["Cache-Control"].split(",")}


def test_a_lost_file_is_answered_briefly_and_the_image_returns_with_storage(
    client, personas, caplog
):
    preview = personas.alice_avatar.preview.name
    stored = default_storage.open(preview).read()
    default_storage.delete(preview)

    with caplog.at_level(logging.WARNING, logger="avatars.providers"):
        lost = client.get(avatar_url(personas, 77, d="identicon"))
    default_storage.save(preview, ContentFile(stored))  # storage is back (same name)
    back = client.get(avatar_url(personas, 77, d="identicon"))

    assert lost.status_code == 200 and not is_alice(lost.content)
    assert lost["Content-Type"] == "image/png"  # the identicon
    assert cache_control(lost) == {
        "public",
        f"max-age={STAND_IN_MAX_AGE}",
        f"s-maxage={STAND_IN_MAX_AGE}",
    }
    assert caplog.text.count(UNREADABLE) == 1
    assert back.status_code == 200 and is_alice(back.content)
    assert (get_max_age(back) or 0) > STAND_IN_MAX_AGE
    assert "s-maxage=604800" in back["Cache-Control"]


@pytest.mark.parametrize(
    ("query", "status"),
    [({}, 200), ({"d": "404"}, 404), ({"d": "https://img.example.com/a.png"}, 302)],
    ids=["default", "d=404", "d=url"],
)
def test_every_kind_of_stand_in_is_short_lived(client, personas, query, status):
    default_storage.delete(personas.alice_avatar.preview.name)

    response = client.get(avatar_url(personas, 78, **query))

    assert response.status_code == status
    assert get_max_age(response) == STAND_IN_MAX_AGE
    assert "stale-if-error" not in response["Cache-Control"]


def test_many_unreadable_requests_log_one_line(client, personas, caplog):
    default_storage.delete(personas.alice_avatar.preview.name)

    with caplog.at_level(logging.WARNING, logger="avatars.providers"):
        answers = [client.get(avatar_url(personas, 20 + size)) for size in range(20)]

    assert {response.status_code for response in answers} == {200}
    assert caplog.text.count(UNREADABLE) == 1


def test_an_undecodable_file_is_a_stand_in_too(client, personas):
    with default_storage.open(personas.alice_avatar.preview.name, "wb") as stored:
        stored.write(b"not an image any more")

    response = client.get(avatar_url(personas, 79))

    assert response.status_code == 200
    assert decode(response.content).format == "PNG" and not is_alice(response.content)
    assert get_max_age(response) == STAND_IN_MAX_AGE
