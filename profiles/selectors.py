"""What a profile shows the world: one decision of who is public, used by every format.

`profile_public` answers a hash or a slug with a `PublicProfile`, or None. None covers every
case the world must not tell apart (spec §1): unknown hash, unverified address, an address the
owner did not choose to show the profile on, unpublished or hidden profile, disabled account.
Callers build their answers only from the returned object, so no unpublished field can leak.

Every private case costs the same: one query decides (the address or slug, joined to its
account, profile and address choice, with every condition of §1 in its WHERE clause), and only
a public profile is read further. So a private profile cannot be told from an unknown hash by
the time its answer takes either (tests/profiles/test_privacy.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from accounts.models import User
from avatars.contract import HASH_LENGTHS
from avatars.models import Address, address_digests
from avatars.resolution import cached_in
from profiles import rules
from profiles.models import AddressChoice, OldSlug, Profile
from profiles.request import ProfileName

# §1 as WHERE clauses. From an address: ...
_SHOWN = Q(profile_choice__shows_profile=True) | Q(profile_choice__isnull=True, is_primary=True)
# ... and from a profile (its account's side of the same rule).
_PUBLIC = Q(published=True, hidden=False, user__is_active=True, slug__isnull=False) & ~Q(slug="")


@dataclass(frozen=True, slots=True)
class PublicLink:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class PublicAccount:
    service: str
    url: str
    verified: bool

    @property
    def service_label(self) -> str:
        return rules.service_label(self.service)

    @property
    def host(self) -> str:
        return rules.url_host(self.url)

    @property
    def username(self) -> str:
        return rules.url_username(self.url)


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

    @property
    def verified_accounts(self) -> tuple[PublicAccount, ...]:
        return tuple(account for account in self.accounts if account.verified)

    @property
    def formatted_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def name(self) -> str:
        """What a page calls the person: the display name, else the names, else the slug."""
        return self.display_name or self.formatted_name or self.slug


@dataclass(frozen=True, slots=True)
class SlugRedirect:
    """An old slug of a public profile: the answer is a redirect to `profile.slug`."""

    profile: PublicProfile


def shows_profile(address: Address, choice: AddressChoice | None) -> bool:
    """The rule of spec §1: verified, and chosen by the owner (default: the primary only)."""
    if not address.is_verified:
        return False
    return choice.shows_profile if choice is not None else address.is_primary


def email_published(address: Address, choice: AddressChoice | None) -> bool:
    return address.is_verified and choice is not None and choice.email_published


def profile_public(*, digest: str = "", slug: str = "") -> PublicProfile | None:
    """The public profile behind a lower-case MD5/SHA-256 digest or a slug, or None.

    One query for every None (the private cases and the unknown alike), more only once the
    profile is known to be public."""
    if digest:
        if len(digest) not in HASH_LENGTHS:
            return None
        column = "md5" if len(digest) == 32 else "sha256"
        address = (
            Address.objects.filter(
                _SHOWN,
                **{column: digest},
                verified_at__isnull=False,
                owner__is_active=True,
                owner__profile__published=True,
                owner__profile__hidden=False,
                owner__profile__slug__isnull=False,
            )
            .exclude(owner__profile__slug="")
            .select_related("owner__profile")
            .first()
        )
        if address is None:
            return None
        return _public(address.owner.profile, requested=address)
    if slug:
        if not rules.SLUG_PATTERN.fullmatch(slug.lower()):
            return None
        profile = _public_profiles().filter(slug=slug.lower()).select_related("user").first()
        return _public(profile, requested=None) if profile is not None else None
    return None


def profile_resolve(name: ProfileName) -> PublicProfile | SlugRedirect | None:
    """What a name answers, for every public answer: the profile, for an old slug a redirect
    to it, else None. Each worker remembers it like a hash's resolution (avatars.resolution):
    dropped when the name or any of the profile's keys is announced changed."""
    if not name.key:
        return None
    return cached_in(
        "profiles",
        name.key,
        lambda: _resolve(name),
        tags=_answer_keys,
        max_entries=settings.PROFILE_RESOLUTION_MEMORY_ENTRIES,
    )


def _resolve(name: ProfileName) -> PublicProfile | SlugRedirect | None:
    if name.digest:
        return profile_public(digest=name.digest)
    found = profile_public(slug=name.slug)
    if found is not None:
        return found
    moved = slug_redirect_profile(name.slug)
    return SlugRedirect(moved) if moved is not None else None


def _answer_keys(answer: PublicProfile | SlugRedirect | None) -> tuple[str, ...]:
    if isinstance(answer, SlugRedirect):
        return answer.profile.keys
    return answer.keys if answer is not None else ()


