"""Is an account elsewhere really the owner's? Its page must link back to the profile with
rel="me" (the IndieWeb convention Mastodon and GitHub use): `<a rel="me" href=...>` or
`<link rel="me" href=...>` whose target is this site's page of the profile, by slug or by the
hash of an address that shows it.

The page is fetched on the owner's request only (never on a read path), through the SSRF-safe
fetcher with its size and time limits, and parsed with html.parser: tolerant of broken markup,
and no regular expression to fool with attributes in odd places or order.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from avatars import urlfetch
from profiles import rules


@dataclass(frozen=True, slots=True)
class Verdict:
    verified: bool
    message: str


class _RelMeLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in {"a", "link"}:
            return
        values = dict(attrs)
        rel = (values.get("rel") or "").lower().split()
        href = values.get("href")
        if "me" in rel and href:
            self.hrefs.append(href.strip())

    handle_startendtag = handle_starttag


def rel_me_links(html: str, base_url: str) -> list[str]:
    """Every rel="me" target of the page, made absolute against the page's address."""
    parser = _RelMeLinks()
    parser.feed(html)
    parser.close()
    return [urljoin(base_url, href) for href in parser.hrefs]


def _normal(url: str) -> str:
    """Scheme and host are case-blind, and so are slugs and hashes in our paths; a trailing
    slash, a query (?utm_...) or a fragment does not make it another page."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    host = (parts.hostname or "").lower()
    netloc = f"{host}:{port}" if port else host
    return f"{parts.scheme.lower()}://{netloc}{parts.path.rstrip('/').lower()}"


def profile_page_urls(*, slug: str, digests: list[str]) -> set[str]:
    """The addresses of the profile's public page that a rel="me" link may name."""
    site = settings.SITE_URL.rstrip("/")
    names = ([slug] if slug else []) + digests
    return {_normal(f"{site}/{name}") for name in names}


def fetch_policy() -> urlfetch.FetchPolicy:
    return urlfetch.FetchPolicy(
        max_bytes=rules.VERIFY_PAGE_MAX_BYTES,
        timeout=settings.PROFILE_VERIFY_TIMEOUT,
        allow_loopback=settings.AVATAR_URL_FETCH_ALLOW_LOOPBACK,
        accept="text/html,application/xhtml+xml;q=0.9",
        kind="page",
    )


def account_page_check(*, url: str, slug: str, digests: list[str]) -> Verdict:
    """Fetch the account's page and look for a link back to the profile's page. Raises
    urlfetch.FetchRefused (with a message for the owner) when the page cannot be fetched:
    a private address, too slow, too large, redirecting in a loop, not HTML."""
    targets = profile_page_urls(slug=slug, digests=digests)
    if not targets:
        return Verdict(False, _("Choose a profile address first: the page must link back to it."))
    html = urlfetch.fetch_page(url, fetch_policy())
    found = {_normal(href) for href in rel_me_links(html, url)}
    if found & targets:
        return Verdict(True, _('Verified: the page links back to your profile with rel="me".'))
    page = f"{settings.SITE_URL.rstrip('/')}/{slug or digests[0]}"
    # Stored with the account (check_message), in the language of the owner who asked.
    message = _('Not verified: the page has no rel="me" link to %(page)s.') % {"page": page}
    return Verdict(False, message[: rules.CHECK_MESSAGE_MAX])
