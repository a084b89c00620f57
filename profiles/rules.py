"""The profile's rules as plain facts (spec: ../shared/spec/profiles-api.md §1-2, §4).

No Django here: forms, models, views, the VCL and the tests import these names, so a limit or a
reserved word is written once.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final
from urllib.parse import urlsplit

from avatars.contract import HASH_PATTERN


def gettext_noop(text: str) -> str:
    """Marks a label for the catalogues (makemessages extracts this name) without translating
    it: the formats answer in English, and the pages translate the label where they show it."""
    return text


SLUG_MIN: Final = 3
SLUG_MAX: Final = 40
SLUG_PATTERN: Final = re.compile(rf"^[a-z0-9_-]{{{SLUG_MIN},{SLUG_MAX}}}$")
# A slug is the first path segment of the public page, so every first segment the site itself
# routes (and the ones the spec names) is reserved; tests/profiles/test_rules.py checks this
# list against the URL configuration.
RESERVED_SLUGS: Final = frozenset(
    {
        "about",
        "account",
        "accounts",
        "admin",
        "api",
        "avatar",
        "avatars",
        "confirm",
        "domain",
        "edge-health",
        "email-sent",
        "favicon.ico",
        "healthz",
        "help",
        "i18n",
        "login",
        "logout",
        "media",
        "metrics",
        "oauth",
        "password",
        "privacy",
        "profile",
        "profiles",
        "readyz",
        "robots.txt",
        "settings",
        "signup",
        "static",
        "support",
        "terms",
        "userimage",
        "v1",
        "v2",
        "v3",
        "well-known",
        ".well-known",
    }
)
# A changed slug keeps redirecting to the profile for this long, then is free for others.
OLD_SLUG_REDIRECT: Final = timedelta(days=30)

ABOUT_MAX: Final = 1000
TEXT_MAX: Final = 100  # every one-line field: names, location, pronouns, job title, company
LINKS_MAX: Final = 10
ACCOUNTS_MAX: Final = 10
URL_MAX: Final = 2000
LINK_LABEL_MAX: Final = 100
URL_SCHEMES: Final = ("http", "https")
BACKGROUND_PATTERN: Final = re.compile(r"^#[0-9a-f]{6}$")

# The one-line fields of spec §2 in the order the editor and every format show them.
TEXT_FIELDS: Final = (
    "first_name",
    "last_name",
    "location",
    "pronouns",
    "pronunciation",
    "job_title",
    "company",
)

# Accounts elsewhere: the service a URL belongs to, by host. Anything else is a website.
SERVICES: Final = {
    "github": ("GitHub", ("github.com",)),
    "gitlab": ("GitLab", ("gitlab.com",)),
    "mastodon": ("Mastodon", ()),  # any host: recognised by the /@user path
    "bluesky": ("Bluesky", ("bsky.app",)),
    "codeberg": ("Codeberg", ("codeberg.org",)),
    "linkedin": ("LinkedIn", ("linkedin.com", "www.linkedin.com")),
    "stackoverflow": ("Stack Overflow", ("stackoverflow.com",)),
    "website": (gettext_noop("Website"), ()),
}

# The answers of the editor's live slug check (and the reasons a slug is refused on submit).
SLUG_AVAILABLE: Final = "available"
SLUG_TAKEN: Final = "taken"
SLUG_RESERVED: Final = "reserved"
SLUG_INVALID: Final = "invalid"

# Checking an account elsewhere (rel="me"): its page is HTML, so a megabyte is plenty; the
# time limit is the setting PROFILE_VERIFY_TIMEOUT.
VERIFY_PAGE_MAX_BYTES: Final = 1024 * 1024
CHECK_MESSAGE_MAX: Final = 250  # ProfileAccount.check_message

# Legacy formats (§4): /<hash-or-slug>.<format>.
FORMATS: Final = ("json", "xml", "php", "vcf", "qr")
# The query parameters each answer reads; the edge drops every other (`?source=`, trackers)
# so that they share one cached object. The HTML page and the other formats read none.
FORMAT_PARAMETERS: Final = {"json": ("callback",), "qr": ("s", "size")}
CALLBACK_PATTERN: Final = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$")
QR_SIZE_MIN: Final = 1
QR_SIZE_MAX: Final = 1024
QR_SIZE_DEFAULT: Final = 80
# An id in /v3/profiles/{id} may end in an image extension, because hovercard scripts take it
# from an <img src>.
ID_IMAGE_EXTENSIONS: Final = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif")

# The opaque public id: random digits, never the database key.
PUBLIC_ID_DIGITS: Final = 12


def service_label(service: str) -> str:
    """What a page calls a service: its name, or Website for one this code does not know."""
    return SERVICES.get(service, SERVICES["website"])[0]


def url_host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def url_username(url: str) -> str:
    """The account name an account URL shows: its first path segment without a leading @
    (github.com/alice, mastodon.social/@alice, bsky.app/profile/alice is the exception), else
    the host for a website."""
    parts = [part for part in urlsplit(url).path.split("/") if part]
    if parts[:1] == ["profile"] and len(parts) > 1:
        parts = parts[1:]
    return parts[0].removeprefix("@") if parts else url_host(url)


def slug_reserved(slug: str) -> bool:
    """A reserved word, or a slug shaped like an MD5 or SHA-256 digest: `/<hash>` already means
    the address behind that digest, so such a slug could never be reached."""
    lowered = slug.lower()
    return lowered in RESERVED_SLUGS or _DIGEST_SHAPED.fullmatch(lowered) is not None


_DIGEST_SHAPED: Final = re.compile(HASH_PATTERN)


def slug_key(slug: str) -> str:
    """The edge cache key (xkey) of a slug's public answers, found or not: purged when the slug
    is claimed, changed or freed, so a cached 404 for a slug never outlives its claim."""
    return f"slug-{slug.lower()}"


# Moderation: the fields of §2 a moderator may clear one at a time (the display name is the
# account's). Links, accounts elsewhere and published addresses are cleared one entry at a time
# as "<kind>:<id>" (profiles.moderation.profile_clear_field).
CLEARABLE_FIELDS: Final = (
    "display_name",
    *TEXT_FIELDS,
    "about_me",
    "background_color",
)
CLEARABLE_ENTRIES: Final = ("link", "account", "email")

# A visitor's report (the link on every public page): a reason picked from this list.
REPORT_REASONS: Final = (
    ("impersonation", gettext_noop("Pretends to be someone else")),
    ("offensive", gettext_noop("Offensive or hateful content")),
    ("sexual", gettext_noop("Sexual content")),
    ("spam", gettext_noop("Spam or scam links")),
    ("private", gettext_noop("Shares someone's private information")),
    ("other", gettext_noop("Something else")),
)
REPORT_DETAILS_MAX: Final = 500
# Reports per client address per window, counted in the database so every worker and node
# shares the count (as accounts/throttle.py does for emails): enough for a person, too few to
# flood the queue.
REPORTS_PER_WINDOW: Final = 5
REPORT_WINDOW: Final = timedelta(hours=1)
