"""The bytes of every public profile format, built from a `PublicProfile` alone (no database).

Spec §4 (legacy: JSON/JSONP, XML, PHP, vCard, QR) and §5 (REST API v3). Every function takes
the profile the privacy gate (`profiles.selectors.profile_public`) returned and the site's
origin, so nothing unpublished can reach a body and tests need no request.
"""

from __future__ import annotations

import functools
import io
import json
import re
from datetime import UTC, datetime
from typing import Any, Final, TypedDict
from xml.etree import ElementTree

import phpserialize
import segno
import vobject
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from PIL import Image

from avatars.memo import BoundedMemo
from profiles import rules
from profiles.request import ProfileName
from profiles.selectors import PublicProfile

JSON_TYPE: Final = "application/json"
JSONP_TYPE: Final = "application/javascript"
XML_TYPE: Final = "application/xml; charset=utf-8"
# PHP's unserialize() reads bytes; the type only has to keep browsers from running it.
PHP_TYPE: Final = "text/plain; charset=utf-8"
VCARD_TYPE: Final = "text/vcard; charset=utf-8"
QR_TYPE: Final = "image/png"
# A JSON string, quotes included: what Gravatar answers and old hovercard scripts expect.
LEGACY_NOT_FOUND: Final = b'"User not found"'
V3_NOT_FOUND: Final = ("Profile not found", "not_found")
V3_RATE_LIMITED: Final = ("Rate limit exceeded", "rate_limit_exceeded")
V3_UNAUTHORIZED: Final = ("Invalid API key", "invalid_api_key")
V3_NO_ROUTE: Final = ("Not found", "not_found")

# http(s) links in about-me text; trailing punctuation stays text ("see https://x.example.").
_LINK: Final = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_LINK_TRAILING: Final = ".,;:!?)]}"


def profile_url(profile: PublicProfile, site: str) -> str:
    return f"{site}/{profile.slug}"


def avatar_url(digest: str, site: str) -> str:
    """Never with a query string: clients append their own ?s=..&d=.."""
    return f"{site}/avatar/{digest}"


def service_icon_url(service: str, site: str) -> str:
    return f"{site}{_icon_path(service if service in rules.SERVICES else 'website')}"


@functools.cache
def _icon_path(service: str) -> str:
    """static() with the manifest storage costs about 0.1 ms a call: a profile's answer asks
    for up to ten. The services are a fixed list; a change of storage settings clears it."""
    return static(f"profiles/services/{service}.svg")


@receiver(setting_changed)
def _storage_changed(*, setting: str, **_: object) -> None:
    if setting in {"STORAGES", "STATIC_URL"}:
        _icon_path.cache_clear()


def legacy_digest(profile: PublicProfile, asked: ProfileName) -> str:
    """The requested algorithm's digest; MD5 for a slug, as Gravatar's legacy hashes are."""
    if len(asked.digest) == 64:
        return profile.address.sha256
    return profile.address.md5


# Legacy formats (§4) ---------------------------------------------------------------------


def legacy_entry(profile: PublicProfile, asked: ProfileName, site: str) -> dict[str, Any]:
    """The Portable Contacts entry: keys in the spec's order, present when set; lists always."""
    digest = legacy_digest(profile, asked)
    thumbnail = avatar_url(digest, site)
    entry: dict[str, Any] = {
        "id": profile.public_id,
        "hash": digest,
        "requestHash": asked.typed,
        "profileUrl": profile_url(profile, site),
        "preferredUsername": profile.slug,
        "thumbnailUrl": thumbnail,
        "photos": [{"value": thumbnail, "type": "thumbnail"}],
        "displayName": profile.name,
    }
    name = {
        key: value
        for key, value in (
            ("givenName", profile.first_name),
            ("familyName", profile.last_name),
            ("formatted", profile.formatted_name),
        )
        if value
    }
    if name:
        entry["name"] = name
    for key, value in (
        ("aboutMe", profile.about_me),
        ("currentLocation", profile.location),
        ("pronouns", profile.pronouns),
        ("pronunciation", profile.pronunciation),
        ("job_title", profile.job_title),
        ("company", profile.company),
    ):
        if value:
            entry[key] = value
    entry["urls"] = [{"value": link.url, "title": link.label} for link in profile.links]
    entry["accounts"] = [
        {
            "domain": account.host,
            "display": account.username,
            "url": account.url,
            "username": account.username,
            "verified": "true" if account.verified else "false",
            "shortname": account.service,
            "iconUrl": service_icon_url(account.service, site),
        }
        for account in profile.accounts
    ]
    entry["emails"] = [
        {"primary": "true" if primary else "false", "value": email}
        for email, primary in profile.emails
    ]
    if profile.background_color:
        entry["profileBackground"] = {"color": profile.background_color}
    return entry


