"""Site keys on /v3/profiles (spec §5): a live key adds the authenticated fields and counts
the requests under the key's own, higher rate limit; every key that is not a live one is a
401 of the spec's shape; the key's owner sees its counters on the API tokens page."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import User
from api import services, usage
from api.models import SiteKey
from avatars.models import Address
from avatars.services import address_confirm
from profiles.models import AddressChoice, Profile
from tests.api.conftest import bearer, personal_token
from tests.conftest import signed_in
from tests.personas import Personas
from tests.postgres import AppProcess, app_env, manage
from tests.profiles.published import PRIVATE_CASES, publish_alice
from tests.profiles.test_v3_view import SITE, V3_KEYS

pytestmark = pytest.mark.django_db

KEYED_KEYS = [
    *V3_KEYS,
    "first_name",
    "last_name",
    "links",
    "contact_info",
    "last_profile_edit",
    "registration_date",
]
INVALID_KEY = {"error": "Invalid API key", "code": "invalid_api_key"}


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def alice_profile(personas: Personas) -> Profile:
    return publish_alice(personas)


@pytest.fixture
def bob_key(personas: Personas) -> str:
    """A key of bob's: a site that reads other people's public profiles."""
    _, secret = services.site_key_create(owner=personas.bob, name="bobs-blog")
    return secret


def limits(response) -> tuple[int, int]:
    return int(response["X-RateLimit-Limit"]), int(response["X-RateLimit-Remaining"])


# The answer


def test_a_key_adds_the_authenticated_fields(client, personas, alice_profile, bob_key):
    public = client.get("/v3/profiles/alice").json()
    response = client.get("/v3/profiles/alice", **bearer(bob_key))
    assert response.status_code == 200
    body = response.json()
    assert list(body) == KEYED_KEYS
    assert {key: body[key] for key in V3_KEYS} == public
    alice = User.objects.get(pk=personas.alice.pk)
    alice_profile.refresh_from_db()
    assert {key: body[key] for key in KEYED_KEYS[len(V3_KEYS) :]} == {
        "first_name": "Alice",
        "last_name": "Liddell",
        "links": [{"label": "Blog", "url": "https://alice.example/"}],
        "contact_info": {"email": "alice@example.com"},
        "last_profile_edit": alice_profile.updated_at.astimezone(UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
        "registration_date": alice.date_joined.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    datetime.strptime(body["registration_date"], "%Y-%m-%dT%H:%M:%SZ")  # noqa: DTZ007


def test_only_published_addresses_are_contact_info(client, personas, alice_profile, bob_key):
    AddressChoice.objects.filter(address=personas.alice_address).update(email_published=False)
    other = address_confirm(
        address=Address.objects.create(owner=personas.alice, email="alice.work@example.com")
    )
    body = client.get("/v3/profiles/alice", **bearer(bob_key)).json()
    assert body["contact_info"] == {"email": ""}
    assert "alice@example.com" not in json.dumps(body)
    AddressChoice.objects.create(address=other, email_published=True)
    body = client.get("/v3/profiles/alice", **bearer(bob_key)).json()
    assert body["contact_info"] == {"email": "alice.work@example.com"}


def test_a_key_answer_is_never_kept_by_a_cache(client, alice_profile, bob_key):
    keyed = client.get("/v3/profiles/alice", **bearer(bob_key))
    assert keyed["Cache-Control"] == "private, no-store"
    assert "Authorization" in keyed["Vary"]
    # The public answer may be kept, but never given to a request with a key instead.
    public = client.get("/v3/profiles/alice")
    assert "public" in public["Cache-Control"]
    assert "Authorization" in public["Vary"]


@pytest.mark.parametrize("case", list(PRIVATE_CASES))
def test_a_private_profile_is_the_same_404_with_a_key(
    client, personas, alice_profile, bob_key, case
):
    PRIVATE_CASES[case](personas, alice_profile)
    unknown = client.get(f"/v3/profiles/{'0' * 64}", **bearer(bob_key))
    for name in ("alice", personas.alice_address.sha256, personas.alice_address.md5):
        response = client.get(f"/v3/profiles/{name}", **bearer(bob_key))
        assert (response.status_code, response.content) == (404, unknown.content)
        assert response.json() == {"error": "Profile not found", "code": "not_found"}


def test_the_api_prefix_and_image_extensions_take_the_key_too(
    client, personas, alice_profile, bob_key
):
    path = f"/api/v3/profiles/{personas.alice_address.md5}.png"
    assert list(client.get(path, **bearer(bob_key)).json()) == KEYED_KEYS


def test_the_bearer_scheme_is_case_insensitive(client, alice_profile, bob_key):
    response = client.get("/v3/profiles/alice", HTTP_AUTHORIZATION=f"bearer  {bob_key} ")
    assert list(response.json()) == KEYED_KEYS


# Bad keys


@pytest.fixture
def revoked_key(personas: Personas) -> str:
    key, secret = services.site_key_create(owner=personas.bob, name="old")
    services.site_key_revoke(key=key)
    return secret


@pytest.mark.parametrize(
    "kind", ["revoked", "unknown", "malformed", "basic", "no token", "personal", "oauth"]
)
def test_a_key_that_is_not_live_is_401(
    client, personas, alice_profile, revoked_key, public_app, kind
):
    """And the same 401 for a name without a profile: the key is judged first. A token for
    /v3/me/ is no site key: it acts for a person, a site key reads for a site."""
    headers = {
        "revoked": f"Bearer {revoked_key}",
        "unknown": "Bearer avk_" + "x" * 43,
        "malformed": "Bearer avk_",
        "basic": "Basic Zm9vOmJhcg==",
        "no token": "Bearer ",
        "personal": f"Bearer {personal_token(personas.bob)}",
        "oauth": f"Bearer {public_app.tokens(signed_in(personas.bob), Client())['access_token']}",
    }
    for path in ("/v3/profiles/alice", f"/v3/profiles/{'0' * 64}", "/v3/openapi"):
        response = client.get(path, HTTP_AUTHORIZATION=headers[kind])
        assert response.status_code == 401, path
        assert response["Content-Type"] == "application/json"
        assert response.json() == INVALID_KEY
        assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
        assert response["Cache-Control"] == "no-store"
        assert response["Access-Control-Allow-Origin"] == "*"
        # Counted against the address that sent it, as if it sent no key.
        assert limits(response)[0] == 100


def test_a_disabled_owners_key_is_401(client, personas, alice_profile, bob_key):
    User.objects.filter(pk=personas.bob.pk).update(is_active=False)
    assert client.get("/v3/profiles/alice", **bearer(bob_key)).json() == INVALID_KEY


def test_an_empty_authorization_header_is_no_key(client, alice_profile):
    response = client.get("/v3/profiles/alice", HTTP_AUTHORIZATION="  ")
    assert list(response.json()) == V3_KEYS


# The rate limit


def test_a_key_is_counted_under_its_own_limit_not_the_address(
    client, alice_profile, bob_key, settings
):
    settings.API_RATE_LIMIT = 2
    settings.API_KEY_RATE_LIMIT = 3
    first = client.get("/v3/profiles/alice", REMOTE_ADDR="192.0.2.1", **bearer(bob_key))
    assert limits(first) == (3, 2)
    # The key's count follows it to any address; the addresses' own counts are untouched.
    second = client.get("/v3/profiles/alice", REMOTE_ADDR="192.0.2.2", **bearer(bob_key))
    assert limits(second) == (3, 1)
    assert limits(client.get("/v3/profiles/alice", REMOTE_ADDR="192.0.2.1")) == (2, 1)
    client.get("/v3/profiles/alice", **bearer(bob_key))
    refused = client.get("/v3/profiles/alice", REMOTE_ADDR="192.0.2.3", **bearer(bob_key))
    assert refused.status_code == 429
    assert refused.json() == {"error": "Rate limit exceeded", "code": "rate_limit_exceeded"}
    assert limits(refused) == (3, 0)
    assert int(refused["Retry-After"]) > 0
    assert refused["Cache-Control"] == "no-store"
    # Without the key the same address is still served, under its own count.
    assert client.get("/v3/profiles/alice", REMOTE_ADDR="192.0.2.3").status_code == 200


def test_two_keys_have_their_own_counts(client, personas, alice_profile, bob_key, settings):
    settings.API_KEY_RATE_LIMIT = 5
    _, other = services.site_key_create(owner=personas.charlie, name="other")
    client.get("/v3/profiles/alice", **bearer(bob_key))
    assert limits(client.get("/v3/profiles/alice", **bearer(other))) == (5, 4)


def test_the_default_key_limit_is_a_thousand_an_hour(client, alice_profile, bob_key):
    assert limits(client.get("/v3/profiles/alice", **bearer(bob_key))) == (1000, 999)


# The owner's counters


def test_the_owner_sees_requests_and_last_use(client, personas, alice_profile, bob_key):
    bob = signed_in(personas.bob)
    page = bob.get("/account/tokens/").content.decode()
    assert "0 requests" in page and "never used" in page
    before = timezone.now()
    for path in ("/v3/profiles/alice", f"/v3/profiles/{'0' * 64}", "/v3/profiles/alice"):
        client.get(path, **bearer(bob_key))
    usage.site_key_uses_write()  # what the worker writes within a minute, or at its exit
    key = SiteKey.objects.get(owner=personas.bob)
    assert key.request_count == 3
    assert key.last_used_at is not None and key.last_used_at >= before
    page = bob.get("/account/tokens/").content.decode()
    assert "3 requests" in page
    # Written the way the page's language writes a moment (English here).
    moment = date_format(timezone.localtime(key.last_used_at), "DATETIME_FORMAT")
    assert f"last used {moment} UTC" in page
    assert bob_key not in page
    # Only the owner's page shows it.
    assert "bobs-blog" not in signed_in(personas.charlie).get("/account/tokens/").content.decode()


def test_a_busy_key_costs_one_write_a_minute(client, personas, alice_profile, bob_key):
    client.get("/v3/profiles/alice", **bearer(bob_key))  # the first one is written at once
    assert SiteKey.objects.get(owner=personas.bob).request_count == 1
    for _ in range(5):
        client.get("/v3/profiles/alice", **bearer(bob_key))
    assert SiteKey.objects.get(owner=personas.bob).request_count == 1
    usage.site_key_uses_write()
    assert SiteKey.objects.get(owner=personas.bob).request_count == 6


def test_refused_and_bad_requests_are_not_the_keys(client, personas, alice_profile, bob_key):
    client.get("/v3/profiles/alice", HTTP_AUTHORIZATION=f"Bearer {bob_key}x")
    usage.site_key_uses_write()
    assert SiteKey.objects.get(owner=personas.bob).request_count == 0


# Remembered by each worker


@pytest.mark.django_db(transaction=True)
def test_a_remembered_key_is_forgotten_the_moment_it_is_revoked(
    client, personas, django_assert_num_queries
):
    """Outside a transaction, as a worker serves: a hot key costs no query, and its owner's
    revocation on the tokens page is a 401 on the very next request (every worker and node
    is told, as of a changed hash: avatars.resolution)."""
    publish_alice(personas)
    _, secret = services.site_key_create(owner=personas.bob, name="hot")
    assert client.get("/v3/profiles/alice", **bearer(secret)).status_code == 200
    with django_assert_num_queries(0):
        # The profile and the key from memory, the count in Redis's batch; the use was
        # written with the first request.
        assert client.get("/v3/profiles/alice", **bearer(secret)).status_code == 200
    key = SiteKey.objects.get(owner=personas.bob)
    revoked = signed_in(personas.bob).post(f"/account/keys/{key.pk}/revoke/")
    assert revoked.status_code == 302
    assert client.get("/v3/profiles/alice", **bearer(secret)).json() == INVALID_KEY


# Through gunicorn


def test_a_workers_last_counts_are_written_when_it_stops(tmp_path: Path):
    """The counts a worker holds (written at most once a minute) are written by gunicorn's
    worker_exit hook when the server stops (deploy/gunicorn.conf.py)."""
    env = app_env(VAR_DIR=str(tmp_path / "var"), DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3")
    manage(env, "migrate", "--noinput", "-v0")
    secret = manage(env, "shell", "-c", MAKE_KEY).strip().splitlines()[-1]
    app = AppProcess(env, tmp_path / "app.log").start()
    try:
        for _ in range(4):
            request = urllib.request.Request(
                f"{app.url}/v3/profiles/{'0' * 64}", headers={"Authorization": f"Bearer {secret}"}
            )
            with pytest.raises(urllib.error.HTTPError) as answer:
                urllib.request.urlopen(request, timeout=10)
            assert answer.value.code == 404
        assert counted(tmp_path) == 1  # the first, at once
    finally:
        app.stop()
    assert counted(tmp_path) == 4, app.output()


MAKE_KEY = """
from accounts.models import User
from api.services import site_key_create
print(site_key_create(owner=User.objects.create_user("k@example.com"), name="k")[1])
"""


def counted(tmp_path: Path) -> int:
    with contextlib.closing(sqlite3.connect(tmp_path / "db.sqlite3")) as database:
        (count,) = database.execute("SELECT request_count FROM api_sitekey").fetchone()
    return int(count)
