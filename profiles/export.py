"""The profile's part of the account's data export (avatars/export.py, through avatars.hooks):
everything the owner entered and chose, published or not, with the verification state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accounts.models import User
from avatars.models import Address
from profiles import rules
from profiles.models import AddressChoice, Profile
from profiles.selectors import email_published, shows_profile


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def profile_data(user: User) -> dict[str, Any] | None:
    profile = Profile.objects.filter(user=user).first()
    if profile is None:
        return None
    addresses = list(Address.objects.filter(owner=user).order_by("email"))
    choices = {c.address_id: c for c in AddressChoice.objects.filter(address__in=addresses)}
    return {
        "published": profile.published,
        "slug": profile.slug,
        "old_slugs": [
            {"slug": old.slug, "retired_at": _when(old.retired_at)}
            for old in profile.old_slugs.order_by("retired_at")
        ],
        "display_name": user.display_name,
        **{field: getattr(profile, field) for field in rules.TEXT_FIELDS},
        "about_me": profile.about_me,
        "background_color": profile.background_color,
        "hidden_by_moderator": profile.hidden,
        "links": [{"label": link.label, "url": link.url} for link in profile.links.all()],
        "accounts": [
            {
                "service": account.service,
                "url": account.url,
                "verified": account.is_verified,
                "verified_at": _when(account.verified_at),
                "checked_at": _when(account.checked_at),
                "check_message": account.check_message,
            }
            for account in profile.accounts.all()
        ],
        "addresses": [
            {
                "email": address.email,
                "shows_profile": shows_profile(address, choices.get(address.pk)),
                "email_published": email_published(address, choices.get(address.pk)),
            }
            for address in addresses
        ],
        "created_at": _when(profile.created_at),
        "updated_at": _when(profile.updated_at),
    }
