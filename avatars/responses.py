"""HTTP answers of the avatar endpoint: the contract's headers and conditional requests."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils.encoding import iri_to_uri
from django.utils.http import http_date, parse_etags, parse_http_date_safe

from avatars.memo import BoundedMemo
from avatars.providers import Answer, ImageAnswer, NotFoundAnswer, RedirectAnswer
from avatars.request import AvatarRequest
from avatars.selectors import KnownHash

# The purge key of requests with no usable hash: lets an operator drop them all at once (for
# example after changing AVATAR_DEFAULT) without echoing attacker-chosen text into a header.
NO_HASH_XKEY = "no-hash"
# Purge keys of every response of a kind (`manage.py purge_edge`): after an upgrade that
# changes RENDITION_VERSION, the drawings or the URL rules, the edge holds week-old answers
# that no hash's purge would reach. Words, so they never collide with a hex digest.
AVATAR_XKEY = "avatar"
DEFAULT_XKEY = "default"
RENDITION_XKEY = "rendition"
# Seconds a stand-in (an answer in place of an image storage could not give) is kept, by
# browsers and Varnish alike: the image is back a minute after storage is, and a storage
# outage costs the app one request per object and node a minute rather than one per view.
STAND_IN_MAX_AGE = 60
NOT_FOUND_BODY = b"No avatar for this hash.\n"
# Header blocks remembered per process, about a kilobyte each: one per shape of answer (and
# Last-Modified, so per uploaded avatar).
HEADER_BLOCKS = 4096
# What the remembered blocks are made of besides the answer itself.
_BLOCK_SETTINGS = frozenset(
    {
        "SITE_URL",
        "AVATAR_BROWSER_MAX_AGE",
        "AVATAR_SHARED_MAX_AGE",
        "AVATAR_STALE_WHILE_REVALIDATE",
        "AVATAR_STALE_IF_ERROR",
    }
)

BlockKey = tuple[Any, ...]
# A response's headers as Django keeps them.
Block = dict[str, tuple[str, str]]


# Every answer of a shape gets the same dozen headers but five, and building them (each one
# checked for its charset by Django) cost about a fifth of the endpoint's own work. A block is
# recorded from the general path's response, with the SITE_URL it was made with, so both
# paths give the same headers in the same order (tests/avatars/test_handler.py).
header_blocks: BoundedMemo[tuple[Block, str]] = BoundedMemo(HEADER_BLOCKS)


@receiver(setting_changed)
def _settings_changed(*, setting: str, **_: Any) -> None:
    if setting in _BLOCK_SETTINGS:
        header_blocks.clear()


def respond(
    request: HttpRequest, *, wanted: AvatarRequest, found: KnownHash | None, answer: Answer
) -> HttpResponse:
    """The answer's response: from a remembered header block of the same shape of answer, with
    this answer's own length, ETag, hash and purge keys put in, else built (and remembered)."""
    shape = _shape(request, wanted, found, answer)
    if shape is None:
        return _built(request, wanted=wanted, found=found, answer=answer)
    remembered = header_blocks.get(shape)
    if remembered is None:
        response = _built(request, wanted=wanted, found=found, answer=answer)
        header_blocks.put(shape, (dict(response.headers._store), settings.SITE_URL))
        return response
    block, site_url = remembered
    headers = block.copy()
    # Hex digests, an ETag of hex, digits and words: nothing here needs Django's charset check.
    headers["xkey"] = ("xkey", f"{_xkey(wanted, found)} {_kind_xkeys(answer)}")
    head = request.method == "HEAD"
    if isinstance(answer, ImageAnswer):
        rendition = answer.rendition
        response = HttpResponse(b"" if head else rendition.data)
        headers["content-length"] = ("Content-Length", str(len(rendition.data)))
        headers["etag"] = ("ETag", rendition.etag)
        if wanted.hash:
            headers["content-disposition"] = (
                "Content-Disposition",
                f'inline; filename="{wanted.hash}.{rendition.extension}"',
            )
            headers["link"] = ("Link", f'<{site_url}/avatar/{wanted.hash}>; rel="canonical"')
    else:
        response = HttpResponse(b"" if head else NOT_FOUND_BODY, status=404)
        response._has_been_logged = True  # type: ignore[attr-defined]
    response.headers._store = headers
    return response


def _shape(
    request: HttpRequest, wanted: AvatarRequest, found: KnownHash | None, answer: Answer
) -> BlockKey | None:
    """What an image's 200 or a d=404's 404 is made of besides its length, ETag, hash and purge
    keys (and the settings above); None for the answers built every time: conditional
    requests and redirects."""
    meta = request.META
    if "HTTP_IF_NONE_MATCH" in meta or "HTTP_IF_MODIFIED_SINCE" in meta:
        return None
    head = request.method == "HEAD"
    if isinstance(answer, ImageAnswer):
        return (
            head,
            bool(wanted.hash),
            answer.generated,
            answer.stand_in,
            answer.last_modified,
            answer.rendition.format,
        )
    if isinstance(answer, NotFoundAnswer):
        return (head, answer.stand_in)
    return None


