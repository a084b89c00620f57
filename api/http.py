"""The policy every /v3/me/ operation shares, as one decorator: the methods it answers, the
bearer token and its scope, the rate limit (profiles/ratelimit.py's shared store, reported in
X-RateLimit-* on every answer). The view gets the principal and does its one thing."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Concatenate

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from api import errors
from api.auth import Principal, bearer_token, principal_for
from avatars.client_address import client_ip
from profiles.ratelimit import Quota, quota_take

View = Callable[..., HttpResponse]
Handler = Callable[Concatenate[HttpRequest, Principal, ...], HttpResponse]


class BadRequest(ValueError):
    """Input an operation cannot take; the message is for the app's developer."""

    def __init__(self, message: str, code: str = errors.INVALID_REQUEST) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Param:
    """A query parameter, as the OpenAPI document describes it."""

    name: str
    description: str
    required: bool = False
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})


@dataclass(frozen=True)
class Operation:
    """One method of one URL: its handler, the scope it needs, and what api/openapi.py says
    of it (the names are components of that document)."""

    handler: Handler
    scope: str
    summary: str
    status: int = 200
    response: str | None = None
    response_is_list: bool = False
    body: str | None = None
    multipart: bool = False
    query: tuple[Param, ...] = ()
    errors: tuple[int, ...] = ()

    @property
    def name(self) -> str:
        return self.handler.__name__


# Every operation of /v3/me/, by OpenAPI path template and method, in the order declared.
OPERATIONS: dict[str, dict[str, Operation]] = {}


def api_operation(path: str, **methods: Operation) -> View:
    """One URL of /v3/me/ (`path` as the OpenAPI document spells it): each method maps to its
    operation."""
    OPERATIONS[path] = {method.lower(): operation for method, operation in methods.items()}

    @csrf_exempt
    @wraps(next(iter(methods.values())).handler)
    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        token = bearer_token(request)
        principal = principal_for(token) if token else None
        quota = _quota_take(request, principal)
        method = request.method or ""
        operation = methods.get(method)
        if quota.exceeded:
            response = _rate_limited(quota)
        elif operation is None:
            response = errors.error_response(405, errors.METHOD_NOT_ALLOWED)
            response["Allow"] = ", ".join(methods)
        elif principal is None:
            response = errors.error_response(401, errors.UNAUTHORIZED)
        elif operation.scope not in principal.scopes:
            response = errors.insufficient_scope(operation.scope)
        else:
            try:
                response = operation.handler(request, principal, *args, **kwargs)
            except BadRequest as error:
                response = errors.bad_request(error.code, str(error))
        return _reported(response, quota)

    return view


def api_counted(view: Callable[[HttpRequest], HttpResponse]) -> View:
    """The rate limit and its headers for a /v3/me/ view that needs no token (the JSON 404)."""

    @csrf_exempt
    @wraps(view)
    def counted(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        token = bearer_token(request)
        quota = _quota_take(request, principal_for(token) if token else None)
        response = _rate_limited(quota) if quota.exceeded else view(request, *args, **kwargs)
        return _reported(response, quota)

    return counted


def _quota_take(request: HttpRequest, principal: Principal | None) -> Quota:
    """One request counted: per token with a valid one (an app's server acts for many people
    from one address, so those are never counted per address), else per client address, in
    the same count as the address's other /v3/ requests without a credential."""
    if principal is not None:
        return quota_take(client=principal.limit_key, limit=settings.API_TOKEN_RATE_LIMIT)
    return quota_take(client=client_ip(request))


def _rate_limited(quota: Quota) -> HttpResponse:
    response = errors.error_response(429, errors.RATE_LIMITED)
    response["Retry-After"] = str(max(0, quota.reset - int(time.time())))
    return response


def _reported(response: HttpResponse, quota: Quota) -> HttpResponse:
    for name, value in quota.headers().items():
        response[name] = value
    # For one person and one app: no cache keeps any of it.
    response["Cache-Control"] = "private, no-store"
    return response


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object, or BadRequest saying what is wrong with it."""
    if request.content_type != "application/json":
        raise BadRequest("Send a JSON object with Content-Type: application/json.")
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    return body


def json_response(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(
        json.dumps(data, ensure_ascii=False), status=status, content_type="application/json"
    )
