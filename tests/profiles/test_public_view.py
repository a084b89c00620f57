"""The HTML profile page (spec §3): GET /<slug>, /<hash> redirecting to it, old slugs, 404."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from avatars.responses import edge_cache_control
from profiles.models import OldSlug, Profile
from tests.personas import Personas
from tests.profiles.published import publish_alice

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_profile(personas: Personas) -> Profile:
    return publish_alice(personas)


class Elements(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def handle_data(self, data):
        self.text.append(data)

    def having(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [
            found
            for name, found in self.tags
            if name == tag and all(found.get(key.rstrip("_")) == v for key, v in attrs.items())
        ]

    def with_class(self, css_class: str) -> list[dict[str, str]]:
        return [found for _, found in self.tags if css_class in found.get("class", "").split()]


def test_the_page_shows_the_published_fields_as_an_h_card(client, personas, alice_profile):
    response = client.get("/alice")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    page = Elements(response.content.decode())
    text = " ".join(page.text)
    for shown in ("Alice Liddell", "@", "alice", "Lisbon", "she/her", "AL-iss", "Engineer"):
        assert shown in text
    assert "Wonderland" in text and "Blog" in text and "alice@example.com" in text
    assert page.with_class("h-card")
    assert [tag.get("src") for tag in page.with_class("u-photo")] == [
        f"/avatar/{personas.alice_address.sha256}?s=160"
    ]
    assert page.with_class("p-given-name") and page.with_class("p-family-name")
    assert page.with_class("p-job-title") and page.with_class("p-org")
    assert page.having("img", src="/alice.qr?s=160")


def test_verified_accounts_get_rel_me_and_a_check_mark(client, alice_profile):
    response = client.get("/alice")
    page = Elements(response.content.decode())
    assert [link["href"] for link in page.having("link", rel="me")] == ["https://github.com/alice"]
    assert page.having("a", href="https://github.com/alice", rel="me")
    # Unverified: listed, never rel="me".
    assert page.having("a", href="https://mastodon.example/@alice", rel="nofollow ugc")
    html = response.content.decode()
    assert html.count('class="profile-check"') == 1


def test_about_me_is_escaped_and_its_links_are_user_content(client, alice_profile):
    html = client.get("/alice").content.decode()
    assert "<b>there</b>" not in html
    assert "Hi &lt;b&gt;there&lt;/b&gt; &amp; &quot;friends&quot;" in html
    assert (
        '<a href="https://alice.example/blog?a=1&amp;b=2" rel="nofollow ugc">'
        "https://alice.example/blog?a=1&amp;b=2</a>. Thanks!" in html
    )


def test_the_page_is_cacheable_and_purged_like_avatars(client, personas, alice_profile):
    response = client.get("/alice")
    assert response["Cache-Control"] == edge_cache_control()
    xkey = response["xkey"].split()
    address = personas.alice_address
    assert {address.md5, address.sha256, "slug-alice", "profile"} <= set(xkey)
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_signed_in_visitor_gets_the_same_page_without_cookies(
    client, alice_client, alice_profile
):
    anonymous = client.get("/alice")
    signed_in = alice_client.get("/alice")
    assert signed_in.content == anonymous.content
    assert "Cookie" not in signed_in.get("Vary", "")
    assert not signed_in.cookies
    assert "Log out" not in signed_in.content.decode()


@pytest.mark.parametrize("case", [str.lower, str.upper])
def test_a_hash_redirects_to_the_slug(client, personas, alice_profile, case):
    address = personas.alice_address
    for digest in (address.md5, address.sha256):
        response = client.get(f"/{case(digest)}")
        assert response.status_code == 302
        assert response["Location"] == "/alice"
        assert address.sha256 in response["xkey"].split()
        assert response["Cache-Control"] == edge_cache_control()


def test_a_slug_in_another_case_redirects_to_its_own(client, alice_profile):
    response = client.get("/Alice")
    assert (response.status_code, response["Location"]) == (302, "/alice")


def test_an_old_slug_redirects_for_a_while(client, alice_profile):
    OldSlug.objects.create(slug="alice-old", profile=alice_profile, retired_at=timezone.now())
    response = client.get("/alice-old")
    assert (response.status_code, response["Location"]) == (302, "/alice")
    assert {"slug-alice-old", "slug-alice"} <= set(response["xkey"].split())
    OldSlug.objects.filter(slug="alice-old").update(retired_at=timezone.now() - timedelta(days=31))
    assert client.get("/alice-old").status_code == 404


def test_an_old_slug_of_a_private_profile_is_not_found(client, alice_profile):
    OldSlug.objects.create(slug="alice-old", profile=alice_profile, retired_at=timezone.now())
    Profile.objects.filter(pk=alice_profile.pk).update(published=False)
    assert client.get("/alice-old").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/nobody",
        "/" + "a" * 41,  # longer than any slug
        "/ab",  # shorter
        "/caf%C3%A9",  # not ASCII
        "/" + "0" * 32,  # a hash nobody has
        "/" + "0" * 32 + "%0A",
        "/alice%0A",  # a slug and a line break
        "/alice.html",  # not a format
        "/alice.JSON",
        "/favicon.ico",
    ],
)
def test_names_without_a_public_profile_get_the_plain_404_page(client, alice_profile, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "No profile here" in response.content.decode()
    assert response["Cache-Control"] == edge_cache_control()


def test_the_404_xkey_is_what_a_later_publish_purges(client, personas):
    assert client.get("/someone")["xkey"].split() == ["slug-someone", "profile"]
    digest = "f" * 64
    assert client.get(f"/{digest.upper()}")["xkey"].split() == [digest, "profile"]
    # Nothing the client typed reaches a header unless it is a possible hash or slug.
    assert client.get("/bad%0Aname!")["xkey"].split() == ["no-profile", "profile"]


def test_head_has_the_headers_of_get_and_no_body(client, alice_profile):
    get, head = client.get("/alice"), client.head("/alice")
    assert head.status_code == 200 and head.content == b""
    assert head["Content-Length"] == str(len(get.content))
    assert head["xkey"] == get["xkey"]


def test_other_methods_are_refused(client, alice_profile):
    assert client.post("/alice").status_code == 405
