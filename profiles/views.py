"""The public profile answers: the HTML page, the legacy formats and REST API v3 (spec §3-5).

Each view parses the name (`profiles.request`), asks `profiles.selectors.profile_resolve` (the
privacy gate, remembered per worker) and hands the bytes to `profiles.formats`. Every private
case reaches the same not-found answer through the same code, so they are byte-identical.
Nothing here touches the session: the answers are the same for everyone, cacheable at the edge
and purged by `profile_served_changed` through their `xkey`.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_safe

from avatars.request import size_param, size_query
from avatars.responses import edge_cache_control
from profiles import formats, rules
from profiles.request import ProfileName
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


@require_safe
@transaction.non_atomic_requests
def profile_v3(request: HttpRequest, name: str) -> HttpResponse:
    """GET /v3/profiles/{id} and /api/v3/profiles/{id} (§5)."""
    asked = ProfileName.parse(name, image_extension=True)
    found = profile_resolve(asked)
    profile = found.profile if isinstance(found, SlugRedirect) else found
    if profile is None:
        response = HttpResponse(
            formats.v3_error(formats.V3_NOT_FOUND), status=404, content_type=formats.JSON_TYPE
        )
        return _finish(request, response, asked.xkey)
    body = formats.v3_json(profile, settings.SITE_URL)
    return _finish(
        request, HttpResponse(body, content_type=formats.JSON_TYPE), _xkey(profile, asked)
    )


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
