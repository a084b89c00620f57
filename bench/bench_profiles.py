"""`make bench`: the public profile answers at the origin against a bare Django view.

Seeds a temporary SQLite database with one published profile (bench.seed's setavatar, then
the profile's rows), starts gunicorn as `make run` does (deploy/gunicorn.conf.py, the app's
full middleware, bench/bench_urls.py's bare views) with its own redis-server (the rate-limit
store and the resolution channel, as in production), and drives it with wrk, the scenarios
interleaved in rounds:

  bare_json   a bare Django view answering the bytes of `json`, same middleware
  json        /<md5>.json of the published profile
  bare_v3     a bare Django view answering the bytes of `v3`
  v3          /v3/profiles/<sha256> of the published profile (rate limit counted in Redis)
  v3_unknown  /v3/profiles/<unknown sha256>: the 404 every private case gets
  page        /<slug>, the HTML page
  v3_db       /v3/profiles/<sha256> with the embedded default's rate-limit store (SQLite,
              no Redis), on a second gunicorn: what a node without Redis pays

Targets (issue 12): json and v3 at least 0.5 of their bare view. Beside each ratio, the
database queries per request (bench/origin_checks.py, one process after a warm-up).

Writes bench/results/profiles.json and profiles.md.
"""

from __future__ import annotations

import argparse
import json
import os
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

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
sys.path.insert(0, str(ROOT))

from bench.run import (  # noqa: E402
    REPORT_LUA,
    BenchFailed,
    _environment,
    _free_port,
    _gunicorn,
    _hardware,
    _wrk,
    status_lua,
)

TARGET_RATIO = 0.5
UNKNOWN_SHA256 = "fedcba9876543210" * 4
SCENARIOS = {
    "bare_json": "bare view, the bytes of json",
    "json": "/<md5>.json, published profile",
    "bare_v3": "bare view, the bytes of v3",
    "v3": "/v3/profiles/<sha256>, published profile, Redis rate limit",
    "v3_unknown": "/v3/profiles/<unknown>: the 404 of every private case",
    "page": "/<slug>, the HTML page",
    "v3_db": "/v3/profiles/<sha256>, no Redis: rate limit in SQLite",
}
EXPECTED_STATUS = {"v3_unknown": 404}
RATIOS = {"json": "bare_json", "v3": "bare_v3", "v3_db": "bare_v3", "v3_unknown": "bare_v3"}
QUERY_SAMPLE = 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds per scenario per round")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    options = parser.parse_args()
    wrk = shutil.which("wrk")
    redis_server = shutil.which("redis-server")
    if wrk is None or redis_server is None:
        sys.exit("wrk and redis-server are needed: run `make system-packages` as root")
    load_before = os.getloadavg()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="profile-bench-") as folder:
        tmp = Path(folder)
        env = _environment(tmp)
        env["BENCH_BARE_DIR"] = str(tmp / "bare")
        (tmp / "bare").mkdir()
        # Counted on every request, never refused: the cost of counting is what is measured.
        env["API_RATE_LIMIT"] = str(10**12)
        print("Seeding a published profile ...", flush=True)
        for command in (["migrate"], ["collectstatic"]):  # as `make run` does
            subprocess.run(
                [PYTHON, "manage.py", *command, "--noinput", "-v0"], cwd=ROOT, env=env, check=True
            )
        seeded = subprocess.run(
            [PYTHON, "-m", "bench.bench_profiles", "--seed"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        seed = json.loads(seeded.stdout.splitlines()[-1])
        for name in SCENARIOS:
            status = status_lua(EXPECTED_STATUS.get(name, 200))
            (tmp / f"{name}.lua").write_text(status + REPORT_LUA)
        with _redis(redis_server, tmp) as redis_url:
            with_redis = {**env, "REDIS_URL": redis_url}
            without = {**env, "PORT": str(_free_port()), "VAR_DIR": env["VAR_DIR"]}
            (tmp / "db").mkdir()
            with _gunicorn(with_redis, tmp) as base, _gunicorn(without, tmp / "db") as db_base:
                urls = {
                    "json": f"{base}/{seed['md5']}.json",
                    "v3": f"{base}/v3/profiles/{seed['sha256']}",
                    "v3_unknown": f"{base}/v3/profiles/{UNKNOWN_SHA256}",
                    "page": f"{base}/{seed['slug']}",
                    "v3_db": f"{db_base}/v3/profiles/{seed['sha256']}",
                }
                for name, source in (("bare_json", "json"), ("bare_v3", "v3")):
                    with urllib.request.urlopen(urls[source], timeout=10) as response:
                        (tmp / "bare" / f"{name}.json").write_bytes(response.read())
                    urls[name] = f"{base}/bench/bare/{name}.json"
                try:
                    _preflight(urls)
                    for name in SCENARIOS:  # warm every worker
                        _wrk(wrk, urls[name], tmp / f"{name}.lua", options, duration=1)
                    runs = _rounds(wrk, urls, tmp, options)
                except BenchFailed as failure:
                    sys.exit(f"bench failed: {failure}")
            print("Database queries per request ...", flush=True)
            paths = {name: "/" + url.split("/", 3)[3] for name, url in urls.items()}
            queries = _queries(with_redis, tmp, {n: p for n, p in paths.items() if n != "v3_db"})
            queries |= _queries(env, tmp, {"v3_db": paths["v3_db"]})
    summary = _summarise(runs, options, queries)
    summary["wall_seconds"] = round(time.monotonic() - started, 1)
    summary["hardware"]["load_average_before"] = [round(x, 2) for x in load_before]
    summary["hardware"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "profiles.json").write_text(json.dumps(summary, indent=2) + "\n")
    markdown = _markdown(summary)
    (RESULTS / "profiles.md").write_text(markdown)
    print()
    print(markdown)
    if any(summary["ratios"][name] < TARGET_RATIO for name in ("json", "v3")):
        sys.exit("a target was not met")


class _redis:
    """A redis-server of the benchmark's own on a free port, stopped by its pid."""

    def __init__(self, binary: str, tmp: Path) -> None:
        self.binary, self.tmp, self.port = binary, tmp, _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> str:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.tmp),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return f"redis://127.0.0.1:{self.port}/0"
            except OSError:
                time.sleep(0.05)
        self.__exit__()
        sys.exit("redis-server did not start")

    def __exit__(self, *_: object) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=10)


