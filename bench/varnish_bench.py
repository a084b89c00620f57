"""`make bench`, after bench/run.py: the Varnish tier in front of gunicorn, on loopback.

1. Hit path: one cached avatar requested through deploy/varnish/default.vcl and through
   deploy/varnish/trivial.vcl (Varnish's built-in behaviour), wrk in rounds that run both
   back to back. Target: ours serves at least 90% of the trivial VCL's hits per second, as
   the median of the rounds' ratios.
2. Hit ratio: a Zipf(1.0) mix over 10,000 hashes, each requested in six URL spellings and
   with a browser mix of Accept headers, through default.vcl. Reported from a cold cache and
   in steady state (the 100,000 requests after a warm-up of 200,000). Target: at least 95%
   in steady state. For comparison, the ratio a cache keyed on the raw URL and Accept would
   reach on the same mix (modelled from the same distribution, not measured).
3. Freshness: avatars replaced through the service (purge after commit) while a client polls
   through Varnish; the time from the change until Varnish serves the new image.

Writes bench/results/varnish.json and varnish.md.
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import itertools
import json
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import PYTHON, REPORT_LUA, _environment, _gunicorn, _hardware, _wrk  # noqa: E402
from tests.varnish.harness import TRIVIAL_VCL, Varnish, find_program  # noqa: E402

RESULTS = ROOT / "bench" / "results"
HASHES = 10_000
ZIPF_EXPONENT = 1.0
# Chrome, Edge, Firefox and Safari all list image/avif today; older browsers only WebP; mail
# clients and bots neither.
ACCEPTS = [
    (85, "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"),
    (10, "image/webp,*/*"),
    (5, "*/*"),
]
# Six ways pages spell the same request (s=80, d=mp, r=g, f=n); %s is the hash.
SPELLINGS = [
    "/avatar/%s?d=mp",
    "/avatar/%S?s=80&d=mp",
    "/avatar/%s.jpg?size=80&default=mm",
    "/avatar/%s.png?d=mp&r=g&s=80",
    "/avatar/%s/?default=mp&f=n&utm_source=newsletter",
    "/avatar/%S?d=MP&s=080&forcedefault=no",
]
CHROME_ACCEPT = ACCEPTS[0][1]

HIT_LUA = 'wrk.headers["Accept"] = "__ACCEPT__"\n' + REPORT_LUA

ZIPF_LUA = r"""
thread_index = 0
local hashes, cumulative, total = {}, {}, 0
local spellings = __SPELLINGS__
local accepts = __ACCEPTS__

function setup(thread)
  thread:set("id", thread_index)
  thread_index = thread_index + 1
end

local limit, received, done_file = 0, 0, nil

