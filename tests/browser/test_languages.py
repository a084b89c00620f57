"""The language switcher in real Chromium: choosing German, then French, in the footer turns the
page (and the next ones) into that language, without script too, and the browser's own
language is honoured until a choice is made."""

from __future__ import annotations

import pytest

from tests.personas import make_personas
from tests.profiles.moderated import make_published

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def switch(page, language: str) -> None:
    page.select_option("#language-switcher", language)
    with page.expect_navigation():
        page.click(".language-switcher button[type=submit]")


@pytest.mark.parametrize("script", [True, False])
def test_the_switcher_turns_the_pages_german_then_french(new_page, script):
    page = new_page(java_script_enabled=script, locale="en-US")
    page.goto("/login/")
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("h1").inner_text() == "Log in"

    switch(page, "de")
    assert page.url.endswith("/login/")  # back where the choice was made
    assert page.get_attribute("html", "lang") == "de"
    assert page.locator("h1").inner_text() == "Anmelden"
    page.goto("/")
    assert page.locator("#check-title").inner_text() == "Eine Adresse prüfen"

    switch(page, "fr")
    assert page.get_attribute("html", "lang") == "fr"
    assert page.locator("#check-title").inner_text() == "Vérifier une adresse"
    assert page.locator("#language-switcher").input_value() == "fr"
    page.goto("/signup/")
    assert page.locator("h1").inner_text() == "Créez votre compte d’avatar"  # noqa: RUF001


def test_the_browsers_language_is_used_until_one_is_chosen(new_page):
    page = new_page(locale="es-ES")
    page.goto("/")
    assert page.get_attribute("html", "lang") == "es"
    assert page.locator("#check-title").inner_text() == "Comprobar una dirección"
    switch(page, "de")
    assert page.locator("#check-title").inner_text() == "Eine Adresse prüfen"


def test_the_public_profile_switches_through_the_language_page(new_page):
    """The cached profile page has no CSRF token; its switcher asks /i18n/, whose form does
    the switch and comes back to the profile."""
    make_published(make_personas())
    page = new_page(locale="en-GB")
    page.goto("/alice")
    assert page.get_attribute("html", "lang") == "en"
    switch(page, "de")
    assert page.get_attribute("html", "lang") == "de"
    assert page.locator("h1").inner_text() == "Wählen Sie Ihre Sprache"
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert page.url.endswith("/alice")
    # Straight to the app there is no edge to read the cookie: the page follows
    # Accept-Language (see tests/varnish/test_edge_languages.py for the edge).
    page.goto("/login/")
    assert page.get_attribute("html", "lang") == "de"
