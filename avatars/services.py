"""Workflows for addresses and avatars, used by views, commands and tests alike."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User, normalise_email
from avatars.freshness import hashes_changed
from avatars.imaging import decode, encode, square
from avatars.models import Address, Avatar, ModerationState, Rating


class AddressTaken(ValueError):
    """Another account has already proved it owns this address."""


def digests_of(addresses: Iterable[Address]) -> list[str]:
    """Both digests of each address: what one purge of those addresses must name."""
    return [digest for address in addresses for digest in (address.md5, address.sha256)]


def verified_digests_of(user: User) -> list[str]:
    return digests_of(Address.objects.filter(owner=user, verified_at__isnull=False))


def address_add(*, user: User, email: str) -> Address:
    """Claim an address for the account, unverified. Adding it again returns the same row."""
    normal = normalise_email(email)
    existing = Address.objects.filter(owner=user, email=normal).first()
    if existing:
        return existing
    address = Address(owner=user, email=normal)
    address.md5, address.sha256 = "0" * 32, "0" * 64  # save() computes the real digests
    address.full_clean(exclude=["md5", "sha256"])
    if Address.objects.filter(email=normal, verified_at__isnull=False).exists():
        raise AddressTaken(f"{normal} is already verified by another account.")
    address.save()
    return address


def address_verify(*, address: Address) -> Address:
    """Mark the address proven. The first verified address of an account becomes primary."""
    if address.is_verified:
        return address
    try:
        with transaction.atomic():
            address.verified_at = timezone.now()
            address.is_primary = not Address.objects.filter(
                owner_id=address.owner_id, verified_at__isnull=False, is_primary=True
            ).exists()
            address.save()
            hashes_changed(digests_of([address]))
    except IntegrityError:
        address.verified_at = None
        raise AddressTaken(f"{address.email} is already verified by another account.") from None
    return address


def upload_limits() -> decode.Limits:
    return decode.Limits(
        max_bytes=settings.AVATAR_MAX_UPLOAD_BYTES, max_pixels=settings.AVATAR_MAX_UPLOAD_PIXELS
    )


@contextmanager
def atomic_with_files() -> Iterator[list[str]]:
    """A transaction whose work also writes files to storage. Add the name of every file
    written to the list it gives; if the block fails, the rows roll back and those files are
    deleted, so neither outlives the other. Django has no on-rollback hook for this. Use it
    around the outermost work: a rollback further out leaves the files behind."""
    written: list[str] = []
    try:
        with transaction.atomic():
            yield written
    except BaseException:
        delete_stored_files(written)
        raise


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
        raise ValidationError({"rating": f"{rating!r} is not a rating; use g, pg, r or x."})
    image = decode.decode_upload(data, upload_limits())
    image = square.rotate_quarter_turns(image, quarter_turns)
    master_image = square.make_square(image, crop)
    fmt = encode.natural_format(master_image)
    master_bytes = encode.encode(master_image, fmt, for_storage=True)
    preview_image = square.resize_square(master_image, min(square.PREVIEW_EDGE, master_image.width))
    preview_bytes = encode.encode(preview_image, fmt, for_storage=True)

    folder = f"avatars/{owner.pk}/{uuid.uuid4().hex}"
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
        hashes_changed(digests_of(addresses))


def avatar_delete(*, avatar: Avatar) -> None:
    """Remove the avatar and its files; its addresses fall back to the default image."""
    files = [avatar.master.name, avatar.preview.name]
    with transaction.atomic():
        affected = list(avatar.addresses.all())
        avatar.delete()
        hashes_changed(digests_of(affected))
        transaction.on_commit(lambda: delete_stored_files(files))


def delete_stored_files(names: Iterable[str]) -> None:
    for name in names:
        if name:
            default_storage.delete(name)


def addresses_of(user: User) -> QuerySet[Address]:
    return Address.objects.filter(owner=user)


def set_avatar_for_email(
    *, email: str, data: bytes, rating: str = Rating.G, alt_text: str = ""
) -> Avatar:
    """The admin import: account created if needed, address verified, image stored and assigned.

    Running it again for the same address replaces the avatar (the old one is deleted).
    """
    normal = normalise_email(email)
    if rating not in Rating.values:
        raise ValidationError({"rating": f"{rating!r} is not a rating; use g, pg, r or x."})
    verified = Address.objects.filter(email=normal, verified_at__isnull=False).first()
    with atomic_with_files() as written:
        if verified:
            user = verified.owner
        else:
            user = User.objects.filter(email=normal).first() or User.objects.create_user(normal)
        avatar = avatar_store(owner=user, data=data, rating=rating, alt_text=alt_text)
        written += [avatar.master.name, avatar.preview.name]
        avatar.state = ModerationState.APPROVED  # an administrator chose it
        avatar.save(update_fields=["state"])
        address = verified or address_verify(address=address_add(user=user, email=normal))
        previous = address.avatar
        avatar_assign(avatar=avatar, addresses=[address])
        if previous and not previous.addresses.exists():
            avatar_delete(avatar=previous)
    return avatar
