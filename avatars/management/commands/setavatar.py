from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from avatars.imaging.decode import UploadRejected
from avatars.models import Rating
from avatars.services import avatar_import


class Command(BaseCommand):
    help = (
        "Import an avatar for an address: creates the account if needed, marks the address "
        "verified, stores the image (centre-cropped square) and assigns it. Running it again "
        "replaces the address's avatar."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("image", type=Path)
        parser.add_argument(
            "--rating", default=Rating.G, help=f"{Rating.describe()} (default {Rating.G.value})"
        )
        parser.add_argument("--alt", default="", help="Alt text describing the image")

    def handle(self, *args: Any, email: str, image: Path, rating: str, alt: str, **_: Any) -> None:
        rating = rating.strip().lower()
        if rating not in Rating.values:
            raise CommandError(f"--rating {rating!r} is not a rating; use {Rating.describe()}.")
        try:
            data = image.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {image}: {error.strerror}") from None
        try:
            avatar = avatar_import(email=email, data=data, rating=rating, alt_text=alt)
        except UploadRejected as error:
            raise CommandError(f"{image}: {error}") from None
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(
            f"{email.strip().lower()} now shows avatar {avatar.pk} "
            f"({avatar.size}px {avatar.format}, rated {avatar.rating})"
        )