def legacy_json(profile: PublicProfile, asked: ProfileName, site: str) -> bytes:
    return json_bytes({"entry": [legacy_entry(profile, asked, site)]})


def legacy_xml(profile: PublicProfile, asked: ProfileName, site: str) -> bytes:
    """<response><entry>...</entry></response>: the JSON entry's names as elements, a list as
    one element per item (empty: none), an object as child elements."""
    response = ElementTree.Element("response")
    _xml_children(ElementTree.SubElement(response, "entry"), legacy_entry(profile, asked, site))
    data: bytes = ElementTree.tostring(response, encoding="utf-8", xml_declaration=True)
    return data


def _xml_children(parent: ElementTree.Element, values: dict[str, Any]) -> None:
    for key, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            child = ElementTree.SubElement(parent, key)
            if isinstance(item, dict):
                _xml_children(child, item)
            else:
                child.text = str(item)


def legacy_php(profile: PublicProfile, asked: ProfileName, site: str) -> bytes:
    """PHP serialize() of the JSON's array, as libgravatar and old PHP sites unserialize it."""
    data: bytes = phpserialize.dumps({"entry": [legacy_entry(profile, asked, site)]})
    return data


def legacy_vcard(profile: PublicProfile, site: str) -> bytes:
    """vCard 3.0: FN, N, NICKNAME, URL (profile, links), PHOTO, NOTE, ORG, TITLE, EMAIL."""
    card = vobject.vCard()
    card.add("fn").value = profile.name
    card.add("n").value = vobject.vcard.Name(family=profile.last_name, given=profile.first_name)
    card.add("nickname").value = profile.slug
    for url in (profile_url(profile, site), *(link.url for link in profile.links)):
        card.add("url").value = url
    photo = card.add("photo")
    photo.value = avatar_url(profile.address.sha256, site)
    photo.value_param = "uri"
    if profile.about_me:
        card.add("note").value = profile.about_me
    if profile.company:
        card.add("org").value = [profile.company]
    if profile.job_title:
        card.add("title").value = profile.job_title
    for email, _primary in profile.emails:
        address = card.add("email")
        address.value = email
        address.type_param = "INTERNET"
    text: str = card.serialize()
    return text.encode()


def jsonp(callback: str, body: bytes) -> bytes:
    """`callback` must already match rules.CALLBACK_PATTERN; `body` is JSON."""
    return callback.encode() + b"(" + body + b")"


def json_bytes(value: object) -> bytes:
    # ASCII only: the same bytes are safe as JSONP in a page of any charset, and U+2028/2029
    # cannot end a script line.
    return json.dumps(value, separators=(",", ":")).encode()


# REST API v3 (§5) -------------------------------------------------------------------------
# The bodies as types: mypy holds these functions to them, and profiles/openapi.py makes the
# document's schemas from them.


class VerifiedAccount(TypedDict):
    """An account elsewhere whose page links back to the profile with rel="me"."""

    service_type: str
    service_label: str
    service_icon: str
    url: str
    is_hidden: bool


class Profile(TypedDict):
    """A public profile. Every key is always present, "" when unset; `avatar_url` has no
    query string (append ?s=..&d=..)."""

    hash: str
    display_name: str
    profile_url: str
    avatar_url: str
    avatar_alt_text: str
    location: str
    description: str
    job_title: str
    company: str
    pronunciation: str
    pronouns: str
    verified_accounts: list[VerifiedAccount]


class Link(TypedDict):
    label: str
    url: str


class ContactInfo(TypedDict):
    """`email`: a published address of the profile's (the primary one first), "" when none."""

    email: str


