"""Metrics through the shipped Varnish: /metrics always passes to the app, which judges the
client Varnish vouches for; a purge counts per node; prometheus-varnish-exporter reads the
node's hits, misses, objects, evictions, backend health and purges."""

from __future__ import annotations

import hashlib
import http.client
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from django.db import transaction

from avatars.freshness import addresses_served_changed
from tests.conftest import require_binary
from tests.personas import make_personas
from tests.prometheus import VarnishExporter
from tests.scrape import value
from tests.varnish.conftest import Edge
from tests.varnish.harness import wait_until

pytestmark = pytest.mark.varnish

UNKNOWN = hashlib.md5(b"nobody@example.com", usedforsecurity=False).hexdigest()


def from_address(
    edge: Edge, source: str, path: str, **headers: str
) -> tuple[int, dict[str, str], str]:
    parts = urlsplit(edge.varnish.url)
    connection = http.client.HTTPConnection(
        parts.hostname or "", parts.port, timeout=10, source_address=(source, 0)
    )
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.headers), response.read().decode()
    finally:
        connection.close()


def test_metrics_pass_through_varnish_and_are_never_stored(fresh_edge: Edge):
    for _ in range(2):
        response = fresh_edge.get("/metrics")
        assert response.status == 200
        assert response.cache == "PASS"
        assert response.header("Cache-Control") == "no-store"
        assert b"avatars_http_requests_total" in response.body


def test_a_client_elsewhere_is_refused_through_varnish(fresh_edge: Edge, settings):
    """Varnish talks to the app from loopback; the client it vouches for is 127.0.0.2."""
    settings.METRICS_ALLOWED_ADDRESSES = ["127.0.0.1"]
    settings.METRICS_TOKEN = "edge-token"
    status, headers, _ = from_address(fresh_edge, "127.0.0.2", "/metrics")
    assert status == 403
    assert headers["X-Cache"] == "PASS"
    # A spoofed X-Forwarded-For changes nothing: the VCL writes the client's own address.
    status, _, _ = from_address(
        fresh_edge, "127.0.0.2", "/metrics", **{"X-Forwarded-For": "127.0.0.1"}
    )
    assert status == 403
    status, _, body = from_address(
        fresh_edge, "127.0.0.2", "/metrics", Authorization="Bearer edge-token"
    )
    assert status == 200 and "avatars_purge_queue_rows" in body


def scrape(edge: Edge) -> str:
    response = edge.direct("/metrics")
    assert response.status == 200
    return response.body.decode()


def test_a_change_is_delivered_to_the_node_and_timed(fresh_edge: Edge):
    people = make_personas()
    node = urlsplit(fresh_edge.varnish.url).netloc
    before = scrape(fresh_edge)
    with transaction.atomic():
        addresses_served_changed(addresses=[people.alice_address])
    after = scrape(fresh_edge)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("avatars_purge_deliveries_total", node=node, outcome="delivered") == 1
    assert moved("avatars_purge_deliveries_total", node=node, outcome="failed") == 0
    assert moved("avatars_purge_delivery_latency_seconds_count") == 1
    assert moved("avatars_purge_delivery_latency_seconds_bucket", le="1.0") == 1
    # The echo is due in five seconds: queued, not yet delivered.
    assert moved("avatars_purge_queue_rows") == 1


def test_a_node_that_refuses_counts_as_failed(fresh_edge: Edge, settings):
    people = make_personas()
    settings.VARNISH_NODES = ["http://127.0.0.1:9"]
    before = scrape(fresh_edge)
    with transaction.atomic():
        addresses_served_changed(addresses=[people.alice_address])
    after = scrape(fresh_edge)
    labels = {"node": "127.0.0.1:9", "outcome": "failed"}
    name = "avatars_purge_deliveries_total"
    assert value(after, name, **labels) - value(before, name, **labels) == 1
    rows = "avatars_purge_queue_rows"
    assert value(after, rows) - value(before, rows) == 2  # the purge and its echo wait


@pytest.fixture
def exporter(fresh_edge: Edge, tmp_path) -> Iterator[VarnishExporter]:
    require_binary("prometheus-varnish-exporter")
    running = VarnishExporter(tmp_path, fresh_edge.varnish.name).start()
    yield running
    running.stop()


def test_the_exporter_reports_hits_misses_objects_backends_and_purges(
    fresh_edge: Edge, exporter: VarnishExporter
):
    people = make_personas()
    before = exporter.scrape()
    path = f"/avatar/{people.alice_address.md5}?s=40"
    assert fresh_edge.get(path).cache == "MISS"
    assert fresh_edge.get(path).cache == "HIT"

    def moved(after: str, name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    def scrape_once(*counters: str):
        """The exporter's answer once each counter moved (varnishstat publishes about once a
        second), else None."""
        text = exporter.scrape()
        return text if all(moved(text, counter) >= 1 for counter in counters) else None

    after = wait_until(
        # The exporter types varnishstat's counters as counters: a parser reads them _total.
        lambda: scrape_once("varnish_main_cache_hit_total", "varnish_main_cache_miss_total"),
        timeout=10,
        what="the hit and the miss in the exporter",
    )
    assert value(after, "varnish_main_n_object") >= 1
    assert value(after, "varnish_backend_up", backend="app1", server="unknown") == 1
    assert "varnish_main_n_lru_nuked" in after  # evictions

    objects = value(after, "varnish_main_n_object")
    with transaction.atomic():
        addresses_served_changed(addresses=[people.alice_address])
    # An xkey purge drops the objects at once: Varnish 7.1 counts them as expired (it has no
    # purge counter for xkey), and the object count falls.
    purged = wait_until(
        lambda: scrape_once("varnish_main_n_expired_total"),
        timeout=10,
        what="the purged object in the exporter",
    )
    assert value(purged, "varnish_main_n_object") < objects
    assert value(purged, "varnish_up") == 1
