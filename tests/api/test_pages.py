"""The account's Apps and API tokens pages: register an app, see and revoke the apps you
allowed, make and revoke personal tokens and site keys; each secret shown once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken

from api import tokens
from api.models import PersonalToken, SiteKey
from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db


def shown(css_class: str, page: str) -> str:
    """The secret a page shows once, in the element of that class."""
    match = re.search(rf'class="{css_class}">([^<]+)<', page)
    assert match is not None, page
    return match.group(1)


def test_pages_need_sign_in(client):
    for path in ("/account/apps/", "/account/tokens/"):
        assert client.get(path)["Location"].startswith("/login/")


def test_register_a_confidential_app_shows_the_secret_once(alice_client, personas):
    response = alice_client.post(
        "/account/apps/register/",
        {
            "name": "My Site",
            "redirect_uris": "https://site.example/cb\nhttps://site.example/cb2",
            "confidential": "on",
        },
    )
    page = response.content.decode()
    assert response["Cache-Control"] == "private, no-store"
    application = Application.objects.get(user=personas.alice)
    secret = shown("client-secret", page)
    assert check_password(secret, application.client_secret)
    assert application.client_type == Application.CLIENT_CONFIDENTIAL
    assert application.redirect_uris == "https://site.example/cb https://site.example/cb2"
    again = alice_client.get("/account/apps/").content.decode()
    assert "My Site" in again and secret not in again


def test_a_public_app_has_no_secret(alice_client, personas):
    page = alice_client.post(
        "/account/apps/register/", {"name": "Phone", "redirect_uris": "https://a.example/cb"}
    ).content.decode()
    assert "client-secret" not in page
    assert "PKCE" in page
    assert Application.objects.get().client_type == Application.CLIENT_PUBLIC


@pytest.mark.parametrize(
    "uris",
    ["", "not a url", "ftp://a.example/cb", "https://a.example/cb#x", "/relative"],
)
def test_bad_redirect_uris_are_refused(alice_client, uris):
    response = alice_client.post("/account/apps/register/", {"name": "X", "redirect_uris": uris})
    assert response.status_code == 200
    assert not Application.objects.exists()


def test_only_the_owner_deletes_an_app(alice_client, bob_client, public_app):
    assert bob_client.post(f"/account/apps/{public_app.application.pk}/delete/").status_code == 404
    assert (
        alice_client.post(f"/account/apps/{public_app.application.pk}/delete/").status_code == 404
    )
    assert Application.objects.filter(pk=public_app.application.pk).exists()


def test_authorised_apps_are_listed_and_revoked(alice_client, public_app, client):
    issued = public_app.tokens(alice_client, client, scope="profile:read")
    page = alice_client.get("/account/apps/").content.decode()
    assert 'data-app="Photo App"' in page
    assert "Read your profile" in page
    response = alice_client.post(f"/account/apps/{public_app.application.pk}/revoke/")
    assert response.status_code == 302
    assert not AccessToken.objects.exists() and not RefreshToken.objects.exists()
    assert client.get("/v3/me/profile", **bearer(issued["access_token"])).status_code == 401
    assert public_app.refresh(client, issued["refresh_token"]).status_code == 400
    assert "No app can act for you." in alice_client.get("/account/apps/").content.decode()


def test_create_a_personal_token_shown_once_and_listed(alice_client, personas, client):
    expires = (timezone.now() + timedelta(days=30)).date()
    response = alice_client.post(
        "/account/tokens/create/",
        {"name": "backup script", "scopes": ["profile:read"], "expires_on": expires.isoformat()},
    )
    page = response.content.decode()
    assert response["Cache-Control"] == "private, no-store"
    secret = shown("secret", page)
    assert secret.startswith(tokens.PERSONAL_PREFIX)
    stored = PersonalToken.objects.get()
    assert stored.checksum == tokens.checksum(secret) and secret not in stored.hint
    assert stored.scopes == "profile:read"
    assert stored.expires_at is not None and stored.expires_at.date() == expires
    assert client.get("/v3/me/profile", **bearer(secret)).status_code == 200
    listing = alice_client.get("/account/tokens/").content.decode()
    assert "backup script" in listing and secret not in listing
    assert stored.hint in listing and "last used" in listing


def test_a_token_needs_a_scope_and_a_future_expiry(alice_client):
    alice_client.post("/account/tokens/create/", {"name": "x", "scopes": []})
    yesterday = (timezone.now() - timedelta(days=1)).date().isoformat()
    alice_client.post(
        "/account/tokens/create/",
        {"name": "x", "scopes": ["profile:read"], "expires_on": yesterday},
    )
    alice_client.post("/account/tokens/create/", {"name": "x", "scopes": ["admin"]})
    assert not PersonalToken.objects.exists()


def test_revoke_a_personal_token(alice_client, bob_client, personas, client):
    page = alice_client.post(
        "/account/tokens/create/", {"name": "t", "scopes": ["profile:read"]}
    ).content.decode()
    secret = shown("secret", page)
    pk = PersonalToken.objects.get().pk
    assert bob_client.post(f"/account/tokens/{pk}/revoke/").status_code == 404
    assert alice_client.post(f"/account/tokens/{pk}/revoke/").status_code == 302
    assert client.get("/v3/me/profile", **bearer(secret)).status_code == 401


def test_create_and_revoke_a_site_key(alice_client, bob_client, personas):
    page = alice_client.post("/account/keys/create/", {"name": "my blog"}).content.decode()
    secret = shown("secret", page)
    assert secret.startswith(tokens.SITE_KEY_PREFIX)
    key = SiteKey.objects.get()
    assert key.checksum == tokens.checksum(secret)
    listing = alice_client.get("/account/tokens/").content.decode()
    assert "my blog" in listing and "0 requests" in listing and secret not in listing
    assert bob_client.post(f"/account/keys/{key.pk}/revoke/").status_code == 404
    assert alice_client.post(f"/account/keys/{key.pk}/revoke/").status_code == 302
    assert not SiteKey.objects.exists()