def _preflight(urls: dict[str, str]) -> None:
    for name, url in urls.items():
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        if status != EXPECTED_STATUS.get(name, 200):
            raise BenchFailed(f"{name}: {url} answered {status}")


def _rounds(wrk: str, urls: dict[str, str], tmp: Path, options: argparse.Namespace):
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in SCENARIOS}
    order = list(SCENARIOS)
    for number in range(options.rounds):
        for name in order:
            result = _wrk(wrk, urls[name], tmp / f"{name}.lua", options, duration=options.duration)
            if result["wrong_status"] or any(
                result[key] for key in ("connect_errors", "read_errors", "write_errors", "timeouts")
            ):
                raise BenchFailed(f"{name}: {result}")
            runs[name].append(result)
            print(
                f"round {number + 1}/{options.rounds} {name:>10}: {result['req_per_s']:8.0f} req/s"
                f"  p50 {result['p50_us'] / 1000:6.2f} ms  p99 {result['p99_us'] / 1000:6.2f} ms",
                flush=True,
            )
        order = order[1:] + order[:1]
    return runs


def _queries(env: dict[str, str], tmp: Path, paths: dict[str, str]) -> dict[str, float]:
    spec = {
        name: {"warm": [path], "measure": [path] * QUERY_SAMPLE} for name, path in paths.items()
    }
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


