"""Renditions: made once from the right source, cached in memory and in the Django cache."""

from __future__ import annotations

import io
import os
import threading
import time
import uuid

import pytest
from django.core.cache import caches
from django.core.files.storage import default_storage
from PIL import Image

from avatars import renditions
from avatars.renditions import (
    ByteBudgetLRU,
    RenditionUnavailable,
    avatar_rendition,
    default_rendition,
    render_source,
)
from avatars.selectors import hash_resolve
from tests.conftest import decode, image_bytes
from tests.personas import make_personas
from tests.pixels import pixel

SEED = "0123456789abcdef0123456789abcdef"

pytestmark = pytest.mark.usefixtures("fresh_caches")


def stored_image():
    people = make_personas()
    found = hash_resolve(digest=people.alice_address.md5)
    assert found is not None and found.image is not None
    return found.image


# The in-process LRU


def test_the_lru_evicts_the_least_recently_used_to_stay_within_its_budget():
    lru = ByteBudgetLRU(max_bytes=10)
    lru.put("a", b"aaaa")
    lru.put("b", b"bbbb")
    assert lru.get("a") == b"aaaa"  # now "b" is the oldest
    lru.put("c", b"cccc")
    assert lru.get("b") is None
    assert (lru.get("a"), lru.get("c")) == (b"aaaa", b"cccc")
    assert lru.total_bytes == 8


def test_the_lru_skips_values_larger_than_its_budget_and_replaces_in_place():
    lru = ByteBudgetLRU(max_bytes=4)
    lru.put("big", b"12345")
    assert lru.get("big") is None and len(lru) == 0
    lru.put("k", b"12")
    lru.put("k", b"1234")
    assert (lru.total_bytes, len(lru)) == (4, 1)


# Pure image work


def test_render_source_shrinks_a_jpeg_to_the_exact_size_and_format():
    source = image_bytes((2048, 2048), (200, 60, 10))
    for size, fmt in ((80, "JPEG"), (333, "JPEG"), (80, "WEBP"), (1, "PNG")):
        image = decode(render_source(source, size, fmt))
        assert (image.format, image.size) == (fmt, (size, size))
        assert image.convert("RGB").getpixel((size // 2, size // 2)) == pytest.approx(
            (200, 60, 10), abs=8
        )


def test_render_source_enlarges_a_small_source():
    image = decode(render_source(image_bytes((100, 100), (10, 10, 200)), 300, "JPEG"))
    assert image.size == (300, 300)


def test_render_source_keeps_transparency():
    source = image_bytes((256, 256), (10, 200, 10, 100), fmt="PNG", mode="RGBA")
    for fmt in ("PNG", "WEBP"):
        image = decode(render_source(source, 64, fmt))
        assert image.mode == "RGBA"
        assert pixel(image, (32, 32))[3] == pytest.approx(100, abs=2)


def test_render_source_refuses_garbage():
    with pytest.raises(OSError):
        render_source(b"not an image", 80, "JPEG")


# Avatar renditions


@pytest.mark.django_db
def test_an_avatar_rendition_is_made_once_then_served_from_the_shared_cache():
    image = stored_image()
    first = avatar_rendition(image=image, size=72, fmt="JPEG")
    assert (decode(first.data).size, first.content_type) == ((72, 72), "image/jpeg")
    # Another worker: empty memory, the files gone; the shared cache still has it.
    renditions.memory_cache().clear()
    default_storage.delete(image.master)
    default_storage.delete(image.preview)
    again = avatar_rendition(image=image, size=72, fmt="JPEG")
    assert (again.data, again.etag) == (first.data, first.etag)


@pytest.mark.django_db
def test_the_memory_cache_answers_without_the_shared_cache():
    image = stored_image()
    first = avatar_rendition(image=image, size=40, fmt="PNG")
    caches["default"].clear()
    default_storage.delete(image.preview)
    assert avatar_rendition(image=image, size=40, fmt="PNG").data == first.data


@pytest.mark.django_db
def test_a_missing_source_is_reported_not_crashed_on():
    image = stored_image()
    default_storage.delete(image.master)
    with pytest.raises(RenditionUnavailable):
        avatar_rendition(image=image, size=512, fmt="JPEG")


@pytest.mark.django_db
def test_small_sizes_read_the_preview_and_large_ones_the_master():
    image = stored_image()  # a 400 px master, so a 256 px preview
    default_storage.delete(image.master)
    assert decode(avatar_rendition(image=image, size=256, fmt="JPEG").data).size == (256, 256)
    with pytest.raises(RenditionUnavailable):
        avatar_rendition(image=image, size=257, fmt="JPEG")


@pytest.mark.django_db
def test_etags_follow_the_identity_of_the_rendition():
    image = stored_image()
    tags = {
        avatar_rendition(image=image, size=80, fmt="JPEG").etag,
        avatar_rendition(image=image, size=81, fmt="JPEG").etag,
        avatar_rendition(image=image, size=80, fmt="WEBP").etag,
    }
    assert len(tags) == 3
    assert avatar_rendition(image=image, size=80, fmt="JPEG").etag in tags


@pytest.mark.django_db
def test_an_unreachable_shared_cache_only_costs_a_render(settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }
    image = stored_image()
    rendition = avatar_rendition(image=image, size=48, fmt="JPEG")
    assert decode(rendition.data).size == (48, 48)
    assert "rendition cache unreachable" in caplog.text


# Default renditions


def test_a_default_rendition_is_a_png_of_the_generator():
    rendition = default_rendition(kind="identicon", seed=SEED, size=64, text="", fmt="PNG")
    image = decode(rendition.data)
    assert (image.format, image.size, rendition.content_type) == ("PNG", (64, 64), "image/png")


def test_hash_independent_defaults_share_one_rendition_per_size():
    one = default_rendition(kind="mp", seed=SEED, size=64, text="", fmt="PNG")
    other = default_rendition(kind="mp", seed="f" * 32, size=64, text="", fmt="PNG")
    assert one.etag == other.etag
    first = default_rendition(kind="identicon", seed=SEED, size=64, text="", fmt="PNG")
    second = default_rendition(kind="identicon", seed="f" * 32, size=64, text="", fmt="PNG")
    assert first.etag != second.etag


def test_initials_text_is_part_of_the_identity():
    ab = default_rendition(kind="initials", seed=SEED, size=64, text="AB", fmt="PNG")
    cd = default_rendition(kind="initials", seed=SEED, size=64, text="CD", fmt="PNG")
    assert ab.etag != cd.etag
    assert Image.open(io.BytesIO(ab.data)).size == (64, 64)


def test_defaults_are_cached_after_the_first_render():
    before = len(renditions.memory_cache())
    default_rendition(kind="retro", seed=SEED, size=50, text="", fmt="PNG")
    default_rendition(kind="retro", seed=SEED, size=50, text="", fmt="PNG")
    assert len(renditions.memory_cache()) == before + 1


# The shared cache stays bounded


@pytest.fixture
def shared_redis(settings):
    """The real Redis of the run (CI sets REDIS_URL), under a key prefix of this test's own, so
    the keys it counts are only the ones this test added."""
    location = os.environ.get("REDIS_URL")
    assert location, "this test needs the real Redis: set REDIS_URL"
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": prefix,
        }
    }
    # RedisCache keeps its client in the private `_cache`, which django-stubs leaves out
    client = caches["default"]._cache.get_client(write=False)  # type: ignore[attr-defined]

    def keys() -> list[bytes]:
        return list(client.scan_iter(match=f"{prefix}:*", count=1000))

    yield keys
    for key in keys():
        client.delete(key)


