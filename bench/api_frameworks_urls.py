"""URLs of bench/bench_api_frameworks.py: one answer (a published profile's /v3/ body) served
by a bare view, by a plain Django view as profiles/views.py writes them, and by django-ninja,
with and without its response schema (made from the TypedDicts profiles/formats.py
returns). Needs django-ninja importable (not a dependency)."""

from __future__ import annotations

import os
import typing
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from ninja import NinjaAPI, Schema

from profiles import formats
from profiles.request import ProfileName
from profiles.selectors import PublicProfile, profile_resolve

api = NinjaAPI(urls_namespace="bench-ninja", docs_url=None)


def _schema_of(kind: Any) -> Any:
    """A ninja Schema with a TypedDict's fields (pydantic takes typing.TypedDict only from
    Python 3.12), made with type() so that the type checker need not see ninja."""
    fields = {}
    for name, hint in typing.get_type_hints(kind).items():
        if typing.get_origin(hint) is list:
            (item,) = typing.get_args(hint)
            hint = list[_schema_of(item)] if typing.is_typeddict(item) else hint  # type: ignore[misc]
        fields[name] = hint
    return type(kind.__name__, (Schema,), {"__annotations__": fields})


PROFILE_SCHEMA = _schema_of(formats.Profile)
ERROR_SCHEMA = _schema_of(formats.Error)


def _found(name: str) -> PublicProfile | None:
    found = profile_resolve(ProfileName.parse(name, image_extension=True))
    return found if isinstance(found, PublicProfile) else None


@cache
def _bare_body() -> bytes:
    return Path(os.environ["BENCH_BARE_FILE"]).read_bytes()


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_bare_body(), content_type="application/json")


def plain(request: HttpRequest, name: str) -> HttpResponse:
    profile = _found(name)
    if profile is None:
        return HttpResponse(formats.v3_error(formats.V3_NOT_FOUND), status=404)
    return HttpResponse(
        formats.v3_json(profile, settings.SITE_URL), content_type="application/json"
    )


def ninja_schema(request: HttpRequest, name: str) -> Any:
    profile = _found(name)
    if profile is None:
        return 404, {"error": "Profile not found", "code": "not_found"}
    return 200, formats.v3_profile(profile, settings.SITE_URL)


def ninja_raw(request: HttpRequest, name: str) -> Any:
    profile = _found(name)
    if profile is None:
        return HttpResponse(formats.v3_error(formats.V3_NOT_FOUND), status=404)
    return HttpResponse(
        formats.v3_json(profile, settings.SITE_URL), content_type="application/json"
    )


# Registered by call rather than as decorators: without django-ninja installed (it is no
# dependency) the type checker sees them untyped.
api.get("/schema/{name}", response={200: PROFILE_SCHEMA, 404: ERROR_SCHEMA})(ninja_schema)
api.get("/raw/{name}", response={200: PROFILE_SCHEMA, 404: ERROR_SCHEMA})(ninja_raw)

urlpatterns = [
    path("bare", bare),
    path("plain/<str:name>", plain),
    path("ninja/", api.urls),
    path("", include("gravatar.urls")),
]
