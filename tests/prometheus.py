"""A real Prometheus (Debian's package) of the test's own: the shipped configuration's jobs,
pointed at the test's servers, scraping every half second, on a free loopback port."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.postgres import REPO, free_port
from tests.processes import process_stop
from tests.varnish.harness import wait_until

SHIPPED = REPO / "deploy" / "prometheus" / "prometheus.yml"


def configuration(targets: dict[str, list[str]], interval: str = "500ms") -> dict[str, Any]:
    """deploy/prometheus/prometheus.yml with each job's targets replaced (a job not named is
    dropped) and a short interval, so the test sees samples within seconds."""
    shipped = yaml.safe_load(SHIPPED.read_text())
    shipped["global"].update(scrape_interval=interval, scrape_timeout=interval)
    jobs = []
    for job in shipped["scrape_configs"]:
        if job["job_name"] in targets:
            job["static_configs"] = [{"targets": targets[job["job_name"]]}]
            jobs.append(job)
    shipped["scrape_configs"] = jobs
    return shipped


@dataclass
class Prometheus:
    root: Path
    targets: dict[str, list[str]]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> Prometheus:
        binary = shutil.which("prometheus")
        if binary is None:
            raise FileNotFoundError("prometheus is not installed")
        targets = {**self.targets, "prometheus": [f"127.0.0.1:{self.port}"]}
        config = self.root / "prometheus.yml"
        config.write_text(yaml.safe_dump(configuration(targets)))
        log = (self.root / "prometheus.log").open("ab")
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.root / 'data'}",
                "--storage.tsdb.retention.time=1h",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        process = self.process

        def ready() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"prometheus exited: {self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as answer:
                    return int(answer.status) == 200
            except OSError:
                return False

        wait_until(ready, timeout=timeout, what="prometheus ready", interval=0.1)
        return self

    def log(self) -> str:
        return (self.root / "prometheus.log").read_text(errors="replace")[-3000:]

    def api(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}", timeout=5) as answer:
            return json.load(answer)["data"]

    def target_health(self) -> dict[str, str]:
        """{job: "up" | "down" | "unknown"}, one target per job."""
        return {
            target["labels"]["job"]: target["health"]
            for target in self.api("targets")["activeTargets"]
        }

    def wait_until_all_up(self, timeout: float = 30) -> dict[str, str]:
        def all_up() -> dict[str, str] | None:
            health = self.target_health()
            return health if health and set(health.values()) == {"up"} else None

        try:
            return wait_until(all_up, timeout=timeout, what="every target up", interval=0.2)
        except AssertionError as error:
            raise AssertionError(f"{error}: {self.api('targets')}") from None

    def stop(self) -> None:
        process_stop(self.process, grace=20)
        self.process = None


@dataclass
class VarnishExporter:
    """prometheus-varnish-exporter reading one varnishd's counters (its -n folder)."""

    root: Path
    instance: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> VarnishExporter:
        binary = shutil.which("prometheus-varnish-exporter")
        if binary is None:
            raise FileNotFoundError("prometheus-varnish-exporter is not installed")
        log = (self.root / "exporter.log").open("ab")
        self.process = subprocess.Popen(
            [binary, "-n", self.instance, "-raw", "-web.listen-address", self.address],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

        def answers() -> bool:
            try:
                with urllib.request.urlopen(f"http://{self.address}/metrics", timeout=2) as r:
                    return b"varnish_up 1" in r.read()
            except OSError:
                return False

        wait_until(answers, timeout=timeout, what="the exporter reads varnishstat", interval=0.1)
        return self

    def scrape(self) -> str:
        with urllib.request.urlopen(f"http://{self.address}/metrics", timeout=5) as answer:
            return str(answer.read().decode())

    def stop(self) -> None:
        process_stop(self.process, grace=10)
        self.process = None
