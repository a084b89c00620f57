"""The profile editor in a real browser, phone-sized: fill the fields, add a link and an
account, verify the account against a page on loopback that links back with rel="me", publish,
and find it all in the preview and on the public page; the live slug check; and the same
editor without script."""

from __future__ import annotations

import pytest

from accounts.models import User
from avatars.models import Address
from avatars.services import address_confirm
from profiles.models import Profile, ProfileAccount
from profiles.selectors import profile_public
from tests.conftest import ImageServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "edit@example.com"
PASSWORD = "edit-password-1"


@pytest.fixture
def person(db):
    user = User.objects.create_user(EMAIL, PASSWORD)
    address_confirm(address=Address.objects.create(owner=user, email=EMAIL))
    return user


@pytest.fixture
def page_server(settings):
    settings.AVATAR_URL_FETCH_ALLOW_LOOPBACK = True
    server = ImageServer()
    yield server
    server.close()


def signed_in(new_page, **context):
    page = new_page(**context)
    page.goto("/login/")
    page.fill("input[name=username]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/account/")
    return page


def test_fill_add_verify_publish_and_preview(new_page, site, person, page_server):
    page = signed_in(new_page)
    page.click("header >> text=Profile")
    page.wait_for_url("**/account/profile/")
    assert page.is_visible("text=Not published")

    page.fill("input[name=display_name]", "Edith Editor")
    page.fill("input[name=slug]", "edith")
    page.wait_for_selector("[data-slug-status][data-status=available]")
    page.fill("input[name=job_title]", "Tester")
    page.fill("textarea[name=about_me]", "I test <b>things</b>.")
    page.check("input[name=published]")
    page.click("#fields button[type=submit]")
    page.wait_for_selector("text=Your profile is saved.")
    page.wait_for_selector(f"a[href='{site}/edith']")

    page.fill("[data-link-form] input[name=label]", "Blog")
    page.fill("[data-link-form] input[name=url]", "https://edith.example/blog")
    page.click("[data-link-form] button[type=submit]")
    page.wait_for_selector("text=The link is added.")

    me = page_server.serve(
        "/edith",
        f'<html><body><a rel="me" href="{site}/edith">my avatar profile</a></body></html>'.encode(),
        **{"Content-Type": "text/html; charset=utf-8"},
    )
    page.fill("[data-account-form] input[name=url]", me)
    page.click("[data-account-form] button[type=submit]")
    page.wait_for_selector("text=The account is added")
    page.click("[data-account] button:text('Verify')")
    page.wait_for_selector("[data-account] [data-verified]")
    assert "links back to your profile" in page.inner_text("[data-account] [data-check]")

    preview = page.inner_text("[data-preview]")
    assert "Edith Editor" in preview and "Tester" in preview and "Blog" in preview
    assert "I test <b>things</b>." in preview  # shown as text, never as markup
    assert page.locator("[data-preview] b").count() == 0
    assert page.is_visible("[data-published]:text('Published')")
    assert ProfileAccount.objects.get().checked_at is not None

    page.click(f"a[href='{site}/edith']")
    page.wait_for_url("**/edith")
    card = page.locator(".h-card")
    assert card.locator(".p-name").inner_text() == "Edith Editor"
    assert card.locator(".p-job-title").inner_text() == "Tester"
    assert "I test <b>things</b>." in card.locator(".p-note").inner_text()
    assert card.locator(".p-note b").count() == 0
    assert card.locator(f"a.verified[rel=me][href='{me}']").count() == 1
    assert card.locator("a[href='https://edith.example/blog']").inner_text() == "Blog"
    assert page.locator(f"head link[rel=me][href='{me}']").count() == 1


def test_the_live_check_says_taken_and_reserved_before_submitting(new_page, site, person):
    Profile.objects.create(user=User.objects.create_user("other@example.com"), slug="taken")
    page = signed_in(new_page)
    page.goto("/account/profile/")
    page.fill("input[name=slug]", "Taken")
    page.wait_for_selector("[data-slug-status][data-status=taken]:text('This address is taken')")
    page.fill("input[name=slug]", "admin")
    page.wait_for_selector("[data-slug-status][data-status=reserved]")
    page.fill("input[name=slug]", "no spaces")
    page.wait_for_selector("[data-slug-status][data-status=invalid]")
    page.fill("input[name=slug]", "free-one")
    page.wait_for_selector("[data-slug-status][data-status=available]")


def test_without_script_the_server_checks_on_submit(new_page, site, person, page_server):
    Profile.objects.create(user=User.objects.create_user("other@example.com"), slug="taken")
    page = signed_in(new_page, java_script_enabled=False)
    page.goto("/account/profile/")
    page.fill("input[name=slug]", "taken")
    page.fill("input[name=location]", "Nowhere")
    page.check("input[name=published]")
    page.click("#fields button[type=submit]")
    page.wait_for_selector("#fields .errorlist:has-text('This address is taken')")
    assert page.input_value("input[name=location]") == "Nowhere"  # kept for the next try
    assert not Profile.objects.filter(location="Nowhere").exists()

    page.fill("input[name=slug]", "no-script")
    page.click("#fields button[type=submit]")
    page.wait_for_selector("text=Your profile is saved.")
    assert profile_public(slug="no-script") is not None

    page.fill("[data-link-form] input[name=url]", "javascript:alert(1)")
    page.click("[data-link-form] button[type=submit]")
    page.wait_for_selector("#links .errorlist:has-text('Only http:// and https://')")
    page.fill("[data-link-form] input[name=url]", "https://no-script.example/")
    page.click("[data-link-form] button[type=submit]")
    page.wait_for_selector("#links code:text('https://no-script.example/')")
