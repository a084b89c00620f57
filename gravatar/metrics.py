"""The service's Prometheus metric families, and the few calls that update them.

Plain Python every app imports (it imports no app): the families are defined once, here, and
the code that counts calls one typed function per event. Under gunicorn every worker writes
its samples to files in PROMETHEUS_MULTIPROC_DIR (set by deploy/gunicorn.conf.py before the
app loads) and `/metrics` adds them up (operations/exposition.py); anywhere else they live in
the process.

Labels are bounded sets chosen here: endpoint groups, status codes, cache layers, generator
names, formats, refusal reasons and the configured Varnish nodes. Never a hash, an email
address, a client's address or a path: any of those would make a series per visitor.

The hot path pays little. Each labelled child is made once and kept (`_child`), since
`labels()` costs more than an increment. And under gunicorn a request's increments are not
written to the files at once (each write takes a lock, asks the kernel for the process id and
packs into the mapped file: 1.5-3.5 µs on this 2-core machine, four of them per cached
avatar): `request_observe` and `rendition_lookup` add them to a table of their thread's own
(no lock), and a thread writes the sums every FLUSH_SECONDS, as does the worker answering a
scrape for its own share. A scrape may so miss the last half second of the other workers' requests,
never lose them. bench/bench_metrics.py measures what is left.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Callable
from time import perf_counter
from typing import Any, TypeVar

from prometheus_client import Counter, Histogram, disable_created_metrics

# Endpoint groups, decided from the path alone (`endpoint_group`).
AVATAR = "avatar"
PROFILE = "profile"
API = "api"
PAGES = "pages"
ADMIN = "admin"
OTHER = "other"
ENDPOINT_GROUPS = (AVATAR, PROFILE, API, PAGES, ADMIN, OTHER)

# The one list of path prefixes: first match wins. After it, every page of the site ends with
# a slash (Django's APPEND_SLASH), and a path of one segment without one is a profile
# (`/<slug>`, `/<hash>` or `/<hash-or-slug>.<format>`, spec profiles-api.md sections 3 and 4).
ENDPOINT_PREFIXES: tuple[tuple[str, str], ...] = (
    ("/avatar/", AVATAR),
    ("/v3/", API),
    ("/api/", API),
    ("/admin/", ADMIN),
    ("/static/", OTHER),
    ("/media/", OTHER),
    ("/metrics", OTHER),
    ("/healthz", OTHER),
    ("/readyz", OTHER),
    ("/favicon.ico", OTHER),
    ("/robots.txt", OTHER),
)

# Seconds. Fine below 10 ms, where a cached avatar is answered (0.2-3 ms at the origin), and
# coarse above, where only uploads, cold AVIF renditions and outages land.
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05,
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
# A default at 80 px draws in 0.03-1.4 ms; the largest AVIF renditions take a few hundred.
RENDER_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# From a change's commit until every node confirmed its purge: milliseconds when every node
# answers, then the worker's retries after 1, 2, 4 ... 30 s.
PURGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

# Rendition cache layers and outcomes (avatars/renditions.py).
MEMORY = "memory"  # the worker's byte-bounded LRU
SHARED = "shared"  # the Django cache: Redis when REDIS_URL is set
HIT, MISS, ERROR = "hit", "miss", "error"
# The render kind of an uploaded image; generated defaults use their generator's name.
PHOTO = "photo"
# Purge outcomes per node.
DELIVERED, FAILED = "delivered", "failed"
# Database errors: a request that met an outage (answered 503), and a connection the server
# dropped that was replaced and the read repeated (avatars/selectors.py).
UNAVAILABLE, RECONNECTED = "unavailable", "reconnected"
# Shared cache errors: a call that failed, and one not even tried while Redis was down.
SKIPPED = "skipped"

# The `_created` samples double the exposition and nothing here reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

REQUESTS = Counter(
    "avatars_http_requests",
    "HTTP requests answered by the app, by endpoint group and status code.",
    ["group", "code"],
)
REQUEST_DURATION = Histogram(
    "avatars_http_request_duration_seconds",
    "Time from the first middleware to the response, by endpoint group and status class.",
    ["group", "status_class"],
    buckets=LATENCY_BUCKETS,
)
RENDITION_LOOKUPS = Counter(
    "avatars_rendition_lookups",
    "Rendition cache lookups by layer (memory: the worker's LRU; shared: Redis or the "
    "Django cache) and outcome (hit, miss, error).",
    ["layer", "outcome"],
)
RENDERS = Counter(
    "avatars_renders",
    "Images drawn or resized and encoded, by kind (a default's generator, or photo for an "
    "uploaded image) and format.",
    ["kind", "format"],
)
RENDER_DURATION = Histogram(
    "avatars_render_duration_seconds",
    "Time to draw or resize and encode one image, by kind.",
    ["kind"],
    buckets=RENDER_BUCKETS,
)
PURGE_DELIVERIES = Counter(
    "avatars_purge_deliveries",
    "Purges sent to a Varnish node, by node (as configured in VARNISH_NODES) and outcome "
    "(delivered, failed).",
    ["node", "outcome"],
)
PURGE_DELIVERY_LATENCY = Histogram(
    "avatars_purge_delivery_latency_seconds",
    "From a change's commit (its purge queued) until every Varnish node confirmed the purge. "
    "The echo sent five seconds later is not counted.",
    buckets=PURGE_BUCKETS,
)
UPLOADS_ACCEPTED = Counter("avatars_uploads_accepted", "Uploads stored in a library.")
UPLOADS_REFUSED = Counter(
    "avatars_uploads_refused",
    "Uploads refused, by reason (avatars/imaging/decode.py's REFUSAL_REASONS, or fetch for "
    "an image URL that could not be fetched).",
    ["reason"],
)
DATABASE_ERRORS = Counter(
    "avatars_database_errors",
    "Database errors: unavailable (a request answered 503, or a purge worker round lost) and "
    "reconnected (a connection the server dropped, replaced and the read repeated).",
    ["kind"],
)
CACHE_ERRORS = Counter(
    "avatars_cache_errors",
    "Shared cache (Redis) calls that failed (error) or were not tried because it failed "
    "moments ago (skipped).",
    ["kind"],
)
STORAGE_ERRORS = Counter(
    "avatars_storage_errors",
    "Stored images that could not be read (storage down, a file missing or corrupt); each "
    "was answered with a stand-in.",
)

C = TypeVar("C", Counter, Histogram)
_children: dict[tuple[object, ...], object] = {}


def _child(family: C, *labels: str) -> C:
    """The labelled child, made once: the label sets are bounded (see the module's doc)."""
    key = (family, *labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = family.labels(*labels)
    return child  # type: ignore[return-value]


# METRICS_ENABLED, copied here by operations/apps.py when Django starts (and again when a test
# changes the setting): a module global costs the hot path a fifth of a settings lookup.
_on = True


def configure(*, enabled: bool) -> None:
    global _on
    _on = enabled


def endpoint_group(path: str) -> str:
    for prefix, group in ENDPOINT_PREFIXES:
        if path.startswith(prefix):
            return group
    if path.endswith("/"):
        return PAGES
    if path.count("/") == 1:
        return PROFILE
    return OTHER


# Seconds between a worker's writes of its tally.
FLUSH_SECONDS = 0.5


class _Tally:
    """This process's increments not yet written to prometheus_client's values. Unbuffered
    (the default: tests, the purge worker, `runserver`) each is written at once.

    Buffered, each thread adds to a table of its own, without a lock: only that thread writes
    it, so no increment is lost, and each increment costs a dictionary update instead of a lock
    round. The tables hold running totals, never reset; `flush` adds them up and writes what
    grew since its last flush."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # the list of tables, and one flush at a time
        self.local = threading.local()
        self.tables: list[dict[Any, float]] = []
        self.written: dict[Any, float] = {}
        self.buffered = False
        self.stop = threading.Event()

    def table(self) -> dict[Any, float]:
        """This thread's table (gunicorn's threads live as long as their worker)."""
        try:
            return self.local.table  # type: ignore[no-any-return]
        except AttributeError:
            table: dict[Any, float] = {}
            with self.lock:
                self.tables.append(table)
            self.local.table = table
            return table

    def flush(self) -> None:
        with self.lock:
            totals: dict[Any, float] = {}
            for table in self.tables:
                # copy() runs without letting another thread in, so its owner cannot add a
                # key while the items are read.
                for value, amount in table.copy().items():
                    totals[value] = totals.get(value, 0.0) + amount
            written = self.written
            for value, total in totals.items():
                grown = total - written.get(value, 0.0)
                if grown:
                    value.inc(grown)
                    written[value] = total

    def run(self) -> None:
        while not self.stop.wait(FLUSH_SECONDS):
            self.flush()


_tally = _Tally()


def buffer_start() -> None:
    """Buffer this process's hot-path increments (deploy/gunicorn.conf.py, in each worker)."""
    _tally.buffered = True
    threading.Thread(target=_tally.run, name="metrics-flush", daemon=True).start()


def flush() -> None:
    """Write what this process has tallied (before a scrape, when a worker exits)."""
    _tally.flush()


# prometheus_client's value objects behind a labelled child (pinned below 1.0 in
# pyproject.toml; tests/test_metrics.py checks the sums): a counter's `_value`, a histogram's
# `_buckets` (one per bound, +Inf last, not cumulative) and `_sum`.
_request_values: dict[tuple[str, int], tuple[Any, list[Any], Any]] = {}
_lookup_values: dict[tuple[str, str], Any] = {}


def request_observe(*, group: str, status: int, seconds: float) -> None:
    values = _request_values.get((group, status))
    if values is None:
        timed = _child(REQUEST_DURATION, group, f"{status // 100}xx")
        values = _request_values[(group, status)] = (
            _child(REQUESTS, group, str(status))._value,
            timed._buckets,
            timed._sum,
        )
    counter, buckets, total = values
    # The first bound at or above the time: what Histogram.observe finds by walking them.
    bucket = buckets[bisect_left(LATENCY_BUCKETS, seconds)]
    if not _tally.buffered:
        counter.inc(1.0)
        bucket.inc(1.0)
        total.inc(seconds)
        return
    table = _tally.table()
    get = table.get
    table[counter] = get(counter, 0.0) + 1.0
    table[bucket] = get(bucket, 0.0) + 1.0
    table[total] = get(total, 0.0) + seconds


def rendition_lookup(*, layer: str, outcome: str) -> None:
    if _on:
        value = _lookup_values.get((layer, outcome))
        if value is None:
            value = _lookup_values[(layer, outcome)] = _child(
                RENDITION_LOOKUPS, layer, outcome
            )._value
        if _tally.buffered:
            table = _tally.table()
            table[value] = table.get(value, 0.0) + 1.0
        else:
            value.inc(1.0)


T = TypeVar("T")


def render_observe(*, kind: str, fmt: str, make: Callable[[], T]) -> T:
    """Run `make` (a draw or resize and its encoding), counted and timed as one render."""
    if not _on:
        return make()
    started = perf_counter()
    made = make()
    _child(RENDER_DURATION, kind).observe(perf_counter() - started)
    _child(RENDERS, kind, fmt.lower()).inc()
    return made


def purge_delivery(*, node: str, delivered: bool) -> None:
    if _on:
        _child(PURGE_DELIVERIES, node, DELIVERED if delivered else FAILED).inc()


def purge_delivered(*, seconds: float) -> None:
    if _on:
        PURGE_DELIVERY_LATENCY.observe(max(seconds, 0.0))


def upload_accepted() -> None:
    if _on:
        UPLOADS_ACCEPTED.inc()


def upload_refused(*, reason: str) -> None:
    if _on:
        _child(UPLOADS_REFUSED, reason).inc()


def database_error(*, kind: str) -> None:
    if _on:
        _child(DATABASE_ERRORS, kind).inc()


def cache_error(*, kind: str) -> None:
    if _on:
        _child(CACHE_ERRORS, kind).inc()


def storage_error() -> None:
    if _on:
        STORAGE_ERRORS.inc()
