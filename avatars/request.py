"""The avatar request as the contract defines it, parsed from path, query string and Accept.

Parsing never fails: every malformed value has the forgiving meaning the contract gives it,
so the view never has to handle a bad request.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest

from avatars import contract
from avatars.contract import DEFAULT_SIZE, MAX_SIZE, NOT_FOUND
from avatars.defaults import initials_from
from avatars.imaging import encode
from avatars.memo import BoundedMemo

__all__ = [
    "DEFAULT_SIZE",
    "MAX_SIZE",
    "NOT_FOUND",
    "AvatarRequest",
    "avif_available",
    "custom_default_allowed",
    "default_url_allowed",
    "negotiate",
]

_HASH = re.compile(contract.HASH_PATTERN)
_INTEGER = re.compile(r"\s*([+-]?)([0-9]+)\s*")
_KEYWORDS = frozenset(contract.DEFAULT_KEYWORDS)
_YES = frozenset(contract.FORCE_YES)
_RATINGS = {rating: contract.rating_rank(rating) for rating in contract.RATINGS}
# Parsed requests remembered per process, keyed by (name, query string, Accept): a hot URL is
# parsed once. Longer keys than this are parsed every time, so the memo stays small.
PARSED_ENTRIES = 4096
PARSED_KEY_CHARS = 512
# The settings a parse reads.
_PARSE_SETTINGS = frozenset({"AVATAR_DEFAULT", "AVATAR_DEFAULT_URL_HOSTS"})


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
    def from_http(cls, request: HttpRequest, name: str) -> AvatarRequest:
        """parse() of this request's query and Accept, once per distinct URL and Accept."""
        meta = request.META
        query_string = meta.get("QUERY_STRING", "")
        accept = meta.get("HTTP_ACCEPT", "")
        key = (name, query_string, accept)
        if len(name) + len(query_string) + len(accept) > PARSED_KEY_CHARS:
            return cls.parse(name=name, query=request.GET, accept=accept)
        wanted = parsed_requests.get(key)
        if wanted is None:
            # A name not seen yet (most traffic is hashes never asked before) with a query
            # and Accept that were: only the hash differs from that parse.
            digest, extension = _split_name(name)
            shape = (extension, query_string, accept)
            like = parsed_queries.get(shape)
            if like is None:
                # request.GET, as without the memo: Django's decoding and its limit on fields.
                wanted = cls.parse(name=name, query=request.GET, accept=accept)
                parsed_queries.put(shape, wanted)
            else:
                wanted = like if like.hash == digest else replace(like, hash=digest)
            parsed_requests.put(key, wanted)
        return wanted

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


def size_query(query: Mapping[str, str]) -> str:
    """The raw `s=`, else `size=`."""
    return _param(query, "s", "size")


parsed_requests: BoundedMemo[AvatarRequest] = BoundedMemo(PARSED_ENTRIES)
# The same parses keyed by (extension, query string, Accept): everything a parse reads but
# the hash, so a never-seen hash with a common query costs no parse (about a tenth of its
# request's work under callgrind).
parsed_queries: BoundedMemo[AvatarRequest] = BoundedMemo(PARSED_ENTRIES)


@receiver(setting_changed)
def _settings_changed(*, setting: str, **_: Any) -> None:
    if setting in _PARSE_SETTINGS:
        parsed_requests.clear()
        parsed_queries.clear()


def _param(query: Mapping[str, str], short: str, long: str) -> str:
    """The short name wins when a request carries both (also the profile QR code's s/size)."""
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
    fmt = contract.FORMAT_EXTENSIONS.get(extension or "")
    if fmt == "AVIF" and not avif_available():
        return None
    return fmt


def _parse_size(raw: str) -> int:
    return size_param(raw, default=DEFAULT_SIZE, maximum=MAX_SIZE)


