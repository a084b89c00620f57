"""Moderating profiles: hiding one, clearing one field, reports. Every decision is recorded in
the moderation log and purges every key the profile answers for."""

from __future__ import annotations

import pytest

from avatars.models import Avatar, ModerationAction, ModerationState
from profiles import rules
from profiles.models import AddressChoice, Profile, ProfileReport
from profiles.moderation import (
    ReportLimitReached,
    UnknownField,
    clearable_fields_of,
    profile_clear_field,
    profile_report,
    profile_reports_resolve,
    profile_set_hidden,
)
from profiles.selectors import profile_public
from tests.profiles.moderated import WORK_EMAIL, make_published

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(personas):
    return make_published(personas)


def profile_keys(personas) -> set[str]:
    work = personas.alice.addresses.get(email=WORK_EMAIL)
    address = personas.alice_address
    return {address.md5, address.sha256, work.md5, work.sha256, "slug-alice"}


def test_hiding_answers_as_unknown_records_and_purges(
    personas, published, moderator, queued_purges
):
    assert profile_set_hidden(moderator=moderator, profile=published, hidden=True, note="abuse")
    assert profile_public(slug="alice") is None
    assert profile_public(digest=personas.alice_address.sha256) is None
    action = ModerationAction.objects.get()
    assert (action.kind, action.moderator, action.subject_user) == (
        "hide_profile",
        moderator,
        personas.alice,
    )
    assert (action.before, action.after, action.note) == ("shown", "hidden", "abuse")
    assert profile_keys(personas) <= queued_purges()