function init(args)
  for line in io.lines(args[1]) do hashes[#hashes + 1] = line end
  for rank = 1, #hashes do
    total = total + 1 / rank ^ __EXPONENT__
    cumulative[rank] = total
  end
  math.randomseed(tonumber(args[2]) + id * 7919)
  limit, done_file = tonumber(args[3]), args[4]
end

-- Each thread stops after its share and says so: wrk itself only knows durations.
function response(status, headers, body)
  received = received + 1
  if received == limit then
    local marker = io.open(done_file, "a")
    marker:write("done\n")
    marker:close()
    wrk.thread:stop()
  end
end

local function zipf_hash()
  local x, low, high = math.random() * total, 1, #cumulative
  while low < high do
    local middle = math.floor((low + high) / 2)
    if cumulative[middle] < x then low = middle + 1 else high = middle end
  end
  return hashes[low]
end

function request()
  local hash = zipf_hash()
  local spelling = spellings[math.random(#spellings)]
  local path = spelling:gsub("%%S", hash:upper()):gsub("%%s", hash)
  local roll, accept = math.random(100), accepts[#accepts][2]
  for _, choice in ipairs(accepts) do
    if roll <= choice[1] then accept = choice[2] break end
    roll = roll - choice[1]
  end
  return wrk.format("GET", path, {["Accept"] = accept})
end
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--duration", type=int, default=5, help="seconds per hit-path run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=200_000, help="Zipf warm-up requests")
    parser.add_argument("--measured", type=int, default=100_000, help="Zipf measured requests")
    parser.add_argument("--changes", type=int, default=30)
    options = parser.parse_args()
    wrk = find_program("wrk")
    if wrk is None or find_program("varnishd") is None:
        sys.exit("wrk and varnishd are needed: run `make system-packages` as root")

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="varnish-bench-") as folder:
        tmp = Path(folder)
        env = _environment(tmp)
        print("Seeding a temporary database ...", flush=True)
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
        )
        seeded = subprocess.run(
            [PYTHON, "-m", "bench.seed", "1"], cwd=ROOT, env=env, check=True, capture_output=True
        )
        known = json.loads(seeded.stdout)["md5"][0]
        hashes = [
            hashlib.md5(f"zipf{rank}@bench.example".encode(), usedforsecurity=False).hexdigest()
            for rank in range(HASHES)
        ]
        (tmp / "hashes.txt").write_text("\n".join(hashes) + "\n")
        (tmp / "hit.lua").write_text(HIT_LUA.replace("__ACCEPT__", CHROME_ACCEPT))
        (tmp / "zipf.lua").write_text(_zipf_script())

        with _gunicorn(env, tmp) as app_url:
            app = ("127.0.0.1", int(app_url.rsplit(":", 1)[1]))
            ours = Varnish(tmp / "ours", [app]).start()
            trivial = Varnish(tmp / "trivial", [app], vcl=TRIVIAL_VCL).start()
            try:
                hit_path = _hit_path(wrk, {"ours": ours, "trivial": trivial}, known, tmp, options)
                ours.forget_everything()
                hit_ratio = _hit_ratio(wrk, ours, tmp, options)
                freshness = _freshness(ours, env, options.changes)
            finally:
                ours.stop()
                trivial.stop()
    summary = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "hit_path": hit_path,
        "hit_ratio": hit_ratio,
        "freshness": freshness,
        "hardware": _hardware(),
        "wall_seconds": round(time.monotonic() - started, 1),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "varnish.json").write_text(json.dumps(summary, indent=2) + "\n")
    markdown = _markdown(summary)
    (RESULTS / "varnish.md").write_text(markdown)
    print()
    print(markdown)


def _zipf_script() -> str:
    spellings = "{" + ", ".join(json.dumps(s) for s in SPELLINGS) + "}"
    accepts = "{" + ", ".join(f"{{{w}, {json.dumps(a)}}}" for w, a in ACCEPTS) + "}"
    return (
        ZIPF_LUA.replace("__SPELLINGS__", spellings)
        .replace("__ACCEPTS__", accepts)
        .replace("__EXPONENT__", str(ZIPF_EXPONENT))
    )


def _hit_path(
    wrk: str, nodes: dict[str, Varnish], known: str, tmp: Path, options: argparse.Namespace
) -> dict[str, Any]:
    path = f"/avatar/{known}?s=80&d=mp"
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in nodes}
    misses_before = {name: _stats(node)["MAIN.cache_miss"] for name, node in nodes.items()}
    order = list(nodes)
    for number in range(options.rounds + 1):
        for name in order:
            result = _wrk(
                wrk, nodes[name].url + path, tmp / "hit.lua", options, duration=options.duration
            )
            if number == 0:
                continue  # the first round fills the caches and warms both up
            runs[name].append(result)
            print(
                f"hit path round {number}/{options.rounds} {name:>7}: "
                f"{result['req_per_s']:8.0f} req/s  p99 {result['p99_us'] / 1000:6.2f} ms",
                flush=True,
            )
        order.reverse()
    scenarios = {}
    for name, results in runs.items():
        scenarios[name] = {
            "req_per_s": round(statistics.mean(r["req_per_s"] for r in results), 1),
            "p50_ms": round(statistics.median(r["p50_us"] for r in results) / 1000, 3),
            "p99_ms": round(statistics.median(r["p99_us"] for r in results) / 1000, 3),
            "errors": sum(
                r["connect_errors"]
                + r["read_errors"]
                + r["write_errors"]
                + r["timeouts"]
                + r["non_2xx_3xx"]
                for r in results
            ),
            "backend_fetches": _stats(nodes[name])["MAIN.cache_miss"] - misses_before[name],
            "rounds": results,
        }
    paired = [
        ours["req_per_s"] / trivial["req_per_s"]
        for ours, trivial in zip(runs["ours"], runs["trivial"], strict=True)
    ]
    return {
        "path": path,
        "accept": CHROME_ACCEPT,
        "wrk": f"-t{options.threads} -c{options.connections}, {options.rounds} rounds x "
        f"{options.duration} s per VCL, interleaved, after a warm-up round",
        "scenarios": scenarios,
        # Each round runs both VCLs back to back, so a burst of other load on this shared
        # machine lands on one pair; the median of the pairs' ratios shrugs off such rounds.
        "ours_vs_trivial": round(statistics.median(paired), 3),
        "ours_vs_trivial_rounds": [round(ratio, 3) for ratio in paired],
        "ours_vs_trivial_of_means": round(
            scenarios["ours"]["req_per_s"] / scenarios["trivial"]["req_per_s"], 3
        ),
    }


