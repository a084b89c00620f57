#!/usr/bin/env python3
"""The scaled-out shape on one machine, without Docker (`make cluster`).

Two gunicorn app nodes (deploy/gunicorn.conf.py), each with its own VAR_DIR as on separate
hosts, two Varnish nodes whose director spans both app nodes, the machine's PostgreSQL and
Redis, an S3-compatible server for media (moto's standalone server), the purge worker told
about both Varnish nodes, and Prometheus when it is installed. `python deploy/cluster.py`
starts it all, prints where each part is and stops everything on Ctrl-C or TERM.

The integration tests (tests/cluster/) start the same shape through the same classes, with
ports, database and folder of their own, and stop, kill and restart its parts one by one.

Every child runs in a process group of its own, so a Ctrl-C in the terminal reaches only
this script, which then stops the children in order (each group whole: gunicorn's workers,
varnishd's cache process); the kernel also sends each child TERM if this script dies
without cleaning up (PR_SET_PDEATHSIG), so nothing outlives it.
"""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
VCL_DIR = REPO / "deploy" / "varnish"
PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
# The synthetic URL each Varnish node answers for DNS or load-balancer monitors
# (deploy/varnish/default.vcl, sub edge_health): 200 while an app server is healthy.
EDGE_HEALTH_PATH = "/edge-health"
# Every child's environment names its cluster, so a test can find any process left behind.
CLUSTER_MARKER = "AVATARS_CLUSTER_ROOT"
# moto's server accepts any key; these only have to be the same on both sides.
S3_ACCESS_KEY = "cluster"
S3_SECRET_KEY = "cluster-secret"  # noqa: S105 - a local moto server's, not a secret
S3_REGION = "us-east-1"
# Seconds for any one probe of a part's readiness, and for a whole start.
PROBE_TIMEOUT = 2.0
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
# Purges only from this machine: every part of the cluster runs on it.
PURGERS = ("127.0.0.1", "::1")


class ClusterError(RuntimeError):
    """The shape cannot start as configured; the message says what to change."""


class Stopped(Exception):
    """Ctrl-C or TERM came while the cluster was starting."""


# Set by main()'s signal handler. The handler itself raises nothing: an exception thrown at an
# arbitrary point (between starting a child and recording it) could leave that child behind,
# so starting checks this at every step and in every wait instead.
STOP_REQUESTED = threading.Event()


def wait_until(
    check: Callable[[], object], *, timeout: float, what: str, interval: float = 0.05
) -> None:
    """Polls `check` until it returns something true; after `timeout` seconds it fails,
    saying `what` was awaited. A stop request ends the wait at once."""
    deadline = time.monotonic() + timeout
    while not check():
        if STOP_REQUESTED.is_set():
            raise Stopped
        if time.monotonic() >= deadline:
            raise TimeoutError(f"waited {timeout:g} s in vain for: {what}")
        time.sleep(interval)


def checkpoint() -> None:
    if STOP_REQUESTED.is_set():
        raise Stopped


def find_program(name: str) -> str | None:
    return shutil.which(name) or (
        f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None
    )


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def http_status(url: str, *, method: str = "GET", timeout: float = PROBE_TIMEOUT) -> int | None:
    """The status of one request, or None when nothing answers."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.request(method, parts.path or "/", headers={"Connection": "close"})
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: TERM when this script dies, however it dies.
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


@dataclass
class Service:
    """One part of the cluster: a child process (and its own children) in a group of its own."""

    name: str
    args: Sequence[str]
    env: dict[str, str]
    log: Path
    url: str
    ready: Callable[[], bool]
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self, timeout: float = START_TIMEOUT) -> Service:
        return self.launch().wait_ready(timeout)

    def launch(self) -> Service:
        """The process, without waiting for it (from the main thread only: the kernel's TERM
        on the parent's death follows the thread that started it)."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                list(self.args),
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # Children are started from one thread, so this fork hook is safe.
                preexec_fn=_die_with_parent,
            )
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT) -> Service:
        process = self.process
        assert process is not None, f"{self.name} was not launched"

        def up() -> bool:
            if process.poll() is not None:
                raise ClusterError(
                    f"{self.name} exited with status {process.returncode}; "
                    f"the end of {self.log}:\n{self.output()}"
                )
            return self.ready()

        try:
            wait_until(up, timeout=timeout, what=f"{self.name} answers at {self.url}")
        except TimeoutError as error:
            self.stop()
            raise ClusterError(f"{error}; the end of {self.log}:\n{self.output()}") from None
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """TERM to the whole group, then KILL to whatever of it is left after `timeout`."""
        process = self.process
        if process is None:
            return
        self._signal_group(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout)
        # Stragglers of the group (a worker still finishing) go too.
        self._signal_group(signal.SIGKILL)
        process.wait()
        self.process = None

    def kill(self) -> None:
        """A crash: KILL to the whole group at once, no chance to finish anything."""
        if self.process is not None:
            self._signal_group(signal.SIGKILL)
            self.process.wait()
            self.process = None

    def _signal_group(self, signum: int) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)