@pytest.mark.django_db
def test_never_seen_hashes_add_no_keys_to_the_shared_cache(shared_redis, client):
    kinds = ["identicon", "monsterid", "wavatar", "retro", "robohash", "initials", "color"]
    for number in range(40):
        digest = f"{number + 1000:032x}"
        kind = kinds[number % len(kinds)]
        response = client.get(f"/avatar/{digest}?d={kind}&s={20 + number}&name=Jo+Doe")
        assert response.status_code == 200
    assert shared_redis() == []
    # What looks the same for every hash is still shared, one key per size and format.
    for number in range(3):
        client.get(f"/avatar/{number:032x}?d=mp&s=64")
    assert len(shared_redis()) == 1


@pytest.mark.django_db
def test_avatar_renditions_still_go_to_the_shared_cache(shared_redis):
    avatar_rendition(image=stored_image(), size=72, fmt="JPEG")
    assert len(shared_redis()) == 1


# AVIF under load: one encode at a time per process, the rest briefly in the image's own format

CHROME_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"


class EncodeUnderWay:
    """A real AVIF encode of this process that has started and waits for `release()`."""

    def __init__(self, image) -> None:
        self.started, self.go = threading.Event(), threading.Event()

        def work() -> bytes:
            self.started.set()
            self.go.wait(10)
            return renditions.avatar_rendition(image=image, size=33, fmt="AVIF").data

        self.thread = threading.Thread(
            target=renditions.slow_encodes.run, args=("under-way", work), daemon=True
        )
        self.thread.start()
        assert self.started.wait(10)

    def release(self) -> None:
        self.go.set()
        self.thread.join(10)