def _stats(node: Varnish) -> dict[str, int]:
    return node.counters("MAIN.cache_hit", "MAIN.cache_miss", "MAIN.client_req")


def _hit_ratio(wrk: str, node: Varnish, tmp: Path, options: argparse.Namespace) -> dict[str, Any]:
    start = _stats(node)
    warm = _replay(wrk, node, tmp, options, requests=options.warmup, seed=1)
    measured = _replay(wrk, node, tmp, options, requests=options.measured, seed=2)
    print(
        f"Zipf mix: {_ratio(start, warm):.4f} from cold, {_ratio(warm, measured):.4f} "
        "in steady state",
        flush=True,
    )
    counted = measured["MAIN.cache_hit"] + measured["MAIN.cache_miss"]
    counted -= warm["MAIN.cache_hit"] + warm["MAIN.cache_miss"]
    return {
        "hashes": HASHES,
        "zipf_exponent": ZIPF_EXPONENT,
        "spellings": SPELLINGS,
        "accept_mix": [{"percent": w, "accept": a} for w, a in ACCEPTS],
        "from_cold": round(_ratio(start, measured), 4),
        "steady_state": round(_ratio(warm, measured), 4),
        "warmup_requests": warm["MAIN.client_req"] - start["MAIN.client_req"],
        "measured_requests": counted,
        "objects": node.counters("MAIN.n_object")["MAIN.n_object"],
        "models": _models(options.warmup, options.measured),
    }


