"""`make bench`: what the metrics cost the avatar endpoint (target: at most 5 %).

Two gunicorn servers exactly as `make run` starts them (deploy/gunicorn.conf.py), on one
seeded database and media folder: one with metrics on (the request middleware, every count,
prometheus_client's multiprocess files), one with METRICS_ENABLED=false (no middleware, no
files, every count a no-op). wrk drives one at a time, on and off back to back in each round
(which goes first alternates), so drift hits both alike. Two measures per run: throughput,
and the CPU time the server's processes spent per request (utime + stime from /proc, read
before and after each run). Other load on the machine moves throughput a lot and CPU time
per request less; both are reported, each the median of the rounds' on/off ratios, and CPU
time judges the target when `--no-instructions` skips the third measure.

The target is judged on that third measure, which the machine's load does not move at all:
instructions per request under callgrind (bench/bench_instructions.py, the WSGI application
in one process, metrics on with multiprocess files and the tally as in a gunicorn worker,
against metrics off). It leaves out gunicorn's HTTP handling, which costs the same either way,
so its overhead is an upper bound of the whole request's.

Beside them, in one process with prometheus_client's multiprocess files (`--micro`), the
instrumentation an avatar request runs, timed alone: the middleware's clock reads, the path's
group, the request counter and histogram, and the rendition lookup count; tallied as under
gunicorn, and written at once.

Scenarios: a known hash at s=80 with its rendition cached (the hottest path there is), an
unknown hash with a cached identicon, and d=404.

Writes bench/results/metrics.json and metrics.md.
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
    UNKNOWN_MD5,
    BenchFailed,
    _check,
    _environment,
    _free_port,
    _gunicorn,
    _hardware,
    _script,
    _wrk,
)

TARGET_OVERHEAD = 0.05
SCENARIOS = {
    "known": "known hash, s=80, rendition cached",
    "default": "unknown hash, d=identicon, cached",
    "not_found": "unknown hash, d=404",
}
MODES = ("on", "off")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--duration", type=int, default=4, help="seconds per run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--micro", action="store_true", help="the in-process timing, as JSON")
    parser.add_argument(
        "--no-instructions", action="store_true", help="skip the callgrind count (minutes)"
    )
    options = parser.parse_args()
    if options.micro:
        print(json.dumps(_micro()))
        return
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk is not installed: run `make system-packages` as root")
    load_before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="avatar-bench-metrics-") as folder:
        tmp = Path(folder)
        env = _environment(tmp)
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
        )
        seeded = subprocess.run(
            [PYTHON, "-m", "bench.seed", "1"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        known = json.loads(seeded.stdout)["md5"][0]
        for name in SCENARIOS:
            (tmp / f"{name}.lua").write_text(_script(name, options.threads))
        Path(env["BENCH_BARE_FILE"]).write_bytes(b"")
        envs = {
            "on": {**env, "METRICS_ENABLED": "true"},
            "off": {**env, "METRICS_ENABLED": "false", "PORT": str(_free_port())},
        }
        logs = {mode: tmp / mode for mode in MODES}
        for folder_of_mode in logs.values():
            folder_of_mode.mkdir()
        servers = {mode: _gunicorn(envs[mode], logs[mode]) for mode in MODES}
        with servers["on"] as on_url, servers["off"] as off_url:
            bases = {"on": on_url, "off": off_url}
            paths = {
                "known": f"/avatar/{known}?s=80",
                "default": f"/avatar/{UNKNOWN_MD5}?d=identicon",
                "not_found": f"/avatar/{UNKNOWN_MD5}?d=404",
            }
            try:
                _preflight(bases)
                print("Warming both servers ...", flush=True)
                for mode in MODES:
                    for name, path in paths.items():
                        result = _wrk(
                            wrk, bases[mode] + path, tmp / f"{name}.lua", options, duration=2
                        )
                        _check(name, result)
                runs = _rounds(wrk, servers, bases, paths, tmp, options)
                counted = _counted(bases["on"])
            except BenchFailed as failure:
                sys.exit(
                    f"bench failed: {failure}\n"
                    + "\n".join(f"{m}: {servers[m].log_tail()}" for m in MODES)
                )
    summary = _summarise(runs, options)
    with tempfile.TemporaryDirectory(prefix="avatar-bench-metrics-micro-") as folder:
        micro = subprocess.run(
            [PYTHON, "bench/bench_metrics.py", "--micro"],
            cwd=ROOT,
            env={**env, "PROMETHEUS_MULTIPROC_DIR": folder, "METRICS_ENABLED": "true"},
            check=True,
            capture_output=True,
            text=True,
        )
    summary["instrumentation_us_per_request"] = json.loads(micro.stdout)
    if not options.no_instructions:
        summary["instructions"] = _instructions()
        for name in SCENARIOS:
            summary["scenarios"][name]["target_met"] = (
                summary["instructions"][name]["overhead"] <= TARGET_OVERHEAD
            )
    summary["requests_counted_by_metrics"] = counted
    summary["hardware"] = {
        **_hardware(),
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    (RESULTS / "metrics.md").write_text(_markdown(summary))
    print(_markdown(summary))


def _micro(count: int = 200_000) -> dict[str, float]:
    """Microseconds of the instrumentation one cached avatar request runs, best of 5."""
    import timeit

    import django

    django.setup()
    from time import perf_counter

    from gravatar import metrics

    def one_request() -> None:
        started = perf_counter()
        metrics.rendition_lookup(layer=metrics.MEMORY, outcome=metrics.HIT)
        metrics.request_observe(
            group=metrics.endpoint_group("/avatar/0123456789abcdef0123456789abcdef"),
            status=200,
            seconds=perf_counter() - started,
        )

    one_request()
    unbuffered = min(timeit.repeat(one_request, number=count, repeat=5)) / count
    metrics.buffer_start()  # as deploy/gunicorn.conf.py does in each worker
    best = min(timeit.repeat(one_request, number=count, repeat=5)) / count
    return {"cached_avatar": round(best * 1e6, 2), "unbuffered": round(unbuffered * 1e6, 2)}


def _instructions(requests: int = 100) -> dict[str, dict[str, float]]:
    """Instructions per request with metrics on and off (bench/bench_instructions.py)."""
    counted: dict[str, dict[str, Any]] = {}
    for mode in MODES:
        with tempfile.TemporaryDirectory(prefix="avatar-bench-metrics-instructions-") as folder:
            env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
            env["METRICS_ENABLED"] = "true" if mode == "on" else "false"
            if mode == "on":
                env["PROMETHEUS_MULTIPROC_DIR"] = str(Path(folder) / "multiproc")
                Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir()
            out = Path(folder) / "instructions.json"
            print(f"Counting instructions, metrics {mode} ...", flush=True)
            subprocess.run(
                [
                    PYTHON,
                    "bench/bench_instructions.py",
                    "--only",
                    "bare",
                    *SCENARIOS,
                    "--requests",
                    str(requests),
                    "--no-write",
                    "--json-out",
                    str(out),
                ],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                timeout=3000,
            )
            counted[mode] = json.loads(out.read_text())["scenarios"]
    return {
        name: {
            "on": counted["on"][name]["instructions_per_request"],
            "off": counted["off"][name]["instructions_per_request"],
            "overhead": round(
                counted["on"][name]["instructions_per_request"]
                / counted["off"][name]["instructions_per_request"]
                - 1,
                4,
            ),
        }
        for name in ("bare", *SCENARIOS)
    }


def _preflight(bases: dict[str, str]) -> None:
    """The on server answers /metrics, the off server does not have it."""
    with urllib.request.urlopen(f"{bases['on']}/metrics", timeout=10) as answer:
        if b"avatars_http_requests_total" not in answer.read():
            raise BenchFailed("the server with metrics on answers /metrics without them")
    try:
        urllib.request.urlopen(f"{bases['off']}/metrics", timeout=10)
    except urllib.error.HTTPError as error:
        if error.code != 404:
            raise BenchFailed(f"metrics off: /metrics answered {error.code}, not 404") from None
    else:
        raise BenchFailed("metrics off: /metrics still answers")


def _counted(base: str) -> float:
    """The avatar requests the metrics counted, all workers together: the aggregation works
    under load, and the numbers above measured a server that really counted."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "avatars_http_requests_total" and sample.labels["group"] == "avatar"
    )


