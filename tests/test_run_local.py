"""`make run` (deploy/run-local.sh) as a person uses it: gunicorn, Varnish in front and the purge
worker, with commands typed in a second terminal of the same checkout.

Each run gets free ports and its own VAR_DIR (SQLite, media, run.env), so nothing here touches
the checkout's var/ or the shared database.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import image_bytes, require_binary
from tests.postgres import REPO, app_env, free_port
from tests.varnish.conftest import close_to, colour_of
from tests.varnish.harness import request

RED = (220, 30, 30)
BLUE = (20, 60, 220)
EMAIL = "someone@example.com"


def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not seen within {timeout}s: {what}"
        time.sleep(0.05)


@dataclass
class LocalRun:
    process: subprocess.Popen[bytes]
    var_dir: Path
    port: int
    varnish_port: int
    log: Path
    prometheus_port: int

    @property
    def varnish_url(self) -> str:
        return f"http://127.0.0.1:{self.varnish_port}"

    @property
    def run_env(self) -> Path:
        return self.var_dir / "run.env"

    def manage(self, *args: str) -> str:
        """A command typed in another terminal of the checkout: nothing set but where it is."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=app_env(VAR_DIR=str(self.var_dir)),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def answers(self) -> bool:
        try:
            return request(self.varnish_url, "/healthz", timeout=2).status == 200
        except OSError:
            return False

    def worker_pids(self) -> set[int]:
        """The purge workers among this run's descendants."""
        children: dict[int, list[int]] = {}
        commands: dict[int, bytes] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                commands[int(entry.name)] = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            parent = int(stat.rpartition(")")[2].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
        found, todo = set(), [self.process.pid]
        while todo:
            for child in children.get(todo.pop(), []):
                todo.append(child)
                if b"purge_worker" in commands.get(child, b""):
                    found.add(child)
        return found

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(30)
        finally:
            # Whatever is left of the group (a failed test must not leave servers behind).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)


def start_local_run(var_dir: Path) -> LocalRun:
    require_binary("varnishd")
    require_binary("prometheus")
    port, varnish_port, prometheus_port = free_port(), free_port(), free_port()
    env = app_env(
        VAR_DIR=str(var_dir),
        HOST="127.0.0.1",
        PORT=str(port),
        VARNISH_PORT=str(varnish_port),
        PROMETHEUS_PORT=str(prometheus_port),
        VARNISH_EXPORTER_PORT=str(free_port()),
        PURGE_WORKER_METRICS_PORT=str(free_port()),
        WEB_CONCURRENCY="1",
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=REPO,
        env=env,
        check=True,
        timeout=120,
    )
    log = var_dir / "run-local.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["deploy/run-local.sh"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    run = LocalRun(process, var_dir, port, varnish_port, log, prometheus_port)
    try:
        until(lambda: run.answers() or process.poll() is not None, 60, "make run answering")
        assert process.poll() is None, log.read_text()
    except BaseException:
        run.stop()
        raise
    return run


@pytest.fixture(scope="module")
def local_run(tmp_path_factory) -> Iterator[LocalRun]:
    run = start_local_run(tmp_path_factory.mktemp("var"))
    yield run
    run.stop()


def test_commands_beside_it_read_its_configuration(local_run: LocalRun):
    printed = local_run.manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SITE_URL, *settings.VARNISH_NODES)",
    )

    site_url, *nodes = printed.splitlines()[-1].split()
    # The PORT chosen for this run, not the default 8000, is what emails link to.
    assert site_url == f"http://127.0.0.1:{local_run.port}"
    assert nodes == [local_run.varnish_url]


def test_setavatar_in_another_terminal_is_purged_from_varnish(local_run: LocalRun, tmp_path):
    red, blue = tmp_path / "red.jpg", tmp_path / "blue.jpg"
    red.write_bytes(image_bytes((300, 300), RED))
    blue.write_bytes(image_bytes((300, 300), BLUE))
    path = f"/avatar/{hashlib.md5(EMAIL.encode(), usedforsecurity=False).hexdigest()}"
    local_run.manage("setavatar", EMAIL, str(red))
    assert close_to(colour_of(request(local_run.varnish_url, path)), RED)
    cached = request(local_run.varnish_url, path)
    assert cached.cache == "HIT" and close_to(colour_of(cached), RED)

    local_run.manage("setavatar", EMAIL, str(blue))

    # Purged by the command itself right after its commit: no waiting for the week-long TTL.
    until(
        lambda: close_to(colour_of(request(local_run.varnish_url, path)), BLUE),
        5,
        "the new image through Varnish",
    )


def test_prometheus_scrapes_the_app_the_purge_worker_and_varnish(local_run: LocalRun):
    prometheus = f"http://127.0.0.1:{local_run.prometheus_port}"

    def health() -> dict[str, str]:
        with urllib.request.urlopen(f"{prometheus}/api/v1/targets", timeout=5) as answer:
            targets = json.load(answer)["data"]["activeTargets"]
        return {target["labels"]["job"]: target["health"] for target in targets}

    until(
        lambda: set(health().values()) == {"up"},
        45,
        "every target of deploy/prometheus/prometheus.yml up",
    )
    assert set(health()) == {"app", "purge_worker", "varnish", "prometheus"}
    # The admin's Service health page of this run reads that Prometheus.
    printed = local_run.manage(
        "shell", "-c", "from django.conf import settings; print(settings.PROMETHEUS_URL)"
    )
    assert printed.split()[-1] == prometheus
    assert f"Prometheus on {prometheus}/" in local_run.log.read_text()


def test_a_purge_worker_that_exits_is_started_again(local_run: LocalRun):
    until(lambda: len(local_run.worker_pids()) == 1, 20, "one purge worker")
    (first,) = local_run.worker_pids()

    os.kill(first, signal.SIGKILL)

    until(lambda: bool(local_run.worker_pids() - {first}), 20, "a new purge worker")
    assert "purge worker exited" in local_run.log.read_text()


def test_stopping_it_stops_everything_and_removes_the_shared_configuration(tmp_path):
    run = start_local_run(tmp_path)
    assert "RUN_LOCAL_PID=" in run.run_env.read_text()
    until(lambda: len(run.worker_pids()) == 1, 20, "the purge worker")

    # 143: the script reports the TERM it was stopped with, once gunicorn has exited.
    assert run.stop() in {0, 143}

    assert not run.run_env.exists()
    assert run.worker_pids() == set()
    assert not run.answers()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{run.prometheus_port}/-/ready", timeout=2)
