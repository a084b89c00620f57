"""The JSON bodies of /v3/me/ (spec §6), built from rows; no queries here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import reverse

from avatars.models import Address, Avatar

if TYPE_CHECKING:
    from api.selectors import OwnProfile


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


def profile_json(own: OwnProfile) -> dict[str, Any]:
    """The owner's own profile, published or not: everything they can edit, and whether and
    where the world sees it."""
    return {
        "hash": own.primary_sha256,
        "display_name": own.display_name,
        "profile_url": f"{settings.SITE_URL}/{own.slug}" if own.slug else "",
        "avatar_url": f"{settings.SITE_URL}/avatar/{own.primary_sha256}"
        if own.primary_sha256
        else "",
        "avatar_alt_text": own.avatar_alt_text,
        "slug": own.slug,
        "published": own.published,
        **own.texts,
        "links": [{"label": label, "url": url} for label, url in own.links],
        "accounts": [
            {"service": service, "url": url, "verified": verified}
            for service, url, verified in own.accounts
        ],
    }
