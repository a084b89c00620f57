"""Account workflows: sign-up, sign-in links, addresses, the avatar library, privacy, deletion.

Each changes rows in one transaction and, where what a hash serves changes, tells the edge
caches through `hashes_changed` inside that transaction. Emails go out after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import emails, throttle, urlfetch
from accounts.models import User, normalise_email
from avatars.freshness import hashes_changed
from avatars.imaging import decode, encode
from avatars.imaging.square import CropBox
from avatars.models import Address, Avatar, ModerationState, Rating
from avatars.services import (
    address_add,
    atomic_with_files,
    avatar_assign,
    avatar_store,
    delete_stored_files,
    digests_of,
    upload_limits,
    verified_digests_of,
)


def user_for_address(email: str) -> User | None:
    """The account that has proved this address, else the one that signed up with it."""
    normal = normalise_email(email)
    address = (
        Address.objects.filter(email=normal, verified_at__isnull=False)
        .select_related("owner")
        .first()
    )
    if address is not None:
        return address.owner
    return User.objects.filter(email=normal).first()


def user_signup(*, email: str) -> None:
    """Start an account for the address, or tell the mailbox's owner it already has one.

    The caller shows the same page either way, so sign-up cannot be used to learn who has an
    account. No password is taken here: the account is usable only through the emailed link,
    so nobody can pre-register someone else's address with a password they know.
    """
    normal = normalise_email(email)
    if not throttle.allow_email("signup", normal):
        return
    existing = user_for_address(normal)
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(normal)  # no usable password yet
                address = address_add(user=user, email=normal)
        except IntegrityError:  # signed up twice at once: the other request won
            return
        emails.send_address_confirmation(address=address)
        return
    if not existing.is_active:
        return
    # Nobody has proved the address yet: the first sign-up's confirmation is what they need.
    pending = Address.objects.filter(owner=existing, email=normal, verified_at__isnull=True).first()
    if pending is not None:
        emails.send_address_confirmation(address=pending)
    else:
        emails.send_signup_existing(user=existing, to=normal)


def user_request_magic_link(*, email: str) -> None:
    """Email a one-time sign-in link if an active account answers to the address; say nothing
    either way."""
    normal = normalise_email(email)
    user = user_for_address(normal)
    if user is None or not user.is_active or not throttle.allow_email("magic", normal):
        return
    emails.send_magic_link(user=user, to=normal)


def address_claim(*, user: User, email: str) -> Address:
    """Add an address to the account and email it a confirmation link."""
    address = address_add(user=user, email=email)
    if address.is_verified:
        return address
    if throttle.allow_email("confirm", address.email):
        emails.send_address_confirmation(address=address)
    return address


def address_resend(*, address: Address) -> bool:
    """Send the confirmation link again; False when one went out under a minute ago."""
    if address.is_verified or not throttle.allow_email("confirm", address.email):
        return False
    emails.send_address_confirmation(address=address)
    return True


def address_remove(*, address: Address) -> None:
    """Forget the address; its hashes serve the default. A primary hands over to another."""
    with transaction.atomic():
        was_primary, owner_id = address.is_primary, address.owner_id
        if address.is_verified:
            hashes_changed(digests_of([address]))
        address.delete()
        if was_primary:
            successor = (
                Address.objects.filter(owner_id=owner_id, verified_at__isnull=False)
                .order_by("created_at")
                .first()
            )
            if successor is not None:
                successor.is_primary = True
                successor.save(update_fields=["is_primary", "updated_at"])


def address_make_primary(*, address: Address) -> None:
    if not address.is_verified:
        raise AddressNotVerified(f"{address.email} is not confirmed yet.")
    with transaction.atomic():
        Address.objects.filter(owner_id=address.owner_id).exclude(pk=address.pk).update(
            is_primary=False
        )
        address.is_primary = True
        address.save(update_fields=["is_primary", "updated_at"])


class AddressNotVerified(ValueError):
    """Only a confirmed address can be primary."""


@dataclass(frozen=True)
class UploadChoices:
    rating: str = Rating.G
    alt_text: str = ""
    crop: CropBox | None = None
    quarter_turns: int = 0


def url_fetch_policy() -> urlfetch.FetchPolicy:
    return urlfetch.FetchPolicy(
        max_bytes=settings.AVATAR_MAX_UPLOAD_BYTES,
        timeout=settings.AVATAR_URL_FETCH_TIMEOUT,
        allow_loopback=settings.AVATAR_URL_FETCH_ALLOW_LOOPBACK,
    )


def image_from_url(*, url: str) -> tuple[bytes, str]:
    """A fetched image made safe for the browser's crop screen: decoded, upright, without
    metadata, re-encoded. Returns the bytes and their content type."""
    image = decode.decode_upload(urlfetch.fetch(url, url_fetch_policy()), upload_limits())
    fmt = encode.natural_format(image)
    return encode.encode(image, fmt, for_storage=True), encode.CONTENT_TYPES[fmt]


def avatar_upload(
    *,
    owner: User,
    choices: UploadChoices,
    data: bytes | None = None,
    url: str | None = None,
    addresses: Sequence[Address] = (),
) -> Avatar:
    """Store an image (the uploaded bytes, or else one fetched from the URL) in the library
    and show it for the chosen addresses.

    Raises `UploadRejected` or `FetchRefused` with a message for the person; nothing is kept.
    """
    if data is None:
        if not url:
            raise ValueError("avatar_upload needs data or a url")
        data = urlfetch.fetch(url, url_fetch_policy())
    with atomic_with_files() as written:
        avatar = avatar_store(
            owner=owner,
            data=data,
            rating=choices.rating,
            alt_text=choices.alt_text,
            crop=choices.crop,
            quarter_turns=choices.quarter_turns,
        )
        written += [avatar.master.name, avatar.preview.name]
        if addresses:
            avatar_assign(avatar=avatar, addresses=addresses)
    return avatar


def avatar_update(
    *, avatar: Avatar, rating: str, alt_text: str, addresses: Sequence[Address]
) -> None:
    """The owner's changes to an image: rating, description and the addresses it shows for.

    Lowering the rating of an image a moderator approved sends it back for review, so an
    owner cannot undo a moderator's rating by editing.
    """
    if rating not in Rating.values:
        raise ValueError(f"{rating!r} is not a rating")
    with transaction.atomic():
        avatar = Avatar.objects.select_for_update().get(pk=avatar.pk)
        changed_rating = avatar.rating != rating
        if (
            changed_rating
            and avatar.state == ModerationState.APPROVED
            and Rating.rank(rating) < Rating.rank(avatar.rating)
        ):
            avatar.state = ModerationState.NEW
        avatar.rating, avatar.alt_text = rating, alt_text
        avatar.full_clean()
        avatar.save()
        wanted = {address.pk for address in addresses}
        dropped = list(avatar.addresses.exclude(pk__in=wanted))
        Address.objects.filter(pk__in=[a.pk for a in dropped]).update(
            avatar=None, updated_at=timezone.now()
        )
        hashes_changed(digests_of(dropped))
        added = [address for address in addresses if address.avatar_id != avatar.pk]
        avatar_assign(avatar=avatar, addresses=added)
        if changed_rating:
            hashes_changed(digests_of(avatar.addresses.all()))


def user_update_profile(
    *, user: User, display_name: str, display_name_public: bool, hide_avatar: bool
) -> None:
    """Profile and privacy choices. Both change what the account's hashes serve
    (initials from the name; the default instead of the image)."""
    with transaction.atomic():
        changed = (user.display_name, user.display_name_public, user.hide_avatar) != (
            display_name,
            display_name_public,
            hide_avatar,
        )
        user.display_name = display_name
        user.display_name_public = display_name_public
        user.hide_avatar = hide_avatar
        user.full_clean()
        user.save(update_fields=["display_name", "display_name_public", "hide_avatar"])
        if changed:
            hashes_changed(verified_digests_of(user))


def user_delete(*, user: User) -> None:
    """Remove the account with every address and image; stored files go after the commit."""
    with transaction.atomic():
        files = [
            name
            for master, preview in Avatar.objects.filter(owner=user).values_list(
                "master", "preview"
            )
            for name in (master, preview)
        ]
        hashes_changed(verified_digests_of(user))
        user.delete()
        transaction.on_commit(lambda: delete_stored_files(files))


def avatars_of(user: User) -> list[Avatar]:
    return list(Avatar.objects.filter(owner=user).prefetch_related("addresses"))


def addresses_visible_to(user: User) -> list[Address]:
    return list(
        Address.objects.filter(owner=user).select_related("avatar").order_by("-is_primary", "email")
    )
