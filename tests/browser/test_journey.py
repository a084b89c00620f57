"""The whole journey in a real browser: sign up, confirm, upload, crop, rate, assign; the
public URL serves the crop; a moderator rejects it and the URL serves the default."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from django.core import mail
from PIL import Image

from accounts.models import User
from avatars.models import Avatar
from tests.pixels import pixel

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "journey@example.com"


def halves_png() -> bytes:
    """200 x 100: red on the left, blue on the right; the crop decides which one shows."""
    image = Image.new("RGB", (200, 100), (230, 20, 20))
    image.paste((20, 20, 230), (100, 0, 200, 100))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def last_link() -> str:
    match = re.search(r"https?://\S+", str(mail.outbox[-1].body))
    assert match
    return match.group(0)


def centre_colour(body: bytes) -> tuple[int, ...]:
    image = Image.open(io.BytesIO(body)).convert("RGB")
    return pixel(image, (image.width // 2, image.height // 2))


def test_sign_up_upload_crop_rate_assign_then_moderate(new_page, site):
    page = new_page()

    # Sign up and confirm the address from the email.
    page.goto("/signup/")
    page.fill("input[name=email]", EMAIL)
    page.click("text=Send me the link")
    page.wait_for_selector("text=Check your email")
    page.goto(last_link())
    page.click("text=Confirm this address")
    page.wait_for_selector(f"text={EMAIL} is confirmed.")
    assert page.url.endswith("/account/")

    # Upload, crop to the right (blue) half, rotate there and back, rate PG, assign.
    page.click("text=Add an image")
    page.wait_for_url("**/avatars/upload/")  # a person chooses a file once the page is there
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "me.png", "mimeType": "image/png", "buffer": halves_png()}],
    )
    page.wait_for_selector("[data-editor]:not([hidden])")
    page.click("[data-rotate]")
    page.wait_for_function("document.querySelector('input[name=quarter_turns]').value === '1'")
    for _ in range(3):
        page.click("[data-rotate]")
    assert page.input_value("input[name=quarter_turns]") == "0"
    box = page.locator("[data-selection]").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 3, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    crop = [page.input_value(f"input[name=crop_{k}]") for k in ("left", "top", "edge")]
    assert crop == ["100", "0", "100"]
    preview = page.evaluate(
        "Array.from(document.querySelector('[data-preview]').getContext('2d')"
        ".getImageData(16, 16, 1, 1).data)"
    )
    assert preview[2] > 200 and preview[0] < 60  # the live preview shows the blue crop
    page.check("input[name=rating][value=pg]")
    page.fill("input[name=alt_text]", "A blue square")
    assert page.is_checked("input[name=addresses]")  # the address had no image yet
    page.click("[data-submit]")
    page.wait_for_selector("text=Your image was added.")

    # The public URL for the address serves the crop, for sites that accept PG.
    md5 = hashlib.md5(EMAIL.encode(), usedforsecurity=False).hexdigest()
    sha256 = hashlib.sha256(EMAIL.encode()).hexdigest()
    served = page.request.get(f"{site}/avatar/{md5}?s=64&r=pg&d=404")
    assert served.status == 200
    red, _, blue = centre_colour(served.body())
    assert blue > 200 and red < 60
    assert page.request.get(f"{site}/avatar/{sha256}?s=64&r=pg&d=404").status == 200
    assert page.request.get(f"{site}/avatar/{md5}?s=64&d=404").status == 404  # rated above G

    # A moderator rejects it in the admin; the URL then serves the default.
    User.objects.create_superuser("mod@example.com", "mod-password-1")
    avatar = Avatar.objects.get(owner__email=EMAIL)
    admin = new_page()
    admin.goto("/admin/login/?next=/admin/avatars/avatar/")
    admin.fill("input[name=username]", "mod@example.com")
    admin.fill("input[name=password]", "mod-password-1")
    admin.click("input[type=submit]")
    admin.wait_for_selector(f"img[src='/account/avatars/{avatar.pk}/preview/']")
    admin.check(f"input[name=_selected_action][value='{avatar.pk}']")
    admin.select_option("select[name=action]", "set_state_rejected")
    admin.click("button[name=index]")
    admin.wait_for_selector("text=Rejected 1 avatar.")
    assert page.request.get(f"{site}/avatar/{md5}?s=64&r=pg&d=404").status == 404
    default = page.request.get(f"{site}/avatar/{md5}?s=64&r=pg")
    assert default.status == 200
    red, _, blue = centre_colour(default.body())
    assert not (blue > 200 and red < 60)
