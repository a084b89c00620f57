"""What a public profile request names: a digest or a slug, parsed once from the URL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from avatars.contract import HASH_PATTERN
from profiles import rules

_DIGEST: Final = re.compile(rf"^(?:{HASH_PATTERN})$")
# The purge key of a name that can be neither a hash nor a slug: nothing the client typed is
# echoed into a header (the avatar endpoint's `no-hash`).
NO_PROFILE_XKEY: Final = "no-profile"
# Added to every profile answer, so that `manage.py purge_edge` can drop them all at once.
PROFILE_XKEY: Final = "profile"


@dataclass(frozen=True, slots=True)
class ProfileName:
    """`typed` is exactly what was asked (`requestHash`); `digest` the lower-case MD5/SHA-256
    or ""; `slug` the lower-case slug or "". Both empty: a name of no possible profile."""

    typed: str
    digest: str = ""
    slug: str = ""

    @classmethod
    def parse(cls, name: str, *, image_extension: bool = False) -> ProfileName:
        """`image_extension`: /v3/ ids may end in one (hovercards take them from <img src>)."""
        typed = name
        lowered = name.lower()
        if image_extension and "." in lowered:
            stem, _, extension = lowered.rpartition(".")
            if f".{extension}" in rules.ID_IMAGE_EXTENSIONS:
                lowered = stem
        if _DIGEST.fullmatch(lowered):
            return cls(typed, digest=lowered)
        if rules.SLUG_PATTERN.fullmatch(lowered) and not rules.slug_reserved(lowered):
            return cls(typed, slug=lowered)
        return cls(typed)

    @property
    def key(self) -> str:
        """The edge and memory key of what this name answers, found or not."""
        if self.digest:
            return self.digest
        if self.slug:
            return rules.slug_key(self.slug)
        return ""

    @property
    def xkey(self) -> str:
        return f"{self.key or NO_PROFILE_XKEY} {PROFILE_XKEY}"
