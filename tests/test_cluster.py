"""`make cluster` (deploy/cluster.py) as a person runs it: it brings every part up, says where
each is, and Ctrl-C or TERM, even in the middle of starting, stops them all, leaving no
process and no port behind.

Each run gets free ports, a folder of its own and the test database; whatever the cluster
starts carries that folder in its environment (CLUSTER_MARKER), which is how a process left
behind would be found.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password

from accounts.models import User
from deploy.cluster import CLUSTER_MARKER, EDGE_HEALTH_PATH, REPO, http_status, port_is_free
from tests.cluster.conftest import Visitor
from tests.conftest import require_binary
from tests.postgres import free_port, shared_database_url
from tests.varnish.harness import wait_until

pytestmark = pytest.mark.varnish
# Each printed address must answer, however loaded the machine: not a latency test.
ANSWER_TIMEOUT = 10
OPERATOR_PASSWORD = "operator-password-1"
Row = tuple[str, str, str]  # a table row of the Service health page


@dataclass
class Run:
    process: subprocess.Popen[bytes]
    root: Path
    output: Path
    ports: dict[str, int]

    def printed(self) -> str:
        return self.output.read_text(errors="replace")

    def leftovers(self) -> list[str]:
        """Processes whose environment names this run's folder."""
        marker = f"{CLUSTER_MARKER}={self.root}\0".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if marker in (entry / "environ").read_bytes():
                    found.append(f"{entry.name}: {(entry / 'cmdline').read_bytes()[:120]!r}")
            except OSError:  # gone meanwhile, or a kernel thread
                continue
        return found

    def busy_ports(self) -> dict[str, int]:
        return {
            name: port for name, port in self.ports.items() if not port_is_free("127.0.0.1", port)
        }

    def stop(self, signum: int, timeout: float = 45) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout)


@pytest.fixture
def cluster_run(tmp_path, transactional_db) -> Iterator[Callable[..., Run]]:
    require_binary("varnishd")
    require_binary("prometheus")
    database_url = shared_database_url()
    runs: list[Run] = []

    def start(**env: str) -> Run:
        ports = {
            "app1": free_port(),
            "app2": free_port(),
            "varnish1": free_port(),
            "varnish2": free_port(),
            "s3": free_port(),
            "prometheus": free_port(),
            "worker_metrics": free_port(),
            "exporter1": free_port(),
            "exporter2": free_port(),
        }
        root = tmp_path / f"cluster{len(runs)}"
        output = tmp_path / f"cluster{len(runs)}.out"
        variables = {
            "CLUSTER_DIR": str(root),
            "CLUSTER_DATABASE_URL": database_url,
            "CLUSTER_REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
            "CLUSTER_APP_PORTS": f"{ports['app1']},{ports['app2']}",
            "CLUSTER_VARNISH_PORTS": f"{ports['varnish1']},{ports['varnish2']}",
            "CLUSTER_S3_PORT": str(ports["s3"]),
            "CLUSTER_PROMETHEUS_PORT": str(ports["prometheus"]),
            "CLUSTER_WORKER_METRICS_PORT": str(ports["worker_metrics"]),
            "CLUSTER_EXPORTER_PORTS": f"{ports['exporter1']},{ports['exporter2']}",
            "CLUSTER_APP_WORKERS": "1",
            **env,
        }
        with output.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "deploy/cluster.py"],
                cwd=REPO,
                env={**os.environ, **variables},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        run = Run(process, root, output, ports)
        runs.append(run)
        return run

    yield start
    for run in runs:
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()


def prometheus_targets(port: int) -> dict[str, set[str]]:
    """{job: its targets} as Prometheus's own API lists them."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/targets", timeout=5) as answer:
        active = json.load(answer)["data"]["activeTargets"]
    jobs: dict[str, set[str]] = {}
    for target in active:
        jobs.setdefault(target["labels"]["job"], set()).add(target["labels"]["instance"])
    return jobs


def service_health_when_all_up(app_url: str) -> tuple[list[Row], list[Row]]:
    """The admin's Service health page as an operator signed in on `app_url` sees it, once
    every part is ok and every target up (Prometheus scrapes each within its interval):
    (kind, name, state) of each part and (job, instance, state) of each target."""
    # The nodes' own hasher: the tests' fast one is not among theirs.
    User.objects.create(
        email="operator@example.com",
        password=make_password(OPERATOR_PASSWORD, hasher=PBKDF2PasswordHasher()),
        is_staff=True,
        is_superuser=True,
    )
    operator = Visitor(app_url)
    operator.sign_in("operator@example.com", OPERATOR_PASSWORD)

    def all_up() -> tuple[list[Row], list[Row]] | None:
        page = operator.session.get(app_url + "/admin/service-health/", timeout=ANSWER_TIMEOUT)
        assert page.status_code == 200, page.text[:300]
        components: list[Row] = [
            (kind, re.sub(r"<small>.*?</small>", "", name).strip(), state)
            for kind, name, state in re.findall(
                r'<tr data-component="([^"]+)">\s*<td>[^<]*</td>\s*<td>(.*?)</td>\s*'
                r"<td[^>]*>([^<]*)</td>",
                page.text,
                re.S,
            )
        ]
        targets: list[Row] = re.findall(
            r'<tr data-job="([^"]+)">\s*<td>[^<]*</td><td>([^<]*)</td>\s*<td[^>]*>([^<]*)</td>',
            page.text,
        )
        ok = all(state == "ok" for *_, state in components) and all(
            state == "up" for *_, state in targets
        )
        return (components, targets) if ok and targets else None

    return wait_until(
        all_up, timeout=45, what="the operator page shows every part ok, every target up"
    )


@contextlib.contextmanager
def socket_on_a_port() -> Iterator[int]:
    """Something else listening on a port the cluster wants."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])


