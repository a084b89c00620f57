"""The OpenAPI 3.1 document of everything under /v3/, generated from the code.

Each /v3/ view declares its operation with `@api_operation(...)`: path, parameters, and per
status the `TypedDict` its body is (the same types `profiles.formats` returns, so mypy holds
the bodies to the document) and whether the rate-limit headers come with it. `document()`
turns the registry into OpenAPI, each TypedDict into a JSON Schema (every key required unless
`NotRequired`, no other keys). Tests validate real answers against it.
"""

from __future__ import annotations

import functools
import json
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Literal, NotRequired, Required, TypeVar, get_args, get_origin

OPENAPI_VERSION: Final = "3.1.0"
# The document's purge key: it changes only with a deployment (`manage.py purge_edge`).
OPENAPI_XKEY: Final = "openapi"
API_VERSION: Final = "3"
# The security scheme of a site key (spec §5), sent as `Authorization: Bearer avk_...`.
SITE_KEY_SCHEME: Final = "siteKey"
RATE_LIMIT_HEADERS: Final = {
    "X-RateLimit-Limit": "Requests allowed per window to this client.",
    "X-RateLimit-Remaining": "Requests left in the current window.",
    "X-RateLimit-Reset": "When the window ends, in Unix time.",
}

View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    where: Literal["path", "query", "header"]
    description: str
    required: bool = True
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})


@dataclass(frozen=True, slots=True)
class Response:
    description: str
    body: Any = None  # a TypedDict, a JSON Schema as a dict, or None for no body
    rate_limited: bool = True
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str  # OpenAPI's template: /v3/profiles/{id}
    operation_id: str
    summary: str
    description: str
    parameters: tuple[Parameter, ...]
    responses: tuple[tuple[int, Response], ...]
    tags: tuple[str, ...] = ()
    # OpenAPI security requirements, any one of which suffices ({} is "none needed").
    security: tuple[dict[str, list[str]], ...] = ()


OPERATIONS: list[Operation] = []

# Parts other apps add to the document, each a function returning (paths, components): the
# API app's /v3/me/ operations (profiles must not import api; it registers in its ready()).
DocumentPart = Callable[[], tuple[dict[str, Any], dict[str, Any]]]
_parts: list[DocumentPart] = []


def document_part_register(build: DocumentPart) -> None:
    _parts.append(build)


def api_operation(
    *,
    path: str,
    summary: str,
    description: str = "",
    parameters: tuple[Parameter, ...] = (),
    responses: dict[int, Response],
    method: str = "get",
    tags: tuple[str, ...] = (),
    security: tuple[dict[str, list[str]], ...] = (),
) -> Callable[[View], View]:
    """Declares the decorated view's operation; the view itself is unchanged."""

    def register(view: View) -> View:
        OPERATIONS.append(
            Operation(
                method=method,
                path=path,
                operation_id=view.__name__,
                summary=summary,
                description=description,
                parameters=parameters,
                responses=tuple(sorted(responses.items())),
                tags=tags,
                security=security,
            )
        )
        return view

    return register


@functools.cache
def openapi_json(*, site: str) -> bytes:
    """The document's bytes, made once per process and origin: the registry is fixed once the
    URL configuration is imported."""
    return json.dumps(document(site=site), indent=2).encode()


def document(*, site: str) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for operation in OPERATIONS:
        responses: dict[str, Any] = {}
        for status, response in operation.responses:
            answer: dict[str, Any] = {"description": response.description}
            headers: dict[str, Any] = {
                name: {"$ref": f"#/components/headers/{name}"}
                for name in (RATE_LIMIT_HEADERS if response.rate_limited else ())
            }
            headers.update(
                {
                    name: {"description": text, "schema": {"type": "string"}}
                    for name, text in response.headers
                }
            )
            if headers:
                answer["headers"] = headers
            if response.body is not None:
                answer["content"] = {
                    "application/json": {"schema": schema_ref(response.body, schemas)}
                }
            responses[str(status)] = answer
        paths.setdefault(operation.path, {})[operation.method] = {
            "operationId": operation.operation_id,
            "summary": operation.summary,
            **({"description": operation.description} if operation.description else {}),
            **({"tags": list(operation.tags)} if operation.tags else {}),
            **({"security": list(operation.security)} if operation.security else {}),
            "parameters": [
                {
                    "name": p.name,
                    "in": p.where,
                    "required": p.required,
                    "description": p.description,
                    "schema": p.schema,
                }
                for p in operation.parameters
            ],
            "responses": responses,
        }
    components: dict[str, Any] = {
        "schemas": schemas,
        "headers": {
            name: {"description": text, "schema": {"type": "integer"}}
            for name, text in RATE_LIMIT_HEADERS.items()
        },
        "securitySchemes": {
            SITE_KEY_SCHEME: {
                "type": "http",
                "scheme": "bearer",
                "description": (
                    "A site key (avk_...) made on the account's API tokens page: a higher rate "
                    "limit, counted per key, and the fields only key holders get. Optional."
                ),
            }
        },
    }
    for build in _parts:
        more_paths, more_components = build()
        paths.update(more_paths)
        for kind, entries in more_components.items():
            components.setdefault(kind, {}).update(entries)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Avatars REST API",
            "version": API_VERSION,
            "description": (
                "Gravatar-compatible REST API v3: public profile reads (a site key optional) "
                "and, under /v3/me/, the signed-in person's profile and avatars for apps."
            ),
        },
        "servers": [{"url": site}],
        "paths": paths,
        "components": components,
    }


def schema_ref(kind: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    """A TypedDict becomes a named component (once); a dict is a schema already; anything else
    an inline schema."""
    if isinstance(kind, dict):
        return kind
    if typing.is_typeddict(kind):
        name = kind.__name__
        if name not in schemas:
            schemas[name] = {}  # placeholder: a recursive type refers to itself
            schemas[name] = _object_schema(kind, schemas)
        return {"$ref": f"#/components/schemas/{name}"}
    return _schema(kind, schemas)


def _object_schema(kind: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(kind, include_extras=True)
    properties, required = {}, []
    for key, hint in hints.items():
        origin = get_origin(hint)
        if origin is NotRequired:
            hint = get_args(hint)[0]
        else:
            if origin is Required:
                hint = get_args(hint)[0]
            required.append(key)
        properties[key] = schema_ref(hint, schemas)
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    if kind.__doc__:
        schema["description"] = " ".join(kind.__doc__.split())
    return schema


def _schema(kind: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    origin = get_origin(kind)
    if kind is str:
        return {"type": "string"}
    if kind is bool:
        return {"type": "boolean"}
    if kind is int:
        return {"type": "integer"}
    if origin is list:
        (item,) = get_args(kind)
        return {"type": "array", "items": schema_ref(item, schemas)}
    if origin is Literal:
        return {"enum": list(get_args(kind))}
    if origin in (types.UnionType, typing.Union):
        return {"anyOf": [schema_ref(arg, schemas) for arg in get_args(kind)]}
    raise TypeError(f"no JSON Schema for {kind!r}")
