"""What the OpenAPI document says of /v3/me/ and of how apps sign in: the paths, generated
from the operations declared in api/views.py (api.http.OPERATIONS: method, scope, query,
body, answers and errors), the schemas of their bodies, and the security schemes. The
document itself (/v3/openapi.json) is served by profiles' mechanism, which takes these parts.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from api import errors, representations, scopes
from api.http import OPERATIONS, Operation
from avatars.models import Rating

OAUTH = "oauth2"
PERSONAL = "personalToken"

ERROR_DESCRIPTIONS = {
    400: "Invalid input; nothing was changed",
    401: "No token, or an unknown, expired or revoked one",
    403: "The token lacks the scope this operation needs",
    404: "No such image among yours",
    413: "The image is over the byte or pixel limit",
    429: "Rate limit exceeded",
}
RATE_LIMIT_HEADERS = {
    name: {"description": text, "schema": {"type": "integer"}}
    for name, text in (
        ("X-RateLimit-Limit", "Requests allowed in the current window"),
        ("X-RateLimit-Remaining", "Requests left in the current window"),
        ("X-RateLimit-Reset", "Unix time at which the window resets"),
    )
}

_TEXT = {"type": "string"}
_LINK = {
    "type": "object",
    "required": ["url"],
    "properties": {"label": _TEXT, "url": {"type": "string", "format": "uri"}},
    "additionalProperties": False,
}


def components() -> dict[str, Any]:
    """The schemas and security schemes the paths below refer to."""
    profile_texts = {name: _TEXT for name in representations.PROFILE_FIELDS}
    ratings = [rating.upper() for rating in Rating.values]
    return {
        "schemas": {
            "MeError": {
                "type": "object",
                "required": ["error", "code"],
                "properties": {
                    "error": _TEXT,
                    "code": {
                        "type": "string",
                        "enum": sorted(
                            {c for codes in errors.STATUS_CODES.values() for c in codes}
                        ),
                    },
                },
            },
            "Avatar": {
                "type": "object",
                "required": [
                    "image_id",
                    "image_url",
                    "rating",
                    "alt_text",
                    "selected",
                    "updated_date",
                ],
                "properties": {
                    "image_id": {"type": "string", "description": "Random; not a database key"},
                    "image_url": {"type": "string", "format": "uri"},
                    "rating": {"type": "string", "enum": ratings},
                    "alt_text": _TEXT,
                    "selected": {"type": "boolean"},
                    "updated_date": {"type": "string", "format": "date-time"},
                },
                "additionalProperties": False,
            },
            "AvatarEdit": {
                "type": "object",
                "properties": {
                    "rating": {"type": "string", "enum": ratings},
                    "alt_text": {"type": "string", "maxLength": 250},
                },
                "additionalProperties": False,
            },
            "AvatarAssign": {
                "type": "object",
                "required": ["email_hash"],
                "properties": {"email_hash": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}},
            },
            "AvatarUpload": {
                "type": "object",
                "required": ["image"],
                "properties": {"image": {"type": "string", "format": "binary"}},
            },
            "Associated": {
                "type": "object",
                "required": ["associated"],
                "properties": {"associated": {"type": "boolean"}},
                "additionalProperties": False,
            },
            "MeProfile": {
                "type": "object",
                "required": [
                    "hash",
                    "display_name",
                    "profile_url",
                    "avatar_url",
                    "avatar_alt_text",
                    "slug",
                    "published",
                    *representations.PROFILE_FIELDS,
                    "links",
                    "accounts",
                ],
                "properties": {
                    "hash": _TEXT,
                    "display_name": _TEXT,
                    "profile_url": _TEXT,
                    "avatar_url": _TEXT,
                    "avatar_alt_text": _TEXT,
                    "slug": _TEXT,
                    "published": {"type": "boolean"},
                    **profile_texts,
                    "links": {"type": "array", "items": _LINK},
                    "accounts": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["service", "url", "verified"],
                            "properties": {
                                "service": _TEXT,
                                "url": _TEXT,
                                "verified": {"type": "boolean"},
                            },
                        },
                    },
                },
                "additionalProperties": False,
            },
            "MeProfileEdit": {
                "type": "object",
                "properties": {
                    "display_name": _TEXT,
                    **profile_texts,
                    "links": {"type": "array", "items": _LINK},
                },
                "additionalProperties": False,
            },
        },
        "securitySchemes": {
            OAUTH: {
                "type": "oauth2",
                "description": "Authorization code with PKCE (S256), required of every app",
                "flows": {
                    "authorizationCode": {
                        "authorizationUrl": f"{settings.SITE_URL}/oauth/authorize/",
                        "tokenUrl": f"{settings.SITE_URL}/oauth/token/",
                        "refreshUrl": f"{settings.SITE_URL}/oauth/token/",
                        "scopes": scopes.texts(),
                    }
                },
            },
            PERSONAL: {
                "type": "http",
                "scheme": "bearer",
                "description": "A personal access token made on the account's API tokens page",
            },
        },
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(status: int) -> dict[str, Any]:
    return {
        "description": ERROR_DESCRIPTIONS[status],
        "headers": RATE_LIMIT_HEADERS,
        "content": {"application/json": {"schema": _ref("MeError")}},
    }


def _operation(path: str, method: str, operation: Operation) -> dict[str, Any]:
    success: dict[str, Any] = {"description": operation.summary, "headers": RATE_LIMIT_HEADERS}
    if operation.response is not None:
        schema: dict[str, Any] = _ref(operation.response)
        if operation.response_is_list:
            schema = {"type": "array", "items": schema}
        success["content"] = {"application/json": {"schema": schema}}
    described: dict[str, Any] = {
        "operationId": operation.name,
        "summary": operation.summary,
        "tags": ["me"],
        "security": [{OAUTH: [operation.scope]}, {PERSONAL: []}],
        "responses": {
            str(operation.status): success,
            **{str(status): _error(status) for status in (*operation.errors, 401, 403, 429)},
        },
    }
    parameters: list[dict[str, Any]] = [
        {
            "name": param.name,
            "in": "query",
            "required": param.required,
            "description": param.description,
            "schema": param.schema,
        }
        for param in operation.query
    ]
    if "{image_id}" in path:
        parameters.insert(
            0,
            {"name": "image_id", "in": "path", "required": True, "schema": {"type": "string"}},
        )
    if parameters:
        described["parameters"] = parameters
    if operation.body is not None:
        described["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(operation.body)}},
        }
    elif operation.multipart:
        described["requestBody"] = {
            "required": True,
            "content": {"multipart/form-data": {"schema": _ref("AvatarUpload")}},
        }
    described["x-required-scope"] = operation.scope
    return described


def paths() -> dict[str, Any]:
    """Every operation of /v3/me/ (and its /api/v3/ twin is the same operation)."""
    import api.views  # noqa: F401  (declaring the operations fills OPERATIONS)

    return {
        path: {method: _operation(path, method, op) for method, op in methods.items()}
        for path, methods in OPERATIONS.items()
    }