def test_it_starts_every_part_says_where_and_ctrl_c_stops_them_all(cluster_run):
    run = cluster_run()

    wait_until(
        lambda: "The cluster is up" in run.printed() or run.process.poll() is not None,
        timeout=90,
        what="make cluster says the cluster is up",
        interval=0.2,
    )
    printed = run.printed()
    assert "The cluster is up" in printed, printed
    ports = run.ports
    answers = {
        "varnish1": http_status(
            f"http://127.0.0.1:{ports['varnish1']}{EDGE_HEALTH_PATH}", timeout=ANSWER_TIMEOUT
        ),
        "varnish2": http_status(
            f"http://127.0.0.1:{ports['varnish2']}{EDGE_HEALTH_PATH}", timeout=ANSWER_TIMEOUT
        ),
        "app1": http_status(f"http://127.0.0.1:{ports['app1']}/readyz", timeout=ANSWER_TIMEOUT),
        "app2": http_status(f"http://127.0.0.1:{ports['app2']}/readyz", timeout=ANSWER_TIMEOUT),
        "prometheus": http_status(
            f"http://127.0.0.1:{ports['prometheus']}/-/ready", timeout=ANSWER_TIMEOUT
        ),
        "exporter1": http_status(
            f"http://127.0.0.1:{ports['exporter1']}/metrics", timeout=ANSWER_TIMEOUT
        ),
        "exporter2": http_status(
            f"http://127.0.0.1:{ports['exporter2']}/metrics", timeout=ANSWER_TIMEOUT
        ),
    }

    def every_job_discovered() -> dict[str, set[str]] | None:
        jobs = prometheus_targets(ports["prometheus"])
        return jobs if len(jobs) == 4 else None

    # Prometheus is ready before it has read its targets.
    scraped = wait_until(every_job_discovered, timeout=15, what="Prometheus lists its targets")
    operator_page = service_health_when_all_up(f"http://127.0.0.1:{ports['app1']}")
    running = run.leftovers()
    status = run.stop(signal.SIGINT)

    assert answers == dict.fromkeys(answers, 200), printed
    for port in ports.values():
        assert f"http://127.0.0.1:{port}/" in printed
    assert "purge worker" in printed and "PostgreSQL" in printed and "Redis" in printed
    # 2 gunicorn, 2 varnishd, the worker, S3, Prometheus, 2 exporters (and their children).
    assert len(running) >= 9, running
    assert scraped == {
        "app": {f"127.0.0.1:{ports['app1']}", f"127.0.0.1:{ports['app2']}"},
        "purge_worker": {f"127.0.0.1:{ports['worker_metrics']}"},
        "varnish": {f"127.0.0.1:{ports['exporter1']}", f"127.0.0.1:{ports['exporter2']}"},
        "prometheus": {f"127.0.0.1:{ports['prometheus']}"},
    }
    # The operator page on node 1 sees every node and every part, and what Prometheus scrapes.
    components, targets = operator_page
    assert {name for kind, name, _ in components if kind == "App node"} == {
        f"http://127.0.0.1:{ports['app1']}",
        f"http://127.0.0.1:{ports['app2']}",
    }
    assert {name for kind, name, _ in components if kind == "Varnish node"} == {
        f"http://127.0.0.1:{ports['varnish1']}",
        f"http://127.0.0.1:{ports['varnish2']}",
    }
    assert len(components) == 7, components
    assert {kind for kind, _, _ in components} >= {"Database", "Storage", "Redis"}
    assert {job: {instance for j, instance, _ in targets if j == job} for job in scraped} == scraped
    assert status == 0, run.printed()
    assert run.printed().rstrip().endswith("The cluster is stopped.")
    assert run.leftovers() == []
    assert run.busy_ports() == {}


def test_a_term_while_it_is_starting_leaves_nothing_running(cluster_run):
    run = cluster_run()
    # Some parts are up, others still starting.
    wait_until(
        lambda: (run.root / "logs" / "s3.log").exists() or run.process.poll() is not None,
        timeout=60,
        what="make cluster starts the S3 server",
    )

    status = run.stop(signal.SIGTERM)

    assert status == 0, run.printed()
    assert "The cluster is up" not in run.printed()
    assert run.leftovers() == []
    assert run.busy_ports() == {}


def test_a_port_in_use_is_named_and_nothing_starts(cluster_run):
    with socket_on_a_port() as port:
        run = cluster_run(CLUSTER_VARNISH_PORTS=f"{free_port()},{port}")
        status = run.process.wait(30)

    assert status == 1
    assert f"port {port} (Varnish node 2) is in use" in run.printed()
    assert "CLUSTER_VARNISH_PORTS" in run.printed()
    assert run.leftovers() == []
