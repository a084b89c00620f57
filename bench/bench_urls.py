"""The app's URLs plus /bench/bare: the cheapest Django view answering the same bytes as a
cached s=80 avatar, through the same middleware; the baseline every scenario is compared to.
/bench/bare/<name> does the same for the JSON answers of bench/bench_profiles.py (the files
it writes into BENCH_BARE_DIR)."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.urls import path

from gravatar.urls import urlpatterns as app_urlpatterns


@cache
def _body() -> bytes:
    return Path(os.environ["BENCH_BARE_FILE"]).read_bytes()


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_body(), content_type="image/jpeg")


@cache
def _named_body(name: str) -> bytes:
    folder = Path(os.environ["BENCH_BARE_DIR"])
    path = folder / name
    if path.parent != folder:
        raise ValueError(name)
    return path.read_bytes()


def bare_named(request: HttpRequest, name: str) -> HttpResponse:
    return HttpResponse(_named_body(name), content_type="application/json")


urlpatterns = [
    path("bench/bare", bare),
    path("bench/bare/<str:name>", bare_named),
    *app_urlpatterns,
]
