"""Template context for pages that explain the URL contract (the home page's hints)."""

from __future__ import annotations

from types import ModuleType

from django.http import HttpRequest

from avatars import contract


def url_contract(request: HttpRequest) -> dict[str, ModuleType]:
    return {"url_contract": contract}
