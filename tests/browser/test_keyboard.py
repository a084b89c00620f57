"""The journey without a mouse, in real Chromium: sign up, confirm the address from the email,
upload a photo, crop it with the arrow keys, rate it, assign it, sign out. Only the keyboard:
Tab and Shift+Tab to move, Enter and Space to press, arrows, typing; a person opens the file
chooser by pressing Space on the file field. Each control reached shows where the focus is."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from PIL import Image

from accounts.models import User
from avatars.models import Address, Avatar
from avatars.services import address_confirm
from tests.browser.axe import axe_violations, violations_text
from tests.browser.test_journey import centre_colour, halves_png, last_link
from tests.pixels import pixel

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "keys@example.com"
MAX_TABS = 40  # more than any page here has controls before the one a test wants


def focused(page: Any, selector: str) -> bool:
    return bool(page.evaluate("s => document.activeElement.matches(s)", selector))


def tab_to(page: Any, selector: str, *, back: bool = False) -> None:
    """Press Tab (Shift+Tab with back) until the control is focused, as a person does, and
    check that the focus shows: an outline that is drawn."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if focused(page, selector):
            break
    else:
        raise AssertionError(f"Tab never reached {selector}")
    ring = page.evaluate(
        """() => { const style = getComputedStyle(document.activeElement);
                   return [style.outlineStyle, parseFloat(style.outlineWidth)]; }"""
    )
    assert ring[0] != "none" and ring[1] >= 2, f"{selector} shows no focus: {ring}"


def value(page: Any, name: str) -> str:
    return str(page.input_value(f"input[name={name}]"))


def test_sign_up_confirm_upload_crop_rate_assign_and_sign_out_by_keyboard(new_page, site):
    page = new_page()

    page.goto("/")
    tab_to(page, "header a[href='/signup/']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/signup/")
    tab_to(page, "input[name=email]")
    page.keyboard.type(EMAIL)
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Check your email")

    # The link from the email, typed or pasted into the address bar.
    page.goto(last_link())
    tab_to(page, "main button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"text={EMAIL} is confirmed.")

    tab_to(page, "a[href='/account/avatars/upload/']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/avatars/upload/")
    tab_to(page, "input[type=file]")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(
        files=[{"name": "me.png", "mimeType": "image/png", "buffer": halves_png()}]
    )
    page.wait_for_selector("[data-editor]:not([hidden])")
    failures = axe_violations(page)  # the crop screen, which only script shows
    assert not failures, violations_text("the crop screen", failures)

    # The crop square starts centred on the 200 x 100 image: Shift+arrows move it 10 pixels,
    # arrows 1, minus shrinks it and plus grows it back.
    tab_to(page, "[data-selection]")
    assert [value(page, f"crop_{k}") for k in ("left", "top", "edge")] == ["50", "0", "100"]
    for _ in range(4):
        page.keyboard.press("Shift+ArrowRight")
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")  # the square is as tall as the image: it cannot move
    assert [value(page, f"crop_{k}") for k in ("left", "top", "edge")] == ["100", "0", "100"]
    page.keyboard.press("-")
    assert value(page, "crop_edge") == "99"
    page.keyboard.press("+")
    assert [value(page, f"crop_{k}") for k in ("left", "top", "edge")] == ["100", "0", "100"]
    # Rotate once and back with the button, then Shift+Tab back to the square.
    tab_to(page, "[data-rotate]")
    for _ in range(4):
        page.keyboard.press("Enter")
    assert value(page, "quarter_turns") == "0"
    tab_to(page, "[data-selection]", back=True)
    assert value(page, "crop_left") == "50"  # rotating re-centres the square
    for _ in range(5):
        page.keyboard.press("Shift+ArrowRight")
    assert value(page, "crop_left") == "100"

    # Rating: the radio group takes the focus on its checked choice; an arrow picks the next.
    tab_to(page, "input[name=rating]:checked")
    page.keyboard.press("ArrowDown")
    assert page.is_checked("input[name=rating][value=pg]")
    tab_to(page, "input[name=alt_text]")
    page.keyboard.type("A blue square")
    tab_to(page, "input[name=addresses]")
    if not page.is_checked("input[name=addresses]"):
        page.keyboard.press("Space")
    assert page.is_checked("input[name=addresses]")
    tab_to(page, "[data-submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Your image was added.")

    avatar = Avatar.objects.get(owner__email=EMAIL)
    assert (avatar.rating, avatar.alt_text) == ("pg", "A blue square")
    md5 = hashlib.md5(EMAIL.encode(), usedforsecurity=False).hexdigest()
    served = page.request.get(f"{site}/avatar/{md5}?s=64&r=pg&d=404")
    assert served.status == 200
    red, _, blue = centre_colour(served.body())
    assert blue > 200 and red < 60  # the right half, as the arrow keys placed the square

    tab_to(page, "header button[type=submit]")  # Log out
    page.keyboard.press("Enter")
    page.wait_for_selector("header a[href='/login/']")
    assert page.request.get(f"{site}/account/", max_redirects=0).status == 302


def test_without_script_the_upload_form_sends_a_centred_crop(new_page, site):
    """No script, no crop screen: the form still works from the keyboard, and the server crops
    a centred square."""
    user = User.objects.create_user(EMAIL, "keys-password-1")
    address_confirm(address=Address.objects.create(owner=user, email=EMAIL))
    page = new_page(java_script_enabled=False)
    page.goto("/login/")
    tab_to(page, "input[name=username]")
    page.keyboard.type(EMAIL)
    tab_to(page, "input[name=password]")
    page.keyboard.type("keys-password-1")
    page.keyboard.press("Enter")
    page.wait_for_url("**/account/")
    page.goto("/account/avatars/upload/")
    # In a context without script Chromium opens no file chooser for a key press here (it does
    # with script, as the journey above shows), so the file is set on the field directly.
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "me.png", "mimeType": "image/png", "buffer": halves_png()}],
    )
    assert page.is_hidden("[data-editor]")
    tab_to(page, "[data-submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Your image was added.")
    md5 = hashlib.md5(EMAIL.encode(), usedforsecurity=False).hexdigest()
    served = page.request.get(f"{site}/avatar/{md5}?s=64&d=404")
    assert served.status == 200
    square = Image.open(io.BytesIO(served.body())).convert("RGB")
    assert pixel(square, (4, 32))[0] > 200  # the centred square holds red on its left
    assert pixel(square, (60, 32))[2] > 200  # and blue on its right
