"""The avatar request as the contract defines it, parsed from path, query string and Accept.

Parsing never fails: every malformed value has the forgiving meaning the contract gives it,
so the view never has to handle a bad request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from django.conf import settings

from avatars.defaults import GENERATORS, initials_from
from avatars.imaging import encode
from avatars.models import Rating

DEFAULT_SIZE = 80
MAX_SIZE = 2048
MAX_DEFAULT_URL_LENGTH = 2000
MAX_INITIALS = 3
NOT_FOUND = "404"

_HASH = re.compile(r"[0-9a-f]{32}|[0-9a-f]{64}")
_INTEGER = re.compile(r"\s*([+-]?)([0-9]+)\s*")
_KEYWORD_ALIASES = {"mm": "mp"}
_YES = frozenset({"y", "1", "true"})
_RATINGS = {choice.value: Rating.rank(choice.value) for choice in Rating}
# Extensions that ask for a format; any other (.jpg, .png, ...) changes nothing, as on Gravatar.
_FORMAT_EXTENSIONS = {"webp": "WEBP", "avif": "AVIF"}
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class AvatarRequest:
    """What `/avatar/<hash>[.<ext>]?<params>` asks for, with every alias and clamp applied."""

    hash: str  # lower-case MD5 or SHA-256 hex; "" when absent or malformed
    size: int
    default: str  # a generator kind from avatars.defaults, or NOT_FOUND
    default_url: str  # a validated d=<URL> to redirect to, or ""
    force_default: bool
    rating: int  # highest accepted Rating rank
    initials: str  # letters asked for by initials= or name=, at most three
    extension_format: str | None  # WEBP or AVIF when the extension demands it
    accept_format: str | None  # AVIF or WEBP offered by Accept, only without an extension

    @classmethod
    def parse(cls, *, name: str, query: Mapping[str, str], accept: str) -> AvatarRequest:
        digest, extension = _split_name(name)
        default, default_url = _parse_default(_param(query, "d", "default"))
        return cls(
            hash=digest,
            size=_parse_size(_param(query, "s", "size")),
            default=default,
            default_url=default_url,
            force_default=_param(query, "f", "forcedefault").strip().lower() in _YES,
            rating=_RATINGS.get(_param(query, "r", "rating").strip().lower(), 0),
            initials=_parse_initials(query.get("initials", ""), query.get("name", "")),
            extension_format=_extension_format(extension),
            accept_format=None if extension is not None else negotiate(accept),
        )


def _param(query: Mapping[str, str], short: str, long: str) -> str:
    """The short name wins when a request carries both."""
    value = query.get(short)
    return value if value is not None else query.get(long, "")


def _split_name(name: str) -> tuple[str, str | None]:
    """The hash (or "" when malformed) and the extension, if any. Any extension is split off,
    so `<hash>.gif` is still that hash, as with Gravatar."""
    lowered = name.lower()
    stem, dot, extension = lowered.rpartition(".")
    if not dot:
        return (lowered if _HASH.fullmatch(lowered) else ""), None
    return (stem if _HASH.fullmatch(stem) else ""), extension


def _extension_format(extension: str | None) -> str | None:
    fmt = _FORMAT_EXTENSIONS.get(extension or "")
    if fmt == "AVIF" and not avif_available():
        return None
    return fmt


def _parse_size(raw: str) -> int:
    match = _INTEGER.fullmatch(raw)
    if match is None:
        return DEFAULT_SIZE
    sign, digits = match.groups()
    digits = digits.lstrip("0")
    if sign == "-" or not digits:
        return DEFAULT_SIZE
    # Compare lengths first: int() of a huge digit string is slow and, past 4300 digits, refused.
    if len(digits) > len(str(MAX_SIZE)):
        return MAX_SIZE
    return min(int(digits), MAX_SIZE)


def _parse_default(raw: str) -> tuple[str, str]:
    value = raw.strip()
    keyword = _KEYWORD_ALIASES.get(value.lower(), value.lower())
    if keyword == NOT_FOUND or keyword in GENERATORS:
        return keyword, ""
    if "://" in value and default_url_allowed(value):
        return settings.AVATAR_DEFAULT, value
    return settings.AVATAR_DEFAULT, ""


def default_url_allowed(url: str) -> bool:
    """The contract's rules for a custom default: it is never fetched, only redirected to, so
    these keep the redirect honest (no credentials, no odd ports) rather than guard a fetch."""
    if len(url) > MAX_DEFAULT_URL_LENGTH or not url.isascii() or not url.isprintable():
        return False
    if any(char.isspace() for char in url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return False
    if "@" in parts.netloc or port not in (None, _DEFAULT_PORTS[parts.scheme]):
        return False
    allowed_hosts = settings.AVATAR_DEFAULT_URL_HOSTS
    return not allowed_hosts or parts.hostname in {host.lower() for host in allowed_hosts}


def _parse_initials(initials: str, name: str) -> str:
    letters = "".join(char for char in initials if char.isalnum()) or initials_from(
        "".join(char if char.isprintable() else " " for char in name)
    )
    return letters.upper()[:MAX_INITIALS]


def negotiate(accept: str) -> str | None:
    """AVIF or WebP when Accept lists it by name (wildcards do not count), AVIF first.

    The edge reduces Accept to "image/avif", "image/webp" or nothing, and this gives the same
    answer for each of those as for the browser header it came from.
    """
    accept = accept.lower()
    if "image/" not in accept:
        return None
    listed = set()
    for item in accept.split(","):
        media_type, _, parameters = item.partition(";")
        if not _refused(parameters):
            listed.add(media_type.strip())
    if "image/avif" in listed and avif_available():
        return "AVIF"
    if "image/webp" in listed:
        return "WEBP"
    return None


def _refused(parameters: str) -> bool:
    """`q=0` means "not acceptable"; any other or unreadable weight means acceptable."""
    for parameter in parameters.split(";"):
        key, _, value = parameter.partition("=")
        if key.strip() == "q":
            try:
                return float(value.strip()) == 0
            except ValueError:
                return False
    return False


@cache
def avif_available() -> bool:
    return encode.can_encode("AVIF")
