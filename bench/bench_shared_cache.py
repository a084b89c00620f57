"""`make bench`: how much the shared cache (Redis) grows per 10,000 never-seen hashes.

Requests `/avatar/<hash>?d=identicon` for N distinct unknown hashes through the whole app
(middleware, view, renditions; the Django test client, a temporary SQLite database) against a
real Redis, twice: as the code now behaves (per-hash defaults stay out of the shared cache),
and with every default kind shared, as before. Growth is counted under a key prefix of the
run's own (keys, and the bytes Redis reports with MEMORY USAGE), so nothing else in that Redis
is counted or touched, and the run deletes its keys at the end; it never flushes.

The Redis is `--redis-url` (e.g. redis://127.0.0.1:6379/4), else a private `redis-server` on
a free port when one is installed, else REDIS_URL. Also times what leaving a default out
costs on a miss in a worker: drawing and PNG-encoding every kind at 80, 512 and 2048 px.

Writes bench/results/shared_cache.json and shared_cache.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

TARGET_BYTES_PER_10K = 0  # by design: a never-seen hash adds nothing to the shared cache
DRAW_SIZES = (80, 512, 2048)


@contextmanager
def _redis(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    server = shutil.which("redis-server")
    if server is None:
        fallback = os.environ.get("REDIS_URL")
        if not fallback:
            sys.exit("no Redis: install redis-server, set REDIS_URL or pass --redis-url")
        yield fallback
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(port=port, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    sys.exit("the private redis-server did not start")
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _setup_django(tmp: Path, redis_url: str, prefix: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="gravatar.settings",
        VAR_DIR=str(tmp),
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        REDIS_URL=redis_url,
        DEBUG="false",
    )
    os.environ.pop("VARNISH_NODES", None)
    import warnings

    import django

    # No collectstatic here: whitenoise's warning about it says nothing about this run.
    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    from django.conf import settings

    # Before the first use of the cache, which reads this once.
    settings.CACHES["default"]["KEY_PREFIX"] = prefix
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host name is allowed
    call_command("migrate", "--noinput", verbosity=0)


def _run_keys(client: Any, prefix: str) -> list[bytes]:
    return list(client.scan_iter(match=f"{prefix}:*", count=1000))


def _delete(client: Any, keys: list[bytes]) -> None:
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])


def _growth(hashes: int, redis_url: str, prefix: str, *, share_every_kind: bool) -> dict[str, Any]:
    import redis
    from django.test import Client

    from avatars import renditions
    from avatars.defaults import GENERATORS

    renditions.memory_cache().clear()
    shared_before = renditions.SHARED_DEFAULTS
    if share_every_kind:
        renditions.SHARED_DEFAULTS = frozenset(GENERATORS)
    # Any: redis-py types every reply as possibly awaitable.
    client: Any = redis.Redis.from_url(redis_url, socket_timeout=5)
    _delete(client, _run_keys(client, prefix))
    used_before = int(client.info("memory")["used_memory"])
    dbsize_before = int(client.dbsize())
    browser = Client()
    started = time.perf_counter()
    try:
        for _ in range(hashes):
            response = browser.get(f"/avatar/{uuid.uuid4().hex}?d=identicon&s=80")
            if response.status_code != 200:
                sys.exit(f"unexpected {response.status_code} for a never-seen hash")
        elapsed = time.perf_counter() - started
        keys = _run_keys(client, prefix)
        key_bytes = sum(int(client.memory_usage(key) or 0) for key in keys)
        used_after = int(client.info("memory")["used_memory"])
        dbsize_after = int(client.dbsize())
    finally:
        renditions.SHARED_DEFAULTS = shared_before
        _delete(client, _run_keys(client, prefix))
    per_10k = 10_000 / hashes
    return {
        "hashes": hashes,
        "keys_added": len(keys),
        "dbsize_added": dbsize_after - dbsize_before,
        "memory_usage_bytes": key_bytes,
        "bytes_per_10k_hashes": round(key_bytes * per_10k),
        "used_memory_delta_per_10k": round((used_after - used_before) * per_10k),
        "bytes_per_hash": round(key_bytes / hashes, 1),
        "ms_per_request": round(elapsed / hashes * 1000, 3),
    }


def _draw_costs(runs: int) -> dict[str, dict[str, float]]:
    """Median ms to draw and PNG-encode one default, a fresh hash each time: what a worker
    pays on a miss for a default the shared cache no longer holds."""
    from avatars.defaults import GENERATORS, render_default
    from avatars.imaging import encode

    costs: dict[str, dict[str, float]] = {}
    for kind in GENERATORS:
        costs[kind] = {}
        for size in DRAW_SIZES:
            count = runs if size < 2048 else max(3, runs // 4)
            times = []
            for _ in range(count):
                seed = uuid.uuid4().hex
                start = time.perf_counter()
                encode.encode(render_default(kind, seed, size, "JD"), "PNG")
                times.append(time.perf_counter() - start)
            costs[kind][str(size)] = round(statistics.median(times) * 1000, 2)
    return costs


def _markdown(result: dict[str, Any]) -> str:
    now, before = result["now"], result["before"]
    lines = [
        f"Shared-cache growth, {result['generated_at']}: {now['hashes']} never-seen hashes, "
        "`/avatar/<hash>?d=identicon&s=80` through the app, real Redis "
        f"({result['redis']}), counted under the run's own key prefix.",
        "",
        "| | keys added (DBSIZE delta) | bytes per 10,000 hashes (MEMORY USAGE) |",
        "|---|---:|---:|",
        f"| now: per-hash defaults not shared | {now['keys_added']} ({now['dbsize_added']}) | "
        f"{now['bytes_per_10k_hashes']:,} |",
        f"| before: every default shared | {before['keys_added']} ({before['dbsize_added']}) | "
        f"{before['bytes_per_10k_hashes']:,} |",
        "",
        f"Target: {TARGET_BYTES_PER_10K} bytes per 10,000 never-seen hashes: "
        f"{'met' if now['bytes_per_10k_hashes'] <= TARGET_BYTES_PER_10K else 'NOT met'} "
        f"(before: {before['bytes_per_hash']} bytes a hash, kept 30 days). The JSON also has "
        "the change in INFO used_memory, which moves with Redis's own buffers.",
        "",
        "What a worker pays instead on a miss: draw + PNG encode, median ms, a fresh hash each:",
        "",
        "| kind | " + " | ".join(f"{size} px" for size in DRAW_SIZES) + " |",
        "|---|" + "---:|" * len(DRAW_SIZES),
    ]
    for kind, sizes in result["draw_ms"].items():
        lines.append(f"| {kind} | " + " | ".join(f"{ms:.2f}" for ms in sizes.values()) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", help="use this Redis database (never flushed)")
    parser.add_argument("--hashes", type=int, default=10_000)
    parser.add_argument("--draw-runs", type=int, default=15)
    options = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="avatar-bench-cache-") as folder,
        _redis(options.redis_url) as redis_url,
    ):
        prefix = f"bench-{uuid.uuid4().hex[:12]}"
        _setup_django(Path(folder), redis_url, prefix)
        print(f"{options.hashes} never-seen hashes against {redis_url} ...", flush=True)
        now = _growth(options.hashes, redis_url, prefix, share_every_kind=False)
        before = _growth(options.hashes, redis_url, prefix, share_every_kind=True)
    result = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "redis": "private redis-server" if not options.redis_url else options.redis_url,
        "target_bytes_per_10k_hashes": TARGET_BYTES_PER_10K,
        "now": now,
        "before": before,
        "draw_ms": _draw_costs(options.draw_runs),
    }
    result["met"] = now["bytes_per_10k_hashes"] <= TARGET_BYTES_PER_10K
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "shared_cache.json").write_text(json.dumps(result, indent=2) + "\n")
    markdown = _markdown(result)
    (RESULTS / "shared_cache.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
