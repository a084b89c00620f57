"""`make bench`: the REST API for apps against the bare Django view, through gunicorn as `make
run` starts it (with a redis-server of its own for the rate limits, as a deployment has) and
wrk on loopback, scenarios interleaved over rounds (bench/run.py's helpers).

- bare_me: the bare view answering the bytes of the signed-in profile (me_profile's baseline)
- me_profile: GET /v3/me/profile with a personal token (token lookup and rate limit included)
- bare_key: the bare view answering the bytes of the keyed profile (profiles_key's baseline)
- profiles_key: GET /v3/profiles/<sha256> with a site key (key lookup, rate limit and the
  key's request count included)

Targets (issue 13): me_profile at least 0.4 of its bare view, profiles_key at least 0.5.
Writes bench/results/api.json and api.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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

from bench.bench_profiles import _redis  # noqa: E402
from bench.run import (  # noqa: E402
    REPORT_LUA,
    BenchFailed,
    _check,
    _environment,
    _gunicorn,
    _hardware,
    _wrk,
    status_lua,
)

SCENARIOS = {
    "bare_me": "a bare Django view answering me_profile's bytes (baseline)",
    "me_profile": "GET /v3/me/profile with a personal token",
    "bare_key": "a bare Django view answering profiles_key's bytes (baseline)",
    "profiles_key": "GET /v3/profiles/<sha256> with a site key",
}
# Each scenario's baseline: the bare view answering the same bytes.
BASELINES = {"me_profile": "bare_me", "profiles_key": "bare_key"}
TARGETS = {"me_profile": 0.4, "profiles_key": 0.5}
# High enough that no scenario meets the rate limit: the limiter's cost is measured, not 429s.
BENCH_RATE_LIMIT = "1000000000"


def seed() -> None:
    """In the benchmark's environment: one person with a published profile, an avatar, a
    personal token of every scope and a site key. Prints what the scenarios need."""
    import django

    django.setup()
    from accounts.models import User
    from api import scopes, services
    from avatars.models import Address
    from avatars.services import address_confirm, avatar_assign, avatar_store
    from bench.photos import jpeg, photo
    from profiles.models import Profile

    user = User.objects.create_user("bench-api@example.com", display_name="Bench")
    address = address_confirm(address=Address.objects.create(owner=user, email=user.email))
    avatar_assign(avatar=avatar_store(owner=user, data=jpeg(photo(512))), addresses=[address])
    Profile.objects.create(
        user=user, slug="bench-api", published=True, location="Lisbon", job_title="Tester"
    )
    _, token = services.personal_token_create(
        owner=user, name="bench", chosen_scopes=scopes.ALL, expires_at=None
    )
    _, key = services.site_key_create(owner=user, name="bench")
    print(json.dumps({"sha256": address.sha256, "token": token, "key": key}))


def _script(token: str) -> str:
    header = f'wrk.headers["Authorization"] = "Bearer {token}"\n' if token else ""
    status = status_lua(200)
    return header + status + REPORT_LUA


def _get(url: str, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=6, help="seconds per scenario per round")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    options = parser.parse_args()
    wrk = shutil.which("wrk")
    redis_server = shutil.which("redis-server")
    if wrk is None or redis_server is None:
        sys.exit("wrk and redis-server are needed: run `make system-packages` as root")
    started, load_before = time.monotonic(), os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="api-bench-") as folder:
        tmp = Path(folder)
        env = _environment(tmp)
        env.update(
            API_RATE_LIMIT=BENCH_RATE_LIMIT,
            API_KEY_RATE_LIMIT=BENCH_RATE_LIMIT,
            API_TOKEN_RATE_LIMIT=BENCH_RATE_LIMIT,
            BENCH_BARE_DIR=str(tmp / "bare"),
        )
        (tmp / "bare").mkdir()
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
        )
        seeded = subprocess.run(
            [PYTHON, "-m", "bench.bench_api", "seed"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        seed_data = json.loads(seeded.stdout.strip().splitlines()[-1])
        with (
            _redis(redis_server, tmp) as redis_url,
            _gunicorn({**env, "REDIS_URL": redis_url}, tmp) as base_url,
        ):
            urls = {
                "bare_me": f"{base_url}/bench/bare/me_profile",
                "me_profile": f"{base_url}/v3/me/profile",
                "bare_key": f"{base_url}/bench/bare/profiles_key",
                "profiles_key": f"{base_url}/v3/profiles/{seed_data['sha256']}",
            }
            secrets = {
                "bare_me": "",
                "me_profile": seed_data["token"],
                "bare_key": "",
                "profiles_key": seed_data["key"],
            }
            for name in BASELINES:
                status, body = _get(urls[name], secrets[name])
                if status != 200:
                    sys.exit(f"{name}: {urls[name]} answered {status}: {body[:300]!r}")
                (tmp / "bare" / name).write_bytes(body)
            keyed = json.loads((tmp / "bare" / "profiles_key").read_bytes())
            if "registration_date" not in keyed:
                sys.exit("profiles_key: the answer has no key fields; the key was not used")
            for name in SCENARIOS:
                (tmp / f"{name}.lua").write_text(_script(secrets[name]))
            try:
                for name in SCENARIOS:  # warm every worker
                    _check(name, _wrk(wrk, urls[name], tmp / f"{name}.lua", options, duration=2))
                runs: dict[str, list[dict[str, Any]]] = {name: [] for name in SCENARIOS}
                order = list(SCENARIOS)
                for number in range(options.rounds):
                    for name in order:
                        result = _wrk(
                            wrk, urls[name], tmp / f"{name}.lua", options, duration=options.duration
                        )
                        _check(name, result)
                        runs[name].append(result)
                        print(
                            f"round {number + 1}/{options.rounds} {name:>12}: "
                            f"{result['req_per_s']:8.0f} req/s  "
                            f"p99 {result['p99_us'] / 1000:6.2f} ms",
                            flush=True,
                        )
                    order = order[1:] + order[:1]
            except BenchFailed as failure:
                sys.exit(f"bench failed: {failure}")
    summary = _summarise(runs, options)
    summary["wall_seconds"] = round(time.monotonic() - started, 1)
    summary["hardware"]["load_average_before"] = [round(x, 2) for x in load_before]
    summary["hardware"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "api.json").write_text(json.dumps(summary, indent=2) + "\n")
    (RESULTS / "api.md").write_text(_markdown(summary))
    print(_markdown(summary))


def _summarise(
    runs: dict[str, list[dict[str, Any]]], options: argparse.Namespace
) -> dict[str, Any]:
    scenarios: dict[str, Any] = {}
    for name, results in runs.items():
        # Each round's ratio against its baseline's round beside it, then their mean: load
        # that changes between rounds hits both sides of a ratio alike.
        bare = runs[BASELINES.get(name, name)]
        ratios = [r["req_per_s"] / b["req_per_s"] for r, b in zip(results, bare, strict=True)]
        scenarios[name] = {
            "description": SCENARIOS[name],
            "req_per_s": round(statistics.mean(r["req_per_s"] for r in results), 1),
            "p50_ms": round(statistics.median(r["p50_us"] for r in results) / 1000, 3),
            "p99_ms": round(statistics.median(r["p99_us"] for r in results) / 1000, 3),
            "vs_bare": round(statistics.mean(ratios), 3),
            "rounds": [round(r["req_per_s"], 1) for r in results],
            "target": TARGETS.get(name),
        }
    return {
        "date": datetime.now(UTC).isoformat(timespec="minutes"),
        "options": vars(options),
        "scenarios": scenarios,
        "hardware": _hardware(),
    }


def _markdown(summary: dict[str, Any]) -> str:
    lines = [
        "| scenario | req/s | p50 ms | p99 ms | vs its bare view | target |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, row in summary["scenarios"].items():
        target = row["target"]
        verdict = (
            ""
            if target is None
            else f"{target}: {'met' if row['vs_bare'] >= target else 'not met'}"
        )
        lines.append(
            f"| {name}: {row['description']} | {row['req_per_s']:.0f} | {row['p50_ms']:.2f} | "
            f"{row['p99_ms']:.2f} | {row['vs_bare']:.2f} | {verdict} |"
        )
    load = summary["hardware"]["load_average_before"]
    lines.append("")
    lines.append(f"{summary['date']}, load average before the run {load[0]}.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["seed"]:
        seed()
    else:
        main()
