"""Profiles in the moderators' admin: the reported queue, hide and show, clearing one field,
the reports; each through the recorded services, with the Moderators group's permissions."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accounts.models import User
from avatars.models import ModerationAction
from profiles.models import Profile, ProfileReport
from profiles.moderation import profile_report
from profiles.selectors import profile_public
from tests.conftest import CommittingClient
from tests.profiles.moderated import make_published

pytestmark = pytest.mark.django_db

PROFILES = "/admin/profiles/profile/"
REPORTS = "/admin/profiles/profilereport/"


@pytest.fixture
def published(personas):
    return make_published(personas)


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
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def report(profile: Profile, reason: str = "spam") -> ProfileReport:
    return profile_report(profile=profile, reason=reason, details="", client_ip="198.51.100.7")


def test_the_queue_lists_reported_profiles_with_their_images(mod_client, personas, published):
    quiet = Profile.objects.create(user=personas.bob, slug="bob-quiet")
    assert "/alice/" not in in_page(mod_client, PROFILES)
    report(published)
    page = in_page(mod_client, PROFILES)
    assert f"{PROFILES}{published.pk}/change/" in page
    assert f"{PROFILES}{quiet.pk}/change/" not in page
    assert f"/account/avatars/{personas.alice_avatar.pk}/preview/" in page
    assert f"{PROFILES}{quiet.pk}/change/" in in_page(mod_client, PROFILES + "?queue=all")


def test_hiding_in_bulk_is_recorded_and_the_profile_answers_as_unknown(
    mod_client, published, moderator
):
    response = mod_client.post(
        PROFILES + "?queue=all",
        {"action": "hide_profiles", "_selected_action": [published.pk]},
        follow=True,
    )
    assert "Hid 1 profile." in response.content.decode()
    assert profile_public(slug="alice") is None
    assert ModerationAction.objects.get().kind == "hide_profile"
    mod_client.post(
        PROFILES + "?queue=all", {"action": "unhide_profiles", "_selected_action": [published.pk]}
    )
    assert profile_public(slug="alice") is not None
    assert "Hidden" in in_page(mod_client, PROFILES + "?queue=all")


def test_the_change_form_shows_the_fields_and_hides_through_the_service(mod_client, published):
    url = f"{PROFILES}{published.pk}/change/"
    page = in_page(mod_client, url)
    for shown in ("Alice Liddell", "Lisbon", "Down the rabbit hole", "https://alice.example/"):
        assert shown in page
    response = mod_client.post(
        url, {"hidden": "on", "reports-TOTAL_FORMS": "0", "reports-INITIAL_FORMS": "0"}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Profile.objects.get(pk=published.pk).hidden
    action = ModerationAction.objects.get()
    assert (action.kind, action.before, action.after) == ("hide_profile", "shown", "hidden")


def test_clearing_one_field_from_the_admin(mod_client, published, moderator):
    url = f"{PROFILES}{published.pk}/clear/"
    page = in_page(mod_client, url)
    assert "About me: Down the rabbit hole" in page and "Link: Blog https://alice.example/" in page
    response = mod_client.post(url, {"field": "about_me", "note": "spam"}, follow=True)
    assert "Cleared about_me." in response.content.decode()
    public = profile_public(slug="alice")
    assert public is not None and public.about_me == "" and public.location == "Lisbon"
    action = ModerationAction.objects.get()
    assert (action.kind, action.moderator, action.note) == (
        "clear_profile_field",
        moderator,
        "about_me: spam",
    )
    # A field that is empty is no longer offered.
    refused = mod_client.post(url, {"field": "about_me"})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert ModerationAction.objects.count() == 1


def test_reports_are_listed_open_first_and_resolved_from_the_admin(
    mod_client, published, moderator
):
    first = report(published, "impersonation")
    page = in_page(mod_client, REPORTS)
    assert "Pretends to be someone else" in page and f"{PROFILES}{published.pk}/change/" in page
    mod_client.post(REPORTS, {"action": "resolve_reports", "_selected_action": [first.pk]})
    first.refresh_from_db()
    assert first.resolved_by == moderator
    change = f"{REPORTS}{first.pk}/change/"
    assert change not in in_page(mod_client, REPORTS)
    assert change in in_page(mod_client, REPORTS + "?open=resolved")
    assert f"{PROFILES}{published.pk}/change/" not in in_page(mod_client, PROFILES)


def test_moderators_cannot_add_or_delete_profiles_or_reports(mod_client, published):
    one = report(published)
    assert mod_client.get(PROFILES + "add/").status_code == 403
    assert mod_client.post(f"{PROFILES}{published.pk}/delete/", {"post": "yes"}).status_code == 403
    assert mod_client.post(f"{REPORTS}{one.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Profile.objects.filter(pk=published.pk).exists() and ProfileReport.objects.exists()


def test_people_without_staff_status_are_kept_out(personas, published):
    client = CommittingClient()
    client.force_login(personas.alice)
    assert client.get(f"{PROFILES}{published.pk}/clear/").status_code == 302
    assert client.post(f"{PROFILES}{published.pk}/clear/", {"field": "about_me"}).status_code == 302
    assert Profile.objects.get(pk=published.pk).about_me
