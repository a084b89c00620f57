"""The policy every /v3/me/ operation shares, as one decorator: the methods it answers, the
bearer token and its scope, the rate limit. The view gets the principal and does its one thing."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from api import errors
from api.auth import Principal, bearer_token, principal_for

View = Callable[..., HttpResponse]
Handler = Callable[Concatenate[HttpRequest, Principal, ...], HttpResponse]


class BadRequest(ValueError):
    """Input an operation cannot take; the message is for the app's developer."""

    def __init__(self, message: str, code: str = errors.INVALID_REQUEST) -> None:
        super().__init__(message)
        self.code = code


def api_operation(*, methods: dict[str, tuple[Handler, str]]) -> View:
    """One URL of /v3/me/: each method maps to its handler and the scope it needs."""

    @csrf_exempt
    @wraps(next(iter(methods.values()))[0])
    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        method = request.method or ""
        if method not in methods:
            response = errors.error_response(405, errors.METHOD_NOT_ALLOWED)
            response["Allow"] = ", ".join(methods)
            return response
        handler, scope = methods[method]
        token = bearer_token(request)
        principal = principal_for(token) if token else None
        if principal is None:
            return errors.error_response(401, errors.UNAUTHORIZED)
        if scope not in principal.scopes:
            return errors.insufficient_scope(scope)
        try:
            response = handler(request, principal, *args, **kwargs)
        except BadRequest as error:
            response = errors.bad_request(error.code, str(error))
        response["Cache-Control"] = "private, no-store"
        return response

    return view


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
