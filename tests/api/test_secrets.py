"""Tokens, secrets and keys never appear in clear: not in the admin (list and change pages of
every credential model, a used site key's included), not in the logs of a whole OAuth journey
and of site keys' requests (live, revoked, wrong) at DEBUG level."""

from __future__ import annotations

import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from oauth2_provider.models import AccessToken, Application, Grant, RefreshToken

from accounts.models import User
from api import services
from api.models import PersonalToken, SiteKey
from api.usage import site_key_uses_write
from tests.api.conftest import bearer, personal_token, pkce_pair
from tests.conftest import image_bytes, signed_in

pytestmark = pytest.mark.django_db


def test_no_secret_in_the_logs_of_an_oauth_journey(personas, public_app, client, caplog):
    caplog.set_level(logging.DEBUG)
    browser = signed_in(personas.alice)
    verifier, challenge = pkce_pair()
    code = public_app.code(browser, challenge)
    issued = public_app.exchange(client, code, verifier).json()
    client.post(
        "/v3/me/avatars",
        {"image": SimpleUploadedFile("a.jpg", image_bytes())},
        **bearer(issued["access_token"]),
    )
    refreshed = public_app.refresh(client, issued["refresh_token"]).json()
    public_app.refresh(client, issued["refresh_token"])  # reuse, logged as an error
    client.get("/v3/me/profile", **bearer("ava_forged-token"))
    pat = personal_token(personas.alice)
    client.get("/v3/me/profile", **bearer(pat))
    _, key = services.site_key_create(owner=personas.alice, name="blog")
    _, revoked = services.site_key_create(owner=personas.alice, name="old")
    services.site_key_revoke(key=SiteKey.objects.get(name="old"))
    for sent in (key, revoked, key + "x"):
        client.get("/v3/profiles/nobody", **bearer(sent))
    site_key_uses_write()
    signed_in(personas.alice).get("/account/tokens/")
    logged = "\n".join(
        f"{record.getMessage()} {record.args!r} {record.__dict__!r}" for record in caplog.records
    )
    assert logged  # the journey did log
    for secret in (
        code,
        verifier,
        issued["access_token"],
        issued["refresh_token"],
        refreshed["access_token"],
        refreshed["refresh_token"],
        pat,
        key,
        revoked,
    ):
        assert secret not in logged


def test_no_secret_in_the_admin(personas, confidential_app, client):
    browser = signed_in(personas.alice)
    verifier, challenge = pkce_pair()
    code = confidential_app.code(browser, challenge)
    pending_code = confidential_app.code(browser, pkce_pair()[1])
    issued = confidential_app.exchange(client, code, verifier).json()
    pat = personal_token(personas.alice)
    _, key = services.site_key_create(owner=personas.alice, name="blog")
    client.get("/v3/profiles/nobody", **bearer(key))  # counted: the admin shows its use
    site_key_uses_write()
    admin = signed_in(User.objects.create_superuser("root@example.com", "root-password-1"))
    secrets = [
        confidential_app.secret,
        issued["access_token"],
        issued["refresh_token"],
        pat,
        key,
        pending_code,
    ]
    pages = []
    for model in (Application, AccessToken, RefreshToken, Grant, PersonalToken, SiteKey):
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        listing = admin.get(base)
        assert listing.status_code == 200, base
        pages.append(listing.content.decode())
        for row in model.objects.all():
            change = admin.get(f"{base}{row.pk}/change/")
            assert change.status_code == 200, base
            pages.append(change.content.decode())
    html = "\n".join(pages)
    assert "blog" in html and "Server App" in html
    assert SiteKey.objects.get().request_count == 1
    for secret in secrets:
        assert secret not in html
