"""Schemathesis against the live test server, driven by the served /v3/openapi.json (its
/v3/me/ operations; tests/profiles check the public ones), with a token of every scope: no
answer is a 5xx, and every answer (status, content type, headers, body) is one the document
declares. Bounded: a dozen examples per operation."""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from tests.api.conftest import personal_token

pytestmark = pytest.mark.django_db(transaction=True)

# Enough to reach every error branch of these small operations; the whole file stays well
# under a minute on the shared two-core machine.
EXAMPLES_PER_OPERATION = 12
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def api_schema(live_server, settings):
    """The document the live server serves at /v3/openapi.json, its /v3/me/ operations."""
    settings.SITE_URL = live_server.url
    document = requests.get(f"{live_server.url}/v3/openapi.json", timeout=10).json()
    document["paths"] = {
        path: methods for path, methods in document["paths"].items() if path.startswith("/v3/me/")
    }
    return schemathesis.openapi.from_dict(document)


@pytest.fixture
def alice_bearer(personas) -> dict[str, str]:
    return {"Authorization": f"Bearer {personal_token(personas.alice)}"}


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_answer_matches_the_document(case, alice_bearer, live_server):
    case.call_and_validate(
        base_url=live_server.url,
        headers=alice_bearer,
        checks=CHECKS,
        timeout=10,
    )
