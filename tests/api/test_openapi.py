"""/v3/openapi.json (profiles' document) describes every /v3/me/ operation: its scope, its
security schemes, its body and every error it may answer."""

from __future__ import annotations

import pytest

from api.http import OPERATIONS

pytestmark = pytest.mark.django_db


def test_the_served_document_covers_every_me_operation(client):
    spec = client.get("/v3/openapi.json").json()
    assert set(OPERATIONS) <= set(spec["paths"])
    for path, methods in OPERATIONS.items():
        for method, operation in methods.items():
            described = spec["paths"][path][method]
            assert described["operationId"] == operation.name
            assert {"oauth2": [operation.scope]} in described["security"]
            assert {"401", "403", "429", str(operation.status)} <= set(described["responses"])
    schemes = spec["components"]["securitySchemes"]
    flow = schemes["oauth2"]["flows"]["authorizationCode"]
    assert set(flow["scopes"]) == {"profile:read", "profile:manage", "avatars:manage"}
    assert flow["authorizationUrl"].endswith("/oauth/authorize/")
    assert schemes["personalToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal access token made on the account's API tokens page",
    }
    assert {"Avatar", "MeProfile", "MeError"} <= set(spec["components"]["schemas"])
    assert {"/v3/profiles/{id}", "/v3/openapi"} <= set(spec["paths"])
