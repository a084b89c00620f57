"""GET /metrics: the Prometheus text format, readable only from the configured addresses or
with the bearer token, never cached; each family moves with the requests that cause it."""

from __future__ import annotations

import hashlib

import pytest
from django.core.cache import cache
from django.test import Client

from avatars.freshness import addresses_served_changed
from avatars.imaging.decode import CORRUPT, EMPTY, UNREADABLE
from avatars.models import ModerationState, PurgeRequest
from avatars.renditions import memory_cache
from avatars.urlfetch import REFUSAL_REASON
from tests.conftest import image_bytes
from tests.scrape import names, value

pytestmark = pytest.mark.django_db

UNKNOWN = hashlib.md5(b"nobody@example.com", usedforsecurity=False).hexdigest()


def scrape(client: Client | None = None, **extra: str) -> str:
    response = (client or Client()).get("/metrics", **extra)  # type: ignore[arg-type]
    assert response.status_code == 200, response.content
    return response.content.decode()


class TestAccess:
    def test_loopback_reads_it_in_the_text_format_never_cached(self, client):
        response = client.get("/metrics")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain; version=")
        assert response["Cache-Control"] == "no-store"
        assert "avatars_http_requests_total" in response.content.decode()

    def test_another_address_is_refused(self, client):
        response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
        assert response.status_code == 403
        assert response["Cache-Control"] == "no-store"
        assert b"avatars_" not in response.content

    def test_a_configured_network_may_read_it(self, client, settings):
        settings.METRICS_ALLOWED_ADDRESSES = ["10.1.0.0/16"]
        assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
        assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403

    def test_the_bearer_token_opens_it_from_anywhere(self, client, settings):
        settings.METRICS_TOKEN = "s3cret-scrape-token"
        outside = {"REMOTE_ADDR": "203.0.113.9"}
        good = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token", **outside)
        assert good.status_code == 200
        for wrong in ("Bearer s3cret-scrape-toke", "Bearer ", "Basic s3cret-scrape-token", ""):
            answer = client.get("/metrics", HTTP_AUTHORIZATION=wrong, **outside)
            assert answer.status_code == 403, wrong

    def test_no_token_configured_means_no_token_works(self, client, settings):
        settings.METRICS_TOKEN = ""
        answer = client.get("/metrics", HTTP_AUTHORIZATION="Bearer ", REMOTE_ADDR="203.0.113.9")
        assert answer.status_code == 403

    def test_through_a_trusted_proxy_the_client_behind_it_counts(self, client):
        """Varnish on loopback forwards everyone: its X-Forwarded-For decides."""
        outside = client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9")
        assert outside.status_code == 403
        inside = client.get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1")
        assert inside.status_code == 200

    def test_turned_off_it_is_not_there(self, client, settings):
        settings.METRICS_ENABLED = False
        assert client.get("/metrics").status_code == 404

    def test_no_hash_or_address_ever_appears(self, client, personas):
        client.get(f"/avatar/{UNKNOWN}?d=identicon")
        client.get(f"/avatar/{personas.alice_address.md5}")
        text = scrape(client)
        assert UNKNOWN not in text
        assert personas.alice_address.md5 not in text
        assert "example.com" not in text


class TestRequests:
    def test_avatar_requests_by_group_and_code(self, client):
        before = scrape()
        for _ in range(3):
            assert client.get(f"/avatar/{UNKNOWN}?d=404").status_code == 404
        after = scrape()
        labels = {"group": "avatar", "code": "404"}
        assert (
            value(after, "avatars_http_requests_total", **labels)
            - value(before, "avatars_http_requests_total", **labels)
            == 3
        )
        timed = {"group": "avatar", "status_class": "4xx"}
        count = "avatars_http_request_duration_seconds_count"
        assert value(after, count, **timed) - value(before, count, **timed) == 3

    def test_every_group_is_told_apart(self, client):
        before = scrape()
        assert client.get("/").status_code == 200
        assert client.get("/admin/").status_code == 302
        assert client.get("/someone.json").status_code == 404
        assert client.get("/v3/profiles/someone").status_code == 404
        # Not /healthz: the scrape itself is an "other" 200.
        assert client.get("/robots.txt").status_code == 404
        after = scrape()
        for group, code in [
            ("pages", "200"),
            ("admin", "302"),
            ("profile", "404"),
            ("api", "404"),
            ("other", "404"),
        ]:
            labels = {"group": group, "code": code}
            name = "avatars_http_requests_total"
            assert value(after, name, **labels) - value(before, name, **labels) == 1, labels

    def test_buckets_are_fine_below_ten_milliseconds(self, client):
        client.get(f"/avatar/{UNKNOWN}?d=404")
        text = scrape()
        bounds = {
            float(dict(labels)["le"])
            for name, labels in _bucket_keys(text)
            if dict(labels).get("group") == "avatar"
        }
        assert len([b for b in bounds if b <= 0.01]) >= 6


