"""What a /v3/ framework costs per request: django-ninja against plain Django views.

A one-off measurement behind the choice in profiles/openapi.py (not part of `make bench`, and
django-ninja is not a dependency: `pip install django-ninja` into a scratch folder and put it
on PYTHONPATH). In one process, through the app's whole middleware stack (Django's test
client), interleaved batches of the same answer, a published profile's /v3/ body, from:

  bare          a view returning the bytes
  plain         profile_resolve + formats.v3_json in a plain view (what profiles/views.py does)
  ninja_schema  django-ninja, returning the dict through its response schema (pydantic)
  ninja_raw     django-ninja, returning the same HttpResponse as plain

Prints microseconds per request (median of batches) and each one's ratio to bare.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH = 200
BATCHES = 25


def main() -> None:
    folder = tempfile.mkdtemp(prefix="api-frameworks-")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="gravatar.settings",
        VAR_DIR=folder,
        DATABASE_URL=f"sqlite:///{folder}/db.sqlite3",
        AVATARS_IGNORE_RUN_ENV="1",
        API_RATE_LIMIT=str(10**12),
    )
    os.environ.pop("REDIS_URL", None)
    import django
    from django.conf import settings

    django.setup()
    settings.ROOT_URLCONF = "bench.api_frameworks_urls"
    settings.ALLOWED_HOSTS = ["*"]
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", "--noinput", "-v0", stdout=io.StringIO())
    call_command("collectstatic", "--noinput", "-v0", stdout=io.StringIO())
    from bench.bench_profiles import seed

    out = io.StringIO()
    sys.stdout, real = out, sys.stdout
    try:
        seed(setup=False)
    finally:
        sys.stdout = real
    digest = json.loads(out.getvalue().splitlines()[-1])["sha256"]
    client = Client()
    paths = {
        "bare": "/bare",
        "plain": f"/plain/{digest}",
        "ninja_schema": f"/ninja/schema/{digest}",
        "ninja_raw": f"/ninja/raw/{digest}",
    }
    body = client.get(paths["plain"]).content
    Path(folder, "bare.json").write_bytes(body)
    os.environ["BENCH_BARE_FILE"] = str(Path(folder, "bare.json"))
    for name, path in paths.items():
        response = client.get(path)
        assert response.status_code == 200, (name, response.status_code)
        assert json.loads(response.content) == json.loads(body), name
    timings: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(BATCHES):
        for name, path in paths.items():
            started = time.perf_counter()
            for _ in range(BATCH):
                client.get(path)
            timings[name].append((time.perf_counter() - started) / BATCH * 1e6)
    bare = statistics.median(timings["bare"])
    print(
        f"load average {os.getloadavg()[0]:.2f}; microseconds per request, median of "
        f"{BATCHES} batches of {BATCH}, through the full middleware stack:"
    )
    for name, values in timings.items():
        median = statistics.median(values)
        print(
            f"  {name:>13}: {median:7.1f} us  (+{median - bare:6.1f} us over bare, "
            f"throughput ratio {bare / median:.2f})"
        )


if __name__ == "__main__":
    main()
