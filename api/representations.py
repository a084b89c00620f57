"""The JSON bodies of /v3/me/ (spec §6), built from rows; no queries here."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from accounts.models import User
from avatars.models import Address, Avatar
from profiles.models import Profile


def image_url(image_id: str) -> str:
    return settings.SITE_URL + reverse("api_image", args=[image_id])


def avatar_json(avatar: Avatar, image_id: str, *, selected: bool) -> dict[str, Any]:
    return {
        "image_id": image_id,
        "image_url": image_url(image_id),
        "rating": avatar.rating.upper(),
        "alt_text": avatar.alt_text,
        "selected": selected,
        "updated_date": avatar.updated_at.isoformat().replace("+00:00", "Z"),
    }


def address_avatar_url(address: Address | None) -> str:
    """Where sites see the address's image; never with a query string (spec §5)."""
    return f"{settings.SITE_URL}/avatar/{address.sha256}" if address is not None else ""


# The owner's text fields, as the API names them (spec §5's names), and the Profile column
# behind each; PATCH /v3/me/profile takes the same names.
PROFILE_FIELDS = {
    "first_name": "first_name",
    "last_name": "last_name",
    "description": "about_me",
    "location": "location",
    "pronouns": "pronouns",
    "pronunciation": "pronunciation",
    "job_title": "job_title",
    "company": "company",
    "background_color": "background_color",
}


def profile_json(user: User, profile: Profile | None, primary: Address | None) -> dict[str, Any]:
    """The owner's own profile, published or not: everything they can edit, and whether and
    where the world sees it."""
    slug = profile.slug if profile is not None and profile.slug else ""
    body: dict[str, Any] = {
        "hash": primary.sha256 if primary is not None else "",
        "display_name": user.display_name,
        "profile_url": f"{settings.SITE_URL}/{slug}" if slug else "",
        "avatar_url": address_avatar_url(primary),
        "avatar_alt_text": primary.avatar.alt_text if primary and primary.avatar else "",
        "slug": slug,
        "published": bool(profile and profile.published),
    }
    for name, column in PROFILE_FIELDS.items():
        body[name] = getattr(profile, column) if profile is not None else ""
    body["links"] = (
        [{"label": link.label, "url": link.url} for link in profile.links.all()] if profile else []
    )
    body["accounts"] = (
        [
            {"service": account.service, "url": account.url, "verified": account.is_verified}
            for account in profile.accounts.all()
        ]
        if profile
        else []
    )
    return body
