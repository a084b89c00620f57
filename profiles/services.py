"""The owner's changes to a profile. Each is one transaction that validates everything first
(a ValidationError keyed by the form field it is about, with a message for the person, and
nothing written), then writes and calls `profiles.freshness.profile_served_changed` with any
slug it freed or claimed, so the edge drops every public answer that changed.

The checks live here, not in the forms, because every way in (the editor's pages, and the
signed-in API of the next issue) must refuse the same input with the same words.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from accounts.models import User
from avatars import urlfetch
from avatars.models import Address
from avatars.services import user_privacy_update
from profiles import rules, verification
from profiles.freshness import profile_served_changed
from profiles.models import AddressChoice, OldSlug, Profile, ProfileAccount, ProfileLink
from profiles.selectors import SLUG_MESSAGES, profile_slug_check, shows_profile


@dataclass(frozen=True, slots=True)
class ProfileFields:
    """The owner-editable text of spec §2 (links and accounts elsewhere have their own
    services)."""

    first_name: str = ""
    last_name: str = ""
    about_me: str = ""
    location: str = ""
    pronouns: str = ""
    pronunciation: str = ""
    job_title: str = ""
    company: str = ""
    background_color: str = ""


# Plain text

DISPLAY_NAME_MAX = User._meta.get_field("display_name").max_length or rules.TEXT_MAX


def grouped(number: int) -> str:
    """1,000 in English, 1.000 in German: as the visitor's language writes it."""
    return number_format(number, force_grouping=True)


def plain_text(value: str, *, field: str, limit: int, multiline: bool = False) -> str:
    """Text kept exactly as typed (HTML too: it is escaped wherever it is shown, never
    rendered), trimmed, with line breaks made "\\n" where they are allowed. Control characters
    are refused, not stripped: none can be typed on purpose (a paste from a terminal, or an
    attempt to break a log line, a vCard or XML, and NUL cannot even be stored by PostgreSQL),
    and silently changing what someone wrote would hide that from them."""
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip() if multiline else value.strip()
    allowed = {"\n", "\t"} if multiline else set()
    if any(unicodedata.category(c) == "Cc" and c not in allowed for c in text):
        if multiline:
            refused = _("This field cannot contain control characters.")
        else:
            refused = _("This field cannot contain line breaks or control characters.")
        raise ValidationError({field: refused})
    if len(text) > limit:
        raise ValidationError(
            {
                field: _("At most %(limit)s characters (this has %(length)s).")
                % {"limit": grouped(limit), "length": grouped(len(text))}
            }
        )
    return text


