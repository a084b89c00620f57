"""The fallback chain: who answers an avatar request, tried in order until one does.

Each provider is a small object with one method; the chain is a list, not an if-chain, so a
new kind of answer is a new provider and one line in PROVIDERS.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from avatars.defaults import initials_from
from avatars.renditions import (
    Rendition,
    RenditionUnavailable,
    avatar_rendition_or_interim,
    default_rendition,
)
from avatars.request import NOT_FOUND, AvatarRequest
from avatars.selectors import KnownHash

logger = logging.getLogger(__name__)

# Generated defaults never change for a URL (a generator change bumps RENDITION_VERSION, which
# changes the ETag), so they carry one fixed date.
DEFAULTS_LAST_MODIFIED = datetime(2024, 1, 1, tzinfo=UTC)


# Every answer may be a stand-in: given in place of the address's own image, which storage
# could not give. The edge must keep it briefly (avatars/responses.py), not for a week.


@dataclass(frozen=True, slots=True)
class ImageAnswer:
    rendition: Rendition
    last_modified: datetime
    generated: bool = False  # a drawn default, not the address's own image
    stand_in: bool = False


@dataclass(frozen=True, slots=True)
class RedirectAnswer:
    url: str
    stand_in: bool = False


@dataclass(frozen=True, slots=True)
class NotFoundAnswer:
    stand_in: bool = False


Answer = ImageAnswer | RedirectAnswer | NotFoundAnswer


class Provider(Protocol):
    def answer(self, wanted: AvatarRequest, found: KnownHash | None) -> Answer | None:
        """An answer, or None to let the next provider try."""


class UploadedImage:
    """The address's own avatar, unless forced away or rated above what was asked for.

    Raises RenditionUnavailable when its stored file cannot be read: pick() then lets the
    next provider stand in. An AVIF not made yet while another is being encoded is answered
    in the image's own format as a stand-in, kept a minute (avatars/renditions.py).
    """

    def answer(self, wanted: AvatarRequest, found: KnownHash | None) -> Answer | None:
        image = found.image if found else None
        if image is None or wanted.force_default or image.rating_rank > wanted.rating:
            return None
        fmt = wanted.extension_format or wanted.accept_format or image.format
        rendition, interim = avatar_rendition_or_interim(image=image, size=wanted.size, fmt=fmt)
        assert found is not None
        return ImageAnswer(rendition, max(image.updated_at, found.updated_at), stand_in=interim)


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


class _UnreadableReports:
    """Per process: stored images that could not be read, logged at most once a minute (a
    storage outage makes every avatar unreadable at once) with a count of the others."""

    INTERVAL_SECONDS = 60

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.logged_at: float | None = None
        self.unlogged = 0

    def report(self, digest: str, error: RenditionUnavailable) -> None:
        now = time.monotonic()
        with self.lock:
            if self.logged_at is not None and now - self.logged_at < self.INTERVAL_SECONDS:
                self.unlogged += 1
                return
            unlogged, self.unlogged, self.logged_at = self.unlogged, 0, now
        logger.warning(
            "avatar %s unreadable, answered with a short-lived stand-in: %s "
            "(%d more such answers since the last report)",
            digest,
            error,
            unlogged,
        )


unreadable = _UnreadableReports()


def pick(wanted: AvatarRequest, found: KnownHash | None) -> Answer:
    stand_in = False
    for provider in PROVIDERS:
        try:
            answer = provider.answer(wanted, found)
        except RenditionUnavailable as error:
            # The address has an image but storage cannot give it (lost, unreadable, storage
            # down): the next provider answers in its place, not a 500, and only briefly, so
            # the image is back as soon as storage is.
            unreadable.report(found.image.digest if found and found.image else "?", error)
            stand_in = True
            continue
        if answer is not None:
            return replace(answer, stand_in=True) if stand_in else answer
    raise LookupError("the provider chain ended without an answer")