def _built(
    request: HttpRequest, *, wanted: AvatarRequest, found: KnownHash | None, answer: Answer
) -> HttpResponse:
    if isinstance(answer, ImageAnswer):
        response = _image(request, wanted, answer)
    elif isinstance(answer, RedirectAnswer):
        response = HttpResponse(status=302)
        response["Location"] = iri_to_uri(answer.url)
    elif isinstance(answer, NotFoundAnswer):
        response = HttpResponse(NOT_FOUND_BODY, status=404)
        response["Content-Type"] = "text/plain; charset=utf-8"
        # An answer the client asked for with d=404, not an error: Django would otherwise log
        # a warning per request on the hot path.
        response._has_been_logged = True  # type: ignore[attr-defined]
    _edge_headers(response, f"{_xkey(wanted, found)} {_kind_xkeys(answer)}")
    if answer.stand_in:
        # No stale-* allowance either: a stale stand-in is the wrong image.
        response["Cache-Control"] = (
            f"public, max-age={STAND_IN_MAX_AGE}, s-maxage={STAND_IN_MAX_AGE}"
        )
    if request.method == "HEAD" and response.status_code != 304:
        # The same headers as GET, no body: gunicorn sends whatever body the app returns.
        response["Content-Length"] = str(len(response.content))
        response.content = b""
    return response


def _image(request: HttpRequest, wanted: AvatarRequest, answer: ImageAnswer) -> HttpResponse:
    rendition = answer.rendition
    last_modified = http_date(answer.last_modified.timestamp())
    if _not_modified(request, rendition.etag, int(answer.last_modified.timestamp())):
        response = HttpResponse(status=304)
        del response["Content-Type"]
        # RFC 9110 8.6: a 304 may state the length, but only the 200's; never 0.
        response["Content-Length"] = str(len(rendition.data))
    else:
        response = HttpResponse(rendition.data, content_type=rendition.content_type)
        response["Content-Length"] = str(len(rendition.data))
        name = wanted.hash or "avatar"
        response["Content-Disposition"] = f'inline; filename="{name}.{rendition.extension}"'
    response["ETag"] = rendition.etag
    response["Last-Modified"] = last_modified
    if wanted.hash:
        response["Link"] = f'<{settings.SITE_URL}/avatar/{wanted.hash}>; rel="canonical"'
    return response


def _not_modified(request: HttpRequest, etag: str, last_modified: int) -> bool:
    """RFC 9110 13.2.2: If-None-Match (weak comparison) decides; If-Modified-Since only counts
    when there is no If-None-Match."""
    if_none_match = request.META.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        listed = {tag.removeprefix("W/") for tag in parse_etags(if_none_match)}
        return "*" in listed or etag in listed
    if_modified_since = request.META.get("HTTP_IF_MODIFIED_SINCE")
    if not if_modified_since:
        return False
    since = parse_http_date_safe(if_modified_since)
    return since is not None and last_modified <= since


def _xkey(wanted: AvatarRequest, found: KnownHash | None) -> str:
    if found is not None:
        return f"{found.md5} {found.sha256}"
    return wanted.hash or NO_HASH_XKEY


def _kind_xkeys(answer: Answer) -> str:
    if isinstance(answer, ImageAnswer):
        return f"{AVATAR_XKEY} {DEFAULT_XKEY if answer.generated else RENDITION_XKEY}"
    return AVATAR_XKEY


def edge_cache_control() -> str:
    """Browsers briefly, the edge for long (purged on change): also the public profile's."""
    return (
        f"public, max-age={settings.AVATAR_BROWSER_MAX_AGE}, "
        f"s-maxage={settings.AVATAR_SHARED_MAX_AGE}, "
        f"stale-while-revalidate={settings.AVATAR_STALE_WHILE_REVALIDATE}, "
        f"stale-if-error={settings.AVATAR_STALE_IF_ERROR}"
    )


def _edge_headers(response: HttpResponse, xkey: str) -> None:
    response["Cache-Control"] = edge_cache_control()
    response["xkey"] = xkey
    response["Access-Control-Allow-Origin"] = "*"
    response["Timing-Allow-Origin"] = "*"
    response["X-Content-Type-Options"] = "nosniff"
    # Set, not patched: nothing else on this path varies the response (no session, no
    # cookies), and Varnish keys its cache on exactly this header.
    response["Vary"] = "Accept"
