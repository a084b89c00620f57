"""The OAuth journey of an app, in real headless Chromium with a real varnishd in front:
the person registers an app and allows it; the test, as the app, exchanges the code with
PKCE and uploads an avatar through /v3/me/avatars; the new image shows at /avatar/<hash>
through Varnish within 2 s; the person revokes the app and its token gets 401."""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from PIL import Image

from accounts.models import User
from avatars.models import Address
from avatars.services import address_confirm, avatar_assign, avatar_store
from tests.conftest import image_bytes, require_binary
from tests.varnish.conftest import close_to, colour_of
from tests.varnish.harness import Varnish, request, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.varnish, pytest.mark.django_db(transaction=True)]

CALLBACK = "https://app.example/callback"
OLD, NEW = (30, 160, 40), (200, 40, 160)
# The target: an upload through the API shows at the edge within this many seconds.
EDGE_DEADLINE = 2.0


@pytest.fixture(scope="module")
def varnish(live_server, tmp_path_factory):
    require_binary("varnishd")
    port = int(live_server.url.rsplit(":", 1)[1])
    edge = Varnish(tmp_path_factory.mktemp("varnish"), [("127.0.0.1", port)])
    edge.start()
    yield edge
    edge.stop()


def png(colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 200), colour).save(out, "PNG")
    return out.getvalue()


def test_register_authorise_upload_see_at_the_edge_revoke(new_page, site, varnish, settings):
    settings.VARNISH_NODES = [varnish.url]
    varnish.forget_everything()
    user = User.objects.create_user("app-user@example.com", "app-password-1")
    address = address_confirm(address=Address.objects.create(owner=user, email=user.email))
    avatar_assign(
        avatar=avatar_store(owner=user, data=image_bytes((80, 80), OLD)), addresses=[address]
    )
    avatar_path = f"/avatar/{address.sha256}?s=64"
    assert close_to(colour_of(request(varnish.url, avatar_path)), OLD)
    assert request(varnish.url, avatar_path).cache == "HIT"  # the edge holds the old image

    page = new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    # The app's redirect URI is not on this machine: the browser's request to it is caught.
    page.route(f"{CALLBACK}*", lambda route: route.fulfill(status=200, body="app callback"))
    page.goto("/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", "app-password-1")
    page.click("button[type=submit]")
    page.wait_for_url("**/account/")

    # Register the app on the Apps page.
    page.click("nav >> text=Apps")
    page.fill("input[name=name]", "Journey App")
    page.fill("textarea[name=redirect_uris]", CALLBACK)
    page.click("button:text('Register')")
    client_id = page.inner_text(".client-id").strip()
    assert "is stored hashed" not in page.content()  # public: no secret to show

    # The app sends the person to the consent page, which names it and what it asks.
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "scope": "profile:read avatars:manage",
        "state": "s1",
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    page.goto(f"/oauth/authorize/?{urlencode(query)}")
    page.wait_for_selector("text=Allow Journey App to use your account?")
    assert page.is_visible("text=Upload, change, delete and choose your avatars")
    with page.expect_request(f"{CALLBACK}*") as caught:
        page.click("button:text('Allow')")
    returned = parse_qs(urlsplit(caught.value.url).query)
    assert returned["state"] == ["s1"]

    # The app exchanges the code with its verifier, then uploads with the access token.
    issued = requests.post(
        f"{site}/oauth/token/",
        data={
            "grant_type": "authorization_code",
            "code": returned["code"][0],
            "redirect_uri": CALLBACK,
            "client_id": client_id,
            "code_verifier": verifier,
        },
        timeout=10,
    )
    assert issued.status_code == 200, issued.text
    auth = {"Authorization": f"Bearer {issued.json()['access_token']}"}
    started = time.monotonic()
    uploaded = requests.post(
        f"{site}/v3/me/avatars",
        params={"selected_email_hash": address.sha256, "select_avatar": "true"},
        files={"image": ("new.png", png(NEW), "image/png")},
        headers=auth,
        timeout=10,
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["selected"] is True
    wait_until(
        lambda: close_to(colour_of(request(varnish.url, avatar_path)), NEW),
        timeout=EDGE_DEADLINE - (time.monotonic() - started),
        what="the uploaded image at the edge",
    )

    # The person sees the app on the Apps page and revokes it.
    page.goto("/account/apps/")
    row = page.locator("[data-app='Journey App']").first
    assert "Upload, change, delete and choose your avatars" in row.inner_text()
    page.locator(".authorized [data-app='Journey App'] button:text('Revoke')").click()
    page.wait_for_selector("text=Journey App can no longer act for you.")
    after = requests.get(f"{site}/v3/me/profile", headers=auth, timeout=10)
    assert after.status_code == 401
    assert after.json()["code"] == "unauthorized"