def slug_redirect_profile(slug: str) -> PublicProfile | None:
    """The public profile that used `slug` recently, or None: one query for every None."""
    if not rules.SLUG_PATTERN.fullmatch(slug.lower()):
        return None
    profile = (
        _public_profiles()
        .filter(
            old_slugs__slug=slug.lower(),
            old_slugs__retired_at__gt=timezone.now() - rules.OLD_SLUG_REDIRECT,
        )
        .select_related("user")
        .first()
    )
    return _public(profile, requested=None) if profile is not None else None


def _public_profiles() -> Any:
    """Profiles that are public and show on at least one address (a slug alone would have to
    name an address the owner chose not to show)."""
    shown = Address.objects.filter(_SHOWN, owner_id=OuterRef("user_id"), verified_at__isnull=False)
    return Profile.objects.filter(_PUBLIC, Exists(shown))


def _public(profile: Profile, *, requested: Address | None) -> PublicProfile | None:
    """The rest of a profile the deciding query found public."""
    user = profile.user
    addresses = list(
        Address.objects.filter(owner_id=user.pk, verified_at__isnull=False)
        .select_related("avatar", "profile_choice")
        .order_by("-is_primary", "email")
    )
    choices = {a.pk: _choice(a) for a in addresses}
    shown = [a for a in addresses if shows_profile(a, choices[a.pk])]
    if requested is not None:
        answering = next((a for a in shown if a.pk == requested.pk), None)
    else:
        answering = shown[0] if shown else None  # the primary address first, by the ordering
    if answering is None or not profile.slug:
        # Changed between the two reads: as private as it is now.
        return None
    return _built(profile, answering=answering, addresses=addresses, choices=choices)


def _built(
    profile: Profile,
    *,
    answering: Address | None,
    addresses: list[Address],
    choices: Mapping[int, AddressChoice | None],
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
        keys=tuple(profile_keys_of(profile, addresses)) if saved else (),
    )


def profile_keys_of(profile: Profile, addresses: list[Address]) -> list[str]:
    """Both digests of every verified address of the account (not only those showing the
    profile: a published email or a choice may change on any of them), the slug's key and
    those of its old slugs: a redirect from one, or its 404, changes with the profile."""
    keys = [digest for a in addresses for digest in (a.md5, a.sha256)]
    if profile.slug:
        keys.append(rules.slug_key(profile.slug))
    if profile.pk is not None:  # the owner's preview of a profile never saved has none
        keys += [rules.slug_key(old) for old in profile.old_slugs.values_list("slug", flat=True)]
    return keys


def _choice(address: Address) -> AddressChoice | None:
    try:
        return address.profile_choice
    except AddressChoice.DoesNotExist:
        return None


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
        return SlugAnswer(typed, rules.SLUG_INVALID, str(SLUG_MESSAGES["non_ascii"]))
    lowered = typed.lower()
    if len(lowered) > rules.SLUG_MAX:
        return SlugAnswer(lowered, rules.SLUG_INVALID, str(SLUG_MESSAGES["too_long"]))
    if not rules.SLUG_PATTERN.match(lowered):
        return SlugAnswer(lowered, rules.SLUG_INVALID, str(SLUG_MESSAGES["invalid"]))
    if rules.slug_reserved(lowered):
        return SlugAnswer(lowered, rules.SLUG_RESERVED, str(SLUG_MESSAGES["reserved"]))
    # Slugs are stored lower-case (the Lower(slug) unique index backs it), so equality is enough.
    others = Profile.objects.filter(slug=lowered)
    retired = OldSlug.objects.filter(
        slug=lowered, retired_at__gt=timezone.now() - rules.OLD_SLUG_REDIRECT
    )
    if user is not None:
        others = others.exclude(user_id=user.pk)
        retired = retired.exclude(profile__user_id=user.pk)
    if others.exists() or retired.exists():
        return SlugAnswer(lowered, rules.SLUG_TAKEN, str(SLUG_MESSAGES["taken"]))
    return SlugAnswer(lowered, rules.SLUG_AVAILABLE, str(SLUG_MESSAGES["available"]))


# Lazy: each is read in the language of the request that shows it.
SLUG_MESSAGES = {
    "available": gettext_lazy("This address is available."),
    "taken": gettext_lazy("This address is taken; try another."),
    "reserved": gettext_lazy("This address is reserved for the site's own pages; try another."),
    "invalid": format_lazy(
        gettext_lazy(
            "Use {min} to {max} lower-case letters (a-z), digits, hyphens or underscores."
        ),
        min=rules.SLUG_MIN,
        max=rules.SLUG_MAX,
    ),
    "too_long": format_lazy(
        gettext_lazy("An address can have at most {max} characters."), max=rules.SLUG_MAX
    ),
    "non_ascii": gettext_lazy(
        "Use only the letters a-z, digits, hyphens or underscores (no accents)."
    ),
}