def _replay(
    wrk: str, node: Varnish, tmp: Path, options: argparse.Namespace, *, requests: int, seed: int
) -> dict[str, int]:
    """Sends `requests` requests of the Zipf mix (and the few in flight when each wrk thread
    stops); returns Varnish's counters once wrk has closed its connections, when Varnish
    has added them all up."""
    done = tmp / f"zipf-{seed}.done"
    share = requests // options.threads
    command = [wrk, f"-t{options.threads}", f"-c{options.connections}", "-d600s"]
    command += ["--timeout", "10s", "-s", str(tmp / "zipf.lua"), node.url]
    command += ["--", str(tmp / "hashes.txt"), str(seed), str(share), str(done)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not done.exists() or len(done.read_text().split()) < options.threads:
            if process.poll() is not None:
                raise RuntimeError("wrk stopped early")
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait()
    time.sleep(0.5)  # the sessions' counters reach the totals when they close
    return _stats(node)


def _ratio(before: dict[str, int], after: dict[str, int]) -> float:
    hits = after["MAIN.cache_hit"] - before["MAIN.cache_hit"]
    misses = after["MAIN.cache_miss"] - before["MAIN.cache_miss"]
    return hits / max(1, hits + misses)


def _models(warmup: int, measured: int) -> dict[str, dict[str, float]]:
    """Hit ratios on the same distribution, drawn here with Python's generator (not wrk's
    sequence): `ideal` if every URL the app treats alike shared one object (what the VCL
    aims for), `raw_url_key` for a cache keyed on the raw URL and Accept (trivial.vcl)."""
    rng = random.Random(3)
    cumulative = list(
        itertools.accumulate(1 / rank**ZIPF_EXPONENT for rank in range(1, HASHES + 1))
    )
    weights = [w for w, _ in ACCEPTS]
    # With an extension the app ignores Accept; without, it picks AVIF, WebP or neither.
    extension = [".jpg" in spelling or ".png" in spelling for spelling in SPELLINGS]
    seen: dict[str, set[tuple[int, int, int]]] = {"ideal": set(), "raw_url_key": set()}
    hits = {name: {"from_cold": 0, "steady_state": 0} for name in seen}
    for number in range(warmup + measured):
        rank = bisect.bisect(cumulative, rng.random() * cumulative[-1])
        spelling = rng.randrange(len(SPELLINGS))
        accept = rng.choices(range(len(ACCEPTS)), weights)[0]
        keys = {
            "ideal": (rank, 0, len(ACCEPTS) - 1 if extension[spelling] else accept),
            "raw_url_key": (rank, spelling, accept),
        }
        for name, key in keys.items():
            hit = key in seen[name]
            seen[name].add(key)
            hits[name]["from_cold"] += hit
            if number >= warmup:
                hits[name]["steady_state"] += hit
    return {
        name: {
            "from_cold": round(counts["from_cold"] / (warmup + measured), 4),
            "steady_state": round(counts["steady_state"] / measured, 4),
            "objects": len(seen[name]),
        }
        for name, counts in hits.items()
    }


def _freshness(node: Varnish, env: dict[str, str], changes: int) -> dict[str, Any]:
    """Replace an avatar through the service, as the account pages do, and poll through
    Varnish until it serves the new image."""
    result = subprocess.run(
        [PYTHON, "-m", "bench.varnish_changes", node.url, str(changes)],
        cwd=ROOT,
        env={**env, "VARNISH_NODES": node.url},
        check=True,
        capture_output=True,
        text=True,
    )
    latencies = sorted(json.loads(result.stdout)["seconds"])
    p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
    print(f"Changes visible through Varnish: p99 {p99 * 1000:.0f} ms", flush=True)
    return {
        "changes": len(latencies),
        "median_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(p99 * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
    }


def _markdown(summary: dict[str, Any]) -> str:
    hardware, hit_path = summary["hardware"], summary["hit_path"]
    ratio, fresh = summary["hit_ratio"], summary["freshness"]
    ideal, raw = ratio["models"]["ideal"], ratio["models"]["raw_url_key"]
    lines = [
        f"Varnish tier benchmark, {summary['generated_at']}: {hardware['cpu']}, "
        f"{hardware['cores']} cores; Varnish 7.1 and wrk share them with gunicorn on loopback.",
        "",
        f"Hit path (`{hit_path['path']}`, a Chrome Accept header; wrk {hit_path['wrk']}):",
        "",
        "| VCL | req/s | p50 ms | p99 ms | errors | backend fetches |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, label in (("ours", "default.vcl"), ("trivial", "trivial.vcl (built-in)")):
        scenario = hit_path["scenarios"][name]
        lines.append(
            f"| {label} | {scenario['req_per_s']:.0f} | {scenario['p50_ms']:.2f} | "
            f"{scenario['p99_ms']:.2f} | {scenario['errors']} | {scenario['backend_fetches']} |"
        )
    lines += [
        "",
        f"ours_vs_trivial = {hit_path['ours_vs_trivial']:.2f}, the median of "
        f"{len(hit_path['ours_vs_trivial_rounds'])} rounds' ratios "
        f"({min(hit_path['ours_vs_trivial_rounds']):.2f}-"
        f"{max(hit_path['ours_vs_trivial_rounds']):.2f}; ratio of the means "
        f"{hit_path['ours_vs_trivial_of_means']:.2f}; target: at least 0.90).",
        "",
        f"Hit ratio on a Zipf({ratio['zipf_exponent']}) mix over {ratio['hashes']:,} hashes, "
        f"each in {len(ratio['spellings'])} URL spellings, Accept from a browser mix "
        f"(avif {ACCEPTS[0][0]}%, webp only {ACCEPTS[1][0]}%, neither {ACCEPTS[2][0]}%):",
        "",
        "| | default.vcl (measured) | ideal (modelled) | raw URL + Accept key (modelled) |",
        "|---|---:|---:|---:|",
        f"| from cold ({ratio['warmup_requests'] + ratio['measured_requests']:,} requests) | "
        f"{ratio['from_cold']:.1%} | {ideal['from_cold']:.1%} | {raw['from_cold']:.1%} |",
        f"| steady state ({ratio['measured_requests']:,} requests after "
        f"{ratio['warmup_requests']:,}) | {ratio['steady_state']:.1%} | "
        f"{ideal['steady_state']:.1%} | {raw['steady_state']:.1%} |",
        f"| objects | {ratio['objects']:,} | {ideal['objects']:,} | {raw['objects']:,} |",
        "",
        "Target: at least 95% in steady state. Ideal: every URL the app answers alike shares "
        "one object; the raw key is what trivial.vcl would cache. Gravatar's 2007 Varnish "
        "reported 65%.",
        "",
        f"Change visible through Varnish ({fresh['changes']} avatar replacements through the "
        f"service, purge after commit): median {fresh['median_ms']:.0f} ms, "
        f"p99 {fresh['p99_ms']:.0f} ms, max {fresh['max_ms']:.0f} ms (target: under 2 s).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
