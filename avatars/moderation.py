"""What moderators do, each change recorded (who, what, when) and pushed to the edge caches.

The admin calls these; nothing else changes an avatar's state or a moderated rating.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from avatars.freshness import avatars_served_changed, user_served_changed
from avatars.models import Avatar, ModerationAction, ModerationState, Rating

_KIND_FOR_STATE = {
    ModerationState.APPROVED: ModerationAction.Kind.APPROVE,
    ModerationState.REJECTED: ModerationAction.Kind.REJECT,
    ModerationState.FLAGGED: ModerationAction.Kind.FLAG,
}


def _avatars_moderate(
    *,
    moderator: User | None,
    avatars: Iterable[Avatar],
    field: Literal["state", "rating"],
    value: str,
    kind: ModerationAction.Kind,
    note: str,
    only_states: Iterable[str] = (),
) -> int:
    """Set `field` to `value` on the avatars that differ (and are in `only_states`, when
    given, as read under the lock), one recorded action each."""
    with transaction.atomic():
        locked = Avatar.objects.select_for_update().filter(pk__in=[a.pk for a in avatars])
        if only_states:
            locked = locked.filter(state__in=list(only_states))
        changed = [avatar for avatar in locked if getattr(avatar, field) != value]
        ModerationAction.objects.bulk_create(
            ModerationAction(
                moderator=moderator,
                kind=kind,
                avatar=avatar,
                subject_user_id=avatar.owner_id,
                before=getattr(avatar, field),
                after=value,
                note=note,
            )
            for avatar in changed
        )
        ids = [avatar.pk for avatar in changed]
        # update() skips auto_now; the endpoint's Last-Modified reads updated_at.
        changes: dict[str, object] = {field: value, "updated_at": timezone.now()}
        Avatar.objects.filter(pk__in=ids).update(**changes)
        avatars_served_changed(avatars=changed)
    return len(changed)


def avatars_set_state(
    *, moderator: User, avatars: Iterable[Avatar], state: ModerationState, note: str = ""
) -> int:
    """Approve, reject or flag; returns how many avatars changed (unchanged ones are skipped)."""
    return _avatars_moderate(
        moderator=moderator,
        avatars=avatars,
        field="state",
        value=state,
        kind=_KIND_FOR_STATE[state],
        note=note,
    )


def avatars_set_rating(
    *, moderator: User, avatars: Iterable[Avatar], rating: str, note: str = ""
) -> int:
    """A moderator's rating; returns how many avatars changed."""
    if rating not in Rating.values:
        raise ValueError(f"{rating!r} is not a rating")
    return _avatars_moderate(
        moderator=moderator,
        avatars=avatars,
        field="rating",
        value=rating,
        kind=ModerationAction.Kind.RATE,
        note=note,
    )


def avatars_report(*, avatars: Iterable[Avatar], note: str = "") -> int:
    """A visitor reported the page these images show on: approved ones go back to the queue as
    flagged (shown meanwhile only under post-moderation, as every flagged image), recorded
    without a moderator. New and flagged ones are in the queue already, rejected ones show
    nowhere."""
    return _avatars_moderate(
        moderator=None,
        avatars=avatars,
        field="state",
        value=ModerationState.FLAGGED,
        kind=ModerationAction.Kind.REPORT,
        note=note,
        only_states=[ModerationState.APPROVED],
    )


def user_set_active(*, moderator: User, user: User, active: bool, note: str = "") -> bool:
    """Disable an account (it cannot sign in and its hashes serve defaults) or enable it again.
    Returns False when the account was already in that state."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_active == active:
            return False
        user.is_active = active
        user.save(update_fields=["is_active"])
        kinds = ModerationAction.Kind
        ModerationAction.objects.create(
            moderator=moderator,
            kind=kinds.ENABLE_USER if active else kinds.DISABLE_USER,
            subject_user=user,
            before="active" if not active else "disabled",
            after="active" if active else "disabled",
            note=note,
        )
        user_served_changed(user=user)
    return True
