"""A real varnishd with the shipped VCL in front of real app servers, for tests and benchmarks.

varnishd compiles its VCL with gcc at every start (about a second), so tests start it once
per module where they can. It runs in the foreground of a child process with `-j none` (as
root the default jail cannot read files in private temporary folders) and an absolute `-n`
working folder, which varnishadm needs too. `-a 127.0.0.1:0` and `debug.listen_address` give
a free port without races.
"""

from __future__ import annotations

import http.client
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from tests.processes import process_stop

REPO = Path(__file__).resolve().parents[2]
VCL_DIR = REPO / "deploy" / "varnish"
DEFAULT_VCL = VCL_DIR / "default.vcl"
TRIVIAL_VCL = VCL_DIR / "trivial.vcl"
# varnishadm and varnishstat answer in milliseconds; a hung one must not hang the tests.
TOOL_TIMEOUT = 10

T = TypeVar("T")


def wait_until(
    check: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.05
) -> T:
    """Calls `check` until it returns something true, and returns that.

    After `timeout` seconds it fails, saying `what` was awaited.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout:g} s in vain for: {what}")
        time.sleep(interval)


def find_program(name: str) -> str | None:
    return shutil.which(name) or (
        f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None
    )


def backends_vcl(
    backends: Sequence[tuple[str, int]], purgers: Sequence[str] = ("127.0.0.1",)
) -> str:
    """The deployment's backends.vcl (see deploy/varnish/backends.vcl) for these servers."""
    lines = []
    for number, (host, port) in enumerate(backends, start=1):
        lines += [
            f"backend app{number} {{",
            f'    .host = "{host}";',
            f'    .port = "{port}";',
            "    .probe = app_health;",
            "    .connect_timeout = 1s;",
            "    .first_byte_timeout = 10s;",
            "}",
        ]
    lines += ["acl purgers {", *(f'    "{address}";' for address in purgers), "}"]
    lines += ["sub vcl_init {", "    new app = directors.round_robin();"]
    lines += [f"    app.add_backend(app{number});" for number in range(1, len(backends) + 1)]
    lines += ["}"]
    return "\n".join(lines) + "\n"


@dataclass
class Varnish:
    """One varnishd. `start()` compiles the VCL and waits until the cache process answers."""

    workdir: Path
    backends: Sequence[tuple[str, int]]
    vcl: Path = DEFAULT_VCL
    port: int = 0
    storage: str = "malloc,256m"
    params: Sequence[str] = ()
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def name(self) -> str:
        return str(self.workdir.resolve() / "instance")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> Varnish:
        varnishd = find_program("varnishd")
        if varnishd is None:
            raise FileNotFoundError("varnishd is not installed")
        include_dir = self.workdir / "vcl"
        include_dir.mkdir(parents=True, exist_ok=True)
        (include_dir / "backends.vcl").write_text(backends_vcl(self.backends))
        args = [
            varnishd,
            "-F",
            "-j",
            "none",
            "-n",
            self.name,
            "-a",
            f"127.0.0.1:{self.port}",
            "-f",
            str(self.vcl),
            "-s",
            self.storage,
            # Our backends.vcl first, then the shipped VCL folder.
            "-p",
            f"vcl_path={include_dir}:{VCL_DIR}",
        ]
        for param in self.params:
            args += ["-p", param]
        log = (self.workdir / "varnishd.log").open("ab")
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        process = self.process

        def running() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"varnishd exited with {process.returncode}: {self.log()}")
            return "running" in self._adm("status", check=False)

        try:
            wait_until(running, timeout=timeout, what="varnishd answers varnishadm status")
        except AssertionError as error:
            self.stop()
            raise TimeoutError(f"{error}; its log: {self.log()}") from None
        # "a0 127.0.0.1 41235"
        self.port = int(self.admin("debug.listen_address").split()[-1])
        return self

    def log(self) -> str:
        return (self.workdir / "varnishd.log").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        process_stop(self.process, grace=10)
        self.process = None

    def admin(self, *command: str) -> str:
        return self._adm(*command, check=True)

    def _adm(self, *command: str, check: bool) -> str:
        varnishadm = find_program("varnishadm") or "varnishadm"
        result = subprocess.run(
            [varnishadm, "-n", self.name, "-t", "5", *command],
            capture_output=True,
            text=True,
            check=False,
            timeout=TOOL_TIMEOUT,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"varnishadm {' '.join(command)}: {result.stdout}{result.stderr}")
        return result.stdout

    def counters(self, *names: str) -> dict[str, int]:
        """varnishstat counters, e.g. counters("MAIN.cache_hit", "MAIN.cache_miss")."""
        varnishstat = find_program("varnishstat") or "varnishstat"
        fields = [arg for name in names for arg in ("-f", name)]
        result = subprocess.run(
            [varnishstat, "-n", self.name, "-1", *fields],
            capture_output=True,
            text=True,
            check=True,
            timeout=TOOL_TIMEOUT,
        )
        values = {}
        for line in result.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] in names:
                values[parts[0]] = int(parts[1])
        return values

    def forget_everything(self) -> None:
        """Every cached object banned: each test starts from an empty cache."""
        self.admin("ban", "obj.status", "!=", "0")

    def backend_health(self) -> dict[str, str]:
        """{backend name: "healthy" | "sick"} as the probes currently see it."""
        health = {}
        for line in self.admin("backend.list").splitlines()[1:]:
            parts = line.split()
            if len(parts) >= 4:
                health[parts[0].split(".")[-1]] = parts[3]
        return health

    def wait_for_health(self, backend: str, state: str, timeout: float = 15) -> float:
        """Seconds until the probe reports `state` for `backend`."""
        start = time.monotonic()
        try:
            wait_until(
                lambda: self.backend_health().get(backend) == state,
                timeout=timeout,
                what=f"the probe reports {backend} {state}",
                interval=0.1,
            )
        except AssertionError as error:
            raise AssertionError(f"{error}; the backends now: {self.backend_health()}") from None
        return time.monotonic() - start


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def cache(self) -> str | None:
        return self.headers.get("X-Cache")


def request(
    base_url: str,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> Response:
    """One HTTP/1.1 request on a fresh connection; redirects are not followed."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.request(method, path, headers=headers or {})
        raw = connection.getresponse()
        body = raw.read()
        return Response(raw.status, raw.headers, body)
    finally:
        connection.close()
