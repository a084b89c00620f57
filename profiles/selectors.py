"""What a profile shows the world: one decision of who is public, used by every format.

`profile_public` answers a hash or a slug with a `PublicProfile`, or None. None covers every
case the world must not tell apart (spec §1): unknown hash, unverified address, an address the
owner did not choose to show the profile on, unpublished or hidden profile, disabled account.
Callers build their answers only from the returned object, so no unpublished field can leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from accounts.models import User
from avatars.contract import HASH_LENGTHS
from avatars.models import Address, address_digests
from profiles import rules
from profiles.models import AddressChoice, OldSlug, Profile


@dataclass(frozen=True, slots=True)
class PublicLink:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class PublicAccount:
    service: str
    url: str
    verified: bool


@dataclass(frozen=True, slots=True)
class PublicAddress:
    md5: str
    sha256: str


@dataclass(frozen=True, slots=True)
class PublicProfile:
    """Everything a public answer may contain, and the address it answers for."""

    public_id: str
    slug: str
    address: PublicAddress  # the requested one, or for a slug the primary (else first) shown
    display_name: str
    first_name: str
    last_name: str
    about_me: str
    location: str
    pronouns: str
    pronunciation: str
    job_title: str
    company: str
    background_color: str
    links: tuple[PublicLink, ...]
    accounts: tuple[PublicAccount, ...]
    emails: tuple[tuple[str, bool], ...]  # (address, is primary), only the published ones
    avatar_alt_text: str
    registered_at: datetime
    updated_at: datetime
    # Every key whose purge must drop this answer at the edge (profiles.freshness.profile_keys).
    keys: tuple[str, ...]


def shows_profile(address: Address, choice: AddressChoice | None) -> bool:
    """The rule of spec §1: verified, and chosen by the owner (default: the primary only)."""
    if not address.is_verified:
        return False
    return choice.shows_profile if choice is not None else address.is_primary


def email_published(address: Address, choice: AddressChoice | None) -> bool:
    return address.is_verified and choice is not None and choice.email_published


def profile_public(*, digest: str = "", slug: str = "") -> PublicProfile | None:
    """The public profile behind a lower-case MD5/SHA-256 digest or a slug, or None."""
    if digest:
        if len(digest) not in HASH_LENGTHS:
            return None
        column = "md5" if len(digest) == 32 else "sha256"
        address = (
            Address.objects.filter(**{column: digest}, verified_at__isnull=False)
            .select_related("owner")
            .first()
        )
        if address is None:
            return None
        profile = Profile.objects.filter(user_id=address.owner_id).first()
        return _public(profile, requested=address)
    if slug:
        profile = Profile.objects.filter(slug=slug.lower()).select_related("user").first()
        return _public(profile, requested=None)
    return None


def slug_redirect(slug: str) -> str | None:
    """The current slug of a profile that used `slug` recently and is public now, or None."""
    old = (
        OldSlug.objects.filter(
            slug=slug.lower(), retired_at__gt=timezone.now() - rules.OLD_SLUG_REDIRECT
        )
        .select_related("profile")
        .first()
    )
    if old is None or old.profile.slug is None:
        return None
    if profile_public(slug=old.profile.slug) is None:
        return None
    return old.profile.slug


def _public(profile: Profile | None, *, requested: Address | None) -> PublicProfile | None:
    if profile is None or not profile.published or profile.hidden or not profile.slug:
        return None
    user = profile.user
    if not user.is_active:
        return None
    addresses = list(
        Address.objects.filter(owner_id=user.pk, verified_at__isnull=False)
        .select_related("avatar")
        .order_by("-is_primary", "email")
    )
    choices = {c.address_id: c for c in AddressChoice.objects.filter(address__in=addresses)}
    shown = [a for a in addresses if shows_profile(a, choices.get(a.pk))]
    if requested is not None:
        if requested.pk not in {a.pk for a in shown}:
            return None
        answering = next(a for a in shown if a.pk == requested.pk)
    elif shown:
        answering = shown[0]  # the primary address first, by the ordering above
    else:
        # A slug alone would have to name an address the owner chose not to show.
        return None
    return _built(profile, answering=answering, addresses=addresses, choices=choices)


def _built(
    profile: Profile,
    *,
    answering: Address | None,
    addresses: list[Address],
    choices: dict[int, AddressChoice],
) -> PublicProfile:
    user = profile.user
    avatar = answering.avatar if answering is not None else None
    if answering is not None:
        address = PublicAddress(md5=answering.md5, sha256=answering.sha256)
    else:
        md5, sha256 = address_digests(user.email)
        address = PublicAddress(md5=md5, sha256=sha256)
    saved = profile.pk is not None  # the preview of a profile never edited is not saved yet
    return PublicProfile(
        public_id=profile.public_id,
        slug=profile.slug or "",
        address=address,
        display_name=user.display_name,
        first_name=profile.first_name,
        last_name=profile.last_name,
        about_me=profile.about_me,
        location=profile.location,
        pronouns=profile.pronouns,
        pronunciation=profile.pronunciation,
        job_title=profile.job_title,
        company=profile.company,
        background_color=profile.background_color,
        links=tuple(PublicLink(link.label, link.url) for link in profile.links.all())
        if saved
        else (),
        accounts=tuple(
            PublicAccount(account.service, account.url, account.is_verified)
            for account in profile.accounts.all()
        )
        if saved
        else (),
        emails=tuple(
            (a.email, a.is_primary) for a in addresses if email_published(a, choices.get(a.pk))
        ),
        avatar_alt_text=avatar.alt_text if avatar is not None and not user.hide_avatar else "",
        registered_at=user.date_joined,
        updated_at=profile.updated_at or timezone.now(),
        keys=tuple(profile_keys_of(profile, addresses)),
    )


def profile_keys_of(profile: Profile, addresses: list[Address]) -> list[str]:
    """Both digests of every verified address of the account (not only those showing the
    profile: a published email or a choice may change on any of them) and the slug's key."""
    keys = [digest for a in addresses for digest in (a.md5, a.sha256)]
    if profile.slug:
        keys.append(rules.slug_key(profile.slug))
    return keys


