"""The API's part of "Download my data": tokens, keys and apps by name and scope; no secret."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from api import services
from tests.api.conftest import personal_token

pytestmark = pytest.mark.django_db


def test_the_export_lists_credentials_and_apps_without_secrets(
    alice_client, personas, public_app, client
):
    token = personal_token(personas.alice, "profile:read")
    _, key = services.site_key_create(owner=personas.alice, name="blog")
    _, secret = services.application_register(
        owner=personas.alice, name="Mine", redirect_uris=["https://m.example/cb"], confidential=True
    )
    public_app.tokens(alice_client, client, scope="avatars:manage")
    response = alice_client.post("/account/export/")
    text = zipfile.ZipFile(io.BytesIO(response.content)).read("account.json").decode()
    data = json.loads(text)["api"]
    assert [t["scopes"] for t in data["personal_tokens"]] == [["profile:read"]]
    assert [k["name"] for k in data["site_keys"]] == ["blog"]
    assert [a["name"] for a in data["registered_apps"]] == ["Mine"]
    assert data["authorized_apps"] == [{"name": "Photo App", "scopes": ["avatars:manage"]}]
    for hidden in (token, key, secret or "none"):
        assert hidden not in text
