"""What the admin's Service health page shows: graphs from Prometheus over the last hour or
day, the scrape targets, and every dependency's health right now.

Every call out (Prometheus, each node's health URL) has a timeout and runs in parallel, so
the page answers within about one timeout whatever is down.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

from avatars import health
from avatars.purging import varnish_nodes
from operations import charts
from operations.prometheus import PrometheusUnavailable, Series, Target, query_range, targets

Window = Literal["hour", "day"]
# Seconds covered, the step between points (about 120 a chart) and the rate() range, which
# must span at least one step and a few scrapes.
WINDOWS: dict[str, tuple[int, int, str]] = {
    "hour": (3600, 30, "1m"),
    "day": (86400, 720, "12m"),
}
# How long a node has to answer its health URL.
NODE_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True)
class Query:
    promql: str  # {rate} is the window's rate() range
    label: str  # a fixed label, or one of the result's label names in braces: "{group}"


@dataclass(frozen=True)
class ChartSpec:
    key: str
    title: str
    unit: str
    queries: tuple[Query, ...]


# The graphs, in the page's order. Counters are summed over every app node and the purge
# worker; the queues are the same rows seen by every node, hence max.
CHARTS = (
    ChartSpec(
        "requests",
        "Requests per second at the origin, by endpoint group",
        charts.PER_SECOND,
        (Query("sum by (group) (rate(avatars_http_requests_total[{rate}]))", "{group}"),),
    ),
    ChartSpec(
        "hit_ratio",
        "Edge hit ratio (Varnish)",
        charts.RATIO,
        (
            Query(
                "sum(rate(varnish_main_cache_hit[{rate}])) / (sum(rate(varnish_main_cache_hit"
                "[{rate}])) + sum(rate(varnish_main_cache_miss[{rate}])))",
                "hits / (hits + misses)",
            ),
        ),
    ),
    ChartSpec(
        "latency",
        "Avatar endpoint latency at the origin",
        charts.SECONDS,
        tuple(
            Query(
                f"histogram_quantile({q}, sum by (le) (rate("
                'avatars_http_request_duration_seconds_bucket{group="avatar"}[{rate}])))',
                label,
            )
            for q, label in (("0.5", "p50"), ("0.99", "p99"))
        ),
    ),
    ChartSpec(
        "purge_latency",
        "Purge delivery latency (change to every node confirmed)",
        charts.SECONDS,
        tuple(
            Query(
                f"histogram_quantile({q}, sum by (le) (rate("
                "avatars_purge_delivery_latency_seconds_bucket[{rate}])))",
                label,
            )
            for q, label in (("0.5", "p50"), ("0.99", "p99"))
        ),
    ),
    ChartSpec(
        "purge_backlog",
        "Purge queue backlog",
        charts.COUNT,
        (Query("max(avatars_purge_queue_rows)", "purges waiting"),),
    ),
    ChartSpec(
        "uploads",
        "Uploads per minute",
        charts.PER_MINUTE,
        (
            Query("sum(rate(avatars_uploads_accepted_total[{rate}])) * 60", "accepted"),
            Query(
                "sum by (reason) (rate(avatars_uploads_refused_total[{rate}])) * 60",
                "refused: {reason}",
            ),
        ),
    ),
    ChartSpec(
        "moderation",
        "Moderation queue",
        charts.COUNT,
        (Query("max by (state) (avatars_moderation_queue_avatars)", "{state}"),),
    ),
)


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    svg: SafeString
    legend: list[tuple[str, str]]
    error: str = ""  # a query Prometheus refused (its exporter missing, say)


@dataclass(frozen=True)
class Component:
    kind: str  # "App node", "Varnish node", "Database", ...
    name: str
    status: str  # health.OK, or what is wrong
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == health.OK


@dataclass
class ServiceHealth:
    window: str
    prometheus_url: str
    prometheus_error: str = ""
    charts: list[Chart] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    components: list[Component] = field(default_factory=list)


def service_health(*, window: Window) -> ServiceHealth:
    seconds, step, rate = WINDOWS[window]
    end = time.time()
    start = end - seconds
    base_url = settings.PROMETHEUS_URL
    timeout = settings.PROMETHEUS_TIMEOUT_MS / 1000
    result = ServiceHealth(window=window, prometheus_url=base_url)
    configured = app_node_urls([])
    queries = sum(len(spec.queries) for spec in CHARTS) if base_url else 0
    # A thread for every probe and query at once, so that a page whose parts never answer
    # takes one timeout, not one per batch.
    workers = len(configured) + len(varnish_nodes()) + queries + 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        varnish = [pool.submit(_varnish_node, node) for node in varnish_nodes()]
        apps = [pool.submit(_app_node, url) for url in configured]
        found_targets = (
            pool.submit(targets, base_url=base_url, timeout=timeout) if base_url else None
        )
        answers = {
            spec.key: [
                pool.submit(
                    query_range,
                    base_url=base_url,
                    query=query.promql.replace("{rate}", rate),
                    start=start,
                    end=end,
                    step=step,
                    timeout=timeout,
                )
                for query in spec.queries
            ]
            for spec in CHARTS
            if base_url
        }
        # In this thread, meanwhile: Django's database connection belongs to it.
        local = _local_components()
        if found_targets is not None:
            try:
                result.targets = found_targets.result()
            except PrometheusUnavailable as error:
                result.prometheus_error = str(error)
            else:
                result.charts = _charts(answers, start=start, end=end)
        # Then the nodes that only Prometheus knows of.
        scraped = app_node_urls([t.instance for t in result.targets if t.job == "app"])
        apps += [pool.submit(_app_node, url) for url in scraped[len(configured) :]]
        result.components = [
            *(app.result() for app in apps),
            *(node.result() for node in varnish),
            *local,
        ]
    return result


def _charts(
    answers: dict[str, list[Future[list[Series]]]], *, start: float, end: float
) -> list[Chart]:
    drawn = []
    for spec in CHARTS:
        lines: list[charts.Line] = []
        errors = []
        for query, future in zip(spec.queries, answers[spec.key], strict=True):
            try:
                series = future.result()
            except PrometheusUnavailable as error:
                errors.append(str(error))
                series = []
            lines += [
                charts.Line(label=_label(query.label, one.labels), points=one.points)
                for one in series
            ]
        svg = charts.line_chart(
            title=spec.title,
            unit=spec.unit,
            lines=lines,
            start=start,
            end=end,
            chart_id=f"chart-{spec.key}",
        )
        # The SVG is built from escaped text and numbers only (operations/charts.py).
        drawn.append(
            Chart(spec.key, spec.title, mark_safe(svg), charts.legend(lines), "; ".join(errors))  # noqa: S308
        )
    return drawn


def _label(template: str, labels: dict[str, str]) -> str:
    for name, value in labels.items():
        template = template.replace("{" + name + "}", value)
    return template


def _local_components() -> list[Component]:
    return [
        Component(
            "Database",
            settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
            health.database_status(),
        ),
        Component("Storage", settings.STORAGE, health.storage_status()),
        Component("Redis", "shared cache", health.redis_status()),
    ]


def _probe(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=NODE_TIMEOUT_SECONDS) as answer:  # noqa: S310
            return health.OK if answer.status == 200 else f"answered {answer.status}"
    except urllib.error.HTTPError as error:
        return f"answered {error.code}"
    except (urllib.error.URLError, OSError) as error:
        return f"unreachable ({getattr(error, 'reason', error)})"


def app_node_urls(scraped: list[str]) -> list[str]:
    """Every app node: the configured ones (APP_NODES) and any other that Prometheus scrapes
    (given as host:port), once each, so a node missing from either list still shows."""
    urls = [url.rstrip("/") for url in settings.APP_NODES]
    known = {urllib.parse.urlsplit(url).netloc for url in urls}
    return urls + [
        f"http://{instance}" for instance in dict.fromkeys(scraped) if instance not in known
    ]


def _app_node(url: str) -> Component:
    """An app node: ready when its database and storage answer."""
    return Component("App node", url, _probe(f"{url}/readyz"), "/readyz")


def _varnish_node(node: str) -> Component:
    """A Varnish node as an external monitor sees it: healthy while its probes find at least
    one app server healthy (the VCL's synthetic /edge-health, README "Health for DNS or
    load-balancer failover")."""
    return Component("Varnish node", node, _probe(f"{node}/edge-health"), "/edge-health")
