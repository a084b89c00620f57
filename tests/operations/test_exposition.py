"""Under gunicorn, /metrics adds up every worker's samples (prometheus_client's multiprocess
mode, deploy/gunicorn.conf.py), keeps a dead worker's counts, and starts from zero when the
server starts again. Each worker writes its hot-path tally twice a second (gravatar/metrics.py),
so the tests wait for the other worker's share."""

from __future__ import annotations

import os
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.postgres import AppProcess, app_env, shared_database_url
from tests.scrape import value
from tests.varnish.harness import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/avatar/0123456789abcdef0123456789abcdef?d=404"
COUNTED = {"group": "avatar", "code": "404"}


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[Callable[[], AppProcess]]:
    """gunicorn with two workers on the test database, VAR_DIR=tmp_path; stopped after."""
    started: list[AppProcess] = []

    def start() -> AppProcess:
        env = app_env(DATABASE_URL=shared_database_url(), VAR_DIR=str(tmp_path))
        app = AppProcess(env, tmp_path / "gunicorn.log", workers=2).start()
        started.append(app)
        return app

    yield start
    for app in started:
        app.stop()


def get(app: AppProcess, path: str) -> tuple[int, str]:
    """On a new connection each time, so that each request may reach another worker."""
    try:
        with urllib.request.urlopen(f"{app.url}{path}", timeout=10) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def worker_pids(directory: Path) -> set[int]:
    """The processes that wrote counters (the arbiter's own files are removed at start)."""
    return {int(file.stem.rpartition("_")[2]) for file in directory.glob("counter_*.db")}


def requests_until_both_workers_served(app: AppProcess, directory: Path) -> int:
    sent = 0
    deadline = time.monotonic() + 30
    while len(worker_pids(directory)) < 2 or sent < 20:
        assert time.monotonic() < deadline, f"one worker served everything: {app.output()}"
        assert get(app, PATH)[0] == 404
        sent += 1
    return sent


def counted(app: AppProcess) -> float:
    status, text = get(app, "/metrics")
    assert status == 200, text
    return value(text, "avatars_http_requests_total", **COUNTED)


def scrape_once_counted(app: AppProcess, sent: int) -> str:
    """The scrape that counts every request sent, within a few flushes."""

    def complete() -> str | None:
        status, text = get(app, "/metrics")
        assert status == 200, text
        return text if value(text, "avatars_http_requests_total", **COUNTED) == sent else None

    return wait_until(complete, timeout=5, what=f"{sent} requests counted", interval=0.1)


def test_the_scrape_adds_up_both_workers(gunicorn, tmp_path):
    app = gunicorn()
    directory = tmp_path / "prometheus-multiproc"
    sent = requests_until_both_workers_served(app, directory)
    text = scrape_once_counted(app, sent)
    histogram = "avatars_http_request_duration_seconds_count"
    assert value(text, histogram, group="avatar", status_class="4xx") == sent


def test_a_dead_workers_counts_are_kept(gunicorn, tmp_path):
    app = gunicorn()
    directory = tmp_path / "prometheus-multiproc"
    sent = requests_until_both_workers_served(app, directory)
    scrape_once_counted(app, sent)  # written out: a killed worker loses only what was not
    victim = min(worker_pids(directory))
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 20
    # gunicorn starts a replacement; the scrape still counts the dead worker's requests.
    while True:
        try:
            if counted(app) == sent:
                break
        except (urllib.error.URLError, ConnectionError):
            pass
        assert time.monotonic() < deadline, app.output()
        time.sleep(0.1)
    assert "Traceback" not in app.output()  # child_exit ran without an error


def test_a_restarted_server_counts_from_zero(gunicorn, tmp_path):
    first = gunicorn()
    for _ in range(5):
        get(first, PATH)
    first.stop()
    again = gunicorn()
    assert get(again, PATH)[0] == 404
    scrape_once_counted(again, 1)
