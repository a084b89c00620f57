"""`make bench`: the origin under wrk, on loopback, in the gunicorn configuration `make run` uses.

Seeds a temporary SQLite database and media folder with `setavatar`, starts gunicorn with
deploy/gunicorn.conf.py (and bench/bench_settings.py, which only adds a bare baseline view),
then runs the scenarios interleaved in rounds so that drift (thermal, noisy neighbours) hits
each of them alike; each ratio is the median over rounds of the scenario against the bare view
of the same round:

  bare       a bare Django view answering the same bytes as (known), same middleware
  known      a known hash at s=80, its rendition cached
  default    an unknown hash with d=identicon, its rendition cached
  cold       known hashes at a size never asked before (a new rendition every request)
  cold_avif  the same with Chrome's Accept: an AVIF when its worker has made no other rendition
             for a second, else the JPEG stand-in for a minute (the AVIF answers are counted)
  not_found  an unknown hash with d=404
  new_default  a never-seen hash with d=identicon every request (resolved, drawn, encoded)

Beside each ratio it reports the database round-trips per request (bench/origin_checks.py,
counted in one process after the rounds), and how soon a change made by another process
(`setavatar` replacing the known avatar) is served by every worker.

Every response must have the scenario's status (404 for not_found, 200 for the others) and
no socket may fail: otherwise the run stops with a non-zero exit and says what went wrong,
since a fast error page is not a result.

Writes bench/results/latest.json, latest.md and latest.png, and runs the in-process rendition
microbenchmark (bench/bench_renditions.py) into the same results.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Run as a script: the repository root, for the bench package and Django's settings.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import origin_checks
from bench.photos import photo, variant

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
UNKNOWN_MD5 = "0123456789abcdef0123456789abcdef"
# Renditions up to this edge come from the stored preview; the cold scenario stays within it,
# as nearly all real requests do.
COLD_SIZES = range(24, 257)
# The cold scenarios step through COLD_SIZES by this stride (coprime to their count, so every
# size comes once): each round asks for sizes from all over the range. In order, the later
# rounds got only the larger, dearer sizes, and the cold ratio fell round by round.
COLD_SIZE_STRIDE = 97
assert math.gcd(COLD_SIZE_STRIDE, len(COLD_SIZES)) == 1
# What Chrome (and Edge) send for an <img>: the case most browsers cause.
CHROME_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"

SCENARIOS = {
    "bare": "bare Django view, same bytes (baseline)",
    "known": "known hash, s=80, rendition cached",
    "default": "unknown hash, d=identicon, cached",
    "cold": "known hashes, a new size each request",
    "cold_avif": "known hashes, a new size each request, Chrome's Accept (AVIF)",
    "not_found": "unknown hash, d=404",
    "new_default": "never-seen hash, d=identicon, drawn and encoded",
}
EXPECTED_STATUS = {"not_found": 404}  # 200 for the others
# The Accept header a scenario sends, and the Content-Type it must get back.
ACCEPT = {"cold_avif": CHROME_ACCEPT}
CONTENT_TYPE = {"cold_avif": "image/avif"}
COLD = ("cold", "cold_avif")

# Counts, in every thread, the responses whose status is not __EXPECTED__; REPORT_LUA's done()
# adds them up. (wrk's own error count cannot tell an expected 404 from a 500.)
STATUS_LUA = r"""
status_threads = {}
local earlier_setup = setup
function setup(thread)
  status_threads[#status_threads + 1] = thread
  if earlier_setup then earlier_setup(thread) end
end

unexpected = 0
unexpected_status = 0
avif = 0
function response(status, headers, body)
  if status ~= __EXPECTED__ then
    unexpected = unexpected + 1
    unexpected_status = status
  end
  __COUNT_AVIF__
end
"""
# Only cold_avif looks at a header: the others' wrk threads do no more work than before.
COUNT_AVIF_LUA = 'if headers["Content-Type"] == "image/avif" then avif = avif + 1 end'
# Seconds each hot scenario runs unmeasured before its measured run in a round.
SETTLE_SECONDS = 2
# Requests per scenario whose database queries are counted.
QUERY_SAMPLE = 200

REPORT_LUA = r"""
function done(summary, latency, requests)
  local e = summary.errors
  local unexpected, unexpected_status, avif, issued = 0, 0, 0, 0
  for _, thread in ipairs(status_threads or {}) do
    unexpected = unexpected + thread:get("unexpected")
    avif = avif + thread:get("avif")
    issued = math.max(issued, thread:get("issued") or 0)
    if thread:get("unexpected_status") ~= 0 then
      unexpected_status = thread:get("unexpected_status")
    end
  end
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"timeouts":%d,"non_2xx_3xx":%d,' ..
    '"wrong_status":%d,"wrong_status_example":%d,"avif_answers":%d,' ..
    '"issued_per_thread_max":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    unexpected, unexpected_status, avif, issued,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
"""

COLD_LUA = r"""
thread_index = 0
local hashes = {}
-- Global, not local: REPORT_LUA's done() reads each thread's count of requests it made.
issued = 0
local first = 0
local sizes = __SIZES__
local smallest = __SMALLEST__

function setup(thread)
  thread:set("id", thread_index)
  thread_index = thread_index + 1
end

local headers = {}

function init(args)
  first = tonumber(args[1])
  for line in io.lines(args[2]) do hashes[#hashes + 1] = line end
  if args[3] then headers["Accept"] = args[3] end
end

function request()
  -- A global sequence number, unique across threads and rounds: (avatar, size) never repeats
  -- until every avatar has been asked at every size.
  local n = first + issued * __THREADS__ + id
  issued = issued + 1
  local hash = hashes[(n % #hashes) + 1]
  local size = smallest + ((math.floor(n / #hashes) * __STRIDE__) % sizes)
  return wrk.format(nil, "/avatar/" .. hash .. "?s=" .. size, headers)
end
"""


NEW_DEFAULT_LUA = r"""
thread_index = 0
local counter = 0
local prefix = ""

function setup(thread)
  thread:set("id", thread_index)
  thread_index = thread_index + 1
end

function init(args)
  prefix = args[1]
end

function request()
  -- 16 hex digits new each round, then thread and sequence: never the same hash twice.
  counter = counter + 1
  local hash = prefix .. string.format("%08x%08x", id, counter)
  return wrk.format(nil, "/avatar/" .. hash .. "?d=identicon")
end
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=4, help="seconds per scenario per round")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    # Each cold scenario walks avatars x COLD_SIZES renditions without repeating one: enough
    # for 5 rounds of 4 s at 2,300 req/s, half of them for each cold scenario.
    parser.add_argument("--cold-avatars", type=int, default=400)
    parser.add_argument("--skip-microbench", action="store_true")
    options = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk is not installed: run `make system-packages` as root")

    started = time.monotonic()
    load_before = os.getloadavg()
    uptime_before = _uptime()
    with tempfile.TemporaryDirectory(prefix="avatar-bench-") as folder:
        tmp = Path(folder)
        env = _environment(tmp)
        print("Seeding a temporary database with setavatar ...", flush=True)
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
        )
        seeded = subprocess.run(
            [PYTHON, "-m", "bench.seed", str(options.cold_avatars + 1)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        seed = json.loads(seeded.stdout)
        hashes = seed["md5"]
        known, cold = hashes[0], hashes[1:]
        # Each cold scenario has avatars of its own: cold_avif's stand-in is the JPEG that
        # cold makes of the same avatar at the same size, which it would find cached.
        half = len(cold) // 2
        for name, share in (("cold", cold[:half]), ("cold_avif", cold[half:])):
            (tmp / f"{name}-hashes.txt").write_text("\n".join(share) + "\n")
        for name in SCENARIOS:
            (tmp / f"{name}.lua").write_text(_script(name, options.threads))

        server = _gunicorn(env, tmp)
        with server as base_url:
            urls = {
                "bare": f"{base_url}/bench/bare",
                "known": f"{base_url}/avatar/{known}?s=80",
                "default": f"{base_url}/avatar/{UNKNOWN_MD5}?d=identicon",
                "cold": f"{base_url}/avatar/",
                "cold_avif": f"{base_url}/avatar/",
                "not_found": f"{base_url}/avatar/{UNKNOWN_MD5}?d=404",
                "new_default": f"{base_url}/avatar/",
            }
            with urllib.request.urlopen(urls["known"], timeout=10) as response:
                Path(env["BENCH_BARE_FILE"]).write_bytes(response.read())
            try:
                # A cold URL of the hash the cold scenarios never ask for, as a sample.
                _preflight(urls, sample_cold=f"{base_url}/avatar/{known}?s={COLD_SIZES.start}")
                print("Warming every worker's caches ...", flush=True)
                for name in ("bare", "known", "default", "not_found"):
                    _check(name, _wrk(wrk, urls[name], tmp / f"{name}.lua", options, duration=2))
                runs = _rounds(wrk, urls, tmp, options, capacity=half * len(COLD_SIZES))
                print("Freshness: another process changes the known avatar ...", flush=True)
                replacement = tmp / "replacement.jpg"
                replacement.write_bytes(variant(photo(512), 10_000))
                freshness = origin_checks.freshness(
                    url=urls["known"],
                    command=[PYTHON, "manage.py", "setavatar", seed["emails"][0], str(replacement)],
                    cwd=ROOT,
                    env=env,
                )
            except BenchFailed as failure:
                sys.exit(f"bench failed: {failure}\ngunicorn's log ends:\n{server.log_tail()}")
        print("Database round-trips per request ...", flush=True)
        queries = _queries(env, tmp, known, cold)
    summary = _summarise(runs, options)
    for name, per_request in queries.items():
        summary["scenarios"][name]["db_queries_per_request"] = per_request
    summary["freshness"] = freshness
    if not options.skip_microbench:
        print("Rendition microbenchmark ...", flush=True)
        micro = subprocess.run(
            [PYTHON, "bench/bench_renditions.py", "--json"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        summary["renditions"] = json.loads(micro.stdout)
    summary["wall_seconds"] = round(time.monotonic() - started, 1)
    # Other work on the machine skews every number: record it so a noisy run is visible.
    summary["hardware"]["load_average_before"] = [round(x, 2) for x in load_before]
    summary["hardware"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    summary["hardware"]["uptime_before"] = uptime_before
    summary["hardware"]["uptime_after"] = _uptime()
    _write(summary)


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _environment(tmp: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        # A developer's Varnish is no part of the benchmark: its changes must not purge it.
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "VARNISH_NODES"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bench.bench_settings",
        VAR_DIR=str(tmp / "var"),
        DATABASE_URL=f"sqlite:///{tmp / 'var' / 'db.sqlite3'}",
        BENCH_BARE_FILE=str(tmp / "bare.jpg"),
        HOST="127.0.0.1",
        PORT=str(_free_port()),
        DEBUG="false",
        PYTHONPATH=str(ROOT),
    )
    (tmp / "var").mkdir()
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class BenchFailed(Exception):
    """A scenario got answers it should not have: its numbers would measure an error path."""


def _expected_status(name: str) -> int:
    return EXPECTED_STATUS.get(name, 200)


def status_lua(expected: int, *, count_avif: bool = False) -> str:
    """STATUS_LUA for a scenario whose every answer should have status `expected` (every
    benchmark that reports through REPORT_LUA writes its script with this)."""
    return STATUS_LUA.replace("__EXPECTED__", str(expected)).replace(
        "__COUNT_AVIF__", COUNT_AVIF_LUA if count_avif else ""
    )


def _script(name: str, threads: int) -> str:
    status = status_lua(_expected_status(name), count_avif=name in CONTENT_TYPE)
    # Scripts that define setup() come first: STATUS_LUA's setup calls theirs.
    first = _cold_script(threads) if name in COLD else ""
    if name == "new_default":
        first = NEW_DEFAULT_LUA
    return first + status + REPORT_LUA


def _preflight(urls: dict[str, str], *, sample_cold: str) -> None:
    """One request per scenario: the status and format it will be measured on."""
    for name in SCENARIOS:
        url = sample_cold if name in COLD else urls[name]
        headers = {"Accept": ACCEPT[name]} if name in ACCEPT else {}
        try:
            with urllib.request.urlopen(
                urllib.request.Request(url, headers=headers), timeout=10
            ) as r:
                status, content_type = r.status, r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            status, content_type = error.code, error.headers.get("Content-Type", "")
        if status != _expected_status(name):
            raise BenchFailed(f"{name}: {url} answered {status}, not {_expected_status(name)}")
        if name in CONTENT_TYPE and content_type != CONTENT_TYPE[name]:
            raise BenchFailed(
                f"{name}: {url} answered {content_type!r}, not {CONTENT_TYPE[name]!r} "
                "(is Pillow built with AVIF?)"
            )


def _check(name: str, result: dict[str, Any]) -> None:
    problems = []
    if result["wrong_status"]:
        problems.append(
            f"{result['wrong_status']} of {result['requests']} responses were not "
            f"{_expected_status(name)} (one was {result['wrong_status_example']})"
        )
    sockets = {key: result[key] for key in SOCKET_ERRORS if result[key]}
    if sockets:
        problems.append(f"socket errors {sockets}")
    if problems:
        raise BenchFailed(f"{name}: " + "; ".join(problems))


SOCKET_ERRORS = ("connect_errors", "read_errors", "write_errors", "timeouts")


class _gunicorn:
    """gunicorn exactly as deploy/run-local.sh starts it, stopped by its own pid."""

    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        self.env, self.log = env, tmp / "gunicorn.log"
        self.url = f"http://{env['HOST']}:{env['PORT']}"
        self.process: subprocess.Popen[bytes] | None = None

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def __enter__(self) -> str:
        command = [str(Path(PYTHON).parent / "gunicorn"), "gravatar.wsgi", "-c"]
        command.append("deploy/gunicorn.conf.py")
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1):
                    return self.url
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        self.__exit__()
        sys.exit(f"gunicorn did not start:\n{self.log.read_text()[-3000:]}")

    def __exit__(self, *_: object) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _queries(env: dict[str, str], tmp: Path, known: str, cold: list[str]) -> dict[str, float]:
    """Database round-trips per request of each scenario, in one process as a worker runs,
    after the warm-up the rounds give it (hot hashes resolved once)."""
    fresh = [f"/avatar/{secrets.token_hex(16)}?d=identicon" for _ in range(QUERY_SAMPLE)]
    cold_paths = [
        f"/avatar/{cold[n % len(cold)]}?s={COLD_SIZES.start + 1 + n // len(cold)}"
        for n in range(QUERY_SAMPLE)
    ]
    paths = {
        "bare": "/bench/bare",
        "known": f"/avatar/{known}?s=80",
        "default": f"/avatar/{UNKNOWN_MD5}?d=identicon",
        "not_found": f"/avatar/{UNKNOWN_MD5}?d=404",
    }
    spec: dict[str, dict[str, Any]] = {
        name: {"warm": [path], "measure": [path] * QUERY_SAMPLE} for name, path in paths.items()
    }
    spec["cold"] = {
        "warm": [f"/avatar/{h}?s={COLD_SIZES.start}" for h in cold],
        "measure": cold_paths,
    }
    spec["cold_avif"] = {**spec["cold"], "accept": CHROME_ACCEPT}
    spec["new_default"] = {"warm": [], "measure": fresh}
    (tmp / "queries.json").write_text(json.dumps(spec))
    counted = subprocess.run(
        [PYTHON, "-m", "bench.origin_checks", "queries", str(tmp / "queries.json")],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(counted.stdout)
    return result


def _cold_script(threads: int) -> str:
    return (
        COLD_LUA.replace("__SIZES__", str(len(COLD_SIZES)))
        .replace("__SMALLEST__", str(COLD_SIZES.start))
        .replace("__THREADS__", str(threads))
        .replace("__STRIDE__", str(COLD_SIZE_STRIDE))
    )


def _wrk(
    wrk: str,
    url: str,
    script: Path,
    options: argparse.Namespace,
    *,
    duration: int,
    script_args: tuple[str, ...] = (),
) -> dict[str, Any]:
    command = [wrk, f"-t{options.threads}", f"-c{options.connections}", f"-d{duration}s"]
    command += ["--timeout", "10s", "-s", str(script), url]
    if script_args:
        command += ["--", *script_args]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRKJSON "))
    result: dict[str, Any] = json.loads(line.removeprefix("WRKJSON "))
    result["req_per_s"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def _rounds(
    wrk: str, urls: dict[str, str], tmp: Path, options: argparse.Namespace, *, capacity: int
) -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in SCENARIOS}
    order = list(SCENARIOS)
    # Each cold scenario walks the (avatar, size) pairs of its own avatars.
    cold_next = dict.fromkeys(COLD, 0)
    for number in range(options.rounds):
        for name in order:
            if name == "new_default":
                result = _wrk(
                    wrk,
                    urls[name],
                    tmp / f"{name}.lua",
                    options,
                    duration=options.duration,
                    script_args=(secrets.token_hex(8),),
                )
            elif name in COLD:
                accept = (ACCEPT[name],) if name in ACCEPT else ()
                result = _wrk(
                    wrk,
                    urls[name],
                    tmp / f"{name}.lua",
                    options,
                    duration=options.duration,
                    script_args=(str(cold_next[name]), str(tmp / f"{name}-hashes.txt"), *accept),
                )
                # Past the busiest thread's last request (those still in flight when wrk
                # stopped were rendered too): the threads walk the sequence interleaved, and
                # skipping only the total count of answers let the next round ask again for
                # what the busier thread had already asked, and get it from a cache.
                cold_next[name] += result["issued_per_thread_max"] * options.threads + 100
                if cold_next[name] > capacity:
                    print(f"warning: {name} requests wrapped past {capacity} renditions")
            else:
                # Unmeasured first: for a second or two after a cold scenario (whichever
                # scenario follows it in the rotation, always the same one) throughput is
                # lower, which had put d=404 at 0.6-0.7 of the cached default in every round.
                _wrk(wrk, urls[name], tmp / f"{name}.lua", options, duration=SETTLE_SECONDS)
                result = _wrk(
                    wrk, urls[name], tmp / f"{name}.lua", options, duration=options.duration
                )
            _check(name, result)
            runs[name].append(result)
            print(
                f"round {number + 1}/{options.rounds} {name:>9}: "
                f"{result['req_per_s']:8.0f} req/s  p50 {result['p50_us'] / 1000:6.2f} ms  "
                f"p99 {result['p99_us'] / 1000:6.2f} ms",
                flush=True,
            )
        order = order[1:] + order[:1]  # each scenario takes each slot of a round in turn
    return runs


def _summarise(
    runs: dict[str, list[dict[str, Any]]], options: argparse.Namespace
) -> dict[str, Any]:
    scenarios = {}
    for name, results in runs.items():
        scenarios[name] = {
            "description": SCENARIOS[name],
            "req_per_s": round(statistics.median(r["req_per_s"] for r in results), 1),
            "p50_ms": round(statistics.median(r["p50_us"] for r in results) / 1000, 3),
            "p99_ms": round(statistics.median(r["p99_us"] for r in results) / 1000, 3),
            "requests": sum(r["requests"] for r in results),
            "socket_errors": sum(
                r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"]
                for r in results
            ),
            "non_2xx_3xx": sum(r["non_2xx_3xx"] for r in results),
            "expected_status": _expected_status(name),
            "wrong_status": sum(r["wrong_status"] for r in results),
            "rounds": results,
        }
        if name in CONTENT_TYPE:
            # How many got the AVIF, the others the image's own format for a minute while
            # their worker was busy with other renditions (avatars/renditions.py).
            scenarios[name]["avif_answers"] = sum(r["avif_answers"] for r in results)
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "ratios": {
            f"{name}_vs_bare": _round_ratio(runs[name], runs["bare"])
            for name in SCENARIOS
            if name != "bare"
        },
        "scenarios": scenarios,
        "setup": {
            "server": "gunicorn, deploy/gunicorn.conf.py (as `make run`), SQLite, in-process cache",
            "workers": int(os.environ.get("WEB_CONCURRENCY", (os.cpu_count() or 1) + 1)),
            "wrk": f"-t{options.threads} -c{options.connections}, "
            f"{options.rounds} rounds x {options.duration} s per scenario, interleaved",
        },
        "hardware": _hardware(),
    }


def _round_ratio(results: list[dict[str, Any]], bare: list[dict[str, Any]]) -> float:
    """The median over rounds of the scenario's req/s over the bare view's in the same round: a
    round that something else on the machine slowed down moves both, and one disturbed run
    moves a median of rounds less than a mean."""
    ratios = [run["req_per_s"] / base["req_per_s"] for run, base in zip(results, bare, strict=True)]
    return round(statistics.median(ratios), 3)


def _hardware() -> dict[str, Any]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_gb = 0.0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kb = int(meminfo.read_text().split()[1])
        memory_gb = round(total_kb / 1024 / 1024, 1)
    import django
    import PIL

    return {
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "pillow": PIL.__version__,
        "note": "wrk and gunicorn share these cores on loopback",
    }


def _write(summary: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(summary, indent=2) + "\n")
    markdown = _markdown(summary)
    (RESULTS / "latest.md").write_text(markdown)
    _chart(summary, RESULTS / "latest.png")
    print()
    print(markdown)


def _markdown(summary: dict[str, Any]) -> str:
    hardware, ratios = summary["hardware"], summary["ratios"]
    lines = [
        f"Origin benchmark, {summary['generated_at']}: {hardware['cpu']}, "
        f"{hardware['cores']} cores, {hardware['memory_gb']} GB, Python {hardware['python']}, "
        f"Django {hardware['django']}, Pillow {hardware['pillow']} "
        f"({hardware['note']}; {summary['setup']['workers']} gunicorn workers; wrk "
        f"{summary['setup']['wrk']}; 1-minute load average before the run "
        f"{hardware.get('load_average_before', ['?'])[0]}; `uptime` before: "
        f"{hardware.get('uptime_before', '?')}; after: {hardware.get('uptime_after', '?')}).",
        "",
        "Medians over the rounds; *vs bare* is the median of each round's ratio to the bare"
        " view in the same round.",
        "",
        "| scenario | req/s | p50 ms | p99 ms | vs bare | DB queries/request |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, scenario in summary["scenarios"].items():
        ratio = ratios.get(f"{name}_vs_bare", 1.0)
        lines.append(
            f"| {name}: {scenario['description']} | {scenario['req_per_s']:.0f} | "
            f"{scenario['p50_ms']:.2f} | {scenario['p99_ms']:.2f} | "
            f"{ratio:.2f} | "
            f"{scenario.get('db_queries_per_request', float('nan')):.2f} |"
        )
    lines += [
        "",
        f"known_vs_bare = {ratios['known_vs_bare']:.2f}, "
        f"default_vs_bare = {ratios['default_vs_bare']:.2f}, "
        f"not_found_vs_bare = {ratios['not_found_vs_bare']:.2f} (target: at least 0.85 each); "
        f"new_default_vs_bare = {ratios['new_default_vs_bare']:.2f} (target: at least 0.5); "
        f"cold_avif_vs_bare = {ratios['cold_avif_vs_bare']:.2f} (target: at least 0.3).",
    ]
    avif = summary["scenarios"]["cold_avif"]
    if "avif_answers" in avif:
        lines += [
            "",
            f"cold_avif: {avif['avif_answers']} of {avif['requests']} answers were AVIF; the "
            "others were the JPEG stand-in (60 s) that a cold AVIF gets while its worker is "
            "busy with other renditions, whose AVIF was queued at a lower priority "
            "(bench/bench_instructions.py counts what an AVIF encode itself costs).",
        ]
    fresh = summary.get("freshness")
    if fresh:
        lines += [
            "",
            "Freshness at the origin: `setavatar` in another process replaced the known avatar; "
            f"{origin_checks.FRESH_IN_A_ROW} requests in a row on new connections served the new "
            f"image {fresh['seconds_until_every_worker'] * 1000:.0f} ms after the command exited "
            f"({fresh['stale_answers_after_the_change']} stale answers before; target "
            f"{fresh['target_seconds']:.0f} s: {'met' if fresh['met'] else 'NOT met'}).",
        ]
    renditions = summary.get("renditions")
    if renditions:
        lines += ["", renditions["markdown"]]
    return "\n".join(lines) + "\n"


def _chart(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summary["scenarios"])
    scenarios = [summary["scenarios"][name] for name in names]
    figure, (throughput, latency) = plt.subplots(1, 2, figsize=(11, 4))
    throughput.bar(names, [s["req_per_s"] for s in scenarios], color="#3b7dd8")
    throughput.set_title("Throughput (req/s, higher is better)")
    positions = range(len(names))
    latency.bar([p - 0.2 for p in positions], [s["p50_ms"] for s in scenarios], 0.4, label="p50")
    latency.bar([p + 0.2 for p in positions], [s["p99_ms"] for s in scenarios], 0.4, label="p99")
    latency.set_xticks(list(positions), names)
    latency.set_title("Latency (ms, lower is better)")
    latency.legend()
    hardware = summary["hardware"]
    figure.suptitle(
        f"Avatar origin under wrk: {hardware['cpu']}, {hardware['cores']} cores "
        f"(known/bare {summary['ratios']['known_vs_bare']:.2f}, "
        f"default/bare {summary['ratios']['default_vs_bare']:.2f})"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


if __name__ == "__main__":
    main()
