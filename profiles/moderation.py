"""What moderators do to profiles: hide one, clear one field, resolve reports. Each decision is
recorded in the moderation log (`avatars.models.ModerationAction`, beside image decisions) and
purged from the edge in the same transaction (`profiles.freshness.profile_served_changed`).

The admin calls these; nothing else hides a profile or clears a field for its owner.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from avatars.models import Address, Avatar, ModerationAction
from avatars.moderation import avatars_report
from profiles import rules, throttle
from profiles.freshness import profile_served_changed
from profiles.models import AddressChoice, Profile, ProfileAccount, ProfileLink, ProfileReport
from profiles.selectors import shows_profile


class UnknownField(ValueError):
    """Not a field of spec §2, or an entry that is not this profile's."""


def profile_set_hidden(*, moderator: User, profile: Profile, hidden: bool, note: str = "") -> bool:
    """Hide a profile (it answers as unknown everywhere) or show it again. Returns False when
    it already was in that state."""
    with transaction.atomic():
        profile = Profile.objects.select_for_update().get(pk=profile.pk)
        if profile.hidden == hidden:
            return False
        profile.hidden = hidden
        profile.save(update_fields=["hidden", "updated_at"])
        kinds = ModerationAction.Kind
        ModerationAction.objects.create(
            moderator=moderator,
            kind=kinds.HIDE_PROFILE if hidden else kinds.UNHIDE_PROFILE,
            subject_user_id=profile.user_id,
            before="shown" if hidden else "hidden",
            after="hidden" if hidden else "shown",
            note=note[:250],
        )
        profile_served_changed(profile=profile)
    return True


def profile_clear_field(*, moderator: User, profile: Profile, field: str, note: str = "") -> bool:
    """Empty one field of §2: a name in `rules.CLEARABLE_FIELDS`, or one entry of a list as
    "link:<id>", "account:<id>" (removed) or "email:<address id>" (no longer published).
    Returns False when there was nothing to clear; raises UnknownField for anything else."""
    with transaction.atomic():
        profile = Profile.objects.select_for_update().select_related("user").get(pk=profile.pk)
        if not _clear(profile, field):
            return False
        # Even when only a related row changed: the answers' Last-Modified reads updated_at.
        own = [field] if field in rules.CLEARABLE_FIELDS and field != "display_name" else []
        profile.save(update_fields=[*own, "updated_at"])
        ModerationAction.objects.create(
            moderator=moderator,
            kind=ModerationAction.Kind.CLEAR_PROFILE_FIELD,
            subject_user_id=profile.user_id,
            before="set",
            after="cleared",
            note=(f"{field}: {note}" if note else field)[:250],
        )
        profile_served_changed(profile=profile)
    return True


def _clear(profile: Profile, field: str) -> bool:
    if field == "display_name":
        user = User.objects.select_for_update().get(pk=profile.user_id)
        if not user.display_name:
            return False
        user.display_name = ""
        user.save(update_fields=["display_name"])
        return True
    if field in rules.CLEARABLE_FIELDS:
        if not getattr(profile, field):
            return False
        setattr(profile, field, "")  # saved by the caller, with updated_at
        return True
    kind, _, raw_id = field.partition(":")
    if kind not in rules.CLEARABLE_ENTRIES or not raw_id.isdigit():
        raise UnknownField(f"{field!r} is not a field of a profile")
    entry_id = int(raw_id)
    if kind == "link":
        deleted, _ = ProfileLink.objects.filter(profile=profile, pk=entry_id).delete()
        return _owned(deleted, field)
    if kind == "account":
        deleted, _ = ProfileAccount.objects.filter(profile=profile, pk=entry_id).delete()
        return _owned(deleted, field)
    if not Address.objects.filter(pk=entry_id, owner_id=profile.user_id).exists():
        raise UnknownField(f"{field!r} is not an address of this profile")
    return bool(
        AddressChoice.objects.filter(address_id=entry_id, email_published=True).update(
            email_published=False
        )
    )


def _owned(deleted: int, field: str) -> bool:
    if not deleted:
        raise UnknownField(f"{field!r} is not an entry of this profile")
    return True


def clearable_fields_of(profile: Profile) -> list[tuple[str, str]]:
    """What a moderator can clear on this profile now, as (field, "label: current value"),
    in the order of §2: only what is set."""
    choices: list[tuple[str, str]] = []
    if profile.user.display_name:
        choices.append(("display_name", f"Display name: {profile.user.display_name}"))
    for name in rules.CLEARABLE_FIELDS[1:]:
        value = getattr(profile, name)
        if value:
            label = name.replace("_", " ").capitalize()
            choices.append((name, f"{label}: {_short(value)}"))
    choices += [
        (f"link:{link.pk}", f"Link: {link.label} {link.url}") for link in profile.links.all()
    ]
    choices += [
        (f"account:{account.pk}", f"Account elsewhere: {account.url}")
        for account in profile.accounts.all()
    ]
    choices += [
        (f"email:{choice.address_id}", f"Published address: {choice.address.email}")
        for choice in AddressChoice.objects.filter(
            address__owner_id=profile.user_id, email_published=True
        ).select_related("address")
    ]
    return choices


def _short(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def profile_reports_resolve(*, moderator: User, reports: Iterable[ProfileReport]) -> int:
    """Take reports out of the queue (the decision itself, if any, is its own action)."""
    return ProfileReport.objects.filter(
        pk__in=[report.pk for report in reports], resolved_at__isnull=True
    ).update(resolved_at=timezone.now(), resolved_by=moderator)


class ReportLimitReached(Exception):
    """This client address sent `rules.REPORTS_PER_WINDOW` reports in the current window."""


def profile_report(*, profile: Profile, reason: str, details: str, client_ip: str) -> ProfileReport:
    """A visitor's report: the profile waits in the moderators' queue (an open report) and the
    approved images it shows go back to the image queue. Limited per client address."""
    if reason not in dict(rules.REPORT_REASONS):
        raise ValueError(f"{reason!r} is not a reason to report")
    with transaction.atomic():
        digest = throttle.client_digest(client_ip)
        if not throttle.allow_report(digest):
            raise ReportLimitReached
        report = ProfileReport(
            profile=profile, reason=reason, details=details, client_digest=digest
        )
        report.full_clean()
        report.save()
        addresses = Address.objects.filter(owner_id=profile.user_id, verified_at__isnull=False)
        choices = {c.address_id: c for c in AddressChoice.objects.filter(address__in=addresses)}
        shown = [a for a in addresses if shows_profile(a, choices.get(a.pk))]
        avatars_report(
            avatars=Avatar.objects.filter(addresses__in=shown).distinct(),
            note=f"Profile report {report.pk}: {reason}",
        )
    return report