def size_param(raw: str, *, default: int, maximum: int) -> int:
    """The forgiving size rule (also the profile QR code's): unreadable, zero or negative is
    the default, above the maximum is the maximum."""
    match = _INTEGER.fullmatch(raw)
    if match is None:
        return default
    sign, digits = match.groups()
    digits = digits.lstrip("0")
    if sign == "-" or not digits:
        return default
    # Compare lengths first: int() of a huge digit string is slow and, past 4300 digits, refused.
    if len(digits) > len(str(maximum)):
        return maximum
    return min(int(digits), maximum)


def _parse_default(raw: str) -> tuple[str, str]:
    value = raw.strip()
    keyword = contract.DEFAULT_ALIASES.get(value.lower(), value.lower())
    if keyword in _KEYWORDS:
        return keyword, ""
    if "://" in value and default_url_allowed(value):
        return settings.AVATAR_DEFAULT, value
    return settings.AVATAR_DEFAULT, ""


def default_url_allowed(url: str) -> bool:
    """Whether `d=<url>` may be redirected to, under this deployment's AVATAR_DEFAULT_URL_HOSTS."""
    return custom_default_allowed(url, allowed_hosts=settings.AVATAR_DEFAULT_URL_HOSTS)


def custom_default_allowed(url: str, *, allowed_hosts: Collection[str] = ()) -> bool:
    """Gravatar's rules for a custom default: a public host, http or https on the default port,
    a path ending in an image extension, no query string, no credentials, no fragment.

    The URL is never fetched, only redirected to, so these keep the redirect honest (no
    pointing browsers at intranets, login pages or odd ports) and need no DNS: a name is
    judged by its spelling. Hosts on `allowed_hosts`, when given, are the only ones allowed and
    are trusted as named (an operator may list an internal image host).
    """
    if len(url) > contract.MAX_DEFAULT_URL_LENGTH or not url.isascii() or not url.isprintable():
        return False
    # Browsers read a backslash as a slash, and a fragment or query is not part of an image.
    if any(char.isspace() or char in "\\?#" for char in url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    default_port = contract.DEFAULT_URL_PORTS.get(parts.scheme)
    if default_port is None or not parts.hostname or "@" in parts.netloc:
        return False
    if port not in (None, default_port):
        return False
    stem, dot, extension = parts.path.rpartition("/")[2].rpartition(".")
    if not stem or not dot or extension.lower() not in contract.DEFAULT_URL_EXTENSIONS:
        return False
    if allowed_hosts:
        return parts.hostname in {host.lower() for host in allowed_hosts}
    return _public_host(parts.hostname)


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
# What a browser's URL parser reads as a number: such a last label makes the host an IPv4
# address (127.1, 0x7f.1, 2130706433), whatever the rest looks like.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")


def _public_host(hostname: str) -> bool:
    """A host name or IP literal that can only mean a machine on the public internet."""
    if ":" in hostname:  # urlsplit has taken the brackets off an IPv6 literal
        try:
            address = ipaddress.IPv6Address(hostname)
        except ValueError:
            return False
        # An IPv4 address inside IPv6 (mapped, 6to4, NAT64) is judged as that address.
        embedded = address.ipv4_mapped or address.sixtofour
        if address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        return _public_address(address) and (embedded is None or _public_address(embedded))
    name = hostname.removesuffix(".")
    labels = name.split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        try:
            return _public_address(ipaddress.IPv4Address(name))
        except ValueError:  # 127.1, octal, hex: a browser would still read an address
            return False
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return False
    if name in contract.LOCAL_HOST_NAMES:
        return False
    return not any(
        name == suffix or name.endswith("." + suffix) for suffix in contract.LOCAL_HOST_SUFFIXES
    )


def _public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address.is_global and not address.is_multicast


def _parse_initials(initials: str, name: str) -> str:
    letters = "".join(char for char in initials if char.isalnum()) or initials_from(
        "".join(char if char.isprintable() else " " for char in name)
    )
    return letters.upper()[: contract.MAX_INITIALS]


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
