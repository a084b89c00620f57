"""Instructions per request of each `make bench` scenario, in process, under callgrind.

wrk's ratios move with whatever else the machine runs; an instruction count does not. This
seeds the same temporary database as bench/run.py, loads the same WSGI application
(`gravatar.wsgi` with bench/bench_settings.py, the full middleware stack), and calls it in one
process under `valgrind --tool=callgrind` for each scenario: warm-up requests first (the
caches a worker holds after a few seconds of wrk), then callgrind's counters are zeroed, the
measured requests run, and the counters are dumped (bench/callgrind_marks.c, compiled here
with gcc). Every thread counts, so an encoder's worker threads are included.

The ratio beside each scenario is the bare view's count divided by the scenario's: the
throughput ratio the origin would reach if only Django's work counted. wrk's ratios are
closer to 1 than these, since gunicorn's HTTP handling and wrk itself cost the same for
every scenario; the counts say where a scenario's own work stands.

`--no-valgrind` runs the same loop natively and reports CPU microseconds per request instead
(quick, but as noisy as the machine). Writes bench/results/instructions.json and .md.
"""

from __future__ import annotations

import argparse
import ctypes
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
MARKS_SOURCE = ROOT / "bench" / "callgrind_marks.c"
# Warm-up requests per scenario: enough for every cache a worker fills in its first second.
WARM = 30
DESCRIPTIONS = {
    "bare": "bare Django view, same bytes (baseline)",
    "known": "known hash, s=80, rendition cached",
    "default": "unknown hash, d=identicon, cached",
    "not_found": "unknown hash, d=404",
    "new_default": "never-seen hash, d=identicon, drawn and encoded",
    "cold": "known hashes, a new size each request (JPEG)",
    "cold_avif": "known hashes, a new size each request, Chrome's Accept (AVIF)",
}
TARGETS = {"known": 0.85, "default": 0.85, "not_found": 0.85, "new_default": 0.5, "cold_avif": 0.3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="measured, hot scenarios")
    parser.add_argument("--cold-requests", type=int, default=40, help="measured, cold ones")
    parser.add_argument("--no-valgrind", action="store_true", help="CPU time, natively")
    parser.add_argument("--only", nargs="*", choices=list(DESCRIPTIONS), help="these scenarios")
    parser.add_argument("--keep", action="store_true", help="keep the callgrind dumps")
    parser.add_argument("--no-write", action="store_true", help="print, do not write results")
    parser.add_argument("--json-out", type=Path, help="also write the summary here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        _child(json.loads(Path(options.child).read_text()))
        return
    valgrind = None if options.no_valgrind else shutil.which("valgrind")
    if not options.no_valgrind and valgrind is None:
        sys.exit("valgrind is not installed: run `make system-packages` as root")
    from bench import run

    started = time.monotonic()
    folder = tempfile.mkdtemp(prefix="avatar-instructions-")
    tmp = Path(folder)
    try:
        env = run._environment(tmp)
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
        )
        cold_count = 8
        seeded = subprocess.run(
            [PYTHON, "-m", "bench.seed", str(cold_count + 1)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        hashes = json.loads(seeded.stdout)["md5"]
        spec = {
            "known": hashes[0],
            "cold": hashes[1:],
            "requests": options.requests,
            "cold_requests": options.cold_requests,
            "scenarios": options.only or list(DESCRIPTIONS),
            "marks": None,
            "result": str(tmp / "cpu.json"),
        }
        command = [PYTHON, str(Path(__file__).resolve()), "--child", str(tmp / "spec.json")]
        if valgrind:
            marks = tmp / "callgrind_marks.so"
            subprocess.run(
                ["gcc", "-O1", "-shared", "-fPIC", "-o", str(marks), str(MARKS_SOURCE)],
                check=True,
            )
            spec["marks"] = str(marks)
            command = [
                valgrind,
                "--tool=callgrind",
                "--quiet",
                f"--callgrind-out-file={tmp}/callgrind.out",
                *command,
            ]
        (tmp / "spec.json").write_text(json.dumps(spec))
        print(f"Measuring {', '.join(spec['scenarios'])} ...", flush=True)
        subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=3000)
        if valgrind:
            per_request = _read_dumps(tmp, spec)
            unit = "instructions"
        else:
            per_request = json.loads((tmp / "cpu.json").read_text())
            unit = "cpu_us"
    finally:
        if options.keep:
            print(f"callgrind dumps kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    summary = _summarise(per_request, unit, time.monotonic() - started)
    markdown = _markdown(summary)
    if options.json_out:
        options.json_out.write_text(json.dumps(summary, indent=2) + "\n")
    if not options.no_write and valgrind:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "instructions.json").write_text(json.dumps(summary, indent=2) + "\n")
        (RESULTS / "instructions.md").write_text(markdown)
    print(markdown)


def _read_dumps(tmp: Path, spec: dict[str, Any]) -> dict[str, float]:
    """Each CALLGRIND_DUMP_STATS_AT file: its trigger names the scenario, `summary:` its total."""
    per_request = {}
    for dump in tmp.glob("callgrind.out.*"):
        text = dump.read_text(errors="replace")
        trigger = re.search(r"^desc: Trigger: Client Request: (\S+)$", text, re.MULTILINE)
        total = re.search(r"^(?:summary|totals): (\d+)", text, re.MULTILINE)
        if trigger is None or total is None or trigger.group(1) not in DESCRIPTIONS:
            continue
        name = trigger.group(1)
        count = spec["cold_requests"] if name in _COLD_LIKE else spec["requests"]
        per_request[name] = int(total.group(1)) / count
    missing = set(spec["scenarios"]) - set(per_request)
    if missing:
        sys.exit(f"no callgrind dump for {sorted(missing)} in {tmp}")
    return per_request


_COLD_LIKE = ("cold", "cold_avif", "new_default")


def _summarise(per_request: dict[str, float], unit: str, seconds: float) -> dict[str, Any]:
    bare = per_request.get("bare")
    scenarios = {}
    for name in DESCRIPTIONS:
        if name not in per_request:
            continue
        value = per_request[name]
        scenarios[name] = {
            "description": DESCRIPTIONS[name],
            f"{unit}_per_request": round(value, 1),
            "bare_over_this": round(bare / value, 3) if bare else None,
            "target_in_make_bench": TARGETS.get(name),
        }
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "unit": unit,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "wall_seconds": round(seconds, 1),
        "scenarios": scenarios,
    }


