"""The OpenAPI 3.1 document of /v3/ (profiles/openapi.py): served at /v3/openapi and
/v3/openapi.json, generated from the views' declarations and the body types, and true:
real answers validate against it."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from jsonschema.validators import Draft202012Validator

from api.services import site_key_create
from profiles.openapi import document
from tests.personas import Personas
from tests.profiles.published import publish_alice

pytestmark = pytest.mark.django_db

SITE = "https://avatars.example.com"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def spec(client) -> dict[str, Any]:
    response = client.get("/v3/openapi")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    return dict(json.loads(response.content))


def test_both_addresses_serve_the_same_document(client, spec):
    assert json.loads(client.get("/v3/openapi.json").content) == spec
    assert spec == document(site=SITE)


def test_it_is_openapi_3_1_and_describes_every_v3_operation(spec):
    assert spec["openapi"] == "3.1.0"
    assert spec["servers"] == [{"url": SITE}]
    # The API app adds /v3/me/ (tests/api/test_openapi.py).
    assert {"/v3/profiles/{id}", "/v3/openapi"} <= set(spec["paths"])
    operation = spec["paths"]["/v3/profiles/{id}"]["get"]
    assert operation["operationId"] == "profile_v3"
    assert [p["name"] for p in operation["parameters"]] == ["id"]
    assert set(operation["responses"]) == {"200", "401", "404", "429"}
    for response in operation["responses"].values():
        assert set(response["headers"]) >= {
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
        }
    assert "Retry-After" in operation["responses"]["429"]["headers"]


def test_its_schemas_are_valid_json_schema(spec):
    Draft202012Validator.check_schema({"$defs": spec["components"]["schemas"]})
    profile = spec["components"]["schemas"]["Profile"]
    assert profile["additionalProperties"] is False
    assert profile["required"] == list(profile["properties"])
    accounts = profile["properties"]["verified_accounts"]
    assert accounts == {"type": "array", "items": {"$ref": "#/components/schemas/VerifiedAccount"}}


def validate(spec: dict[str, Any], response, operation: str = "/v3/profiles/{id}") -> None:
    declared = spec["paths"][operation]["get"]["responses"][str(response.status_code)]
    schema = declared["content"]["application/json"]["schema"]
    # The document's components, resolvable from the response schema's $refs.
    resolvable = {**schema, "components": spec["components"]}
    jsonschema.validate(json.loads(response.content), resolvable)
    for header in declared.get("headers", {}):
        assert header in response, header


def test_real_answers_validate_against_it(client, spec, personas: Personas, settings):
    publish_alice(personas)
    validate(spec, client.get(f"/v3/profiles/{personas.alice_address.sha256}"))
    validate(spec, client.get("/v3/profiles/nobody"))
    validate(spec, client.get("/v3/profiles/alice", HTTP_AUTHORIZATION="Bearer nope"))
    _, key = site_key_create(owner=personas.bob, name="site")
    keyed = client.get("/v3/profiles/alice", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert "registration_date" in json.loads(keyed.content)
    validate(spec, keyed)
    settings.API_RATE_LIMIT = 1
    validate(spec, client.get("/v3/profiles/alice", REMOTE_ADDR="192.0.2.9"))
    validate(spec, client.get("/v3/profiles/alice", REMOTE_ADDR="192.0.2.9"))  # the 429


def test_a_site_key_is_declared_optional_with_its_fields(spec):
    operation = spec["paths"]["/v3/profiles/{id}"]["get"]
    assert operation["security"] == [{}, {"siteKey": []}]
    assert spec["components"]["securitySchemes"]["siteKey"]["scheme"] == "bearer"
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "anyOf": [
            {"$ref": "#/components/schemas/Profile"},
            {"$ref": "#/components/schemas/KeyedProfile"},
        ]
    }
    keyed = spec["components"]["schemas"]["KeyedProfile"]
    assert keyed["required"] == list(keyed["properties"])
    assert list(keyed["properties"])[-6:] == [
        "first_name",
        "last_name",
        "links",
        "contact_info",
        "last_profile_edit",
        "registration_date",
    ]
    assert "Invalid API key" not in operation["responses"]["401"]["description"]
    assert "revoked" in operation["responses"]["401"]["description"]


def test_a_public_answer_is_no_keyed_one(client, spec, personas: Personas):
    """Each shape refuses the other's extra or missing keys, so anyOf says which it is."""
    publish_alice(personas)
    body = json.loads(client.get("/v3/profiles/alice").content)
    schema = {"$ref": "#/components/schemas/KeyedProfile", "components": spec["components"]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(body, schema)


def test_a_missing_property_would_fail_validation(client, spec, personas: Personas):
    """The check above has teeth: the document's Profile refuses a body without a key."""
    publish_alice(personas)
    body = json.loads(client.get("/v3/profiles/alice").content)
    del body["pronouns"]
    schema = {"$ref": "#/components/schemas/Profile", "components": spec["components"]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(body, schema)
