"""Profile and privacy: saved, and purged only when what the hashes serve changes."""

from __future__ import annotations

import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_it_saves_the_display_name_and_privacy_choices(alice_client, personas, queued_purges):
    response = alice_client.post(
        "/account/profile/",
        {"display_name": "Alice Liddell", "display_name_public": "on", "hide_avatar": "on"},
    )
    assert response["Location"] == "/account/profile/"
    alice = User.objects.get(pk=personas.alice.pk)
    assert (alice.display_name, alice.display_name_public, alice.hide_avatar) == (
        "Alice Liddell",
        True,
        True,
    )
    assert {personas.alice_address.md5, personas.alice_address.sha256} <= queued_purges()


def test_saving_unchanged_choices_purges_nothing(alice_client, personas, queued_purges):
    alice_client.post("/account/profile/", {"display_name": ""})
    assert queued_purges() == set()
