"""Languages through the shipped Varnish: the cached public profile page is kept once per
language (the edge writes Accept-Language as one of the site's languages, from the language
cookie or the browser's list), and the language-free answers (avatars, the profile formats,
/v3/, /userimage/, static files) carry no language and are one object for every visitor."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from profiles.freshness import profile_served_changed
from profiles.models import Profile
from tests.personas import make_personas
from tests.profiles.moderated import make_published
from tests.varnish.conftest import Edge

pytestmark = pytest.mark.varnish

VCL = Path(__file__).resolve().parents[2] / "deploy" / "varnish" / "default.vcl"
REPORT = {
    "en": "Report this profile",
    "de": "Dieses Profil melden",
    "fr": "Signaler ce profil",
    "es": "Denunciar este perfil",
}


@pytest.fixture
def people(fresh_edge):
    people = make_personas()
    make_published(people)
    return people


def shown_language(body: bytes) -> str:
    match = re.search(rb'<html lang="([^"]+)"', body)
    assert match, body[:200]
    return match.group(1).decode()


def test_the_vcl_names_the_sites_languages_and_cookie():
    """default.vcl's page_language repeats settings.LANGUAGES: this holds them together."""
    text = VCL.read_text()
    codes = "|".join(code for code, _name in settings.LANGUAGES)
    assert text.count(f"(?:{codes})") == 2
    assert text.count(f"({codes})") == 2
    assert text.count(f"{settings.LANGUAGE_COOKIE_NAME}=") == 2
    assert f'set req.http.Accept-Language = "{settings.LANGUAGE_CODE}";' in text


@pytest.mark.parametrize(
    ("first", "second", "language"),
    [
        ({"Accept-Language": "de-DE,de;q=0.9,en;q=0.8"}, {"Accept-Language": "de-CH"}, "de"),
        ({"Accept-Language": "ja, FR-ca;q=0.7"}, {"Accept-Language": "fr"}, "fr"),
        ({"Accept-Language": "es-419,es;q=0.9"}, {"Accept-Language": "es"}, "es"),
        ({}, {"Accept-Language": "ja,zh;q=0.5"}, "en"),
        (
            {"Accept-Language": "de", "Cookie": "csrftoken=x; django_language=fr"},
            {"Cookie": "django_language=fr"},
            "fr",
        ),
        (
            {"Accept-Language": "fr", "Cookie": "django_language=xx"},
            {"Accept-Language": "fr-BE"},
            "fr",
        ),
    ],
)
def test_the_page_is_kept_once_per_language(people, fresh_edge: Edge, first, second, language):
    """A second visitor with another spelling of the same language is a hit on the first's
    copy; the cookie the switcher set wins over the browser's list."""
    miss = fresh_edge.get("/alice", headers=first)
    assert miss.status == 200
    assert miss.cache == "MISS"
    assert shown_language(miss.body) == language
    assert REPORT[language].encode() in miss.body
    assert miss.header("Vary") == "Accept-Language"
    assert miss.header("Content-Language") == language
    assert miss.header("Set-Cookie") is None
    hit = fresh_edge.get("/alice", headers=second)
    assert hit.cache == "HIT"
    assert hit.body == miss.body


def test_each_language_is_its_own_copy_and_a_change_purges_them_all(people, fresh_edge: Edge):
    bodies = {}
    for code in ("en", "de", "fr", "es"):
        response = fresh_edge.get("/alice", headers={"Accept-Language": code})
        assert response.cache == "MISS", code
        assert shown_language(response.body) == code
        bodies[code] = response.body
    for code in ("en", "de", "fr", "es"):
        assert fresh_edge.get("/alice", headers={"Accept-Language": code}).cache == "HIT"
    people.alice.display_name = "Alice Pleasance"
    people.alice.save()
    profile_served_changed(profile=Profile.objects.get(user=people.alice), slugs=["alice"])
    for code in ("de", "fr"):
        again = fresh_edge.get("/alice", headers={"Accept-Language": code})
        assert b"Alice Pleasance" in again.body, code
        assert shown_language(again.body) == code


def language_free_urls(people) -> list[str]:
    address = people.alice_address
    return [
        f"/avatar/{address.md5}?s=80",
        f"/avatar/{address.sha256}",
        f"/{address.md5}.json",
        "/alice.xml",
        "/alice.vcf",
        f"/{address.sha256}.qr",
        "/alice.php",
        "/v3/profiles/alice",
        "/userimage/unknown",
        "/static/css/site.css",
    ]


def test_the_language_free_answers_carry_no_language(people, fresh_edge: Edge):
    for url in language_free_urls(people):
        english = fresh_edge.get(url)
        for code in ("de", "fr", "es"):
            asked = fresh_edge.get(
                url,
                headers={
                    "Accept-Language": f"{code},en;q=0.1",
                    "Cookie": f"{settings.LANGUAGE_COOKIE_NAME}={code}",
                },
            )
            vary = (asked.header("Vary") or "").lower()
            assert "accept-language" not in vary, (url, vary)
            assert "cookie" not in vary, (url, vary)
            assert asked.header("Content-Language") is None, url
            assert asked.status == english.status, url
            if not url.startswith("/v3/"):
                # One object for every visitor, whatever their language.
                assert asked.body == english.body, (url, code)
                if english.status == 200 and url != "/static/css/site.css":
                    assert asked.cache == "HIT", (url, code, asked.cache)