def _cpu_seconds(server: _gunicorn) -> float:
    """CPU time of gunicorn's arbiter and every worker (its children) so far."""
    assert server.process is not None
    root = server.process.pid
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:  # gone meanwhile
            continue
        # After the command: state, ppid, ... utime is field 14 and stime 15 of stat(5).
        if int(entry.name) == root or int(fields[1]) == root:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _rounds(
    wrk: str,
    servers: dict[str, _gunicorn],
    bases: dict[str, str],
    paths: dict[str, str],
    tmp: Path,
    options: argparse.Namespace,
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {
        name: {mode: [] for mode in MODES} for name in SCENARIOS
    }
    for number in range(options.rounds):
        order = MODES if number % 2 == 0 else MODES[::-1]
        for name, path in paths.items():
            line = []
            for mode in order:
                cpu_before = _cpu_seconds(servers[mode])
                result = _wrk(
                    wrk, bases[mode] + path, tmp / f"{name}.lua", options, duration=options.duration
                )
                _check(name, result)
                result["cpu_us_per_request"] = (
                    (_cpu_seconds(servers[mode]) - cpu_before) / result["requests"] * 1e6
                )
                runs[name][mode].append(result)
                line.append(
                    f"{mode} {result['req_per_s']:7.0f} req/s "
                    f"{result['cpu_us_per_request']:6.0f} us CPU/request"
                )
            print(f"round {number + 1}/{options.rounds} {name:>9}: " + ", ".join(line), flush=True)
    return runs


def _summarise(
    runs: dict[str, dict[str, list[dict[str, Any]]]], options: argparse.Namespace
) -> dict[str, Any]:
    scenarios = {}
    for name, by_mode in runs.items():
        ratios = [
            on["req_per_s"] / off["req_per_s"]
            for on, off in zip(by_mode["on"], by_mode["off"], strict=True)
        ]
        ratio = statistics.median(ratios)
        cpu_ratios = [
            on["cpu_us_per_request"] / off["cpu_us_per_request"]
            for on, off in zip(by_mode["on"], by_mode["off"], strict=True)
        ]
        cpu_ratio = statistics.median(cpu_ratios)
        scenarios[name] = {
            "description": SCENARIOS[name],
            **{
                f"{mode}_req_per_s": round(statistics.median(r["req_per_s"] for r in results), 1)
                for mode, results in by_mode.items()
            },
            **{
                f"{mode}_p99_ms": round(statistics.median(r["p99_us"] for r in results) / 1000, 3)
                for mode, results in by_mode.items()
            },
            **{
                f"{mode}_cpu_us_per_request": round(
                    statistics.median(r["cpu_us_per_request"] for r in results), 1
                )
                for mode, results in by_mode.items()
            },
            "round_ratios": [round(r, 3) for r in ratios],
            "ratio": round(ratio, 3),
            "throughput_overhead": round(1 - ratio, 3),
            "round_cpu_ratios": [round(r, 3) for r in cpu_ratios],
            "cpu_ratio": round(cpu_ratio, 3),
            "cpu_overhead": round(cpu_ratio - 1, 3),
            "target_met": cpu_ratio - 1 <= TARGET_OVERHEAD,
        }
    return {
        "date": datetime.now(UTC).isoformat(timespec="minutes"),
        "rounds": options.rounds,
        "duration_s": options.duration,
        "wrk": f"-t{options.threads} -c{options.connections}",
        "scenarios": scenarios,
    }


def _markdown(summary: dict[str, Any]) -> str:
    lines = [
        f"# Metrics overhead ({summary['date']})",
        "",
        f"wrk {summary['wrk']}, {summary['rounds']} rounds of {summary['duration_s']} s per "
        "server, on and off back to back; each ratio is the median of the rounds' ratios. "
        f"Target: at most {TARGET_OVERHEAD:.0%} more per request with metrics on, judged on "
        "instructions (below) when counted, else on the server's CPU time.",
        "",
        "| scenario | CPU µs/request on | off | overhead | req/s on | off | on/off | "
        "p99 ms on | off | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in summary["scenarios"].values():
        lines.append(
            f"| {s['description']} | {s['on_cpu_us_per_request']:.0f} | "
            f"{s['off_cpu_us_per_request']:.0f} | {s['cpu_overhead']:+.1%} | "
            f"{s['on_req_per_s']:.0f} | {s['off_req_per_s']:.0f} | {s['ratio']:.3f} | "
            f"{s['on_p99_ms']:.2f} | {s['off_p99_ms']:.2f} | "
            f"{'met' if s['target_met'] else 'not met'} |"
        )
    micro = summary["instrumentation_us_per_request"]["cached_avatar"]
    known_cpu = summary["scenarios"]["known"]["off_cpu_us_per_request"]
    lines += [
        "",
        f"The instrumentation of one cached avatar request, timed alone in one process with "
        f"multiprocess files: {micro:.1f} µs, {micro / known_cpu:.1%} of the "
        f"{known_cpu:.0f} µs of CPU a known-hash request costs the server without metrics "
        "(wrk's own CPU not included); written to the files at once, without the tally: "
        f"{summary['instrumentation_us_per_request']['unbuffered']:.1f} µs.",
    ]
    if "instructions" in summary:
        lines += [
            "",
            "Instructions per request under callgrind (load-independent; the WSGI application in "
            "one process, so gunicorn's share, the same either way, is left out: an upper bound "
            "of the whole request's overhead). The target is judged on these.",
            "",
            "| scenario | instructions on | off | overhead | target |",
            "|---|---:|---:|---:|---|",
        ]
        for name, counted in summary["instructions"].items():
            description = SCENARIOS.get(name, "bare Django view (goes through the middleware)")
            verdict = (
                ""
                if name == "bare"
                else ("met" if counted["overhead"] <= TARGET_OVERHEAD else "not met")
            )
            lines.append(
                f"| {description} | {counted['on']:,.0f} | {counted['off']:,.0f} | "
                f"{counted['overhead']:+.1%} | {verdict} |"
            )
    lines += ["", "Rounds (CPU on/off; throughput on/off):", ""]
    for s in summary["scenarios"].values():
        lines.append(
            f"- {s['description']}: {', '.join(f'{r:.3f}' for r in s['round_cpu_ratios'])}; "
            f"{', '.join(f'{r:.2f}' for r in s['round_ratios'])}"
        )
    lines += [
        "",
        f"Avatar requests the metrics counted on the on server: "
        f"{summary['requests_counted_by_metrics']:.0f}.",
        f"Load average before and after: {summary['hardware']['load_average_before']}, "
        f"{summary['hardware']['load_average_after']}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