def web_url(value: str, *, field: str = "url") -> str:
    """A link a visitor may follow: http or https (no javascript:, data: or file:), a host,
    no user name or password (a phishing trick: https://bank.example@evil.example/), at most
    rules.URL_MAX characters."""
    url = value.strip()
    if not url:
        raise ValidationError({field: _("Enter a web address.")})
    if len(url) > rules.URL_MAX:
        raise ValidationError(
            {
                field: _("A web address can have at most %(limit)s characters.")
                % {"limit": grouped(rules.URL_MAX)}
            }
        )
    if any(c.isspace() or unicodedata.category(c) == "Cc" for c in url):
        raise ValidationError(
            {field: _("A web address cannot contain spaces or control characters.")}
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ValidationError({field: _("Enter a valid web address.")}) from None
    if parts.scheme.lower() not in rules.URL_SCHEMES:
        raise ValidationError({field: _("Only http:// and https:// addresses are allowed.")})
    if parts.username is not None or parts.password is not None:
        raise ValidationError({field: _("Addresses with a user name or password are not allowed.")})
    try:
        URLValidator(schemes=list(rules.URL_SCHEMES))(url)
    except ValidationError:
        raise ValidationError({field: _("Enter a valid web address.")}) from None
    return url


def service_detect(url: str) -> str:
    """The rules.SERVICES key a URL belongs to: by host, Mastodon by its /@user path on any
    host, anything else a website."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    for key, (_label, hosts) in rules.SERVICES.items():
        if host in hosts:
            return key
    if parts.path.startswith("/@") and len(parts.path) > 2:
        return "mastodon"
    return "website"


def _profile_for_update(user: User) -> Profile:
    """The account's profile, locked for this transaction (created on the first edit), so
    two edits at once cannot both pass a limit."""
    Profile.objects.get_or_create(user=user)
    return Profile.objects.select_for_update().get(user=user)


# The main form: name, fields, slug, publish switch and the avatar privacy choices


def profile_edit(
    *,
    user: User,
    fields: ProfileFields,
    slug: str,
    published: bool,
    display_name: str,
    display_name_public: bool,
    hide_avatar: bool,
) -> Profile:
    """Save the editor's main form. The display name is the account's (`User.display_name`,
    also used for d=initials), saved with the avatar privacy choices by avatars' service."""
    name = plain_text(display_name, field="display_name", limit=DISPLAY_NAME_MAX)
    texts = {
        field: plain_text(getattr(fields, field), field=field, limit=rules.TEXT_MAX)
        for field in rules.TEXT_FIELDS
    }
    about = plain_text(fields.about_me, field="about_me", limit=rules.ABOUT_MAX, multiline=True)
    colour = fields.background_color.strip().lower()
    if colour and not rules.BACKGROUND_PATTERN.match(colour):
        raise ValidationError(
            {"background_color": _("Use a colour like #3366cc, or leave it empty.")}
        )
    with transaction.atomic():
        profile = _profile_for_update(user)
        new_slug = _slug_claimable(slug, user=user) if slug.strip() else None
        if published and new_slug is None:
            raise ValidationError(
                {"published": _("Choose your profile's address (below) before publishing it.")}
            )
        before = _snapshot(profile, user)
        old_slug = profile.slug
        for field, value in texts.items():
            setattr(profile, field, value)
        profile.about_me = about
        profile.background_color = colour
        profile.slug = new_slug
        profile.published = published
        user_privacy_update(
            user=user,
            display_name=name,
            display_name_public=display_name_public,
            hide_avatar=hide_avatar,
        )
        try:
            # A savepoint: another account may claim the slug between the check and here; the
            # Lower(slug) unique index then refuses it, and that is "taken", not a 500.
            with transaction.atomic():
                profile.save()
        except IntegrityError:
            raise ValidationError({"slug": str(SLUG_MESSAGES["taken"])}) from None
        if old_slug != new_slug:
            _slug_moved(profile, old=old_slug, new=new_slug)
        if _snapshot(profile, user) != before:
            profile_served_changed(
                profile=profile, slugs=[s for s in (old_slug, new_slug) if s is not None]
            )
    return profile


def _slug_claimable(slug: str, *, user: User) -> str:
    answer = profile_slug_check(slug=slug, user=user)
    if answer.status != rules.SLUG_AVAILABLE:
        raise ValidationError({"slug": answer.message})
    return answer.slug


def _slug_moved(profile: Profile, *, old: str | None, new: str | None) -> None:
    """The old slug redirects for rules.OLD_SLUG_REDIRECT, then anyone may claim it; a slug
    claimed again (by its old owner, or after that time) stops being an old one."""
    if new is not None:
        OldSlug.objects.filter(slug=new).delete()
    if old is not None:
        OldSlug.objects.update_or_create(
            slug=old, defaults={"profile": profile, "retired_at": timezone.now()}
        )


def _snapshot(profile: Profile, user: User) -> tuple[object, ...]:
    return (
        *(getattr(profile, field) for field in rules.TEXT_FIELDS),
        profile.about_me,
        profile.background_color,
        profile.slug,
        profile.published,
        user.display_name,
    )


# Links


def profile_link_add(*, user: User, label: str, url: str) -> ProfileLink:
    clean_url = web_url(url)
    clean_label = plain_text(label, field="label", limit=rules.LINK_LABEL_MAX)
    with transaction.atomic():
        profile = _profile_for_update(user)
        if profile.links.count() >= rules.LINKS_MAX:
            raise ValidationError(
                _("A profile can have at most %(count)d links; remove one first.")
                % {"count": rules.LINKS_MAX}
            )
        link = ProfileLink.objects.create(
            profile=profile,
            position=profile.links.count(),
            # Without a label the link shows its host, never an empty anchor.
            label=clean_label or (urlsplit(clean_url).hostname or clean_url),
            url=clean_url,
        )
        profile_served_changed(profile=profile)
    return link


def profile_link_remove(*, link: ProfileLink) -> None:
    with transaction.atomic():
        profile = Profile.objects.select_for_update().get(pk=link.profile_id)
        link.delete()
        profile_served_changed(profile=profile)


# Accounts elsewhere


def profile_account_add(*, user: User, service: str, url: str) -> ProfileAccount:
    clean_url = web_url(url)
    if service and service not in rules.SERVICES:
        raise ValidationError({"service": _("Choose one of the services listed.")})
    with transaction.atomic():
        profile = _profile_for_update(user)
        if profile.accounts.count() >= rules.ACCOUNTS_MAX:
            raise ValidationError(
                _("A profile can list at most %(count)d accounts elsewhere; remove one first.")
                % {"count": rules.ACCOUNTS_MAX}
            )
        account = ProfileAccount.objects.create(
            profile=profile,
            position=profile.accounts.count(),
            service=service or service_detect(clean_url),
            url=clean_url,
        )
        profile_served_changed(profile=profile)
    return account


def profile_account_remove(*, account: ProfileAccount) -> None:
    with transaction.atomic():
        profile = Profile.objects.select_for_update().get(pk=account.profile_id)
        account.delete()
        profile_served_changed(profile=profile)


def profile_account_verify(*, account: ProfileAccount) -> ProfileAccount:
    """Fetch the account's page and record whether it links back with rel="me", and when.

    The fetch runs outside any transaction (it may take PROFILE_VERIFY_TIMEOUT seconds, and a
    transaction must not stay open on someone else's server). A page that cannot be fetched
    (private, slow, huge, a redirect loop) is a ValidationError and records nothing: it says
    nothing about the account, and a verification already earned stays."""
    profile = Profile.objects.select_related("user").get(pk=account.profile_id)
    addresses = Address.objects.filter(owner_id=profile.user_id, verified_at__isnull=False)
    choices = {c.address_id: c for c in AddressChoice.objects.filter(address__in=addresses)}
    digests = [
        digest
        for address in addresses
        if shows_profile(address, choices.get(address.pk))
        for digest in (address.md5, address.sha256)
    ]
    try:
        verdict = verification.account_page_check(
            url=account.url, slug=profile.slug or "", digests=digests
        )
    except urlfetch.FetchRefused as refused:
        raise ValidationError(
            _("Could not check %(url)s: %(reason)s") % {"url": account.url, "reason": refused}
        ) from None
    with transaction.atomic():
        profile = Profile.objects.select_for_update().get(pk=profile.pk)
        current = ProfileAccount.objects.filter(pk=account.pk, url=account.url).first()
        if current is None:
            raise ValidationError(_("That account was changed or removed meanwhile; try again."))
        now = timezone.now()
        current.verified_at = now if verdict.verified else None
        current.checked_at = now
        current.check_message = verdict.message
        current.save(update_fields=["verified_at", "checked_at", "check_message"])
        profile_served_changed(profile=profile)
    return current


# Which verified addresses show the profile, and which are published


def profile_addresses_choose(
    *, user: User, shown: Collection[int], published: Collection[int]
) -> None:
    """Record both choices for every verified address of the account (spec §1-2)."""
    with transaction.atomic():
        profile = _profile_for_update(user)
        addresses = list(Address.objects.filter(owner=user, verified_at__isnull=False))
        ids = {address.pk for address in addresses}
        if not set(shown) <= ids or not set(published) <= ids:
            raise ValidationError(_("Only your confirmed addresses can be chosen."))
        changed = False
        for address in addresses:
            choice, created = AddressChoice.objects.get_or_create(
                address=address,
                defaults={"shows_profile": address.is_primary, "email_published": False},
            )
            wanted = (address.pk in shown, address.pk in published)
            if created or (choice.shows_profile, choice.email_published) != wanted:
                choice.shows_profile, choice.email_published = wanted
                choice.save()
                changed = True
        if changed:
            profile_served_changed(profile=profile)


# Account deletion and data export (registered with avatars.hooks by ProfilesConfig)


def profile_account_deleting(user: User) -> None:
    """The account is being deleted: its profile's rows go by cascade, and its slug's answers
    at the edge go with the digests (avatars purges those itself)."""
    profile = Profile.objects.filter(user=user).first()
    if profile is not None:
        profile_served_changed(profile=profile)
