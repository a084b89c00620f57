"""The owner's own profile as GET /v3/me/profile shows it: the hottest signed-in read, in at
most three compiled queries (api/compiled.py): the account with its profile and primary
address, then the profile's links and its accounts elsewhere."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from accounts.models import User
from api.compiled import ID_PLACEHOLDER, Compiled
from api.representations import PROFILE_FIELDS
from avatars.models import Address
from profiles.models import ProfileAccount, ProfileLink


@dataclass(frozen=True, slots=True)
class OwnProfile:
    display_name: str
    slug: str
    published: bool
    texts: dict[str, str]  # by the API's field names (representations.PROFILE_FIELDS)
    primary_sha256: str
    avatar_alt_text: str
    links: tuple[tuple[str, str], ...]  # (label, url)
    accounts: tuple[tuple[str, str, bool], ...]  # (service, url, verified)


def _account_query() -> QuerySet[Any, Any]:
    primary = Address.objects.filter(owner=OuterRef("pk"), verified_at__isnull=False).order_by(
        "-is_primary", "email"
    )
    return (
        User.objects.filter(pk=ID_PLACEHOLDER)
        .annotate(
            primary_sha256=Subquery(primary.values("sha256")[:1]),
            primary_alt_text=Subquery(primary.values("avatar__alt_text")[:1]),
        )
        .order_by()
        .values_list(
            "display_name",
            "profile__id",
            "profile__slug",
            "profile__published",
            *(f"profile__{column}" for column in PROFILE_FIELDS.values()),
            "primary_sha256",
            "primary_alt_text",
        )
    )


_ACCOUNT = Compiled(_account_query, ID_PLACEHOLDER)
_LINKS = Compiled(
    lambda: (
        ProfileLink.objects.filter(profile_id=ID_PLACEHOLDER)
        .order_by("position", "pk")
        .values_list("label", "url")
    ),
    ID_PLACEHOLDER,
)
_ACCOUNTS = Compiled(
    lambda: (
        ProfileAccount.objects.filter(profile_id=ID_PLACEHOLDER)
        .order_by("position", "pk")
        .values_list("service", "url", "verified_at")
    ),
    ID_PLACEHOLDER,
)


def own_profile(*, user_id: int) -> OwnProfile:
    row = _ACCOUNT.first(user_id)
    assert row is not None, "a token's owner exists"
    display_name, profile_id, slug, published, *rest = row
    *texts, sha256, alt_text = rest
    links = _LINKS.all(profile_id) if profile_id is not None else []
    accounts = _ACCOUNTS.all(profile_id) if profile_id is not None else []
    return OwnProfile(
        display_name=display_name,
        slug=slug or "",
        published=bool(published),
        texts={name: value or "" for name, value in zip(PROFILE_FIELDS, texts, strict=True)},
        primary_sha256=sha256 or "",
        avatar_alt_text=alt_text or "",
        links=tuple((label, url) for label, url in links),
        accounts=tuple((service, url, verified is not None) for service, url, verified in accounts),
    )
