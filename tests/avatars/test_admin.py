"""The moderators' admin: the queue, thumbnails, filters, bulk actions and accounts."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accounts.models import User
from avatars.models import Avatar, ModerationAction, ModerationState
from avatars.services import avatar_store
from tests.conftest import CommittingClient, image_bytes
from tests.personas import make_personas

pytestmark = pytest.mark.django_db

QUEUE = "/admin/avatars/avatar/"


@pytest.fixture
def personas():
    return make_personas()


@pytest.fixture
def moderator():
    """A staff account with exactly the Moderators group's permissions, no superuser."""
    user = User.objects.create_user("mod@example.com", "mod-password-1")
    call_command("moderator", "mod@example.com", stdout=io.StringIO())
    user.refresh_from_db()
    return user


@pytest.fixture
def mod_client(moderator):
    client = CommittingClient()
    client.force_login(moderator)
    return client


def in_page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def run_action(client, action: str, avatars, query: str = ""):
    return client.post(
        QUEUE + query,
        {"action": action, "_selected_action": [a.pk for a in avatars]},
        follow=True,
    )


def test_the_queue_lists_new_and_flagged_avatars_with_thumbnails(mod_client, personas):
    flagged = avatar_store(owner=personas.bob, data=image_bytes())
    approved = avatar_store(owner=personas.bob, data=image_bytes())
    Avatar.objects.filter(pk=flagged.pk).update(state=ModerationState.FLAGGED)
    Avatar.objects.filter(pk=approved.pk).update(state=ModerationState.APPROVED)
    page = in_page(mod_client, QUEUE)
    assert f"/account/avatars/{personas.alice_avatar.pk}/preview/" in page
    assert f"/account/avatars/{flagged.pk}/preview/" in page
    assert f"/account/avatars/{approved.pk}/preview/" not in page
    assert f"/account/avatars/{approved.pk}/preview/" in in_page(mod_client, QUEUE + "?queue=all")


def test_it_filters_by_state_and_rating(mod_client, personas):
    pg = avatar_store(owner=personas.bob, data=image_bytes(), rating="pg")
    page = in_page(mod_client, QUEUE + "?queue=all&rating__exact=pg")
    assert f"/account/avatars/{pg.pk}/preview/" in page
    assert f"/account/avatars/{personas.alice_avatar.pk}/preview/" not in page
    Avatar.objects.filter(pk=pg.pk).update(state=ModerationState.REJECTED)
    rejected = in_page(mod_client, QUEUE + "?queue=rejected")
    assert f"/account/avatars/{pg.pk}/preview/" in rejected
    assert f"/account/avatars/{personas.alice_avatar.pk}/preview/" not in rejected


def test_bulk_reject_and_approve_are_recorded(mod_client, personas, moderator):
    second = avatar_store(owner=personas.bob, data=image_bytes())
    response = run_action(mod_client, "set_state_rejected", [personas.alice_avatar, second])
    assert "Rejected 2 avatars." in response.content.decode()
    assert set(Avatar.objects.values_list("state", flat=True)) == {"rejected"}
    run_action(mod_client, "set_state_approved", [second], query="?queue=all")
    second.refresh_from_db()
    assert second.state == ModerationState.APPROVED
    kinds = list(ModerationAction.objects.order_by("pk").values_list("kind", "moderator"))
    assert kinds == [("reject", moderator.pk)] * 2 + [("approve", moderator.pk)]


def test_bulk_rating_change(mod_client, personas):
    run_action(mod_client, "set_rating_x", [personas.alice_avatar])
    personas.alice_avatar.refresh_from_db()
    assert personas.alice_avatar.rating == "x"
    assert ModerationAction.objects.get().kind == "rate"


def test_the_change_form_goes_through_the_recorded_services(mod_client, personas):
    url = f"{QUEUE}{personas.alice_avatar.pk}/change/"
    assert f"/account/avatars/{personas.alice_avatar.pk}/preview/" in in_page(mod_client, url)
    mod_client.post(url, {"state": "rejected", "rating": "pg"})
    personas.alice_avatar.refresh_from_db()
    assert (personas.alice_avatar.state, personas.alice_avatar.rating) == ("rejected", "pg")
    assert sorted(ModerationAction.objects.values_list("kind", flat=True)) == ["rate", "reject"]


def test_moderators_cannot_add_or_delete_avatars(mod_client, personas):
    assert mod_client.get(QUEUE + "add/").status_code == 403
    url = f"{QUEUE}{personas.alice_avatar.pk}/delete/"
    assert mod_client.post(url, {"post": "yes"}).status_code == 403
    assert Avatar.objects.filter(pk=personas.alice_avatar.pk).exists()


def test_the_action_log_is_read_only(mod_client, personas, moderator):
    run_action(mod_client, "set_state_flagged", [personas.alice_avatar])
    action = ModerationAction.objects.get()
    page = in_page(mod_client, "/admin/avatars/moderationaction/")
    assert "mod@example.com" in page and "Flagged" in page
    assert mod_client.get(f"/admin/avatars/moderationaction/{action.pk}/delete/").status_code == 403


def test_users_show_their_addresses_inline(mod_client, personas):
    page = in_page(mod_client, f"/admin/accounts/user/{personas.alice.pk}/change/")
    assert "alice@example.com" in page
    assert personas.alice_address.sha256 in page


def test_disabling_accounts_in_bulk_is_recorded(mod_client, personas, moderator):
    mod_client.post(
        "/admin/accounts/user/",
        {"action": "disable_accounts", "_selected_action": [personas.alice.pk]},
    )
    personas.alice.refresh_from_db()
    assert not personas.alice.is_active
    action = ModerationAction.objects.get()
    assert (action.kind, action.moderator, action.subject_user) == (
        "disable_user",
        moderator,
        personas.alice,
    )


def test_unticking_active_in_the_form_is_recorded_too(mod_client, personas):
    url = f"/admin/accounts/user/{personas.alice.pk}/change/"
    response = mod_client.post(
        url,
        {
            "is_staff": "",
            "addresses-TOTAL_FORMS": "1",
            "addresses-INITIAL_FORMS": "1",
            "addresses-MIN_NUM_FORMS": "0",
            "addresses-MAX_NUM_FORMS": "1000",
            "addresses-0-id": personas.alice_address.pk,
            "addresses-0-owner": personas.alice.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    personas.alice.refresh_from_db()
    assert not personas.alice.is_active
    assert ModerationAction.objects.get().kind == "disable_user"


def test_people_without_staff_status_are_kept_out(personas):
    client = CommittingClient()
    client.force_login(personas.alice)
    assert client.get(QUEUE).status_code == 302
