"""Workflows for addresses and avatars, used by the pages, commands and tests alike.

Each is named after its operation (`<entity>_<action>`, the name of its URL and view too),
changes rows in one transaction and calls a verb of `avatars.freshness` inside it when what a
hash serves changes. Side effects follow the transaction's outcome: files written in
`atomic_with_files` are deleted if it rolls back, files of deleted rows go after the commit,
emails are sent after the commit (`accounts.emails`).
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import throttle
from accounts.emails import send_magic_link, send_signup_existing
from accounts.models import User, normalise_email
from avatars import emails, hooks, urlfetch
from avatars.freshness import (
    addresses_served_changed,
    avatars_served_changed,
    keys_served_changed,
    user_served_changed,
)
from avatars.imaging import decode, encode, square
from avatars.models import Address, Avatar, ModerationState, Rating
from gravatar import metrics

# Every stored image lives under this folder of the storage backend.
AVATAR_FOLDER = "avatars"


class AddressTaken(ValueError):
    """Another account has already proved it owns this address."""


class AddressNotVerified(ValueError):
    """Only a confirmed address can be primary."""


# Sign-up and sign-in links


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
    so nobody can pre-register someone else's address with a password they know. Sign-up
    lives here, not in accounts, because an account starts as a claimed address.
    """
    normal = normalise_email(email)
    if not throttle.allow_email("signup", normal):
        return
    existing = user_for_address(normal)
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(normal)  # no usable password yet
                address = _address_get_or_create(user=user, email=normal)
                emails.send_address_confirmation(address=address)
        except IntegrityError:  # signed up twice at once: the other request won
            return
        return
    if not existing.is_active:
        return
    # Nobody has proved the address yet: the first sign-up's confirmation is what they need.
    pending = Address.objects.filter(owner=existing, email=normal, verified_at__isnull=True).first()
    if pending is not None:
        emails.send_address_confirmation(address=pending)
    else:
        send_signup_existing(user=existing, to=normal)


def magic_link_request(*, email: str) -> None:
    """Email a one-time sign-in link if an active account answers to the address; say nothing
    either way."""
    normal = normalise_email(email)
    user = user_for_address(normal)
    if user is None or not user.is_active or not throttle.allow_email("magic", normal):
        return
    send_magic_link(user=user, to=normal)


# Addresses


def _address_get_or_create(*, user: User, email: str) -> Address:
    """The account's unverified claim on an address. Adding it again returns the same row."""
    normal = normalise_email(email)
    existing = Address.objects.filter(owner=user, email=normal).first()
    if existing:
        return existing
    address = Address(owner=user, email=normal)
    address.md5, address.sha256 = "0" * 32, "0" * 64  # save() computes the real digests
    address.full_clean(exclude=["md5", "sha256"])
    if Address.objects.filter(email=normal, verified_at__isnull=False).exists():
        raise AddressTaken(
            _("%(email)s is already verified by another account.") % {"email": normal}
        )
    address.save()
    return address


def address_add(*, user: User, email: str) -> Address:
    """Claim an address for the account, unverified, and email it a confirmation link.
    Adding it again returns the same row (and sends the link again, past the cooldown)."""
    address = _address_get_or_create(user=user, email=email)
    if not address.is_verified and throttle.allow_email("confirm", address.email):
        emails.send_address_confirmation(address=address)
    return address


def address_confirm(*, address: Address) -> Address:
    """Mark the address proven (the confirmation link's POST). The first verified address of
    an account becomes primary."""
    if address.is_verified:
        return address
    try:
        with transaction.atomic():
            address.verified_at = timezone.now()
            address.is_primary = not Address.objects.filter(
                owner_id=address.owner_id, verified_at__isnull=False, is_primary=True
            ).exists()
            address.save()
            addresses_served_changed(addresses=[address])
    except IntegrityError:
        address.verified_at = None
        raise AddressTaken(
            _("%(email)s is already verified by another account.") % {"email": address.email}
        ) from None
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
            addresses_served_changed(addresses=[address])
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


def address_primary(*, address: Address) -> None:
    """Make the address the account's primary one."""
    if not address.is_verified:
        raise AddressNotVerified(_("%(email)s is not confirmed yet.") % {"email": address.email})
    with transaction.atomic():
        Address.objects.filter(owner_id=address.owner_id).exclude(pk=address.pk).update(
            is_primary=False
        )
        address.is_primary = True
        address.save(update_fields=["is_primary", "updated_at"])
        # Images do not depend on it, but an account's other answers may (the address a
        # profile's slug answers for): those go, the images stay cached.
        keys_served_changed(keys=hooks.owner_keys({address.owner_id}))


# Files and transactions


@dataclass
class _FilesBlock:
    written: list[str] = field(default_factory=list)
    # Files of finished inner blocks, each with the marker it left in the transaction's
    # on-commit list: the marker disappears if a savepoint around that block rolls back.
    inner: list[tuple[Callable[[], None], list[str]]] = field(default_factory=list)

    def files(self) -> list[str]:
        return self.written + [name for _, names in self.inner for name in names]


_open_blocks = threading.local()  # one database connection per thread


