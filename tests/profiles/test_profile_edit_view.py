"""The profile editor's main form (/account/profile/): the name and privacy choices it took
over from the old profile page, the fields of spec §2, the publish switch and the slug. Bad
input gets its message on the page and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from profiles.models import OldSlug, Profile
from profiles.selectors import profile_public

pytestmark = pytest.mark.django_db

URL = "/account/profile/"


def form(**values: Any) -> dict[str, Any]:
    """What the browser posts for the main form: every text field, checkboxes only when on."""
    data: dict[str, Any] = {
        "slug": "",
        "display_name": "",
        "first_name": "",
        "last_name": "",
        "pronouns": "",
        "pronunciation": "",
        "about_me": "",
        "location": "",
        "job_title": "",
        "company": "",
        "background_color": "",
    }
    for name, value in values.items():
        if value is True:
            data[name] = "on"
        elif value is not False:
            data[name] = value
    return data


def test_it_needs_a_sign_in(client):
    assert client.get(URL)["Location"].startswith("/login/")


def test_a_new_account_sees_an_unpublished_empty_editor(alice_client):
    page = alice_client.get(URL).content.decode()
    assert "Not published" in page
    assert 'name="slug"' in page and 'name="about_me"' in page
    assert "Download my data" in page and "Delete my account" in page
    assert not Profile.objects.exists()  # a GET creates nothing


def test_it_saves_the_display_name_and_privacy_choices(alice_client, personas, queued_purges):
    response = alice_client.post(
        URL, form(display_name="Alice Liddell", display_name_public=True, hide_avatar=True)
    )
    assert response["Location"] == URL
    alice = User.objects.get(pk=personas.alice.pk)
    assert (alice.display_name, alice.display_name_public, alice.hide_avatar) == (
        "Alice Liddell",
        True,
        True,
    )
    assert {personas.alice_address.md5, personas.alice_address.sha256} <= queued_purges()


def test_saving_an_unchanged_form_purges_nothing(alice_client, queued_purges):
    alice_client.post(URL, form())
    assert queued_purges() == set()


def test_it_saves_every_field_and_publishes(alice_client, personas, queued_purges):
    response = alice_client.post(
        URL,
        form(
            published=True,
            slug="Alice-L",
            display_name="Alice",
            first_name="Alice",
            last_name="Liddell",
            pronouns="she/her",
            pronunciation="AL-iss",
            about_me="Curious.\r\nFalls down rabbit holes.",
            location="Oxford",
            job_title="Explorer",
            company="Wonderland",
            background_color="#3366CC",
        ),
    )
    assert response["Location"] == URL
    public = profile_public(digest=personas.alice_address.sha256)
    assert public is not None
    assert (public.slug, public.display_name, public.last_name, public.company) == (
        "alice-l",  # slugs are stored lower-case
        "Alice",
        "Liddell",
        "Wonderland",
    )
    assert public.about_me == "Curious.\nFalls down rabbit holes."
    assert public.background_color == "#3366cc"
    assert {"slug-alice-l", personas.alice_address.sha256} <= queued_purges()
    page = alice_client.get(URL).content.decode()
    assert "Published" in page and "/alice-l" in page


def test_publishing_needs_a_slug(alice_client):
    response = alice_client.post(URL, form(published=True, location="Oxford"))
    assert response.status_code == 200
    assert "Choose your profile&#x27;s address" in response.content.decode()
    assert not Profile.objects.filter(location="Oxford").exists()


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("taken", "This address is taken"),
        ("TAKEN", "This address is taken"),  # case-insensitive
        ("admin", "reserved for the site"),
        ("avatar", "reserved for the site"),
        ("a" * 41, "at most 40 characters"),
        ("ab", "Use 3 to 40 lower-case letters"),
        ("has space", "Use 3 to 40 lower-case letters"),
        ("dots.are.out", "Use 3 to 40 lower-case letters"),
        ("josé", "no accents"),
        ("\u212aelvin", "no accents"),  # the Kelvin sign lower-cases to an ASCII k
    ],
)
def test_a_refused_slug_says_why_and_changes_nothing(alice_client, personas, slug, message):
    Profile.objects.create(user=personas.bob, slug="taken")
    response = alice_client.post(URL, form(slug=slug, location="Oxford", display_name="New"))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Profile.objects.filter(user=personas.alice, location="Oxford").exists()
    assert User.objects.get(pk=personas.alice.pk).display_name == ""
    # The form shows what was typed, so it can be corrected.
    assert f'value="{slug}"' in response.content.decode()


def test_changing_the_slug_keeps_the_old_one_redirecting(alice_client, personas, queued_purges):
    alice_client.post(URL, form(published=True, slug="alice"))
    alice_client.post(URL, form(published=True, slug="alice2"))
    assert OldSlug.objects.get().slug == "alice"
    assert {"slug-alice", "slug-alice2"} <= queued_purges()


def test_about_me_keeps_html_as_text_and_the_page_escapes_it(alice_client, personas):
    about = '<script>alert("x")</script> <b>bold</b>'
    alice_client.post(URL, form(about_me=about, slug="alice"))
    assert Profile.objects.get(user=personas.alice).about_me == about
    page = alice_client.get(URL).content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "<b>bold</b>" not in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("about_me", "bell\x07", "cannot contain control characters"),
        ("about_me", "escape\x1b[31m", "cannot contain control characters"),
        ("about_me", "x" * 1001, "At most 1,000 characters"),
        ("location", "two\nlines", "cannot contain line breaks"),
        ("first_name", "x" * 101, "At most 100 characters"),
        ("background_color", "red", "Use a colour like #3366cc"),
        ("about_me", "nul\x00", "Null characters are not allowed"),
    ],
)
def test_bad_text_says_why_and_changes_nothing(alice_client, personas, field, value, message):
    response = alice_client.post(URL, form(**{field: value}, company="Wonderland"))
    assert message in response.content.decode()
    assert not Profile.objects.filter(company="Wonderland").exists()


def test_tabs_and_line_breaks_are_fine_in_about_me(alice_client, personas):
    alice_client.post(URL, form(about_me="a\tb\r\nc\rd"))
    assert Profile.objects.get(user=personas.alice).about_me == "a\tb\nc\nd"


def test_a_slug_asked_for_before_it_was_claimed_answers_once_published(alice_client, client):
    assert client.get("/edith").status_code == 404  # remembered by the worker as unknown
    alice_client.post(URL, form(published=True, slug="edith", display_name="Edith"))
    page = client.get("/edith")
    assert page.status_code == 200 and "Edith" in page.content.decode()
    alice_client.post(URL, form(published=False, slug="edith", display_name="Edith"))
    assert client.get("/edith").status_code == 404
