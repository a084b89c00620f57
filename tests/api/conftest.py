"""Tokens for the personas, and an OAuth app with the PKCE dance done through the test client."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from api import scopes, services
from tests.conftest import signed_in

REDIRECT_URI = "https://app.example.com/callback"
ALL_SCOPES = " ".join(scopes.ALL)


def personal_token(user: Any, chosen: str = ALL_SCOPES, expires_at: Any = None) -> str:
    _, secret = services.personal_token_create(
        owner=user, name="test", chosen_scopes=chosen.split(), expires_at=expires_at
    )
    return secret


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


@dataclass
class OAuthApp:
    client_id: str
    secret: str | None
    application: Any

    def authorize(self, browser: Client, *, scope: str = ALL_SCOPES, **extra: str) -> Any:
        """The person allows the app on the consent page; the redirect's response."""
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": scope,
            "state": "xyz",
            **extra,
        }
        return browser.post("/oauth/authorize/", {**params, "allow": "Authorize"})

    def code(self, browser: Client, challenge: str, *, scope: str = ALL_SCOPES) -> str:
        response = self.authorize(
            browser, scope=scope, code_challenge=challenge, code_challenge_method="S256"
        )
        assert response.status_code == 302, response.content
        query = parse_qs(urlsplit(response["Location"]).query)
        return query["code"][0]

    def exchange(self, client: Client, code: str, verifier: str | None) -> Any:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": self.client_id,
        }
        if verifier is not None:
            data["code_verifier"] = verifier
        if self.secret:
            data["client_secret"] = self.secret
        return client.post("/oauth/token/", data)

    def tokens(self, browser: Client, client: Client, *, scope: str = ALL_SCOPES) -> dict[str, Any]:
        verifier, challenge = pkce_pair()
        response = self.exchange(client, self.code(browser, challenge, scope=scope), verifier)
        assert response.status_code == 200, response.content
        return response.json()

    def refresh(self, client: Client, refresh_token: str) -> Any:
        data = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": self.client_id,
        }
        if self.secret:
            data["client_secret"] = self.secret
        return client.post("/oauth/token/", data)


@pytest.fixture
def public_app(personas) -> OAuthApp:
    """A phone app of charlie's: public, no secret."""
    application, secret = services.application_register(
        owner=personas.charlie, name="Photo App", redirect_uris=[REDIRECT_URI], confidential=False
    )
    return OAuthApp(application.client_id, secret, application)


@pytest.fixture
def confidential_app(personas) -> OAuthApp:
    application, secret = services.application_register(
        owner=personas.charlie, name="Server App", redirect_uris=[REDIRECT_URI], confidential=True
    )
    return OAuthApp(application.client_id, secret, application)


@pytest.fixture
def alice_browser(personas) -> Client:
    return signed_in(personas.alice)