def _markdown(summary: dict[str, Any]) -> str:
    unit = summary["unit"]
    heading = "instructions/request" if unit == "instructions" else "CPU µs/request"
    lines = [
        f"In-process cost per request ({'callgrind' if unit == 'instructions' else 'CPU time'},"
        f" {summary['generated_at']}; the WSGI application with the full middleware stack, "
        "no HTTP server, no network):",
        "",
        f"| scenario | {heading} | bare ÷ scenario | wrk target |",
        "|---|---:|---:|---:|",
    ]
    for name, scenario in summary["scenarios"].items():
        value = scenario[f"{unit}_per_request"]
        shown = f"{value:,.0f}" if unit == "instructions" else f"{value:,.1f}"
        ratio = scenario["bare_over_this"]
        target = scenario["target_in_make_bench"]
        lines.append(
            f"| {name}: {scenario['description']} | {shown} | "
            f"{'' if ratio is None else f'{ratio:.2f}'} | {'' if target is None else target} |"
        )
    return "\n".join(lines) + "\n"


# The child: Django, the WSGI application and the request loop, under callgrind or not.

CHROME_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"


def _child(spec: dict[str, Any]) -> None:
    marks = ctypes.CDLL(spec["marks"]) if spec["marks"] else None
    from avatars.resolution import resolution_start
    from gravatar.wsgi import application

    resolution_start()  # as gunicorn's post_worker_init does, with the metrics' tally
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from gravatar import metrics

        metrics.buffer_start()
    port = os.environ.get("PORT", "8000")
    host = f"127.0.0.1:{port}"

    def call(path: str, accept: str = "") -> tuple[str, bytes]:
        return _call(application, host, path, accept)

    # The bare view answers the bytes of the known hash at s=80, as in bench/run.py.
    _, body = call(f"/avatar/{spec['known']}?s=80")
    Path(os.environ["BENCH_BARE_FILE"]).write_bytes(body)
    unknown = "0123456789abcdef0123456789abcdef"
    hot = {
        "bare": "/bench/bare",
        "known": f"/avatar/{spec['known']}?s=80",
        "default": f"/avatar/{unknown}?d=identicon",
        "not_found": f"/avatar/{unknown}?d=404",
    }
    # As bench/run.py's cold scenarios: sizes from all over the preview's range, none twice.
    from bench.run import COLD_SIZE_STRIDE, COLD_SIZES

    sizes = (
        COLD_SIZES[(step * COLD_SIZE_STRIDE) % len(COLD_SIZES)] for step in range(len(COLD_SIZES))
    )
    prefix = secrets.token_hex(8)

    def cold_paths(count: int) -> Iterator[str]:
        for _ in range(count):
            size = next(sizes)
            for digest in spec["cold"]:
                yield f"/avatar/{digest}?s={size}"

    results: dict[str, float] = {}
    for name in spec["scenarios"]:
        accept = CHROME_ACCEPT if name == "cold_avif" else ""
        warm: list[str]
        if name in hot:
            warm, measured = [hot[name]] * WARM, [hot[name]] * spec["requests"]
        elif name == "new_default":
            fresh = (f"/avatar/{prefix}{n:016x}?d=identicon" for n in range(10**6))
            warm = [next(fresh) for _ in range(WARM)]
            measured = [next(fresh) for _ in range(spec["cold_requests"])]
        else:
            paths = cold_paths(1 + (WARM + spec["cold_requests"]) // len(spec["cold"]))
            warm = [next(paths) for _ in range(WARM)]
            measured = [next(paths) for _ in range(spec["cold_requests"])]
        for path in warm:
            _expect(name, call(path, accept))
        results[name] = _measure(marks, name, measured, partial(call, accept=accept))
    Path(spec["result"]).write_text(json.dumps(results))


def _measure(
    marks: ctypes.CDLL | None,
    name: str,
    paths: list[str],
    call: Callable[[str], tuple[str, bytes]],
) -> float:
    answers = []
    if marks is not None:
        marks.marks_zero()
    started = time.process_time()
    for path in paths:
        answers.append(call(path))
    spent = time.process_time() - started
    if marks is not None:
        marks.marks_dump(name.encode())
    for answer in answers:
        _expect(name, answer)
    return spent / len(paths) * 1e6


def _expect(name: str, answer: tuple[str, bytes]) -> None:
    status, _ = answer
    wanted = "404" if name == "not_found" else "200"
    if not status.startswith(wanted):
        raise SystemExit(f"{name}: answered {status}, not {wanted}")


def _call(application: Any, host: str, path: str, accept: str) -> tuple[str, bytes]:
    """One request as gunicorn hands it to the application (the environ of a wrk request)."""
    path_info, _, query = path.partition("?")
    name, _, port = host.partition(":")
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "RAW_URI": path,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": name,
        "SERVER_PORT": port,
        "SERVER_SOFTWARE": "gunicorn/23.0.0",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "HTTP_HOST": host,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if accept:
        environ["HTTP_ACCEPT"] = accept
    started: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started.append(status)

    result = application(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return started[0], body


if __name__ == "__main__":
    main()