def backends_vcl(app_nodes: Sequence[tuple[str, int]], purgers: Sequence[str] = PURGERS) -> str:
    """The deployment's backends.vcl (see deploy/varnish/backends.vcl): these app servers
    behind the director `app`, and who may purge."""
    lines = []
    for number, (host, port) in enumerate(app_nodes, start=1):
        lines += [
            f"backend app{number} {{",
            f'    .host = "{host}";',
            f'    .port = "{port}";',
            "    .probe = app_health;",
            "    .connect_timeout = 1s;",
            "    .first_byte_timeout = 30s;",
            "    .between_bytes_timeout = 10s;",
            "}",
        ]
    lines += ["acl purgers {", *(f'    "{address}";' for address in purgers), "}"]
    lines += ["sub vcl_init {", "    new app = directors.round_robin();"]
    lines += [f"    app.add_backend(app{number});" for number in range(1, len(app_nodes) + 1)]
    lines += ["}"]
    return "\n".join(lines) + "\n"


def _env_ports(name: str, default: str, count: int | None = None) -> tuple[int, ...]:
    raw = os.environ.get(name) or default
    try:
        ports = tuple(int(item) for item in raw.split(",") if item.strip())
    except ValueError:
        raise ClusterError(f"{name}={raw!r} is not a comma-separated list of ports") from None
    if not ports or (count is not None and len(ports) != count):
        wanted = f"{count} port(s)" if count else "at least one port"
        raise ClusterError(f"{name}={raw!r}: give {wanted}")
    if any(not 0 < port < 65536 for port in ports):
        raise ClusterError(f"{name}={raw!r}: a port is between 1 and 65535")
    return ports


