"""The public profile answers: the HTML page, the legacy formats and REST API v3 (spec §3-5).

Each view parses the name (`profiles.request`), asks `profiles.selectors.profile_resolve` (the
privacy gate, remembered per worker) and hands the bytes to `profiles.formats`. Every private
case reaches the same not-found answer through the same code, so they are byte-identical.
Nothing here touches the session: the answers are the same for everyone, cacheable at the edge
and purged by `profile_served_changed` through their `xkey`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_safe

from avatars.client_address import client_ip
from avatars.request import size_param, size_query
from avatars.responses import edge_cache_control
from profiles import formats, rules
from profiles.keys import ApiKey, site_key_of
from profiles.openapi import (
    OPENAPI_XKEY,
    SITE_KEY_SCHEME,
    Parameter,
    Response,
    api_operation,
    openapi_json,
)
from profiles.ratelimit import quota_take
from profiles.request import NO_PROFILE_XKEY, PROFILE_XKEY, ProfileName
from profiles.selectors import PublicProfile, SlugRedirect, profile_resolve

NOT_FOUND_TEMPLATE = "profiles/not_found.html"


@require_safe
@transaction.non_atomic_requests
def profile_page(request: HttpRequest, name: str) -> HttpResponse:
    """GET /<slug>: the page; /<hash>, an old slug or another case: 302 to the slug."""
    asked = ProfileName.parse(name)
    found = profile_resolve(asked)
    if found is None:
        return _finish(request, _not_found_page(), asked.xkey)
    profile = found.profile if isinstance(found, SlugRedirect) else found
    if name != profile.slug:
        response = HttpResponse(status=302)
        response["Location"] = f"/{profile.slug}"
        return _finish(request, response, _xkey(profile, asked))
    html = render_to_string(
        "profiles/public.html",
        # No session: the page is the same for everyone (and Vary: Cookie never appears).
        {
            "profile": profile,
            "site_url": settings.SITE_URL,
            # Where the language switcher returns to: the page has no request to ask.
            "page_path": f"/{profile.slug}",
            "user": AnonymousUser(),
            "messages": (),
        },
    )
    return _finish(request, HttpResponse(html), _xkey(profile, asked))


@require_safe
@transaction.non_atomic_requests
def profile_format(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    """GET /<hash-or-slug>.<format> (§4)."""
    if fmt not in rules.FORMATS:
        return _finish(request, _not_found_page(), ProfileName(name).xkey)
    asked = ProfileName.parse(name)
    # JSONP is JSON's only: other formats ignore the parameter.
    callback = request.GET.get("callback") if fmt == "json" else None
    if callback is not None and not rules.CALLBACK_PATTERN.fullmatch(callback):
        response = HttpResponse(
            b'"Invalid callback name"', status=400, content_type=formats.JSON_TYPE
        )
        return _finish(request, response, asked.xkey)
    found = profile_resolve(asked)
    profile = found.profile if isinstance(found, SlugRedirect) else found
    if profile is None:
        return _finish(request, _legacy_not_found(callback), asked.xkey)
    response = _legacy(request, profile, asked, fmt, callback)
    return _finish(request, response, _xkey(profile, asked))


def _legacy(
    request: HttpRequest, profile: PublicProfile, asked: ProfileName, fmt: str, callback: str | None
) -> HttpResponse:
    site = settings.SITE_URL
    if fmt == "xml":
        return HttpResponse(formats.legacy_xml(profile, asked, site), content_type=formats.XML_TYPE)
    if fmt == "php":
        return HttpResponse(formats.legacy_php(profile, asked, site), content_type=formats.PHP_TYPE)
    if fmt == "vcf":
        response = HttpResponse(
            formats.legacy_vcard(profile, site), content_type=formats.VCARD_TYPE
        )
        response["Content-Disposition"] = f'inline; filename="{profile.slug}.vcf"'
        return response
    if fmt == "qr":
        size = size_param(
            size_query(request.GET), default=rules.QR_SIZE_DEFAULT, maximum=rules.QR_SIZE_MAX
        )
        return HttpResponse(formats.qr_png(profile, site, size), content_type=formats.QR_TYPE)
    body = formats.legacy_json(profile, asked, site)
    if callback is not None:
        return HttpResponse(formats.jsonp(callback, body), content_type=formats.JSONP_TYPE)
    return HttpResponse(body, content_type=formats.JSON_TYPE)


# REST API v3 (§5) -------------------------------------------------------------------------

PROFILE_ID = Parameter(
    "id",
    "path",
    "The SHA-256 or MD5 of an address (any case) or a profile's slug; an image extension "
    "on it (.jpg, .jpeg, .png, .gif, .webp, .avif) is ignored.",
)
NOT_FOUND = Response(
    "No public profile has this id. Unknown and private profiles answer the same.", formats.Error
)
RATE_LIMITED = Response(
    "Too many requests from this client address (or with this site key) in this window.",
    formats.Error,
    headers=(("Retry-After", "Seconds until the window ends."),),
)
UNAUTHORIZED = Response(
    "An Authorization header that sends no live site key: unknown, revoked, malformed, another "
    "scheme than Bearer, or a token for /v3/me/ (which is no site key). Public reads need "
    "none; send no header rather than a bad one.",
    formats.Error,
)
# OpenAPI's way to say "this key, or nothing": the empty requirement is anonymous access.
SITE_KEY_OPTIONAL: tuple[dict[str, list[str]], ...] = ({}, {SITE_KEY_SCHEME: []})


def api_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Every /v3/ answer outside /v3/me/: counted against the rate limit (the site key's
    with a live one in `Authorization: Bearer`, else the client address's) and reporting it,
    refused (429) over it, refused (401) with an Authorization header that sends no live key,
    and readable from any origin, rate-limit headers included. The view gets the key as
    `key` (None without one)."""

    @functools.wraps(view)
    def answer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        header = request.headers.get("Authorization", "").strip()
        key = site_key_of(header) if header else None
        if key is not None:
            quota = quota_take(client=key.limit_key, limit=settings.API_KEY_RATE_LIMIT)
        else:
            # A bad key is no key: its requests count against the address that sends them.
            quota = quota_take(client=client_ip(request))
        if quota.exceeded:
            response = _api_refusal(request, 429, formats.V3_RATE_LIMITED)
            response["Retry-After"] = str(max(0, quota.reset - int(time.time())))
        elif header and key is None:
            # A client that sends a key must learn it is not good rather than silently get
            # the public answer.
            response = _api_refusal(request, 401, formats.V3_UNAUTHORIZED)
            response["WWW-Authenticate"] = 'Bearer realm="api", error="invalid_token"'
        else:
            response = view(request, *args, key=key, **kwargs)
        for header_name, value in quota.headers().items():
            response[header_name] = value
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Expose-Headers"] = ", ".join(settings.CORS_EXPOSE_HEADERS)
        # The answer depends on the key sent: no cache may give one client's to another.
        # (Set, not patched: no /v3/ answer varies on anything else.)
        response["Vary"] = "Authorization"
        return response

    return answer


