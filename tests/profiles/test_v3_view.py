"""REST API v3, public reads (spec §5): GET /v3/profiles/{id} and /api/v3/profiles/{id}."""

from __future__ import annotations

import json

import pytest

from avatars.responses import edge_cache_control
from profiles import rules
from profiles.models import Profile, ProfileAccount
from tests.personas import Personas
from tests.profiles.published import ABOUT, minimal_profile, publish_alice

pytestmark = pytest.mark.django_db

SITE = "https://avatars.example.com"
V3_KEYS = [
    "hash",
    "display_name",
    "profile_url",
    "avatar_url",
    "avatar_alt_text",
    "location",
    "description",
    "job_title",
    "company",
    "pronunciation",
    "pronouns",
    "verified_accounts",
]


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def alice_profile(personas: Personas) -> Profile:
    return publish_alice(personas)


def body_of(response, status: int = 200):
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    return json.loads(response.content)


def test_the_public_shape(client, personas, alice_profile):
    address = personas.alice_address
    personas.alice_avatar.alt_text = "Alice, smiling"
    personas.alice_avatar.save()
    body = body_of(client.get(f"/v3/profiles/{address.sha256}"))
    assert list(body) == V3_KEYS
    assert body == {
        "hash": address.sha256,
        "display_name": "Alice Liddell",
        "profile_url": f"{SITE}/alice",
        "avatar_url": f"{SITE}/avatar/{address.sha256}",
        "avatar_alt_text": "Alice, smiling",
        "location": "Lisbon",
        "description": ABOUT,
        "job_title": "Engineer",
        "company": "Wonderland",
        "pronunciation": "AL-iss",
        "pronouns": "she/her",
        # Only the verified one.
        "verified_accounts": [
            {
                "service_type": "github",
                "service_label": "GitHub",
                "service_icon": f"{SITE}/static/profiles/services/github.svg",
                "url": "https://github.com/alice",
                "is_hidden": False,
            }
        ],
    }
    assert "?" not in body["avatar_url"]


def test_every_key_is_present_when_nothing_is_set(client, personas):
    minimal_profile(personas.charlie, "charlie")
    body = body_of(client.get("/v3/profiles/charlie"))
    assert list(body) == V3_KEYS
    assert body["verified_accounts"] == []
    assert all(body[key] == "" for key in V3_KEYS[4:-1])


def test_no_private_field_leaves_the_server(client, personas, alice_profile):
    text = client.get("/v3/profiles/alice").content.decode()
    for private in ("alice@example.com", 'Alice"', 'Liddell"', 'https://alice.example/"'):
        assert private not in text.replace("Alice Liddell", "")
    assert alice_profile.public_id not in text


@pytest.mark.parametrize("prefix", ["/v3", "/api/v3"])
@pytest.mark.parametrize("suffix", ["", ".jpg", ".JPG", ".jpeg", ".png", ".gif", ".webp", ".avif"])
def test_ids_sha256_md5_or_slug_with_any_image_extension(
    client, personas, alice_profile, prefix, suffix
):
    address = personas.alice_address
    for name in (address.sha256, address.md5, address.md5.upper(), "alice", "ALICE"):
        body = body_of(client.get(f"{prefix}/profiles/{name}{suffix}"))
        assert body["hash"] == address.sha256


def test_not_found(client):
    response = client.get(f"/v3/profiles/{'0' * 64}")
    assert body_of(response, 404) == {"error": "Profile not found", "code": "not_found"}
    assert response["Cache-Control"] == edge_cache_control()
    assert response["xkey"].split() == ["0" * 64, "profile"]


@pytest.mark.parametrize(
    "name",
    [
        "x",
        "a" * 41,
        "0" * 31,
        "0" * 33,
        "0" * 63,
        "0" * 65,
        "alice.txt",
        "alice.jpg.jpg",
        "v3",  # reserved
        "caf%C3%A9",
        "alice%0A",
        "%00",
    ],
)
def test_ids_of_the_wrong_shape_are_not_found(client, alice_profile, name):
    response = client.get(f"/v3/profiles/{name}")
    assert body_of(response, 404) == {"error": "Profile not found", "code": "not_found"}
    assert response["xkey"].split()[-1] == "profile"


def test_an_old_slug_answers_with_the_profile(client, alice_profile):
    from django.utils import timezone

    from profiles.models import OldSlug

    OldSlug.objects.create(slug="alice-old", profile=alice_profile, retired_at=timezone.now())
    body = body_of(client.get("/v3/profiles/alice-old"))
    assert body["profile_url"] == f"{SITE}/alice"
    assert rules.slug_key("alice-old") in client.get("/v3/profiles/alice-old")["xkey"].split()


def test_an_unknown_service_is_a_website(client, personas, alice_profile):
    ProfileAccount.objects.create(
        profile=alice_profile,
        service="myspace",
        url="https://myspace.example/alice",
        verified_at=alice_profile.created_at,
        position=5,
    )
    accounts = body_of(client.get("/v3/profiles/alice"))["verified_accounts"]
    assert accounts[-1]["service_label"] == "Website"
    assert accounts[-1]["service_icon"].endswith("/website.svg")


def test_every_answer_reports_the_rate_limit_readable_from_any_origin(client, alice_profile):
    for path in ("/v3/profiles/alice", f"/v3/profiles/{'0' * 64}", "/api/v3/profiles/alice.png"):
        response = client.get(path)
        assert int(response["X-RateLimit-Limit"]) == 100  # settings.API_RATE_LIMIT's default
        assert int(response["X-RateLimit-Remaining"]) < 100
        assert int(response["X-RateLimit-Reset"]) > 0
        exposed = {name.strip() for name in response["Access-Control-Expose-Headers"].split(",")}
        assert exposed == {
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
            "Retry-After",
        }


@pytest.mark.parametrize("authorization", ["Bearer abc", "Bearer ", "Basic Zm9vOmJhcg==", "x"])
def test_an_authorization_header_that_is_no_valid_key_is_401(client, alice_profile, authorization):
    """A client that sends a key must learn it is not good, not silently get the public
    answer as if it had sent none (tests/api/test_site_keys.py: live, revoked and other keys)."""
    response = client.get("/v3/profiles/alice", HTTP_AUTHORIZATION=authorization)
    assert body_of(response, 401) == {"error": "Invalid API key", "code": "invalid_api_key"}
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert response["Cache-Control"] == "no-store"
    assert "X-RateLimit-Remaining" in response
    # The same for a name without a profile: nothing is looked up first.
    unknown = client.get(f"/v3/profiles/{'0' * 64}", HTTP_AUTHORIZATION=authorization)
    assert (unknown.status_code, unknown.content) == (401, response.content)


def test_an_empty_authorization_header_is_no_key(client, alice_profile):
    assert client.get("/v3/profiles/alice", HTTP_AUTHORIZATION="").status_code == 200


@pytest.mark.parametrize("path", ["/v3/", "/v3/nothing", "/v3/profiles/", "/api/v3/x/y", "/v3/me"])
def test_other_v3_paths_are_a_json_404(client, path):
    response = client.get(path)
    assert body_of(response, 404) == {"error": "Not found", "code": "not_found"}
    assert "X-RateLimit-Limit" in response


def test_head_and_other_methods(client, alice_profile):
    get, head = client.get("/v3/profiles/alice"), client.head("/v3/profiles/alice")
    assert (head.status_code, head.content) == (200, b"")
    assert head["Content-Length"] == str(len(get.content))
    refused = client.post("/v3/profiles/alice")
    assert refused.status_code == 405
    assert "X-RateLimit-Limit" in refused
