"""gravatar/metrics.py: the endpoint groups, and the hot path's tally, which must add up to
what prometheus_client's own calls would have written."""

from __future__ import annotations

import time
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Histogram

from gravatar import metrics
from tests.scrape import samples


@pytest.mark.parametrize(
    ("path", "group"),
    [
        ("/avatar/0123456789abcdef0123456789abcdef", "avatar"),
        ("/avatar/", "avatar"),
        ("/someone", "profile"),
        ("/0123456789abcdef0123456789abcdef.json", "profile"),
        ("/someone.vcf", "profile"),
        ("/v3/profiles/someone", "api"),
        ("/api/v3/profiles/someone", "api"),
        ("/v3/me/avatars", "api"),
        ("/admin/", "admin"),
        ("/admin/service-health/", "admin"),
        ("/", "pages"),
        ("/signup/", "pages"),
        ("/account/avatars/upload/", "pages"),
        ("/metrics", "other"),
        ("/healthz", "other"),
        ("/readyz", "other"),
        ("/static/css/site.css", "other"),
        ("/robots.txt", "other"),
        ("/account/avatars/3/preview", "other"),
    ],
)
def test_each_path_falls_in_one_group(path, group):
    assert metrics.endpoint_group(path) == group
    assert group in metrics.ENDPOINT_GROUPS


def test_every_group_a_prefix_names_is_a_group():
    assert {group for _, group in metrics.ENDPOINT_PREFIXES} <= set(metrics.ENDPOINT_GROUPS)


def exposition_of(registry: CollectorRegistry) -> dict[Any, float]:
    from prometheus_client import generate_latest

    return samples(generate_latest(registry).decode())


TIMES = [0.0001, 0.0005, 0.00051, 0.002, 0.0099, 0.01, 0.3, 7.0, 12.0]


def test_the_tally_fills_the_same_buckets_as_observe(monkeypatch):
    """request_observe writes a histogram's value objects itself: the result must be what
    Histogram.observe gives, bound for bound, +Inf included."""
    registry = CollectorRegistry()
    ours = Histogram("ours_seconds", "", ["group", "status_class"], registry=registry,
                     buckets=metrics.LATENCY_BUCKETS)  # fmt: skip
    theirs = Histogram("theirs_seconds", "", registry=registry, buckets=metrics.LATENCY_BUCKETS)
    monkeypatch.setattr(metrics, "REQUEST_DURATION", ours)
    monkeypatch.setattr(metrics, "_request_values", {})
    monkeypatch.setattr(metrics, "_children", {})
    for seconds in TIMES:
        metrics.request_observe(group="avatar", status=200, seconds=seconds)
        theirs.observe(seconds)
    exposed = exposition_of(registry)
    for (name, labels), number in exposed.items():
        if name.startswith("theirs_seconds"):
            twin = name.replace("theirs", "ours")
            assert exposed[(twin, labels | {("group", "avatar"), ("status_class", "2xx")})] == (
                pytest.approx(number)
            ), (name, labels)


def test_a_buffered_tally_is_written_when_flushed(monkeypatch):
    tally = metrics._Tally()
    tally.buffered = True
    monkeypatch.setattr(metrics, "_tally", tally)
    before = metrics._child(metrics.RENDITION_LOOKUPS, "memory", "hit")._value.get()
    for _ in range(3):
        metrics.rendition_lookup(layer="memory", outcome="hit")
    assert metrics._child(metrics.RENDITION_LOOKUPS, "memory", "hit")._value.get() == before
    metrics.flush()
    assert metrics._child(metrics.RENDITION_LOOKUPS, "memory", "hit")._value.get() == before + 3


def test_turned_off_nothing_is_counted(monkeypatch):
    before = metrics._child(metrics.RENDITION_LOOKUPS, "shared", "miss")._value.get()
    metrics.configure(enabled=False)
    try:
        metrics.rendition_lookup(layer="shared", outcome="miss")
        assert metrics.render_observe(kind="mp", fmt="PNG", make=lambda: b"x") == b"x"
    finally:
        metrics.configure(enabled=True)
    assert metrics._child(metrics.RENDITION_LOOKUPS, "shared", "miss")._value.get() == before


def test_a_buffered_tally_loses_no_increment_of_threads_counting_while_it_flushes(monkeypatch):
    """gunicorn's threads count at once and the flush thread writes meanwhile: every
    increment is written exactly once, whenever the flushes fall."""
    import threading

    tally = metrics._Tally()
    tally.buffered = True
    monkeypatch.setattr(metrics, "_tally", tally)
    value = metrics._child(metrics.RENDITION_LOOKUPS, "shared", "hit")._value
    before = value.get()
    stop = threading.Event()
    counted = [0] * 4

    def count(slot: int) -> None:
        while not stop.is_set():
            metrics.rendition_lookup(layer="shared", outcome="hit")
            counted[slot] += 1

    threads = [threading.Thread(target=count, args=(slot,)) for slot in range(4)]
    for thread in threads:
        thread.start()
    seen: set[float] = set()
    deadline = time.monotonic() + 10
    while len(seen) < 5 and time.monotonic() < deadline:
        metrics.flush()
        seen.add(value.get())
        stop.wait(0.001)  # lets the counting threads run between flushes
    stop.set()
    for thread in threads:
        thread.join()
    metrics.flush()

    assert value.get() == before + sum(counted)
    assert len(seen) == 5  # the flushes fell while the threads counted