def wait_until(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the deadline"
        time.sleep(0.01)


@pytest.mark.django_db
def test_a_cold_avif_is_made_while_the_request_waits_when_no_other_is_under_way():
    image = stored_image()
    rendition, interim = renditions.avatar_rendition_or_interim(image=image, size=41, fmt="AVIF")
    assert (rendition.format, interim) == ("AVIF", False)
    assert decode(rendition.data).size == (41, 41)
    assert not renditions.slow_encodes.pending


@pytest.mark.django_db
def test_while_another_avif_is_encoded_the_image_format_stands_in_and_the_avif_follows():
    image = stored_image()
    under_way = EncodeUnderWay(image)
    try:
        rendition, interim = renditions.avatar_rendition_or_interim(
            image=image, size=42, fmt="AVIF"
        )
        assert (rendition.format, interim) == (image.format, True)
        assert decode(rendition.data).size == (42, 42)
    finally:
        under_way.release()
    # The queued encode runs on its own thread, at a lower priority, and is then served.
    wait_until(lambda: not renditions.slow_encodes.pending)
    rendition, interim = renditions.avatar_rendition_or_interim(image=image, size=42, fmt="AVIF")
    assert (rendition.format, interim) == ("AVIF", False)


@pytest.mark.django_db
def test_while_any_other_rendition_is_made_a_cold_avif_stands_in_and_follows():
    image = stored_image()
    started, go = threading.Event(), threading.Event()

    def slow_jpeg() -> bytes:
        started.set()
        go.wait(10)
        return b"jpeg"

    other = threading.Thread(
        target=renditions.making.observed,
        args=(slow_jpeg,),
        kwargs={"kind": "photo", "fmt": "JPEG"},
        daemon=True,
    )
    other.start()
    try:
        assert started.wait(10)
        rendition, interim = renditions.avatar_rendition_or_interim(
            image=image, size=44, fmt="AVIF"
        )
        assert (rendition.format, interim) == (image.format, True)
    finally:
        go.set()
        other.join(10)
    wait_until(lambda: not renditions.slow_encodes.pending)
    assert renditions.making.count == 0
    rendition, interim = renditions.avatar_rendition_or_interim(image=image, size=44, fmt="AVIF")
    assert (rendition.format, interim) == ("AVIF", False)


def stand_in_while_another_is_encoded(image, size: int) -> None:
    """A cold AVIF asked for while another is being encoded gets the stand-in; then both
    encodes are left to finish."""
    under_way = EncodeUnderWay(image)
    try:
        _, interim = renditions.avatar_rendition_or_interim(image=image, size=size, fmt="AVIF")
        assert interim
    finally:
        under_way.release()
    wait_until(lambda: not renditions.slow_encodes.pending)


@pytest.mark.django_db
def test_after_contention_cold_avifs_stand_in_until_a_calm_period_has_passed(monkeypatch):
    image = stored_image()
    # Long enough that the queued encode's end surely falls within it, however slow the run.
    monkeypatch.setattr(renditions, "AVIF_CALM_SECONDS", 30.0)
    stand_in_while_another_is_encoded(image, 45)
    # Nothing is under way any more, but the flood may not be over: still the stand-in.
    rendition, interim = renditions.avatar_rendition_or_interim(image=image, size=46, fmt="AVIF")
    assert (rendition.format, interim) == (image.format, True)
    wait_until(lambda: not renditions.slow_encodes.pending)
    # Once a calm period has passed with no contention, the next one is made at once.
    monkeypatch.setattr(renditions, "AVIF_CALM_SECONDS", 0.1)
    stand_in_while_another_is_encoded(image, 47)
    wait_until(lambda: time.monotonic() >= renditions.slow_encodes.calm_from)
    rendition, interim = renditions.avatar_rendition_or_interim(image=image, size=48, fmt="AVIF")
    assert (rendition.format, interim) == ("AVIF", False)


@pytest.mark.django_db
def test_the_queue_of_avif_encodes_is_bounded():
    image = stored_image()
    under_way = EncodeUnderWay(image)
    try:
        with renditions.slow_encodes.lock:  # the background thread takes nothing meanwhile
            queued = {f"queued-{n}" for n in range(renditions.AVIF_QUEUE)}
            renditions.slow_encodes.pending |= queued
        rendition, interim = renditions.avatar_rendition_or_interim(
            image=image, size=43, fmt="AVIF"
        )
        assert interim
        assert len(renditions.slow_encodes.pending) == renditions.AVIF_QUEUE + 1
    finally:
        with renditions.slow_encodes.lock:
            renditions.slow_encodes.pending -= queued
        under_way.release()


def test_queued_avif_encodes_run_at_a_lower_priority():
    seen: list[int] = []
    blocked = threading.Event()

    def hold() -> bytes:
        blocked.wait(10)
        return b""

    holder = threading.Thread(target=renditions.slow_encodes.run, args=("hold", hold))
    holder.start()
    wait_until(lambda: "hold" in renditions.slow_encodes.pending)

    def niceness() -> bytes:
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return b""

    assert renditions.slow_encodes.run("queued", niceness) is None
    blocked.set()
    holder.join(10)
    wait_until(lambda: bool(seen))
    assert seen == [renditions.AVIF_NICENESS]


@pytest.mark.django_db
def test_the_interim_answer_is_kept_a_minute_and_varies_on_accept(client):
    people = make_personas()
    under_way = EncodeUnderWay(hash_resolve(digest=people.alice_address.md5).image)  # type: ignore[union-attr]
    try:
        response = client.get(f"/avatar/{people.alice_address.md5}?s=44", HTTP_ACCEPT=CHROME_ACCEPT)
    finally:
        under_way.release()
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "public, max-age=60, s-maxage=60"
    assert response["Vary"] == "Accept"
    wait_until(lambda: not renditions.slow_encodes.pending)
    again = client.get(f"/avatar/{people.alice_address.md5}?s=44", HTTP_ACCEPT=CHROME_ACCEPT)
    assert again["Content-Type"] == "image/avif"
    assert again["Cache-Control"].startswith("public, max-age=300, s-maxage=")