def test_showing_again_is_recorded_and_the_profile_answers(published, moderator):
    profile_set_hidden(moderator=moderator, profile=published, hidden=True)
    assert profile_set_hidden(moderator=moderator, profile=published, hidden=False)
    assert profile_public(slug="alice") is not None
    kinds = list(ModerationAction.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["hide_profile", "unhide_profile"]


def test_an_unchanged_state_is_not_recorded_again(published, moderator):
    assert not profile_set_hidden(moderator=moderator, profile=published, hidden=False)
    assert not ModerationAction.objects.exists()


@pytest.mark.parametrize("field", ["location", "about_me", "job_title", "display_name"])
def test_clearing_a_text_field_empties_it_everywhere(
    personas, published, moderator, field, queued_purges
):
    before = profile_public(slug="alice")
    assert before is not None and getattr(before, field)
    assert profile_clear_field(moderator=moderator, profile=published, field=field, note="rude")
    after = profile_public(slug="alice")
    assert after is not None and getattr(after, field) == ""
    assert after.updated_at > before.updated_at
    action = ModerationAction.objects.get()
    assert (action.kind, action.subject_user, action.note) == (
        "clear_profile_field",
        personas.alice,
        f"{field}: rude",
    )
    assert profile_keys(personas) <= queued_purges()


def test_clearing_a_link_an_account_or_a_published_address(personas, published, moderator):
    link = published.links.get()
    account = published.accounts.get()
    work = personas.alice.addresses.get(email=WORK_EMAIL)
    for field in (f"link:{link.pk}", f"account:{account.pk}", f"email:{work.pk}"):
        assert profile_clear_field(moderator=moderator, profile=published, field=field)
    public = profile_public(slug="alice")
    assert public is not None
    assert (public.links, public.accounts, public.emails) == ((), (), ())
    # The address still shows the profile; only its publication was cleared.
    assert profile_public(digest=work.md5) is not None
    assert AddressChoice.objects.get(address=work).shows_profile
    notes = list(ModerationAction.objects.order_by("pk").values_list("note", flat=True))
    assert notes == [f"link:{link.pk}", f"account:{account.pk}", f"email:{work.pk}"]


def test_an_empty_field_is_not_cleared_again(published, moderator):
    assert not profile_clear_field(moderator=moderator, profile=published, field="company")
    assert not ModerationAction.objects.exists()


@pytest.mark.parametrize("field", ["slug", "published", "hidden", "link:x", "nope:1", "link:999"])
def test_anything_but_a_field_of_the_profile_is_refused_and_changes_nothing(
    published, moderator, field
):
    with pytest.raises(UnknownField):
        profile_clear_field(moderator=moderator, profile=published, field=field)
    assert not ModerationAction.objects.exists()
    assert Profile.objects.get(pk=published.pk).slug == "alice"


def test_another_profiles_entries_cannot_be_cleared_through_this_one(
    personas, published, moderator
):
    other = Profile.objects.create(user=personas.bob, slug="bob")
    link = published.links.get()
    with pytest.raises(UnknownField):
        profile_clear_field(moderator=moderator, profile=other, field=f"link:{link.pk}")
    with pytest.raises(UnknownField):
        profile_clear_field(
            moderator=moderator, profile=other, field=f"email:{personas.alice_address.pk}"
        )
    assert published.links.exists()


def test_the_clearable_fields_are_what_is_set(personas, published):
    fields = [field for field, _ in clearable_fields_of(published)]
    link, account = published.links.get(), published.accounts.get()
    work = personas.alice.addresses.get(email=WORK_EMAIL)
    assert fields == [
        "display_name",
        "location",
        "job_title",
        "about_me",
        f"link:{link.pk}",
        f"account:{account.pk}",
        f"email:{work.pk}",
    ]
    assert set(fields) - {f for f in fields if ":" in f} <= set(rules.CLEARABLE_FIELDS)


def test_a_report_queues_the_profile_and_sends_its_approved_image_back(personas, published):
    Avatar.objects.filter(pk=personas.alice_avatar.pk).update(state=ModerationState.APPROVED)
    report = profile_report(
        profile=published, reason="spam", details="casino links", client_ip="198.51.100.7"
    )
    assert ProfileReport.objects.get() == report
    assert (report.reason, report.details, report.resolved_at) == ("spam", "casino links", None)
    assert "198.51.100.7" not in report.client_digest
    personas.alice_avatar.refresh_from_db()
    assert personas.alice_avatar.state == ModerationState.FLAGGED
    action = ModerationAction.objects.get()
    assert (action.kind, action.moderator, action.avatar) == ("report", None, personas.alice_avatar)
    assert (action.before, action.after) == ("approved", "flagged")
    # A flagged image keeps showing (post-moderation), and so does the profile.
    assert profile_public(slug="alice") is not None


def test_a_rejected_image_stays_rejected_when_reported(personas, published):
    Avatar.objects.filter(pk=personas.alice_avatar.pk).update(state=ModerationState.REJECTED)
    profile_report(profile=published, reason="other", details="", client_ip="198.51.100.7")
    personas.alice_avatar.refresh_from_db()
    assert personas.alice_avatar.state == ModerationState.REJECTED
    assert not ModerationAction.objects.exists()


def test_reports_are_limited_per_client_address(published):
    for _ in range(rules.REPORTS_PER_WINDOW):
        profile_report(profile=published, reason="spam", details="", client_ip="198.51.100.7")
    with pytest.raises(ReportLimitReached):
        profile_report(profile=published, reason="spam", details="", client_ip="198.51.100.7")
    assert ProfileReport.objects.count() == rules.REPORTS_PER_WINDOW
    # Another client has its own allowance.
    profile_report(profile=published, reason="spam", details="", client_ip="198.51.100.8")


def test_a_reason_off_the_list_is_refused(published):
    with pytest.raises(ValueError, match="not a reason"):
        profile_report(profile=published, reason="boring", details="", client_ip="198.51.100.7")
    assert not ProfileReport.objects.exists()


def test_resolving_takes_reports_out_of_the_queue_once(published, moderator):
    report = profile_report(profile=published, reason="spam", details="", client_ip="198.51.100.7")
    assert profile_reports_resolve(moderator=moderator, reports=[report]) == 1
    assert profile_reports_resolve(moderator=moderator, reports=[report]) == 0
    report.refresh_from_db()
    assert report.resolved_by == moderator and report.resolved_at is not None
