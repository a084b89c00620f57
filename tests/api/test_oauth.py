"""The OAuth 2.0 provider (django-oauth-toolkit as configured in settings.OAUTH2_PROVIDER):
authorization code with PKCE S256 for every client, exact redirect URIs, rotating refresh
tokens whose reuse revokes the family, revocation, and only checksums at rest."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.hashers import check_password
from oauth2_provider.models import AccessToken, Grant, RefreshToken

from api import tokens
from avatars.models import Address
from tests.api.conftest import REDIRECT_URI, bearer, pkce_pair

pytestmark = pytest.mark.django_db


def test_consent_page_names_the_app_and_each_scope(public_app, alice_browser):
    _, challenge = pkce_pair()
    response = alice_browser.get(
        "/oauth/authorize/",
        {
            "response_type": "code",
            "client_id": public_app.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "profile:read avatars:manage",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'Allow <span class="app-name">Photo App</span>' in page
    assert "Read your profile and your addresses&#x27; avatars" in page
    assert "Upload, change, delete and choose your avatars" in page
    assert "Change your profile" not in page


def test_consent_needs_a_signed_in_person(public_app, client):
    response = client.get("/oauth/authorize/", {"client_id": public_app.client_id})
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_code_with_pkce_gives_tokens_that_work(public_app, alice_browser, client):
    issued = public_app.tokens(alice_browser, client)
    assert issued["access_token"].startswith(tokens.ACCESS_PREFIX)
    assert issued["refresh_token"].startswith(tokens.REFRESH_PREFIX)
    assert set(issued["scope"].split()) == {"profile:read", "profile:manage", "avatars:manage"}
    response = client.get("/v3/me/profile", **bearer(issued["access_token"]))
    assert response.status_code == 200
    assert response.json()["hash"] == Address.objects.get(email="alice@example.com").sha256


def test_confidential_app_needs_its_secret_and_pkce(confidential_app, alice_browser, client):
    verifier, challenge = pkce_pair()
    code = confidential_app.code(alice_browser, challenge)
    wrong = client.post(
        "/oauth/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": confidential_app.client_id,
            "client_secret": "not-the-secret",
            "code_verifier": verifier,
        },
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert confidential_app.exchange(client, code, verifier).status_code == 200


def test_the_client_secret_is_stored_hashed(confidential_app):
    stored = type(confidential_app.application).objects.get(pk=confidential_app.application.pk)
    assert confidential_app.secret
    assert confidential_app.secret not in stored.client_secret
    assert check_password(confidential_app.secret, stored.client_secret)


def test_tokens_are_stored_only_as_checksums(public_app, alice_browser, client):
    issued = public_app.tokens(alice_browser, client)
    access = AccessToken.objects.get()
    refresh = RefreshToken.objects.get()
    assert access.token == "" and refresh.token == ""
    assert access.token_checksum == tokens.checksum(issued["access_token"])
    assert refresh.token_checksum == tokens.checksum(issued["refresh_token"])


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example.com/callback",
        "https://app.example.com/callback/extra",
        "https://app.example.com/callback?next=https://evil.example.com",
        "https://app.example.com/Callback",
        "http://app.example.com/callback",
        "https://app.example.com.evil.example.com/callback",
        "https://app.example.com/callback#frag",
    ],
)
def test_a_redirect_uri_not_registered_exactly_is_refused_without_redirecting(
    public_app, alice_browser, redirect_uri
):
    _, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": public_app.client_id,
        "redirect_uri": redirect_uri,
        "scope": "profile:read",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    for response in (
        alice_browser.get("/oauth/authorize/", params),
        alice_browser.post("/oauth/authorize/", {**params, "allow": "Authorize"}),
    ):
        assert response.status_code == 400 or (
            response.status_code == 200 and b"cannot be accepted" in response.content
        ), (response.status_code, response.get("Location"))
        assert "Location" not in response
    assert not Grant.objects.exists()


def test_pkce_is_required_of_every_client(public_app, confidential_app, alice_browser):
    for app in (public_app, confidential_app):
        response = app.authorize(alice_browser)
        location = response.get("Location", "")
        assert response.status_code == 302 and location.startswith(REDIRECT_URI)
        assert parse_qs(urlsplit(location).query)["error"] == ["invalid_request"]
    assert not Grant.objects.exists()


def test_plain_pkce_is_refused(public_app, alice_browser):
    response = public_app.authorize(
        alice_browser, code_challenge="a" * 43, code_challenge_method="plain"
    )
    assert parse_qs(urlsplit(response["Location"]).query)["error"] == ["invalid_request"]
    assert not Grant.objects.exists()


def test_a_wrong_or_missing_verifier_gets_invalid_grant(public_app, alice_browser, client):
    verifier, challenge = pkce_pair()
    code = public_app.code(alice_browser, challenge)
    missing = public_app.exchange(client, code, None)
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"
    wrong = public_app.exchange(client, code, pkce_pair()[0])
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


def test_a_code_works_once(public_app, alice_browser, client):
    verifier, challenge = pkce_pair()
    code = public_app.code(alice_browser, challenge)
    assert public_app.exchange(client, code, verifier).status_code == 200
    again = public_app.exchange(client, code, verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_family(
    public_app, alice_browser, client
):
    first = public_app.tokens(alice_browser, client)
    rotated = public_app.refresh(client, first["refresh_token"])
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/v3/me/profile", **bearer(second["access_token"])).status_code == 200

    reused = public_app.refresh(client, first["refresh_token"])
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    # Someone replayed a stolen token: every token of the family stops working.
    assert client.get("/v3/me/profile", **bearer(second["access_token"])).status_code == 401
    assert public_app.refresh(client, second["refresh_token"]).status_code == 400


def test_revocation_endpoint_ends_the_access_token(public_app, alice_browser, client):
    issued = public_app.tokens(alice_browser, client)
    response = client.post(
        "/oauth/revoke/",
        {"token": issued["access_token"], "client_id": public_app.client_id},
    )
    assert response.status_code == 200
    assert client.get("/v3/me/profile", **bearer(issued["access_token"])).status_code == 401


def test_an_expired_access_token_is_401(public_app, alice_browser, client):
    from datetime import timedelta

    from django.utils import timezone

    issued = public_app.tokens(alice_browser, client)
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    response = client.get("/v3/me/profile", **bearer(issued["access_token"]))
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_a_token_with_fewer_scopes_gets_403_insufficient_scope(public_app, alice_browser, client):
    issued = public_app.tokens(alice_browser, client, scope="profile:read")
    response = client.post("/v3/me/avatars", **bearer(issued["access_token"]))
    assert response.status_code == 403
    assert response.json() == {
        "error": "The token does not allow this action",
        "code": "insufficient_scope",
    }
    assert 'scope="avatars:manage"' in response["WWW-Authenticate"]