@contextmanager
def atomic_with_files() -> Iterator[list[str]]:
    """A transaction whose work also writes files to storage. Add the name of every file
    written to the list it gives; if the block fails, the rows roll back and those files are
    deleted, so neither outlives the other. Django has no on-rollback hook for this.

    Safe to nest: an inner block that succeeds hands its files to the enclosing one, which
    deletes them if it rolls back, or if a savepoint between the two rolled back while the
    outer block went on (the inner block's rows are gone then). Only a plain
    `transaction.atomic()` around the outermost block, rolled back after it, leaves files
    behind; `manage.py prune_orphan_files` finds those.
    """
    stack: list[_FilesBlock] = _open_blocks.__dict__.setdefault("stack", [])
    block = _FilesBlock()
    stack.append(block)
    try:
        with transaction.atomic():
            yield block.written
            _delete_rolled_back(block)
            if len(stack) > 1:

                def marker() -> None:
                    """Does nothing on commit; its presence says the savepoints held."""

                transaction.on_commit(marker)
                stack[-2].inner.append((marker, block.files()))
    except BaseException:
        delete_stored_files(block.files())
        raise
    finally:
        stack.pop()


def _delete_rolled_back(block: _FilesBlock) -> None:
    """Delete the files of inner blocks whose marker Django dropped with a savepoint."""
    pending = {id(entry[1]) for entry in connection.run_on_commit}
    for marker, names in block.inner:
        if id(marker) not in pending:
            delete_stored_files(names)
    block.inner = [(marker, names) for marker, names in block.inner if id(marker) in pending]


def delete_stored_files(names: Iterable[str]) -> None:
    for name in names:
        if name:
            default_storage.delete(name)


def _delete_files_after_commit(names: list[str]) -> None:
    transaction.on_commit(lambda: delete_stored_files(names))


def _stored_names(folder: str) -> Iterator[str]:
    folders, files = default_storage.listdir(folder)
    for name in files:
        yield f"{folder}/{name}"
    for sub in folders:
        yield from _stored_names(f"{folder}/{sub}")


def orphan_files_prune(*, grace: timedelta, dry_run: bool = False) -> list[str]:
    """Delete stored avatar files that no Avatar row names (left by a crash between storing
    and committing, or a rollback around the outermost `atomic_with_files`) and that are older
    than `grace`, so the files of an upload still in its transaction are never touched.
    Returns the names found; with `dry_run`, deletes nothing."""
    if not default_storage.exists(AVATAR_FOLDER):
        return []
    cutoff = timezone.now() - grace
    # Read after listing: a row committed meanwhile names a file already listed, not missed.
    listed = list(_stored_names(AVATAR_FOLDER))
    referenced = {name for pair in Avatar.objects.values_list("master", "preview") for name in pair}
    orphans = [
        name
        for name in listed
        if name not in referenced and default_storage.get_modified_time(name) < cutoff
    ]
    if not dry_run:
        delete_stored_files(orphans)
    return orphans


# The avatar library


def upload_limits() -> decode.Limits:
    return decode.Limits(
        max_bytes=settings.AVATAR_MAX_UPLOAD_BYTES, max_pixels=settings.AVATAR_MAX_UPLOAD_PIXELS
    )


@dataclass(frozen=True)
class UploadChoices:
    rating: str = Rating.G
    alt_text: str = ""
    crop: square.CropBox | None = None
    quarter_turns: int = 0


def url_fetch_policy() -> urlfetch.FetchPolicy:
    return urlfetch.FetchPolicy(
        max_bytes=settings.AVATAR_MAX_UPLOAD_BYTES,
        timeout=settings.AVATAR_URL_FETCH_TIMEOUT,
        allow_loopback=settings.AVATAR_URL_FETCH_ALLOW_LOOPBACK,
    )


def avatar_fetch(*, url: str) -> tuple[bytes, str]:
    """A fetched image made safe for the browser's crop screen: decoded, upright, without
    metadata, re-encoded. Returns the bytes and their content type."""
    image = decode.decode_upload(urlfetch.fetch(url, url_fetch_policy()), upload_limits())
    fmt = encode.natural_format(image)
    return encode.encode(image, fmt, for_storage=True), encode.CONTENT_TYPES[fmt]