@dataclass(frozen=True)
class ClusterConfig:
    """Where each part listens and what it uses. `from_env()` reads the CLUSTER_* variables."""

    root: Path
    database_url: str
    redis_url: str
    host: str = "127.0.0.1"
    app_ports: tuple[int, ...] = (8101, 8102)
    varnish_ports: tuple[int, ...] = (6181, 6182)
    s3_port: int = 9101
    prometheus_port: int = 9190
    # The purge worker's own /metrics, and one prometheus-varnish-exporter per Varnish node.
    worker_metrics_port: int = 9191
    exporter_ports: tuple[int, ...] = (9141, 9142)
    bucket: str = "avatars"
    # gunicorn workers per app node (deploy/gunicorn.conf.py's WEB_CONCURRENCY).
    app_workers: int = 2

    @classmethod
    def from_env(cls) -> ClusterConfig:
        def single(name: str, default: int) -> int:
            return _env_ports(name, str(default), count=1)[0]

        varnish_ports = _env_ports("CLUSTER_VARNISH_PORTS", "6181,6182")
        workers = os.environ.get("CLUSTER_APP_WORKERS") or "2"
        if not workers.isdigit() or int(workers) < 1:
            raise ClusterError(f"CLUSTER_APP_WORKERS={workers!r} is not a positive number")
        return cls(
            root=Path(os.environ.get("CLUSTER_DIR") or REPO / "var" / "cluster").resolve(),
            database_url=os.environ.get("CLUSTER_DATABASE_URL")
            or "postgres://postgres@127.0.0.1:5432/avatars_cluster",
            redis_url=os.environ.get("CLUSTER_REDIS_URL") or "redis://127.0.0.1:6379/0",
            host=os.environ.get("CLUSTER_HOST") or "127.0.0.1",
            app_ports=_env_ports("CLUSTER_APP_PORTS", "8101,8102"),
            varnish_ports=varnish_ports,
            s3_port=single("CLUSTER_S3_PORT", 9101),
            prometheus_port=single("CLUSTER_PROMETHEUS_PORT", 9190),
            worker_metrics_port=single("CLUSTER_WORKER_METRICS_PORT", 9191),
            exporter_ports=_env_ports(
                "CLUSTER_EXPORTER_PORTS",
                ",".join(str(9141 + n) for n in range(len(varnish_ports))),
                count=len(varnish_ports),
            ),
            app_workers=int(workers),
        )

    def url(self, port: int) -> str:
        return f"http://{self.host}:{port}"

    @property
    def app_urls(self) -> list[str]:
        return [self.url(port) for port in self.app_ports]

    @property
    def varnish_urls(self) -> list[str]:
        return [self.url(port) for port in self.varnish_ports]

    @property
    def s3_url(self) -> str:
        return self.url(self.s3_port)

    @property
    def prometheus_url(self) -> str:
        return self.url(self.prometheus_port)

    @property
    def secret_key_file(self) -> Path:
        return self.root / "secret_key"

    def app_env(self) -> dict[str, str]:
        """What every app process (nodes, worker, migrations) reads: the shared services."""
        env = {
            key: value
            for key, value in os.environ.items()
            # The cluster's own choices, never a developer's run.env or test settings.
            if not key.startswith(("DJANGO_", "PYTEST_")) and key not in _APP_VARIABLES
        }
        env.update(
            {
                CLUSTER_MARKER: str(self.root),
                "AVATARS_IGNORE_RUN_ENV": "1",
                "DEBUG": "false",
                "SECRET_KEY_FILE": str(self.secret_key_file),
                "ALLOWED_HOSTS": ",".join(dict.fromkeys([self.host, "localhost", "127.0.0.1"])),
                "SITE_URL": self.varnish_urls[0],
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "STORAGE": "s3",
                "S3_BUCKET": self.bucket,
                "S3_ENDPOINT_URL": self.s3_url,
                "S3_ACCESS_KEY_ID": S3_ACCESS_KEY,
                "S3_SECRET_ACCESS_KEY": S3_SECRET_KEY,
                "S3_REGION": S3_REGION,
                "VARNISH_NODES": ",".join(self.varnish_urls),
                "APP_NODES": ",".join(self.app_urls),
                # The admin's Service health page reads the cluster's Prometheus.
                "PROMETHEUS_URL": self.prometheus_url,
            }
        )
        return env


# Variables the cluster sets for its app processes; any value in this environment is dropped.
_APP_VARIABLES = {
    "VAR_DIR",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "SITE_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "STORAGE",
    "VARNISH_NODES",
    "APP_NODES",
    "PROMETHEUS_URL",
    "PURGE_WORKER_METRICS_PORT",
    "HOST",
    "PORT",
    "WEB_CONCURRENCY",
}


