"""Every page and email in the visitor's language (README, Languages): Accept-Language, else
the switcher's cookie wins over it; `<html lang>` says which. The cached, machine-read answers
(avatars, the profile formats, /v3/, /metrics) have no language at all: no `Vary:
Accept-Language`, no `Content-Language`, the same bytes whatever the visitor asks for."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone, translation

from api.models import PersonalToken
from tests.conftest import CommittingClient, html_of
from tests.personas import Personas
from tests.profiles.moderated import make_published

pytestmark = pytest.mark.django_db

LANGUAGES = [code for code, _name in settings.LANGUAGES]
# One string of each kind of page, as each language writes it.
HOME = {
    "en": "Check an address",
    "de": "Eine Adresse prüfen",
    "fr": "Vérifier une adresse",
    "es": "Comprobar una dirección",
}
DASHBOARD = {
    "en": "Image library",
    "de": "Bildersammlung",
    "fr": "Bibliothèque d’images",  # noqa: RUF001 (French apostrophe)
    "es": "Biblioteca de imágenes",
}
PROFILE = {"en": "Report this profile", "de": "Dieses Profil melden", "fr": "Signaler ce profil"}
PROFILE["es"] = "Denunciar este perfil"


def html_lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.content.decode())
    assert match, "no <html lang>"
    return match.group(1)


@pytest.mark.parametrize("code", LANGUAGES)
def test_a_page_answers_in_the_language_the_browser_asks_for(client, code):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=f"{code},en;q=0.5")
    assert HOME[code] in response.content.decode()
    assert html_lang(response) == code
    assert response["Content-Language"] == code
    assert "Accept-Language" in response["Vary"]


def test_without_accept_language_the_page_is_english(client):
    response = client.get("/")
    assert HOME["en"] in response.content.decode()
    assert html_lang(response) == "en"


def test_a_language_the_site_lacks_falls_back_along_the_list(client):
    assert html_lang(client.get("/", HTTP_ACCEPT_LANGUAGE="ja,fr-CA;q=0.8,de;q=0.5")) == "fr"
    assert html_lang(client.get("/", HTTP_ACCEPT_LANGUAGE="ja,zh")) == "en"


@pytest.mark.parametrize("code", LANGUAGES)
def test_signed_in_pages_are_translated(alice_client, code):
    for path, text in (("/account/", DASHBOARD[code]),):
        response = alice_client.get(path, HTTP_ACCEPT_LANGUAGE=code)
        assert text in response.content.decode(), (path, code)
        assert html_lang(response) == code


def test_every_page_has_the_switcher(client, alice_client):
    for page in (
        client.get("/"),
        client.get("/login/"),
        client.get("/signup/"),
        alice_client.get("/account/"),
    ):
        html = page.content.decode()
        assert 'action="/i18n/setlang/"' in html
        assert 'name="csrfmiddlewaretoken"' in html
        for code, name in settings.LANGUAGES:
            assert f'<option value="{code}" lang="{code}"' in html
            assert name in html


@pytest.mark.parametrize("code", ["de", "fr", "es"])
def test_the_switcher_remembers_the_choice_over_accept_language(code):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token
    switched = client.post(
        "/i18n/setlang/",
        {"language": code, "next": "/login/", "csrfmiddlewaretoken": token.group(1)},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert switched.status_code == 302
    assert switched["Location"] == "/login/"
    cookie = switched.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == code
    assert cookie["max-age"] == settings.LANGUAGE_COOKIE_AGE
    assert cookie["httponly"]
    later = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert html_lang(later) == code
    assert HOME[code] in later.content.decode()
    assert "Cookie" in later["Vary"]


def test_the_switcher_needs_its_csrf_token():
    client = Client(enforce_csrf_checks=True)
    assert client.post("/i18n/setlang/", {"language": "de", "next": "/"}).status_code == 403


def test_the_language_page_serves_the_switcher_of_pages_without_a_token(client):
    response = client.get("/i18n/", {"language": "de", "next": "/alice"})
    html = response.content.decode()
    assert html_lang(response) == "de"
    assert response["Content-Language"] == "de"
    assert "Wählen Sie Ihre Sprache" in html
    assert 'action="/i18n/setlang/"' in html
    assert '<input type="hidden" name="next" value="/alice">' in html
    assert 'value="de" checked' in html
    elsewhere = client.get("/i18n/", {"language": "xx", "next": "https://evil.example/"})
    assert '<input type="hidden" name="next" value="/">' in elsewhere.content.decode()
    assert html_lang(elsewhere) == "en"


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_public_profile_page_follows_accept_language_alone(client, personas, code):
    """The edge strips cookies from this cached page and writes the choice into
    Accept-Language (deploy/varnish/default.vcl), so the page varies on that header only."""
    make_published(personas)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr" if code != "fr" else "de"
    response = client.get("/alice", HTTP_ACCEPT_LANGUAGE=code)
    html = response.content.decode()
    assert PROFILE[code] in html
    assert html_lang(response) == code
    assert response["Vary"] == "Accept-Language"
    assert response["Content-Language"] == code
    assert "Set-Cookie" not in response
    # No CSRF token on a page cached for everyone: the switcher asks the language page.
    assert 'name="csrfmiddlewaretoken"' not in html
    assert 'action="/i18n/"' in html
    assert '<input type="hidden" name="next" value="/alice">' in html


def language_free_paths(personas: Personas) -> list[str]:
    make_published(personas)
    address = personas.alice_address
    return [
        f"/avatar/{address.md5}",
        f"/avatar/{address.sha256}?s=40&d=identicon",
        "/avatar/",
        "/avatar/not-a-hash",
        "/userimage/unknown",
        f"/{address.md5}.json",
        "/alice.json?callback=show",
        "/alice.xml",
        "/alice.vcf",
        f"/{address.sha256}.qr",
        "/alice.php",
        "/alice.txt",
        "/v3/profiles/alice",
        f"/api/v3/profiles/{address.sha256}",
        "/v3/openapi.json",
        "/v3/me/profile",
        "/v3/nothing-here",
        "/metrics",
        "/healthz",
        "/readyz",
        "/static/css/site.css",
        "/oauth/token/",
        "/oauth/revoke/",
    ]


def test_the_cached_answers_have_no_language(client, personas):
    """Neither `Vary: Accept-Language` nor `Vary: Cookie` from the language, no
    `Content-Language`, and the same bytes in every language and with any language cookie."""
    for path in language_free_paths(personas):
        english = client.get(path)
        for code in ("de", "fr", "es"):
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = code
            asked = client.get(path, HTTP_ACCEPT_LANGUAGE=f"{code},en;q=0.1")
            del client.cookies[settings.LANGUAGE_COOKIE_NAME]
            vary = asked.headers.get("Vary", "").lower()
            assert "accept-language" not in vary, (path, asked["Vary"])
            assert "cookie" not in vary, (path, asked["Vary"])
            assert "Content-Language" not in asked, path
            assert asked.status_code == english.status_code, path
            if path.startswith(("/v3/", "/api/v3/", "/metrics")):
                continue  # rate-limit counts and the metrics move with every request
            assert asked.content == english.content, (path, code)


def test_a_language_left_active_by_a_page_does_not_reach_the_next_answer(client, personas):
    """Each request's language ends with it: a JSON format served right after a German page
    (the same thread) is English."""
    paths = language_free_paths(personas)
    english = client.get("/v3/me/profile").content
    client.get("/", HTTP_ACCEPT_LANGUAGE="de")
    assert client.get("/v3/me/profile").content == english
    assert client.get(paths[5]).content == client.get(paths[5], HTTP_ACCEPT_LANGUAGE="de").content


@pytest.mark.parametrize(
    ("code", "subject", "text"),
    [
        ("en", "Confirm new@example.com for your avatar", "Please confirm that"),
        ("de", "new@example.com für Ihren Avatar bestätigen", "Bitte bestätigen Sie"),
        ("fr", "Confirmez new@example.com pour votre avatar", "Veuillez confirmer"),
        ("es", "Confirma new@example.com para tu avatar", "Confirma que new@example.com"),
    ],
)
def test_the_sign_up_email_is_in_the_senders_language(code, subject, text):
    CommittingClient().post("/signup/", {"email": "new@example.com"}, HTTP_ACCEPT_LANGUAGE=code)
    [message] = mail.outbox
    assert message.subject == subject
    assert text in message.body
    assert f'<html lang="{code}">' in html_of(message)


@pytest.mark.parametrize(
    ("code", "subject"),
    [("de", "Ihr Anmeldelink"), ("fr", "Votre lien de connexion"), ("es", "Tu enlace de acceso")],
)
def test_the_sign_in_link_email_is_translated(personas, code, subject):
    CommittingClient().post(
        "/login/link/", {"email": "alice@example.com"}, HTTP_ACCEPT_LANGUAGE=code
    )
    [message] = mail.outbox
    assert message.subject == subject
    assert "15" in message.body


def test_validation_errors_and_messages_are_translated(alice_client, personas):
    refused = alice_client.post(
        "/account/delete/", {"confirm": "someone@example.com"}, HTTP_ACCEPT_LANGUAGE="de"
    )
    assert "Das ist nicht Ihre Anmeldeadresse." in refused.content.decode()
    added = alice_client.post(
        "/account/addresses/add/",
        {"email": "third@example.com"},
        HTTP_ACCEPT_LANGUAGE="fr",
        follow=True,
    )
    assert "Nous avons envoyé un lien de confirmation à third@example.com." in (
        added.content.decode()
    )
    # Django's own messages come in the language too.
    bad = Client().post("/signup/", {"email": "not an address"}, HTTP_ACCEPT_LANGUAGE="es")
    assert "Introduzca una dirección de correo electrónico válida." in bad.content.decode()


def test_dates_are_written_the_languages_way(alice_client, personas):
    year = timezone.now().year + 1
    PersonalToken.objects.create(
        owner=personas.alice,
        name="backup",
        scopes="profile:read",
        expires_at=datetime(year, 12, 24, tzinfo=UTC),
        checksum="0" * 64,
        hint="abcd",
    )
    german = alice_client.get("/account/tokens/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert f"läuft am 24. Dezember {year} ab" in german
    english = alice_client.get("/account/tokens/").content.decode()
    assert f"expires Dec. 24, {year}" in english


EMAIL_TEMPLATES = Path(settings.BASE_DIR) / "templates" / "emails"
EMAIL_KINDS = sorted(
    p.name.removesuffix("_subject.txt") for p in EMAIL_TEMPLATES.glob("*_subject.txt")
)
EMAIL_CONTEXT = {
    "email": "new@example.com",
    "url": "https://avatars.example.com/link/",
    "reset_url": "https://avatars.example.com/password/reset/",
    "minutes": 15,
    "days": 3,
}


@pytest.mark.parametrize("kind", EMAIL_KINDS)
def test_every_email_is_written_in_every_language(kind):
    """Each email the site sends (its subject, text and HTML parts), in all four languages:
    each other language's words differ from the English ones."""
    from django.template.loader import render_to_string

    rendered = {}
    for code, _ in settings.LANGUAGES:
        with translation.override(code):
            rendered[code] = tuple(
                render_to_string(f"emails/{kind}{suffix}", EMAIL_CONTEXT)
                for suffix in ("_subject.txt", ".txt", ".html")
            )
        assert f'<html lang="{code}">' in rendered[code][2], (kind, code)
    assert len(EMAIL_KINDS) >= 4
    for code in rendered:
        if code != "en":
            subject, text, _ = rendered[code]
            assert subject != rendered["en"][0] and text != rendered["en"][1], (kind, code)
