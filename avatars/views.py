"""The public avatar endpoint: Gravatar's URL contract, sections 1-6 of the avatar API spec."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from avatars import providers, responses
from avatars.request import AvatarRequest
from avatars.selectors import hash_resolve


@require_safe
@transaction.non_atomic_requests
def avatar(request: HttpRequest, name: str = "") -> HttpResponse:
    """GET|HEAD /avatar/<hash>[.<ext>]: parse, resolve with one query, pick, respond.

    The hot path: it never writes, never touches the session and never opens a transaction.
    """
    wanted = AvatarRequest.from_http(request, name)
    found = hash_resolve(digest=wanted.hash) if wanted.hash else None
    answer = providers.pick(wanted, found)
    return responses.respond(request, wanted=wanted, found=found, answer=answer)
