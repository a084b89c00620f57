"""axe-core in real Chromium on every page of the site (tests/browser/site_pages.py), signed out
and signed in, in English with the light colours and in German with the dark ones: no serious
or critical violation of WCAG 2.0, 2.1 or 2.2 A and AA, colour contrast included. A test walks
the URL resolver so that no new page can skip the check."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import translation

from accounts.models import User
from tests.browser.axe import AXE_SCRIPT, axe_violations, violations_text
from tests.browser.site_pages import (
    ALT_TEXT,
    EMAIL,
    NOT_PAGES,
    PASSWORD,
    SLUG,
    STAFF_PAGES,
    TEMPLATE_PAGES,
    SitePage,
    World,
    signed_in_pages,
    signed_out_pages,
    world_make,
)

pytestmark = pytest.mark.django_db(transaction=True)


def named_routes() -> set[str]:
    """Every URL name outside the admin's namespace (the admin's pages are Django's own)."""
    return {pattern.name for pattern in all_patterns() if pattern.name}


def test_every_named_route_is_a_checked_page_or_declared_not_one():
    world = world_make()
    pages = {page.route for page in signed_out_pages(world) + signed_in_pages(world)}
    pages |= {page.route for page in STAFF_PAGES}
    assert not pages & NOT_PAGES.keys()
    assert sorted(named_routes() - pages - NOT_PAGES.keys()) == []
    assert sorted(NOT_PAGES.keys() - named_routes()) == []  # no stale entries either


def sample_kwargs(world: World) -> dict[str, Any]:
    return {"pk": world.avatar.pk, "image_id": "x", "name": SLUG, "fmt": "json", "rest": "x"}


def test_the_routes_declared_not_pages_answer_a_get_with_no_page():
    world = world_make()
    client = Client()
    client.force_login(world.user)
    kwargs = sample_kwargs(world)
    for route in NOT_PAGES:
        pattern = next(p for p in all_patterns() if p.name == route)
        path = reverse(route, kwargs={k: kwargs[k] for k in pattern.pattern.regex.groupindex})
        response = client.get(path)
        html = response.get("Content-Type", "").startswith("text/html")
        assert not (response.status_code == 200 and html), f"{route} ({path}) is a page"


def all_patterns(resolver: URLResolver | None = None) -> list[URLPattern]:
    """Every URL pattern outside the admin's namespace, in routing order."""
    found: list[URLPattern] = []
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace != "admin":
                found += all_patterns(pattern)
        elif isinstance(pattern, URLPattern):
            found.append(pattern)
    return found


def check(page: Any, pages: list[SitePage] | tuple[SitePage, ...], lang: str) -> list[str]:
    failures = []
    for site_page in pages:
        where = f"{site_page.route} {site_page.state or site_page.path}".strip()
        response = page.goto(site_page.path)
        assert response is not None and response.status == site_page.status, where
        assert response.headers["content-type"].startswith("text/html"), where
        assert str(page.get_attribute("html", "lang")).split("-")[0] == lang, where
        violations = axe_violations(page)
        if violations:
            failures.append(violations_text(f"{where} [{lang}]", violations))
    return failures


def fulfil_with(html: str) -> Any:
    return lambda route: route.fulfill(body=html, content_type="text/html")


def check_templates(page: Any, lang: str) -> list[str]:
    """Each page that no URL shows, served at a path of the site so that its CSS loads."""
    failures = []
    for template in TEMPLATE_PAGES:
        with translation.override(lang):
            html = render_to_string(template)
        path = f"/__template__/{template}"
        page.route(f"**{path}", fulfil_with(html))
        page.goto(path)
        assert str(page.get_attribute("html", "lang")).split("-")[0] == lang, template
        violations = axe_violations(page)
        if violations:
            failures.append(violations_text(f"{template} [{lang}]", violations))
    return failures


def sign_in(page: Any, email: str, password: str, then: str) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{then}")


# Every language, each with one of the colour schemes: both schemes' contrast is checked, and
# every page in every language (German text runs longer), in one browser and one set of rows.
# Every language, light and dark colours in turn: en light, de dark, fr light, es dark.
LOOKS = tuple(
    (code, ("light", "dark")[index % 2]) for index, (code, _name) in enumerate(settings.LANGUAGES)
)


@pytest.mark.browser
def test_every_page_has_no_serious_or_critical_violation(new_page, site):
    assert AXE_SCRIPT.exists(), "run `make test` (or npm ci in tests/browser) first"
    world = world_make()
    User.objects.create_superuser("staff@example.com", "staff-password-1")
    failures = []
    for language, scheme in LOOKS:
        lang = language  # Accept-Language picks the page's language
        world.user.refresh_from_db()  # the emailed links' tokens change with each sign-in
        page = new_page(locale=language, color_scheme=scheme)
        failures += check(page, signed_out_pages(world), lang) + check_templates(page, lang)
        sign_in(page, EMAIL, PASSWORD, "/account/")
        failures += check(page, signed_in_pages(world), lang)
        staff = new_page(locale=language, color_scheme=scheme)
        sign_in(staff, "staff@example.com", "staff-password-1", "/account/")
        failures += check(staff, STAFF_PAGES, lang)
    assert not failures, "\n\n".join(failures)


@pytest.mark.browser
def test_a_form_that_comes_back_with_errors_focuses_the_error(new_page, site):
    """The field in error is focused and its error is its description; an error about the whole
    form (a wrong password) is focused itself, and Tab goes on to the first field."""
    world_make()
    page = new_page()
    page.goto("/domain/?domain=")
    described = page.evaluate(
        """() => { const field = document.activeElement;
            const error = document.getElementById(field.getAttribute('aria-describedby'));
            return [field.id, field.getAttribute('aria-invalid'), error.textContent]; }"""
    )
    assert described == ["id_domain", "true", "This field is required."]

    page.goto("/login/")
    page.fill("input[name=username]", EMAIL)
    page.fill("input[name=password]", "not-the-password")
    page.press("input[name=password]", "Enter")
    page.wait_for_selector("ul.errorlist.nonfield:focus")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "username"


@pytest.mark.browser
def test_images_carry_the_owners_alt_text(new_page, site):
    """The owner's description on every page that shows their image; the QR code says what it
    is. (The hovercard's is checked in test_hovercards.py.)"""
    world = world_make()
    page = new_page()
    page.goto(f"/{SLUG}")
    assert page.get_attribute(".profile-avatar", "alt") == ALT_TEXT
    assert page.get_attribute(".profile-qr img", "alt")
    sign_in(page, EMAIL, PASSWORD, "/account/")
    assert page.get_attribute(".address img.thumb", "alt") == ALT_TEXT
    assert page.get_attribute(".library img", "alt") == ALT_TEXT
    page.goto(f"/account/avatars/{world.avatar.pk}/")
    assert {img.get_attribute("alt") for img in page.query_selector_all("main img")} == {ALT_TEXT}
    page.goto("/account/profile/")
    assert page.get_attribute(".profile-preview .profile-avatar", "alt") == ALT_TEXT