# The owner's side: what the editor shows and checks.


def profile_preview(*, user: User) -> PublicProfile:
    """What the public page would show if it were published now, whatever the publish switch,
    the slug or a moderator say: for the owner's preview only, never for a public answer."""
    profile = Profile.objects.filter(user=user).first() or Profile(user=user)
    addresses = list(
        Address.objects.filter(owner_id=user.pk, verified_at__isnull=False)
        .select_related("avatar")
        .order_by("-is_primary", "email")
    )
    choices = {c.address_id: c for c in AddressChoice.objects.filter(address__in=addresses)}
    shown = [a for a in addresses if shows_profile(a, choices.get(a.pk))]
    answering = (shown or addresses)[0] if addresses else None
    return _built(profile, answering=answering, addresses=addresses, choices=choices)


@dataclass(frozen=True, slots=True)
class SlugAnswer:
    slug: str  # as it would be stored (lower-case)
    status: str  # one of rules.SLUG_AVAILABLE, SLUG_TAKEN, SLUG_RESERVED, SLUG_INVALID
    message: str


def profile_slug_check(*, slug: str, user: User | None = None) -> SlugAnswer:
    """Whether `slug` can be this account's profile address: the live check in the editor and
    the rule the service applies on submit. A slug used by another profile, or retired by one
    less than rules.OLD_SLUG_REDIRECT ago (it still redirects there), is taken; the account's
    own current and old slugs are available to it."""
    typed = slug.strip()
    # ASCII before lower-casing: "\u212a".lower() is the letter k.
    if not typed.isascii():
        return SlugAnswer(typed, rules.SLUG_INVALID, SLUG_MESSAGES["non_ascii"])
    lowered = typed.lower()
    if len(lowered) > rules.SLUG_MAX:
        return SlugAnswer(lowered, rules.SLUG_INVALID, SLUG_MESSAGES["too_long"])
    if not rules.SLUG_PATTERN.match(lowered):
        return SlugAnswer(lowered, rules.SLUG_INVALID, SLUG_MESSAGES["invalid"])
    if lowered in rules.RESERVED_SLUGS:
        return SlugAnswer(lowered, rules.SLUG_RESERVED, SLUG_MESSAGES["reserved"])
    # Slugs are stored lower-case (the Lower(slug) unique index backs it), so equality is enough.
    others = Profile.objects.filter(slug=lowered)
    retired = OldSlug.objects.filter(
        slug=lowered, retired_at__gt=timezone.now() - rules.OLD_SLUG_REDIRECT
    )
    if user is not None:
        others = others.exclude(user_id=user.pk)
        retired = retired.exclude(profile__user_id=user.pk)
    if others.exists() or retired.exists():
        return SlugAnswer(lowered, rules.SLUG_TAKEN, SLUG_MESSAGES["taken"])
    return SlugAnswer(lowered, rules.SLUG_AVAILABLE, SLUG_MESSAGES["available"])


SLUG_MESSAGES = {
    "available": "This address is available.",
    "taken": "This address is taken; try another.",
    "reserved": "This address is reserved for the site's own pages; try another.",
    "invalid": (
        f"Use {rules.SLUG_MIN} to {rules.SLUG_MAX} lower-case letters (a-z), digits, "
        "hyphens or underscores."
    ),
    "too_long": f"An address can have at most {rules.SLUG_MAX} characters.",
    "non_ascii": "Use only the letters a-z, digits, hyphens or underscores (no accents).",
}
