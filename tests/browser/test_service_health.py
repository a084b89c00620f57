"""The admin's Service health page in real Chromium, reading a real Prometheus that scrapes the
shipped configuration's jobs: a gunicorn app server of two workers, the purge worker, and
prometheus-varnish-exporter beside a varnishd in front of the app."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from accounts.models import User
from tests.conftest import require_binary
from tests.postgres import REPO, AppProcess, app_env, free_port, shared_database_url
from tests.prometheus import Prometheus, VarnishExporter
from tests.varnish.harness import Varnish, request, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS = {
    "requests",
    "hit_ratio",
    "latency",
    "purge_latency",
    "purge_backlog",
    "uploads",
    "moderation",
}


@dataclass
class Observed:
    app: AppProcess
    varnish: Varnish
    exporter: VarnishExporter
    prometheus: Prometheus

    def instant(self, query: str) -> float:
        answer = self.prometheus.api("query?" + urllib.parse.urlencode({"query": query}))
        return sum(float(result["value"][1]) for result in answer["result"])


def _purge_worker(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "purge_worker"],
            cwd=REPO,
            env={**env, "PURGE_WORKER_METRICS_PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def serving() -> bool:
        assert worker.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                return b"avatars_purge_worker_last_round_timestamp_seconds" in r.read()
        except OSError:
            return False

    wait_until(serving, timeout=30, what="the purge worker's metrics", interval=0.1)
    return worker


@pytest.fixture
def observed(tmp_path: Path, settings) -> Iterator[Observed]:
    for program in ("varnishd", "prometheus", "prometheus-varnish-exporter"):
        require_binary(program)
    env = app_env(DATABASE_URL=shared_database_url(), VAR_DIR=str(tmp_path))
    app = AppProcess(env, tmp_path / "gunicorn.log", workers=2).start()
    varnish = Varnish(tmp_path / "varnish", [("127.0.0.1", app.port)])
    stack: list[object] = [app]
    try:
        varnish.start()
        stack.append(varnish)
        exporter = VarnishExporter(tmp_path, varnish.name).start()
        stack.append(exporter)
        worker_port = free_port()
        worker = _purge_worker(
            {**env, "VARNISH_NODES": varnish.url}, worker_port, tmp_path / "worker.log"
        )
        prometheus = Prometheus(
            tmp_path,
            {
                "app": [f"127.0.0.1:{app.port}"],
                "purge_worker": [f"127.0.0.1:{worker_port}"],
                "varnish": [exporter.address],
            },
        ).start()
        stack.append(prometheus)
        prometheus.wait_until_all_up()
        settings.PROMETHEUS_URL = prometheus.url
        settings.VARNISH_NODES = [varnish.url]
        yield Observed(app, varnish, exporter, prometheus)
    finally:
        if "worker" in locals():
            worker.terminate()
            worker.wait(20)
        for part in reversed(stack):
            part.stop()  # type: ignore[attr-defined]


def traffic(observed: Observed) -> None:
    """Through Varnish, in two bursts: a series appears with its first count, and rate() only
    sees what it gains after that, as on a server that has been up a while."""
    for burst in range(2):
        address = f"nobody{burst}@example.com".encode()
        unknown = hashlib.md5(address, usedforsecurity=False).hexdigest()
        for _ in range(6):
            assert request(observed.varnish.url, f"/avatar/{unknown}?d=identicon").status == 200
        for _ in range(3):
            assert request(observed.varnish.url, f"/avatar/{unknown}?d=404").status == 404
        # Each burst: two misses reached the app (then two scrapes), seven were hits.
        wanted = burst + 1

        def counted(wanted: int = wanted) -> bool:
            avatar = observed.instant('sum(avatars_http_requests_total{group="avatar"})')
            hits = observed.instant("sum(varnish_main_cache_hit)")
            return avatar >= 2 * wanted and hits >= 7 * wanted

        wait_until(counted, timeout=20, what="the requests in Prometheus", interval=0.2)
        scrapes = observed.instant('count_over_time(up{job="app"}[1m])')

        def scraped(scrapes: float = scrapes) -> bool:
            return observed.instant('count_over_time(up{job="app"}[1m])') >= scrapes + 2

        wait_until(scraped, timeout=10, what="two more scrapes", interval=0.2)


def sign_in(new_page):
    User.objects.create_superuser("ops@example.com", "ops-password-1")
    page = new_page()
    console_errors: list[str] = []

    def noted(message) -> None:
        # The site has no favicon, which Chromium asks for on its own: not the page's error.
        where = message.location.get("url", "")
        if message.type == "error" and not where.endswith("/favicon.ico"):
            console_errors.append(f"{message.text} ({where})")

    page.on("console", noted)
    page.goto("/admin/login/")
    page.fill("input[name=username]", "ops@example.com")
    page.fill("input[name=password]", "ops-password-1")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    return page, console_errors


def test_an_operator_sees_graphs_targets_and_every_part(new_page, observed: Observed):
    traffic(observed)
    page, console_errors = sign_in(new_page)

    page.click("text=Service health")
    page.wait_for_selector("[data-service-health]")

    # Right now: the app node Prometheus scrapes, the Varnish node, database, storage, Redis.
    rows = page.locator("#components tbody tr")
    states = {
        rows.nth(n).locator("td").nth(0).inner_text(): rows.nth(n).locator("td").nth(2).inner_text()
        for n in range(rows.count())
    }
    assert states == {
        "App node": "ok",
        "Varnish node": "ok",
        "Database": "ok",
        "Storage": "ok",
        "Redis": "ok",
    }
    assert f"127.0.0.1:{observed.app.port}" in page.inner_text("#components")

    # Every job of deploy/prometheus/prometheus.yml is up.
    for job in ("app", "purge_worker", "varnish", "prometheus"):
        assert page.inner_text(f"#targets tr[data-job={job}] td:nth-child(3)") == "up", job

    # The graphs, drawn as SVG with the traffic in them.
    drawn = set(page.eval_on_selector_all("[data-chart]", "els => els.map(e => e.dataset.chart)"))
    assert drawn == CHARTS
    for chart in ("requests", "hit_ratio", "latency", "purge_backlog", "moderation", "uploads"):
        points = page.get_attribute(f"#chart-{chart}", "data-points")
        assert points is not None and int(points) > 0, chart
    assert page.locator("#chart-requests polyline, #chart-requests circle").count() >= 1
    assert "avatar" in page.inner_text("[data-chart=requests] .legend")
    hit_ratio = page.text_content("#chart-hit_ratio desc") or ""
    assert "hits / (hits + misses)" in hit_ratio
    assert page.is_visible("#chart-latency")

    page.click("a[href='?window=day']")
    page.wait_for_selector("a[aria-current=page]:text('day')")
    assert int(page.get_attribute("#chart-requests", "data-points") or 0) > 0
    assert page.locator("[data-chart] .notice").count() == 0  # no query was refused
    assert console_errors == []


def test_a_prometheus_that_stopped_is_said_plainly(new_page, observed: Observed):
    observed.prometheus.stop()
    page, _ = sign_in(new_page)
    page.goto("/admin/service-health/")
    notice = page.inner_text("#prometheus-state")
    assert notice.startswith(f"No graphs: Prometheus at {observed.prometheus.url} cannot be")
    # The parts are checked directly, Prometheus or not.
    assert page.inner_text("#components tr[data-component=Database] td:nth-child(3)") == "ok"
    assert page.locator("svg.chart").count() == 0
