"""What `make bench` measures beside throughput: database round-trips per request and how soon
a change made by another process is served by every worker.

`python -m bench.origin_checks queries SPEC.json` runs in the benchmark's environment (bench
settings, its seeded database): for each scenario, Django's test client sends the scenario's
warm-up requests, then counts the queries of its measured ones with `CaptureQueriesContext`, in
one process with its own caches, as one worker would see them. `freshness()` is called by
bench/run.py while its gunicorn serves.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

# A change counts as served once this many requests in a row, each on a new connection (so
# spread over the workers), show it.
FRESH_IN_A_ROW = 30
FRESHNESS_DEADLINE_SECONDS = 5.0
FRESHNESS_TARGET_SECONDS = 1.0


def queries_per_request(spec: dict[str, dict[str, Any]]) -> dict[str, float]:
    """spec: scenario -> {"warm": [paths], "measure": [paths], "accept": header or ""}."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    # A host ALLOWED_HOSTS names: the client's default "testserver" would get a 400 and run
    # no view at all.
    client = Client(HTTP_HOST="127.0.0.1")
    counts = {}
    for name, scenario in spec.items():
        headers = {"HTTP_ACCEPT": scenario["accept"]} if scenario.get("accept") else {}
        for path in scenario["warm"]:
            _expect(client.get(path, **headers), path)
        with CaptureQueriesContext(connection) as captured:
            for path in scenario["measure"]:
                _expect(client.get(path, **headers), path)
        counts[name] = round(len(captured) / len(scenario["measure"]), 3)
    return counts


def _expect(response: Any, path: str) -> None:
    if response.status_code not in {200, 404}:
        raise SystemExit(f"{path} answered {response.status_code}, not an avatar")


def freshness(
    *, url: str, command: list[str], cwd: Path, env: dict[str, str]
) -> dict[str, float | int | bool]:
    """Run `command` (another process changing what `url` serves), then poll `url` on new
    connections until FRESH_IN_A_ROW answers in a row are new; times from the command's exit."""
    before = _etag(url)
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True, timeout=120)
    changed = time.monotonic()
    answers: list[tuple[float, bool]] = []
    while time.monotonic() - changed < FRESHNESS_DEADLINE_SECONDS:
        answers.append((time.monotonic() - changed, _etag(url) != before))
        if len(answers) >= FRESH_IN_A_ROW and all(new for _, new in answers[-FRESH_IN_A_ROW:]):
            break
    else:
        raise SystemExit(f"the change was not served by every worker within 5 s: {answers}")
    fresh_from = answers[-FRESH_IN_A_ROW][0]
    return {
        "seconds_until_every_worker": round(fresh_from, 4),
        "stale_answers_after_the_change": sum(1 for _, new in answers if not new),
        "requests": len(answers),
        "target_seconds": FRESHNESS_TARGET_SECONDS,
        "met": fresh_from <= FRESHNESS_TARGET_SECONDS,
    }


def _etag(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        response.read()
        return str(response.headers["ETag"])


if __name__ == "__main__":
    if sys.argv[1:2] != ["queries"] or len(sys.argv) != 3:
        sys.exit("usage: python -m bench.origin_checks queries SPEC.json")
    json.dump(queries_per_request(json.loads(Path(sys.argv[2]).read_text())), sys.stdout)