@api_operation(
    path="/v3/profiles/{id}",
    summary="A public profile",
    description=(
        "Also served at /api/v3/profiles/{id}. No credentials needed; a site key (made on the "
        "account's API tokens page) raises the rate limit and adds first_name, last_name, "
        "links, contact_info, last_profile_edit and registration_date."
    ),
    parameters=(PROFILE_ID,),
    security=SITE_KEY_OPTIONAL,
    responses={
        200: Response(
            "The public profile; with a site key, also the fields only key holders get.",
            formats.Profile | formats.KeyedProfile,
        ),
        401: UNAUTHORIZED,
        404: NOT_FOUND,
        429: RATE_LIMITED,
    },
    tags=("profiles",),
)
@api_view
@require_safe
@transaction.non_atomic_requests
def profile_v3(request: HttpRequest, name: str, *, key: ApiKey | None) -> HttpResponse:
    """GET /v3/profiles/{id} and /api/v3/profiles/{id} (§5). Unknown and private profiles
    are the same 404 with a key as without."""
    asked = ProfileName.parse(name, image_extension=True)
    found = profile_resolve(asked)
    profile = found.profile if isinstance(found, SlugRedirect) else found
    if profile is None:
        response = HttpResponse(
            formats.v3_error(formats.V3_NOT_FOUND), status=404, content_type=formats.JSON_TYPE
        )
        return _finish(request, response, asked.xkey)
    body = formats.v3_json(profile, settings.SITE_URL, keyed=key is not None)
    response = _finish(
        request, HttpResponse(body, content_type=formats.JSON_TYPE), _xkey(profile, asked)
    )
    if key is not None:
        # The key's fields are for its holder: no cache keeps them.
        response["Cache-Control"] = "private, no-store"
    return response


