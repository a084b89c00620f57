"""The errors of /v3/me/ (spec §5-6): JSON `{"error": <message>, "code": <code>}`, one
(message, code) pair per kind, named once here and used by the views and the OpenAPI
document alike."""

from __future__ import annotations

import json
from typing import Final

from django.http import HttpResponse

Error = tuple[str, str]

UNAUTHORIZED: Final = ("You are not authorized to perform this action", "unauthorized")
INSUFFICIENT_SCOPE: Final = ("The token does not allow this action", "insufficient_scope")
NOT_FOUND: Final = ("Not found", "not_found")
RATE_LIMITED: Final = ("Rate limit exceeded", "rate_limit_exceeded")
METHOD_NOT_ALLOWED: Final = ("Method not allowed", "method_not_allowed")
UNSUPPORTED_IMAGE: Final = "unsupported_image"
IMAGE_TOO_LARGE: Final = "image_too_large"
INVALID_REQUEST: Final = "invalid_request"
ADDRESS_NOT_VERIFIED: Final = "email_not_verified"

# Every status an operation of /v3/me/ may answer with an error, and its codes.
STATUS_CODES: Final = {
    400: (INVALID_REQUEST, UNSUPPORTED_IMAGE, ADDRESS_NOT_VERIFIED),
    401: (UNAUTHORIZED[1],),
    403: (INSUFFICIENT_SCOPE[1],),
    404: (NOT_FOUND[1],),
    405: (METHOD_NOT_ALLOWED[1],),
    413: (IMAGE_TOO_LARGE,),
    429: (RATE_LIMITED[1],),
}


def error_response(status: int, error: Error) -> HttpResponse:
    message, code = error
    response = HttpResponse(
        json.dumps({"error": message, "code": code}), status=status, content_type="application/json"
    )
    if status == 401:
        # RFC 6750 §3: how to authenticate, and that the token sent (if any) was not good.
        response["WWW-Authenticate"] = 'Bearer realm="api", error="invalid_token"'
    return response


def insufficient_scope(needed: str) -> HttpResponse:
    response = error_response(403, INSUFFICIENT_SCOPE)
    response["WWW-Authenticate"] = (
        f'Bearer realm="api", error="insufficient_scope", scope="{needed}"'
    )
    return response


def bad_request(code: str, message: str) -> HttpResponse:
    return error_response(400, (message, code))
