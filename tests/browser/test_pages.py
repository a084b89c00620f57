"""Smaller browser checks: the check tool hashes in the browser; drag and drop and the
camera feed the crop screen."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def signed_in(new_page, site):
    User.objects.create_user("pic@example.com", "pic-password-1")
    page = new_page()
    page.goto("/login/")
    page.fill("input[name=username]", "pic@example.com")
    page.fill("input[name=password]", "pic-password-1")
    page.click("button[type=submit]")
    page.wait_for_url("**/account/")
    return page


def test_the_check_tool_computes_sha256_in_the_browser(new_page):
    page = new_page()
    page.goto("/")
    page.fill("#check input[type=email]", "  Someone@Example.com")
    expected = hashlib.sha256(b"someone@example.com").hexdigest()
    page.wait_for_selector(f"[data-sha256]:text('{expected}')")
    assert expected in page.get_attribute("[data-preview][data-size='80']", "src")
    page.click("#check button[type=submit]")  # the server adds MD5
    md5 = hashlib.md5(b"someone@example.com", usedforsecurity=False).hexdigest()
    page.wait_for_selector(f"text={md5}")


def green_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), (0, 200, 0)).save(out, "PNG")
    return out.getvalue()


def test_a_file_chosen_before_the_script_ran_opens_the_crop_screen(new_page, site):
    """On a slow connection a person can pick a file before the deferred upload.js runs."""
    page = signed_in(new_page, site)
    held = []
    page.route("**/js/upload.js", lambda route: held.append(route))  # its request waits here
    with page.expect_request("**/js/upload.js"):
        page.goto("/account/avatars/upload/", wait_until="commit")
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "early.png", "mimeType": "image/png", "buffer": green_png()}],
    )
    assert len(held) == 1, "upload.js was not held back"
    assert page.is_hidden("[data-fetch]")  # upload.js shows it when it runs: it has not yet

    held[0].continue_()

    page.wait_for_selector("[data-editor]:not([hidden])")
    assert page.input_value("input[name=crop_edge]") == "80"
    page.click("[data-submit]")
    page.wait_for_selector("text=Your image was added.")


def test_a_dropped_file_opens_the_crop_screen(new_page, site):
    page = signed_in(new_page, site)
    page.goto("/account/avatars/upload/")
    transfer = page.evaluate_handle(
        """bytes => { const t = new DataTransfer();
            t.items.add(new File([new Uint8Array(bytes)], 'drop.png', {type: 'image/png'}));
            return t; }""",
        list(green_png()),
    )
    page.dispatch_event("[data-dropzone]", "drop", {"dataTransfer": transfer})
    page.wait_for_selector("[data-editor]:not([hidden])")
    assert page.input_value("input[name=crop_edge]") == "80"
    assert page.evaluate("document.querySelector('input[type=file]').files[0].name") == "drop.png"


def test_the_camera_takes_a_photo_into_the_crop_screen(new_page, site):
    page = signed_in(new_page, site)
    page.goto("/account/avatars/upload/")
    page.click("[data-camera-start]")
    page.wait_for_function("document.querySelector('[data-camera-video]').videoWidth > 0")
    page.click("[data-camera-shoot]")
    page.wait_for_selector("[data-editor]:not([hidden])")
    assert page.evaluate("document.querySelector('input[type=file]').files[0].name") == "camera.jpg"
    page.click("[data-submit]")
    page.wait_for_selector("text=Your image was added.")