@dataclass
class Cluster:
    """The parts of one cluster; start() brings them up in order, stop() takes them down."""

    config: ClusterConfig
    prometheus: bool = True
    s3: Service | None = field(default=None, init=False)
    apps: list[Service | None] = field(default_factory=list, init=False)
    varnishes: list[Service | None] = field(default_factory=list, init=False)
    worker: Service | None = field(default=None, init=False)
    exporters: list[Service | None] = field(default_factory=list, init=False)
    prometheus_service: Service | None = field(default=None, init=False)
    notes: list[str] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.apps = [None] * len(self.config.app_ports)
        self.varnishes = [None] * len(self.config.varnish_ports)
        self.exporters = [None] * len(self.config.varnish_ports)

    @property
    def root(self) -> Path:
        return self.config.root

    def services(self) -> list[Service]:
        parts = [self.prometheus_service, *self.exporters, *self.varnishes, self.worker]
        parts += [*self.apps, self.s3]
        return [part for part in parts if part is not None]

    # -- start ----------------------------------------------------------------------------

    def start(self, *, migrate: bool = True) -> Cluster:
        """Every part, each launched as soon as what it needs is up, so that their start-up
        times overlap; on any failure, what already started is stopped again and the error
        says what went wrong."""
        self.check_ports()
        self.root.mkdir(parents=True, exist_ok=True)
        self._secret_key()
        try:
            self.database_ensure()
            s3 = self.start_s3(wait=False)
            if migrate:
                self.manage("migrate", "--noinput", "-v0")
            self.manage("collectstatic", "--noinput", "-v0")
            s3.wait_ready()
            self.bucket_ensure()
            checkpoint()
            parts = [self.start_app(n, wait=False) for n in range(1, len(self.apps) + 1)]
            parts += [self.start_varnish(n, wait=False) for n in range(1, len(self.varnishes) + 1)]
            parts.append(self.start_worker(wait=False))
            for part in parts:
                part.wait_ready()
            checkpoint()
            if self.prometheus:
                # The exporters read the Varnish nodes' shared memory: after they are up.
                parts = self.start_monitoring(wait=False)
                for part in parts:
                    part.wait_ready()
            self.wait_for_backends()
        except BaseException:
            self.stop()
            raise
        return self

    def wait_for_backends(self, timeout: float = 30) -> None:
        """Until every Varnish node's probes see every app node healthy."""
        for number in range(1, len(self.apps) + 1):
            self.wait_for_backend(f"app{number}", "healthy", timeout=timeout)

    def wait_for_backend(self, backend: str, state: str, *, timeout: float = 15) -> None:
        """Until the probes of every running Varnish node report `backend` ("app1") in `state`
        ("healthy" or "sick")."""
        for number, varnish in enumerate(self.varnishes, 1):
            if varnish is None:
                continue

            def reported(number: int = number) -> bool:
                return self.backend_health(number).get(backend) == state

            try:
                wait_until(
                    reported,
                    timeout=timeout,
                    what=f"Varnish node {number}'s probes report {backend} {state}",
                    interval=0.1,
                )
            except TimeoutError as error:
                raise ClusterError(f"{error}; they report {self.backend_health(number)}") from None

    def check_ports(self) -> None:
        config = self.config
        wanted = [
            *(
                (f"app node {n}", port, "CLUSTER_APP_PORTS")
                for n, port in enumerate(config.app_ports, 1)
            ),
            *(
                (f"Varnish node {n}", port, "CLUSTER_VARNISH_PORTS")
                for n, port in enumerate(config.varnish_ports, 1)
            ),
            ("the S3 server", config.s3_port, "CLUSTER_S3_PORT"),
        ]
        if self.prometheus and find_program("prometheus"):
            wanted.append(("Prometheus", config.prometheus_port, "CLUSTER_PROMETHEUS_PORT"))
            wanted.append(
                (
                    "the purge worker's metrics",
                    config.worker_metrics_port,
                    "CLUSTER_WORKER_METRICS_PORT",
                )
            )
            if find_program("prometheus-varnish-exporter"):
                wanted += [
                    (f"Varnish node {n}'s exporter", port, "CLUSTER_EXPORTER_PORTS")
                    for n, port in enumerate(config.exporter_ports, 1)
                ]
        seen: dict[int, str] = {}
        for what, port, variable in wanted:
            if port in seen:
                raise ClusterError(f"port {port} is given to both {seen[port]} and {what}")
            seen[port] = what
            if not port_is_free(config.host, port):
                raise ClusterError(
                    f"port {port} ({what}) is in use on {config.host}; "
                    f"choose another with {variable}"
                )

    def _secret_key(self) -> None:
        # One key for every node: a session or a sign-in link made by one node is good on
        # the other (each node generating its own, as a lone node does, would break both).
        key_file = self.config.secret_key_file
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(50))
            key_file.chmod(0o600)

    def database_ensure(self) -> None:
        """The cluster's PostgreSQL database, created when missing."""
        import psycopg2
        from psycopg2 import sql

        parts = urlsplit(self.config.database_url)
        if parts.scheme not in {"postgres", "postgresql"}:
            return
        name = parts.path.lstrip("/")
        maintenance = parts._replace(path="/postgres").geturl()
        try:
            connection = psycopg2.connect(maintenance, connect_timeout=5)
        except psycopg2.OperationalError as error:
            raise ClusterError(
                f"PostgreSQL at {parts.hostname}:{parts.port or 5432} does not answer ({error}); "
                "start it or set CLUSTER_DATABASE_URL"
            ) from None
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cursor.fetchone() is None:
                    cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                    self.notes.append(f"created the database {name}")
        finally:
            connection.close()

    def manage(self, *args: str, timeout: float = 300) -> None:
        """A management command with the app's environment, given up on a stop request."""
        checkpoint()
        env = {**self.config.app_env(), "VAR_DIR": str(self.root / "manage")}
        log = self.root / "logs" / "manage.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "manage.py", *args],
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until(
                lambda: process.poll() is not None,
                timeout=timeout,
                what=f"manage.py {args[0]} finishes",
                interval=0.1,
            )
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        if process.returncode != 0:
            checkpoint()  # a Ctrl-C in the terminal reached the command too
            tail = log.read_text(errors="replace")[-3000:]
            raise ClusterError(f"manage.py {' '.join(args)} failed; the end of {log}:\n{tail}")

    def start_s3(self, *, wait: bool = True) -> Service:
        config = self.config
        service = Service(
            name="the S3 server",
            args=[
                sys.executable,
                "-m",
                "moto.server",
                "-H",
                config.host,
                "-p",
                str(config.s3_port),
            ],
            env={**os.environ, CLUSTER_MARKER: str(self.root)},
            log=self.root / "logs" / "s3.log",
            url=config.s3_url,
            ready=lambda: http_status(config.s3_url + "/moto-api/") is not None,
        )
        self.s3 = service
        service.launch()
        if wait:
            service.wait_ready()
            self.bucket_ensure()
        return service

    def stop_s3(self) -> None:
        if self.s3 is not None:
            self.s3.stop()
            self.s3 = None

    def s3_client(self, *, timeout: float = 5) -> object:
        """A boto3 client of the cluster's S3 server, as the app configures its own."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.config.s3_url,
            aws_access_key_id=S3_ACCESS_KEY,
            aws_secret_access_key=S3_SECRET_KEY,
            region_name=S3_REGION,
            config=Config(
                connect_timeout=timeout, read_timeout=timeout, retries={"total_max_attempts": 2}
            ),
        )

    def bucket_ensure(self) -> None:
        client = self.s3_client()
        # moto keeps buckets in memory: a restarted server starts without one.
        with contextlib.suppress(Exception):
            client.head_bucket(Bucket=self.config.bucket)  # type: ignore[attr-defined]
            return
        client.create_bucket(Bucket=self.config.bucket)  # type: ignore[attr-defined]

    def start_app(self, number: int, *, wait: bool = True) -> Service:
        config = self.config
        port = config.app_ports[number - 1]
        url = config.url(port)
        # Its own VAR_DIR, as on a host of its own (the resolution cache's generation file is
        # per node); the static files are collected once for all of them.
        var_dir = self.root / f"app{number}"
        var_dir.mkdir(parents=True, exist_ok=True)
        static = var_dir / "static"
        if not static.is_symlink():
            static.symlink_to(self.root / "manage" / "static", target_is_directory=True)
        env = {
            **config.app_env(),
            "VAR_DIR": str(var_dir),
            "HOST": config.host,
            "PORT": str(port),
            "WEB_CONCURRENCY": str(config.app_workers),
        }
        service = Service(
            name=f"app node {number}",
            args=[
                str(Path(sys.executable).with_name("gunicorn")),
                "gravatar.wsgi",
                "-c",
                "deploy/gunicorn.conf.py",
            ],
            env=env,
            log=self.root / "logs" / f"app{number}.log",
            url=url,
            ready=lambda: http_status(url + "/healthz") == 200,
        )
        self.apps[number - 1] = service
        service.launch()
        return service.wait_ready() if wait else service

    def stop_app(self, number: int) -> None:
        service = self.apps[number - 1]
        if service is not None:
            service.stop()
            self.apps[number - 1] = None

    def kill_app(self, number: int) -> None:
        service = self.apps[number - 1]
        if service is not None:
            service.kill()
            self.apps[number - 1] = None

    def varnish_name(self, number: int) -> Path:
        """varnishd's -n: the folder varnishadm and varnishstat find it by."""
        return self.root / f"varnish{number}" / "instance"

    def start_varnish(self, number: int, *, wait: bool = True) -> Service:
        varnishd = find_program("varnishd")
        if varnishd is None:
            raise ClusterError("varnishd is not installed (make test installs it as root)")
        config = self.config
        port = config.varnish_ports[number - 1]
        include_dir = self.root / f"varnish{number}" / "vcl"
        include_dir.mkdir(parents=True, exist_ok=True)
        (include_dir / "backends.vcl").write_text(
            backends_vcl([(config.host, app_port) for app_port in config.app_ports])
        )
        url = config.url(port)
        service = Service(
            name=f"Varnish node {number}",
            args=[
                varnishd,
                "-F",
                # -j none: as root the default jail cannot read the cluster's folder.
                *("-j", "none"),
                *("-n", str(self.varnish_name(number))),
                *("-a", f"{config.host}:{port}"),
                *("-f", str(VCL_DIR / "default.vcl")),
                *("-p", f"vcl_path={include_dir}:{VCL_DIR}"),
                *("-s", "malloc,256m"),
            ],
            env={**os.environ, CLUSTER_MARKER: str(self.root)},
            log=self.root / "logs" / f"varnish{number}.log",
            url=url,
            ready=lambda: http_status(url + EDGE_HEALTH_PATH) is not None,
        )
        self.varnishes[number - 1] = service
        service.launch()
        return service.wait_ready() if wait else service

    def stop_varnish(self, number: int) -> None:
        service = self.varnishes[number - 1]
        if service is not None:
            service.stop()
            self.varnishes[number - 1] = None

    def kill_varnish(self, number: int) -> None:
        service = self.varnishes[number - 1]
        if service is not None:
            service.kill()
            self.varnishes[number - 1] = None

    def varnishadm(self, number: int, *command: str) -> str:
        varnishadm = find_program("varnishadm") or "varnishadm"
        result = subprocess.run(
            [varnishadm, "-n", str(self.varnish_name(number)), "-t", "5", *command],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
        return result.stdout

    def backend_health(self, number: int) -> dict[str, str]:
        """{"app1": "healthy" | "sick", ...} as Varnish node `number`'s probes see them."""
        health = {}
        for line in self.varnishadm(number, "backend.list").splitlines()[1:]:
            parts = line.split()
            if len(parts) >= 4:
                health[parts[0].split(".")[-1]] = parts[3]
        return health

    def start_worker(self, *, wait: bool = True) -> Service:
        config = self.config
        service = Service(
            name="the purge worker",
            args=[sys.executable, "manage.py", "purge_worker"],
            env={
                **config.app_env(),
                "VAR_DIR": str(self.root / "worker"),
                **(
                    {"PURGE_WORKER_METRICS_PORT": str(config.worker_metrics_port)}
                    if self.prometheus
                    else {}
                ),
            },
            log=self.root / "logs" / "purge_worker.log",
            url=", ".join(config.varnish_urls),
            # Running after its first second is as ready as it gets: it reports nothing.
            ready=_alive_for(1.0),
        )
        self.worker = service
        service.launch()
        return service.wait_ready() if wait else service

    def start_monitoring(self, *, wait: bool = True) -> list[Service]:
        """Prometheus and an exporter per Varnish node, when installed."""
        parts = []
        if find_program("prometheus-varnish-exporter"):
            parts = [self.start_exporter(n, wait=wait) for n in range(1, len(self.varnishes) + 1)]
        else:
            self.notes.append("prometheus-varnish-exporter is not installed: Varnish not scraped")
        prometheus = self.start_prometheus(wait=wait)
        return parts + ([prometheus] if prometheus else [])

    def start_exporter(self, number: int, *, wait: bool = True) -> Service:
        config = self.config
        port = config.exporter_ports[number - 1]
        url = config.url(port)
        service = Service(
            name=f"Varnish node {number}'s exporter",
            args=[
                find_program("prometheus-varnish-exporter") or "prometheus-varnish-exporter",
                *("-n", str(self.varnish_name(number)), "-raw"),
                *("-web.listen-address", f"{config.host}:{port}"),
            ],
            env={**os.environ, CLUSTER_MARKER: str(self.root)},
            log=self.root / "logs" / f"varnish{number}-exporter.log",
            url=url,
            ready=lambda: http_status(url + "/metrics") == 200,
        )
        self.exporters[number - 1] = service
        service.launch()
        return service.wait_ready() if wait else service

    def start_prometheus(self, *, wait: bool = True) -> Service | None:
        prometheus = find_program("prometheus")
        if prometheus is None:
            self.notes.append("Prometheus is not installed (make test installs it): not started")
            return None
        config = self.config
        config_file = self.root / "prometheus" / "prometheus.yml"
        config_file.parent.mkdir(parents=True, exist_ok=True)
        config_file.write_text(prometheus_config(config))
        url = config.prometheus_url
        service = Service(
            name="Prometheus",
            args=[
                prometheus,
                f"--config.file={config_file}",
                f"--storage.tsdb.path={self.root / 'prometheus' / 'data'}",
                # As `make run`'s: two days at most, never more than 512 MB.
                "--storage.tsdb.retention.time=2d",
                "--storage.tsdb.retention.size=512MB",
                f"--web.listen-address={config.host}:{config.prometheus_port}",
            ],
            env={**os.environ, CLUSTER_MARKER: str(self.root)},
            log=self.root / "logs" / "prometheus.log",
            url=url,
            ready=lambda: http_status(url + "/-/ready") == 200,
        )
        self.prometheus_service = service
        service.launch()
        return service.wait_ready() if wait else service

    # -- stop -----------------------------------------------------------------------------

    def stop(self) -> None:
        """Every part at once, each given its graceful stop (STOP_TIMEOUT) before KILL."""
        # In parallel: each waits for its own graceful exit.
        stopping = [threading.Thread(target=part.stop) for part in self.services()]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()
        self.prometheus_service = None
        self.exporters = [None] * len(self.exporters)
        self.varnishes = [None] * len(self.varnishes)
        self.worker = None
        self.apps = [None] * len(self.apps)
        self.s3 = None

    # -- report ---------------------------------------------------------------------------

    def describe(self) -> str:
        config = self.config
        rows: list[tuple[str, str]] = []
        for number, url in enumerate(config.varnish_urls, 1):
            rows.append(
                (f"Varnish node {number}", f"{url}/  (edge health: {url}{EDGE_HEALTH_PATH})")
            )
        for number, url in enumerate(config.app_urls, 1):
            rows.append((f"app node {number}", f"{url}/  (gunicorn, {config.app_workers} workers)"))
        worker = "purging " + ", ".join(config.varnish_urls)
        if self.prometheus_service is not None:
            worker += f"  (metrics: {config.url(config.worker_metrics_port)}/)"
        rows.append(("purge worker", worker))
        rows.append(("PostgreSQL", _without_password(config.database_url)))
        rows.append(("Redis", config.redis_url))
        rows.append(("S3 (moto)", f"{config.s3_url}/  bucket {config.bucket}"))
        if self.prometheus_service is not None:
            rows.append(("Prometheus", f"{config.prometheus_url}/  (scraping every part)"))
            for number, exporter in enumerate(self.exporters, 1):
                if exporter is not None:
                    rows.append((f"Varnish {number} exporter", f"{exporter.url}/metrics"))
        else:
            rows.append(("Prometheus", "not running"))
        width = max(len(name) for name, _ in rows)
        lines = [f"  {name.ljust(width)}  {where}" for name, where in rows]
        lines.append(f"  {'logs'.ljust(width)}  {self.root / 'logs'}")
        lines.append(
            f"  {'commands'.ljust(width)}  env $(cat {self.env_file}) "
            ".venv/bin/python manage.py setavatar ..."
        )
        return "\n".join([*self.notes, *lines])

    @property
    def env_file(self) -> Path:
        return self.root / "cluster.env"

    def write_env_file(self) -> None:
        """The app's environment, for `manage.py` commands against this cluster."""
        env = self.config.app_env()
        names = ["DATABASE_URL", "REDIS_URL", "STORAGE", "S3_BUCKET", "S3_ENDPOINT_URL"]
        names += ["S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_REGION", "VARNISH_NODES"]
        names += ["APP_NODES", "SITE_URL", "SECRET_KEY_FILE", "AVATARS_IGNORE_RUN_ENV"]
        lines = [f"{name}={env[name]}" for name in names]
        lines.append(f"VAR_DIR={self.root / 'manage'}")
        old_umask = os.umask(0o077)
        try:
            self.env_file.write_text("\n".join(lines) + "\n")
        finally:
            os.umask(old_umask)


def _alive_for(seconds: float) -> Callable[[], bool]:
    since = time.monotonic()
    return lambda: time.monotonic() - since >= seconds


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


def prometheus_targets(config: ClusterConfig) -> dict[str, list[str]]:
    """What each job of deploy/prometheus/prometheus.yml scrapes in this cluster."""
    return {
        "app": [f"{config.host}:{port}" for port in config.app_ports],
        "purge_worker": [f"{config.host}:{config.worker_metrics_port}"],
        "varnish": [f"{config.host}:{port}" for port in config.exporter_ports],
        "prometheus": [f"{config.host}:{config.prometheus_port}"],
    }


def prometheus_config(config: ClusterConfig) -> str:
    """The shipped Prometheus configuration (deploy/prometheus/prometheus.yml, `make run`'s),
    each job's targets moved to this cluster's parts."""
    import yaml

    shipped = PROMETHEUS_DIR / "prometheus.yml"
    targets = prometheus_targets(config)
    if shipped.exists():
        document = yaml.safe_load(shipped.read_text())
    else:
        document = {
            "global": {"scrape_interval": "10s", "scrape_timeout": "5s"},
            "scrape_configs": [{"job_name": job} for job in targets],
        }
    for job in document.get("scrape_configs") or []:
        if job.get("job_name") in targets:
            job["static_configs"] = [{"targets": targets[job["job_name"]]}]
    return yaml.safe_dump(document, sort_keys=False)


def main() -> int:
    def on_signal(signum: int, _frame: object) -> None:
        STOP_REQUESTED.set()

    try:
        config = ClusterConfig.from_env()
    except ClusterError as error:
        print(f"make cluster: {error}", file=sys.stderr)
        return 2
    cluster = Cluster(config)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    try:
        print(f"Starting the cluster in {config.root} ...", flush=True)
        cluster.start()
        cluster.write_env_file()
        print("The cluster is up (Ctrl-C stops everything):", flush=True)
        print(cluster.describe(), flush=True)
        _supervise(cluster)
    except Stopped:
        pass
    except ClusterError as error:
        print(f"make cluster: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        cluster.stop()
        with contextlib.suppress(FileNotFoundError):
            cluster.env_file.unlink()
    print("The cluster is stopped.", flush=True)
    return 0


def _supervise(cluster: Cluster) -> None:
    """Until a signal: a part that exits is reported; the purge worker is started again
    after a pause that grows with each quick exit, as `make run` does."""
    pause = 1.0
    reported: set[str] = set()
    while not STOP_REQUESTED.wait(0.5):
        worker = cluster.worker
        if worker is not None and not worker.running:
            print(f"the purge worker exited; starting it again in {pause:g} s", flush=True)
            if STOP_REQUESTED.wait(pause):
                return
            pause = min(pause * 2, 30.0)
            cluster.start_worker()
        for service in cluster.services():
            if not service.running and service.name not in reported:
                reported.add(service.name)
                print(f"{service.name} exited; see {service.log}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
