"""The fallback chain: who answers an avatar request, tried in order until one does.

Each provider is a small object with one method; the chain is a list, not an if-chain, so a
new kind of answer is a new provider and one line in PROVIDERS.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from avatars.defaults import initials_from
from avatars.renditions import (
    Rendition,
    RenditionUnavailable,
    avatar_rendition,
    default_rendition,
)
from avatars.request import NOT_FOUND, AvatarRequest
from avatars.selectors import KnownHash

logger = logging.getLogger(__name__)

# Generated defaults never change for a URL (a generator change bumps RENDITION_VERSION, which
# changes the ETag), so they carry one fixed date.
DEFAULTS_LAST_MODIFIED = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ImageAnswer:
    rendition: Rendition
    last_modified: datetime
    generated: bool = False  # a drawn default, not the address's own image


@dataclass(frozen=True, slots=True)
class RedirectAnswer:
    url: str


@dataclass(frozen=True, slots=True)
class NotFoundAnswer:
    pass


Answer = ImageAnswer | RedirectAnswer | NotFoundAnswer


class Provider(Protocol):
    def answer(self, wanted: AvatarRequest, found: KnownHash | None) -> Answer | None:
        """An answer, or None to let the next provider try."""


class UploadedImage:
    """The address's own avatar, unless forced away or rated above what was asked for."""

    def answer(self, wanted: AvatarRequest, found: KnownHash | None) -> Answer | None:
        image = found.image if found else None
        if image is None or wanted.force_default or image.rating_rank > wanted.rating:
            return None
        fmt = wanted.extension_format or wanted.accept_format or image.format
        try:
            rendition = avatar_rendition(image=image, size=wanted.size, fmt=fmt)
        except RenditionUnavailable as error:
            # A file deleted under a row being removed: serve the default, not a 500.
            logger.warning("avatar %s unavailable, serving the default: %s", image.digest, error)
            return None
        assert found is not None
        return ImageAnswer(rendition, max(image.updated_at, found.updated_at))


class CustomUrlDefault:
    """d=<URL>, already validated by the request parser: a redirect, never a fetch."""

    def answer(self, wanted: AvatarRequest, found: KnownHash | None) -> Answer | None:
        return RedirectAnswer(wanted.default_url) if wanted.default_url else None


class NotFoundDefault:
    def answer(self, wanted: AvatarRequest, found: KnownHash | None) -> Answer | None:
        return NotFoundAnswer() if wanted.default == NOT_FOUND else None


class GeneratedDefault:
    """The drawn default; PNG unless the extension asks for another format."""

    def answer(self, wanted: AvatarRequest, found: KnownHash | None) -> Answer | None:
        text = ""
        if wanted.default == "initials":
            text = wanted.initials or (initials_from(found.public_name) if found else "")
        rendition = default_rendition(
            kind=wanted.default,
            seed=wanted.hash,
            size=wanted.size,
            text=text,
            fmt=wanted.extension_format or "PNG",
        )
        return ImageAnswer(rendition, DEFAULTS_LAST_MODIFIED, generated=True)


PROVIDERS: Sequence[Provider] = (
    UploadedImage(),
    CustomUrlDefault(),
    NotFoundDefault(),
    GeneratedDefault(),
)


def pick(wanted: AvatarRequest, found: KnownHash | None) -> Answer:
    for provider in PROVIDERS:
        answer = provider.answer(wanted, found)
        if answer is not None:
            return answer
    raise LookupError("the provider chain ended without an answer")