def avatar_store(
    *,
    owner: User,
    data: bytes,
    rating: str = Rating.G,
    alt_text: str = "",
    crop: square.CropBox | None = None,
    quarter_turns: int = 0,
) -> Avatar:
    """Validate an upload and store it as a square master plus a small preview.

    Raises `decode.UploadRejected` with a message for the person, or `ValidationError` for a
    bad rating; either way nothing is left in storage or the database.
    """
    if rating not in Rating.values:
        raise ValidationError({"rating": f"{rating!r} is not a rating; use {Rating.describe()}."})
    master_image = decode.decode_master(
        data, upload_limits(), crop=crop, quarter_turns=quarter_turns
    )
    fmt = encode.natural_format(master_image)
    master_bytes = encode.encode(master_image, fmt, for_storage=True)
    preview_image = square.resize_square(master_image, min(square.PREVIEW_EDGE, master_image.width))
    preview_bytes = encode.encode(preview_image, fmt, for_storage=True)

    folder = f"{AVATAR_FOLDER}/{owner.pk}/{uuid.uuid4().hex}"
    extension = encode.EXTENSIONS[fmt]
    with atomic_with_files() as written:
        written.append(
            default_storage.save(f"{folder}/master.{extension}", ContentFile(master_bytes))
        )
        written.append(
            default_storage.save(f"{folder}/preview.{extension}", ContentFile(preview_bytes))
        )
        avatar = Avatar(
            owner=owner,
            master=written[0],
            preview=written[1],
            size=master_image.width,
            format=fmt,
            digest=hashlib.sha256(master_bytes).hexdigest(),
            rating=rating,
            alt_text=alt_text,
            state=ModerationState.NEW,
        )
        avatar.full_clean()
        avatar.save()
    return avatar


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
    try:
        if data is None:
            if not url:
                raise ValueError("avatar_upload needs data or a url")
            data = urlfetch.fetch(url, url_fetch_policy())
        with atomic_with_files():
            avatar = avatar_store(
                owner=owner,
                data=data,
                rating=choices.rating,
                alt_text=choices.alt_text,
                crop=choices.crop,
                quarter_turns=choices.quarter_turns,
            )
            if addresses:
                avatar_assign(avatar=avatar, addresses=addresses)
    except decode.UploadRejected as refused:
        metrics.upload_refused(reason=refused.reason)
        raise
    except urlfetch.FetchRefused:
        metrics.upload_refused(reason=urlfetch.REFUSAL_REASON)
        raise
    metrics.upload_accepted()
    return avatar


def avatar_assign(*, avatar: Avatar, addresses: Sequence[Address]) -> None:
    """Show this avatar for these addresses; each must belong to the avatar's owner."""
    if any(address.owner_id != avatar.owner_id for address in addresses):
        raise PermissionError("An avatar can only be assigned to its owner's addresses.")
    with transaction.atomic():
        Address.objects.filter(pk__in=[a.pk for a in addresses]).update(
            avatar=avatar, updated_at=timezone.now()
        )
        for address in addresses:
            address.avatar = avatar
        addresses_served_changed(addresses=addresses)


def avatar_edit(
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
        addresses_served_changed(addresses=dropped)
        added = [address for address in addresses if address.avatar_id != avatar.pk]
        avatar_assign(avatar=avatar, addresses=added)
        if changed_rating:
            avatars_served_changed(avatars=[avatar])


def avatar_delete(*, avatar: Avatar) -> None:
    """Remove the avatar and its files; its addresses fall back to the default image."""
    with transaction.atomic():
        avatars_served_changed(avatars=[avatar])
        avatar.delete()
        _delete_files_after_commit([avatar.master.name, avatar.preview.name])


def avatar_import(*, email: str, data: bytes, rating: str = Rating.G, alt_text: str = "") -> Avatar:
    """The administrator's import (`manage.py setavatar`): account created if needed, address
    verified, image stored and assigned, approved. Running it again for the same address
    replaces the avatar (the old one is deleted when nothing else shows it).
    """
    normal = normalise_email(email)
    if rating not in Rating.values:
        raise ValidationError({"rating": f"{rating!r} is not a rating; use {Rating.describe()}."})
    verified = Address.objects.filter(email=normal, verified_at__isnull=False).first()
    with atomic_with_files():
        if verified:
            user = verified.owner
        else:
            user = User.objects.filter(email=normal).first() or User.objects.create_user(normal)
        avatar = avatar_store(owner=user, data=data, rating=rating, alt_text=alt_text)
        avatar.state = ModerationState.APPROVED  # an administrator chose it
        avatar.save(update_fields=["state"])
        address = verified or address_confirm(
            address=_address_get_or_create(user=user, email=normal)
        )
        previous = address.avatar
        avatar_assign(avatar=avatar, addresses=[address])
        if previous and not previous.addresses.exists():
            avatar_delete(avatar=previous)
    return avatar


# The account as the library sees it


def user_privacy_update(
    *, user: User, display_name: str, display_name_public: bool, hide_avatar: bool
) -> None:
    """The name and privacy choices. Both change what the account's hashes serve (initials
    from the name; the default instead of the image). The profile editor calls it."""
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
            user_served_changed(user=user)


def account_delete(*, user: User) -> None:
    """Remove the account with every address and image; stored files go after the commit."""
    with transaction.atomic():
        files = [
            name
            for master, preview in Avatar.objects.filter(owner=user).values_list(
                "master", "preview"
            )
            for name in (master, preview)
        ]
        user_served_changed(user=user)
        # Other apps' parts (the profile's slug at the edge) while the rows still exist.
        hooks.deletion_parts_run(user)
        user.delete()
        _delete_files_after_commit(files)


def avatars_of(user: User) -> list[Avatar]:
    return list(Avatar.objects.filter(owner=user).prefetch_related("addresses"))


def addresses_visible_to(user: User) -> list[Address]:
    return list(
        Address.objects.filter(owner=user).select_related("avatar").order_by("-is_primary", "email")
    )
