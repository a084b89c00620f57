"""Rate limits on /v3/me/ (spec §5-6): per token with a valid one, else per client address
(in the same count as the address's other /v3/ requests without a credential), reported in
X-RateLimit-* on every answer, 429 of the spec's shape over the limit; readable by browser
apps through CORS."""

from __future__ import annotations

import json
import time

import pytest

from tests.api.conftest import bearer, personal_token

pytestmark = pytest.mark.django_db

RATE_LIMITED = {"error": "Rate limit exceeded", "code": "rate_limit_exceeded"}


def limits(response) -> tuple[int, int, int]:
    return (
        int(response["X-RateLimit-Limit"]),
        int(response["X-RateLimit-Remaining"]),
        int(response["X-RateLimit-Reset"]),
    )


@pytest.fixture
def alice_token(personas) -> str:
    return personal_token(personas.alice)


def test_every_answer_reports_the_tokens_limit(client, personas, alice_token):
    reset = (int(time.time()) // 3600 + 1) * 3600
    answers = [
        client.get("/v3/me/profile", **bearer(alice_token)),
        client.get("/v3/me/associated-email", **bearer(alice_token)),  # 400
        client.delete(f"/v3/me/avatars/{'0' * 32}", **bearer(alice_token)),  # 404
        client.put("/v3/me/profile", **bearer(alice_token)),  # 405
        client.get("/v3/me/nothing", **bearer(alice_token)),  # the JSON 404
        client.get("/v3/me/profile", **bearer(personal_token(personas.alice, "avatars:manage"))),
    ]
    assert [r.status_code for r in answers] == [200, 400, 404, 405, 404, 403]
    assert [limits(r) for r in answers[:5]] == [(1000, n, reset) for n in range(999, 994, -1)]
    # Another token, its own count.
    assert limits(answers[5]) == (1000, 999, reset)
    for response in answers:
        assert response["Cache-Control"] == "private, no-store"


def test_a_token_over_its_limit_is_429_and_changes_nothing(client, personas, settings):
    settings.API_TOKEN_RATE_LIMIT = 2
    token = personal_token(personas.alice)
    patch = {"location": "Elsewhere"}
    for _ in range(2):
        assert client.get("/v3/me/profile", **bearer(token)).status_code == 200
    refused = client.patch(
        "/v3/me/profile", json.dumps(patch), content_type="application/json", **bearer(token)
    )
    assert refused.status_code == 429
    assert refused.json() == RATE_LIMITED
    assert limits(refused)[:2] == (2, 0)
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert (
        client.get("/v3/me/profile", **bearer(personal_token(personas.alice))).json()["location"]
        == ""
    )
    # Another token of the same person, from the same address, is not refused.
    assert client.get("/v3/me/profile", **bearer(personal_token(personas.alice))).status_code == 200


def test_a_tokens_count_follows_it_to_any_address(client, alice_token, settings):
    settings.API_TOKEN_RATE_LIMIT = 5
    client.get("/v3/me/profile", REMOTE_ADDR="192.0.2.1", **bearer(alice_token))
    second = client.get("/v3/me/profile", REMOTE_ADDR="192.0.2.2", **bearer(alice_token))
    assert limits(second)[:2] == (5, 3)


def test_a_tokens_requests_are_not_counted_against_its_address(client, alice_token, settings):
    """An app's server acts for many people from one address."""
    settings.API_RATE_LIMIT = 2
    for _ in range(3):
        assert client.get("/v3/me/profile", **bearer(alice_token)).status_code == 200
    assert limits(client.get("/v3/profiles/nobody"))[:2] == (2, 1)


def test_without_a_valid_token_the_address_is_counted_with_its_public_reads(client, settings):
    settings.API_RATE_LIMIT = 3
    client.get("/v3/profiles/nobody")
    unauthorized = client.get("/v3/me/profile", **bearer("avp_forged"))
    assert unauthorized.status_code == 401
    assert limits(unauthorized)[:2] == (3, 1)
    assert limits(client.get("/v3/me/avatars"))[:2] == (3, 0)
    refused = client.get("/v3/me/profile", **bearer("avp_forged"))
    assert refused.status_code == 429 and refused.json() == RATE_LIMITED
    assert client.get("/v3/me/nothing").status_code == 429
    assert client.get("/v3/me/profile", REMOTE_ADDR="192.0.2.9").status_code == 401


@pytest.mark.parametrize("path", ["/v3/me/profile", "/api/v3/me/avatars", "/v3/profiles/alice"])
def test_cors_exposes_the_rate_limit_to_browser_apps(client, alice_token, path):
    origin = {"HTTP_ORIGIN": "https://app.example.com"}
    preflight = client.options(
        path,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
        **origin,
    )
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert "authorization" in preflight["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in preflight
    response = client.get(path, **origin, **bearer(alice_token))
    exposed = {name.strip() for name in response["Access-Control-Expose-Headers"].split(",")}
    assert exposed >= {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}
    assert "Retry-After" in exposed
    assert response["Access-Control-Allow-Origin"] == "*"
