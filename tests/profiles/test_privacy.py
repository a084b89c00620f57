"""Privacy sameness (spec §1): every private case answers exactly like an unknown name, in
every format, on the page and on /v3/: the same status, body and headers (the requested name
aside, which the 404's xkey names so that a later publish purges it), the same number of
queries, and the same time within noise."""

from __future__ import annotations

import itertools
import statistics
import time

import pytest
from django.test import Client

from profiles import rules
from profiles.models import Profile
from tests.personas import Personas
from tests.profiles.published import PRIVATE_CASES, minimal_profile, publish_alice

pytestmark = pytest.mark.django_db

UNKNOWN_MD5 = "0123456789abcdef" * 2
UNKNOWN_SHA256 = "fedcba9876543210" * 4
UNKNOWN_SLUG = "nobody-here"


@pytest.fixture
def alice_profile(personas: Personas) -> Profile:
    return publish_alice(personas)


def paths(name: str) -> list[str]:
    return [
        f"/{name}",
        *(f"/{name}.{fmt}" for fmt in rules.FORMATS),
        f"/{name}.json?callback=cb",
        f"/{name}.qr?s=100",
        f"/v3/profiles/{name}",
        f"/api/v3/profiles/{name}.png",
    ]


_clients = itertools.count(1)


def seen(client: Client, path: str, name: str) -> tuple[int, bytes, list[tuple[str, str]]]:
    """What a client sees, with the requested name (only ever in xkey) made a placeholder.
    Each request from a new address, so that each is its first in the rate-limit window."""
    number = next(_clients)
    response = client.get(
        path, REMOTE_ADDR=f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"
    )
    key = name if len(name) in (32, 64) else rules.slug_key(name)
    headers = sorted(
        (header, value.replace(key, "<name>"))
        for header, value in response.headers.items()
        if header != "Date"
    )
    return response.status_code, response.content, headers


def names(personas: Personas) -> list[tuple[str, str]]:
    address = personas.alice_address
    return [(address.md5, UNKNOWN_MD5), (address.sha256, UNKNOWN_SHA256), ("alice", UNKNOWN_SLUG)]


@pytest.mark.parametrize("case", PRIVATE_CASES)
def test_every_private_case_looks_exactly_like_an_unknown_name(
    client, personas, alice_profile, case
):
    assert client.get("/alice").status_code == 200
    PRIVATE_CASES[case](personas, alice_profile)
    for private, unknown in names(personas):
        for private_path, unknown_path in zip(paths(private), paths(unknown), strict=True):
            answer = seen(client, private_path, private)
            assert answer[0] == 404, private_path
            assert answer == seen(client, unknown_path, unknown), private_path


@pytest.mark.parametrize("case", PRIVATE_CASES)
def test_a_private_case_costs_the_queries_of_an_unknown_name(
    client, personas, alice_profile, case, django_assert_num_queries, settings
):
    PRIVATE_CASES[case](personas, alice_profile)
    # /v3/ counts the request too: in Redis, or with one upsert in the database without it.
    counting = 0 if settings.REDIS_URL else 1
    client.get(f"/v3/profiles/{UNKNOWN_SLUG}")  # the first of a window also prunes old rows
    for private, unknown in names(personas):
        # A hash: one query. A slug: one, and one for an old slug of that name.
        lookup = 1 if len(private) in (32, 64) else 2
        for path, expected in (
            (f"/{private}", lookup),
            (f"/{private}.json", lookup),
            (f"/v3/profiles/{private}", lookup + counting),
        ):
            with django_assert_num_queries(expected):
                client.get(path)
            with django_assert_num_queries(expected):
                client.get(path.replace(private, unknown))


def test_a_private_profile_takes_the_time_of_an_unknown_hash(
    client, personas, alice_profile, settings
):
    """Medians of interleaved requests (each goes to the database: the test's transaction
    keeps the per-worker memory out of the way). Bound: a quarter of the unknown's median, or
    0.3 ms, whichever is more; the reads a public profile adds cost several times that."""
    settings.API_RATE_LIMIT = 10**9  # counted as always, never refused
    private, unknown = personas.alice_address.sha256, UNKNOWN_SHA256
    public = minimal_profile(personas.charlie, "charlie")
    PRIVATE_CASES["unshown address"](personas, alice_profile)
    private_median, unknown_median, public_median = medians(
        client, [private, unknown, public.slug or ""]
    )
    bound = max(0.25 * unknown_median, 0.0003)
    report = (
        f"private {private_median * 1000:.3f} ms, unknown {unknown_median * 1000:.3f} ms, "
        f"public {public_median * 1000:.3f} ms"
    )
    assert abs(private_median - unknown_median) < bound, report
    # The bound is tight enough to see the work a public profile's answer does.
    assert public_median - unknown_median > bound, report


def medians(client: Client, names: list[str], rounds: int = 150) -> list[float]:
    timings: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(10):  # warm every path
        for name in names:
            client.get(f"/v3/profiles/{name}")
    for _ in range(rounds):
        for name in names:
            started = time.perf_counter()
            client.get(f"/v3/profiles/{name}")
            timings[name].append(time.perf_counter() - started)
    return [statistics.median(timings[name]) for name in names]
