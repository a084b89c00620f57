"""The editor's live slug check: a small JSON answer for the signed-in owner."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from profiles.models import OldSlug, Profile

pytestmark = pytest.mark.django_db

URL = "/account/profile/slug/"


def answer(client, slug):
    response = client.get(URL, {"slug": slug})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "private, no-store"
    return response.json()


def test_it_needs_a_sign_in(client):
    assert client.get(URL, {"slug": "abc"})["Location"].startswith("/login/")


@pytest.mark.parametrize(
    ("slug", "status", "message"),
    [
        ("Wonder_Land-1", "available", "This address is available."),
        ("bobs", "taken", "This address is taken; try another."),
        ("BOBS", "taken", "This address is taken; try another."),
        ("old-bob", "taken", "This address is taken; try another."),
        ("admin", "reserved", "This address is reserved for the site's own pages; try another."),
        ("static", "reserved", "This address is reserved for the site's own pages; try another."),
        (
            "d41d8cd98f00b204e9800998ecf8427e",
            "reserved",
            "This address is reserved for the site's own pages; try another.",
        ),
        ("x", "invalid", "Use 3 to 40 lower-case letters (a-z), digits, hyphens or underscores."),
        ("a" * 41, "invalid", "An address can have at most 40 characters."),
        ("ça", "invalid", "Use only the letters a-z, digits, hyphens or underscores (no accents)."),
        ("", "invalid", "Use 3 to 40 lower-case letters (a-z), digits, hyphens or underscores."),
    ],
)
def test_it_answers_each_case_with_its_message(alice_client, personas, slug, status, message):
    bob = Profile.objects.create(user=personas.bob, slug="bobs")
    OldSlug.objects.create(slug="old-bob", profile=bob, retired_at=timezone.now())
    assert answer(alice_client, slug) == {
        "slug": slug.lower() if slug.isascii() else slug,
        "status": status,
        "message": message,
    }


def test_the_owners_own_slugs_are_available_to_them(alice_client, personas):
    alice = Profile.objects.create(user=personas.alice, slug="alice")
    OldSlug.objects.create(slug="old-alice", profile=alice, retired_at=timezone.now())
    assert answer(alice_client, "alice")["status"] == "available"
    assert answer(alice_client, "old-alice")["status"] == "available"


def test_an_old_slug_is_free_for_others_after_the_redirect_period(alice_client, personas):
    bob = Profile.objects.create(user=personas.bob, slug="bobs")
    OldSlug.objects.create(
        slug="old-bob", profile=bob, retired_at=timezone.now() - timedelta(days=31)
    )
    assert answer(alice_client, "old-bob")["status"] == "available"
