"""A person's data as a zip: everything we hold about the account as JSON, and its images."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from typing import Any

from django.core.files.storage import default_storage

from accounts.models import User
from avatars import hooks
from avatars.models import Address, Avatar


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def account_data(user: User) -> dict[str, Any]:
    addresses = list(Address.objects.filter(owner=user).order_by("email"))
    avatars = list(Avatar.objects.filter(owner=user).order_by("created_at"))
    return {
        "account": {
            "email": user.email,
            "display_name": user.display_name,
            "display_name_public": user.display_name_public,
            "hide_avatar": user.hide_avatar,
            "date_joined": _when(user.date_joined),
            "last_login": _when(user.last_login),
        },
        "addresses": [
            {
                "email": address.email,
                "md5": address.md5,
                "sha256": address.sha256,
                "verified_at": _when(address.verified_at),
                "is_primary": address.is_primary,
                "avatar": address.avatar_id,
            }
            for address in addresses
        ],
        "avatars": [
            {
                "id": avatar.pk,
                "file": image_name(avatar),
                "size": avatar.size,
                "rating": avatar.rating,
                "alt_text": avatar.alt_text,
                "state": avatar.state,
                "created_at": _when(avatar.created_at),
            }
            for avatar in avatars
        ],
        # What other apps keep about the account (the profile), through avatars.hooks.
        **hooks.export_parts(user),
    }


def image_name(avatar: Avatar) -> str:
    extension = avatar.master.name.rsplit(".", 1)[-1]
    return f"images/avatar-{avatar.pk}.{extension}"


def data_export(*, user: User) -> bytes:
    data = account_data(user)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("account.json", json.dumps(data, indent=2, ensure_ascii=False))
        for avatar in Avatar.objects.filter(owner=user):
            with default_storage.open(avatar.master.name, "rb") as master:
                # Images are already compressed; storing them saves time and changes nothing.
                archive.writestr(image_name(avatar), master.read(), zipfile.ZIP_STORED)
    return out.getvalue()
