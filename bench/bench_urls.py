"""The app's URLs plus /bench/bare: the cheapest Django view answering the same bytes as a
cached s=80 avatar, through the same middleware; the baseline every scenario is compared to."""

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


urlpatterns = [path("bench/bare", bare), *app_urlpatterns]