def _bucket_keys(text: str):
    from tests.scrape import samples

    return [key for key in samples(text) if key[0].endswith("_bucket")]


class TestRenditions:
    def test_a_generated_default_misses_then_hits_the_memory_layer(self, client):
        memory_cache().clear()
        before = scrape()
        url = f"/avatar/{UNKNOWN}?d=identicon&s=64"
        client.get(url)
        client.get(url)
        after = scrape()

        def moved(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)

        assert moved("avatars_rendition_lookups_total", layer="memory", outcome="miss") == 1
        assert moved("avatars_rendition_lookups_total", layer="memory", outcome="hit") == 1
        assert moved("avatars_renders_total", kind="identicon", format="png") == 1
        assert moved("avatars_render_duration_seconds_count", kind="identicon") == 1
        # A per-hash default never goes to the shared cache.
        assert moved("avatars_rendition_lookups_total", layer="shared", outcome="miss") == 0

    def test_a_photo_goes_through_the_shared_layer(self, client, personas):
        memory_cache().clear()
        cache.clear()
        before = scrape()
        url = f"/avatar/{personas.alice_address.md5}?s=48"
        client.get(url)
        memory_cache().clear()
        client.get(url)
        after = scrape()

        def moved(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)

        assert moved("avatars_rendition_lookups_total", layer="shared", outcome="miss") == 1
        assert moved("avatars_rendition_lookups_total", layer="shared", outcome="hit") == 1
        assert moved("avatars_renders_total", kind="photo", format="jpeg") == 1

    def test_an_unreadable_stored_image_counts_as_a_storage_error(self, client, personas):
        memory_cache().clear()
        cache.clear()
        personas.alice_avatar.preview.storage.delete(personas.alice_avatar.preview.name)
        before = scrape()
        assert client.get(f"/avatar/{personas.alice_address.md5}?s=48").status_code == 200
        after = scrape()
        name = "avatars_storage_errors_total"
        assert value(after, name) - value(before, name) == 1


class TestQueues:
    def test_purge_backlog_and_its_oldest_age(self, client, personas, queued_purges):
        PurgeRequest.objects.all().delete()
        text = scrape()
        assert value(text, "avatars_purge_queue_rows") == 0
        assert value(text, "avatars_purge_queue_oldest_age_seconds") == 0
        assert value(text, "avatars_database_up") == 1

        # The node is a closed port: the change's purge and its echo stay queued.
        addresses_served_changed(addresses=[personas.alice_address])
        text = scrape()
        assert value(text, "avatars_purge_queue_rows") == 2
        assert value(text, "avatars_purge_queue_oldest_age_seconds") >= 0

    def test_moderation_queue_by_state(self, personas):
        text = scrape()
        assert value(text, "avatars_moderation_queue_avatars", state="new") == 1
        assert value(text, "avatars_moderation_queue_avatars", state="flagged") == 0
        personas.alice_avatar.state = ModerationState.FLAGGED
        personas.alice_avatar.save()
        text = scrape()
        assert value(text, "avatars_moderation_queue_avatars", state="new") == 0
        assert value(text, "avatars_moderation_queue_avatars", state="flagged") == 1


class TestUploads:
    def upload(self, client, data: bytes, name: str = "photo.jpg"):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return client.post(
            "/account/avatars/upload/",
            {"image": SimpleUploadedFile(name, data), "rating": "g", "alt_text": ""},
        )

    def test_accepted_and_refused_by_reason(self, alice_client):
        before = scrape()
        assert self.upload(alice_client, image_bytes((120, 120))).status_code == 302
        self.upload(alice_client, b"this is not an image at all")
        self.upload(alice_client, image_bytes((120, 120))[:200])
        after = scrape()

        def moved(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)

        assert moved("avatars_uploads_accepted_total") == 1
        assert moved("avatars_uploads_refused_total", reason=UNREADABLE) == 1
        assert moved("avatars_uploads_refused_total", reason=CORRUPT) == 1
        assert moved("avatars_uploads_refused_total", reason=EMPTY) == 0

    def test_a_url_that_cannot_be_fetched(self, alice_client):
        before = scrape()
        alice_client.post(
            "/account/avatars/upload/",
            {"url": "http://127.0.0.1:9/none.png", "rating": "g", "alt_text": ""},
        )
        after = scrape()
        name = "avatars_uploads_refused_total"
        moved = value(after, name, reason=REFUSAL_REASON) - value(
            before, name, reason=REFUSAL_REASON
        )
        assert moved == 1


def test_every_family_is_named_by_the_conventions(client, personas):
    client.get(f"/avatar/{UNKNOWN}?d=identicon")
    text = scrape(client)
    for family in {n for n in names(text) if n.startswith("avatars_")}:
        assert family == family.lower()
        base = family.removesuffix("_bucket").removesuffix("_count").removesuffix("_sum")
        assert base.endswith(("_total", "_seconds", "_rows", "_avatars", "_up")), family