def _summarise(runs, options, queries) -> dict[str, Any]:
    scenarios = {
        name: {
            "description": SCENARIOS[name],
            "req_per_s": round(statistics.mean(r["req_per_s"] for r in results), 1),
            "p50_ms": round(statistics.median(r["p50_us"] for r in results) / 1000, 3),
            "p99_ms": round(statistics.median(r["p99_us"] for r in results) / 1000, 3),
            "requests": sum(r["requests"] for r in results),
            "db_queries_per_request": queries.get(name),
            "rounds": results,
        }
        for name, results in runs.items()
    }
    ratios = {
        name: round(scenarios[name]["req_per_s"] / scenarios[bare]["req_per_s"], 3)
        for name, bare in RATIOS.items()
    }
    ratios["page"] = round(scenarios["page"]["req_per_s"] / scenarios["bare_json"]["req_per_s"], 3)
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "ratios": ratios,
        "scenarios": scenarios,
        "setup": {
            "server": "gunicorn, deploy/gunicorn.conf.py (as `make run`), SQLite, own redis-server",
            "workers": int(os.environ.get("WEB_CONCURRENCY", (os.cpu_count() or 1) + 1)),
            "wrk": f"-t{options.threads} -c{options.connections}, "
            f"{options.rounds} rounds x {options.duration} s per scenario, interleaved",
        },
        "hardware": _hardware(),
    }


def _markdown(summary: dict[str, Any]) -> str:
    hardware = summary["hardware"]
    lines = [
        f"Profile origin benchmark, {summary['generated_at']}: {hardware['cpu']}, "
        f"{hardware['cores']} cores, Python {hardware['python']}, Django {hardware['django']} "
        f"({hardware['note']}; wrk {summary['setup']['wrk']}; 1-minute load average before "
        f"{hardware['load_average_before'][0]}, after {hardware['load_average_after'][0]}).",
        "",
        "| scenario | req/s | p50 ms | p99 ms | vs its bare view | DB queries/request |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, scenario in summary["scenarios"].items():
        ratio = summary["ratios"].get(name)
        queries = scenario["db_queries_per_request"]
        lines.append(
            f"| {name}: {scenario['description']} | {scenario['req_per_s']:.0f} | "
            f"{scenario['p50_ms']:.2f} | {scenario['p99_ms']:.2f} | "
            f"{'' if ratio is None else f'{ratio:.2f}'} | "
            f"{'' if queries is None else f'{queries:.2f}'} |"
        )
    ratios = summary["ratios"]
    lines += [
        "",
        f"json_vs_bare = {ratios['json']:.2f}, v3_vs_bare = {ratios['v3']:.2f} "
        f"(target: at least {TARGET_RATIO} each).",
    ]
    return "\n".join(lines) + "\n"


def seed(*, setup: bool = True) -> None:
    """In the benchmark's environment: one avatar by setavatar, then a published profile."""
    import io

    import django

    if setup:
        django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from avatars.models import Address
    from bench.photos import jpeg, photo
    from profiles.models import AddressChoice, Profile, ProfileAccount, ProfileLink

    email = "alice@bench.example"
    with tempfile.TemporaryDirectory() as folder:
        upload = Path(folder) / "alice.jpg"
        upload.write_bytes(jpeg(photo(512)))
        call_command("setavatar", email, str(upload), "--alt", "Alice", stdout=io.StringIO())
    address = Address.objects.get(email=email)
    user = address.owner
    user.display_name = "Alice Bench"
    user.save()
    profile = Profile.objects.create(
        user=user,
        published=True,
        slug="alice",
        first_name="Alice",
        last_name="Bench",
        about_me="Benchmarks things. https://alice.example/",
        location="Lisbon",
        job_title="Engineer",
        company="Bench",
        pronouns="she/her",
    )
    for position in range(3):
        ProfileLink.objects.create(
            profile=profile,
            position=position,
            label=f"Link {position}",
            url=f"https://alice.example/{position}",
        )
    for position, service in enumerate(("github", "mastodon", "bluesky")):
        ProfileAccount.objects.create(
            profile=profile,
            position=position,
            service=service,
            url=f"https://{service}.example/alice",
            verified_at=timezone.now(),
        )
    AddressChoice.objects.create(address=address, shows_profile=True, email_published=True)
    print(json.dumps({"md5": address.md5, "sha256": address.sha256, "slug": "alice"}))


if __name__ == "__main__":
    if sys.argv[1:] == ["--seed"]:
        seed()
    else:
        main()