@api_operation(
    path="/v3/openapi",
    summary="This document",
    description="OpenAPI 3.1, generated from the code; also at /v3/openapi.json.",
    responses={
        200: Response("The OpenAPI document of everything under /v3/.", {"type": "object"}),
        429: RATE_LIMITED,
    },
    tags=("meta",),
)
@api_view
@require_safe
@transaction.non_atomic_requests
def api_openapi(request: HttpRequest, *, key: ApiKey | None) -> HttpResponse:
    """GET /v3/openapi and /v3/openapi.json."""
    response = HttpResponse(openapi_json(site=settings.SITE_URL), content_type=formats.JSON_TYPE)
    return _finish(request, response, f"{OPENAPI_XKEY} {PROFILE_XKEY}")


@api_view
@transaction.non_atomic_requests
def api_not_found(request: HttpRequest, rest: str, *, key: ApiKey | None) -> HttpResponse:
    """Any other /v3/ path: a JSON 404 like the API's others, never the HTML page."""
    response = HttpResponse(
        formats.v3_error(formats.V3_NO_ROUTE), status=404, content_type=formats.JSON_TYPE
    )
    return _finish(request, response, f"{NO_PROFILE_XKEY} {PROFILE_XKEY}")


def _api_refusal(request: HttpRequest, status: int, error: tuple[str, str]) -> HttpResponse:
    response = HttpResponse(formats.v3_error(error), status=status, content_type=formats.JSON_TYPE)
    response._has_been_logged = True  # type: ignore[attr-defined]
    # Per client, never for the edge to keep.
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    if request.method == "HEAD":
        response["Content-Length"] = str(len(response.content))
        response.content = b""
    return response


def _legacy_not_found(callback: str | None) -> HttpResponse:
    if callback is not None:
        body = formats.jsonp(callback, formats.LEGACY_NOT_FOUND)
        return HttpResponse(body, status=404, content_type=formats.JSONP_TYPE)
    return HttpResponse(formats.LEGACY_NOT_FOUND, status=404, content_type=formats.JSON_TYPE)


def _not_found_page() -> HttpResponse:
    html = render_to_string(NOT_FOUND_TEMPLATE, {"user": AnonymousUser(), "messages": ()})
    return HttpResponse(html, status=404)


def _xkey(profile: PublicProfile, asked: ProfileName) -> str:
    keys = dict.fromkeys([*profile.keys, *asked.xkey.split()])
    return " ".join(keys)


def _finish(request: HttpRequest, response: HttpResponse, xkey: str) -> HttpResponse:
    if response.status_code == 404:
        # An answer, not an error: Django would log a warning per request otherwise.
        response._has_been_logged = True  # type: ignore[attr-defined]
    response["Cache-Control"] = edge_cache_control()
    response["xkey"] = xkey
    response["Access-Control-Allow-Origin"] = "*"
    response["Timing-Allow-Origin"] = "*"
    response["X-Content-Type-Options"] = "nosniff"
    if request.method == "HEAD":
        response["Content-Length"] = str(len(response.content))
        response.content = b""
    return response