class KeyedProfile(Profile):
    """A public profile as a request with a site key reads it: every key of the public shape
    and the ones only key holders get, all always present. Times are UTC, ISO 8601."""

    first_name: str
    last_name: str
    links: list[Link]
    contact_info: ContactInfo
    last_profile_edit: str
    registration_date: str


class Error(TypedDict):
    """What went wrong, for people (`error`) and for programs (`code`)."""

    error: str
    code: str


def v3_profile(profile: PublicProfile, site: str) -> Profile:
    """The public shape: every key always present, "" when unset."""
    return {
        "hash": profile.address.sha256,
        "display_name": profile.name,
        "profile_url": profile_url(profile, site),
        "avatar_url": avatar_url(profile.address.sha256, site),
        "avatar_alt_text": profile.avatar_alt_text,
        "location": profile.location,
        "description": profile.about_me,
        "job_title": profile.job_title,
        "company": profile.company,
        "pronunciation": profile.pronunciation,
        "pronouns": profile.pronouns,
        "verified_accounts": [
            {
                "service_type": account.service,
                "service_label": account.service_label,
                "service_icon": service_icon_url(account.service, site),
                "url": account.url,
                "is_hidden": False,
            }
            for account in profile.verified_accounts
        ],
    }


def v3_keyed_profile(profile: PublicProfile, site: str) -> KeyedProfile:
    """The shape for a site key: the public one and the authenticated fields of §5, still
    only what the owner published (`PublicProfile` holds nothing else)."""
    emails = [email for email, _primary in profile.emails]  # the primary one first
    return {
        **v3_profile(profile, site),
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "links": [{"label": link.label, "url": link.url} for link in profile.links],
        "contact_info": {"email": emails[0] if emails else ""},
        "last_profile_edit": _utc(profile.updated_at),
        "registration_date": _utc(profile.registered_at),
    }


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# The bytes of the v3 answers built last, per profile object: `profiles.selectors.
# profile_resolve` hands out the same object for a name while its answer holds (a second at
# most), so a hot profile's body is built once per worker per second, not per request.
_V3_BODIES: Final[BoundedMemo[tuple[PublicProfile, bytes]]] = BoundedMemo(1_000)


def v3_json(profile: PublicProfile, site: str, *, keyed: bool = False) -> bytes:
    key = (id(profile), site, keyed)
    known = _V3_BODIES.get(key)
    # The object itself is kept with its bytes, so its id cannot be another's meanwhile.
    if known is not None and known[0] is profile:
        return known[1]
    body = json_bytes(v3_keyed_profile(profile, site) if keyed else v3_profile(profile, site))
    _V3_BODIES.put(key, (profile, body))
    return body


def v3_error(error: tuple[str, str]) -> bytes:
    message, code = error
    body: Error = {"error": message, "code": code}
    return json_bytes(body)


def qr_png(profile: PublicProfile, site: str, size: int) -> bytes:
    """A size x size PNG of a QR code of the profile's URL, its quiet zone included. Drawn at
    one pixel per module and scaled with nearest-neighbour, so the modules stay sharp."""
    code = segno.make(profile_url(profile, site), error="m", micro=False)
    rows = [bytes(0 if dark else 255 for dark in row) for row in code.matrix_iter(border=4)]
    image = Image.frombytes("L", (len(rows[0]), len(rows)), b"".join(rows))
    out = io.BytesIO()
    image.resize((size, size), Image.Resampling.NEAREST).convert("1").save(
        out, "PNG", optimize=True
    )
    return out.getvalue()


# HTML -------------------------------------------------------------------------------------


def about_html(text: str) -> SafeString:
    """About-me text escaped, its http(s) links made links marked as user content."""
    pieces: list[str] = []
    position = 0
    for match in _LINK.finditer(text):
        url = match.group(0).rstrip(_LINK_TRAILING)
        pieces.append(escape(text[position : match.start()]))
        pieces.append(f'<a href="{escape(url)}" rel="nofollow ugc">{escape(url)}</a>')
        position = match.start() + len(url)
    pieces.append(escape(text[position:]))
    # Every piece is escaped above; the only markup is the anchors built here.
    return mark_safe("".join(pieces))  # noqa: S308
