"""`make bench`: a profile edit visible through Varnish in every format (issue 12's target:
p99 under 2 s).

gunicorn as `make run` starts it (bench/run.py's environment and server), deploy/varnish/
default.vcl in front (tests/varnish/harness.py). A child process with VARNISH_NODES set edits
a published profile again and again the way the owner's editor does (the rows, then
`profile_served_changed` in the same transaction, purging after the commit) and polls every
public answer through Varnish (the page, the hash redirect, json, JSONP, xml, php, vcf, qr)
until each shows the new job title (the QR, which encodes only the profile URL, until it is
the origin's answer); the time from the start of the edit until the last one does is one
sample. Before each edit every answer is cached again, so each sample measures a purge.

Writes bench/results/profiles_edge.json and profiles_edge.md.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import PYTHON, _environment, _gunicorn, _hardware  # noqa: E402
from tests.varnish.harness import Varnish, find_program, request  # noqa: E402

RESULTS = ROOT / "bench" / "results"
TARGET_P99_S = 2.0
EMAIL = "profile@bench.example"
SLUG = "bench-profile"
POLL_TIMEOUT_S = 10.0


def answers(md5: str, sha256: str) -> list[str]:
    """Every public spelling a site or library asks for (the v3 API passes to the app)."""
    return [
        f"/{SLUG}",
        f"/{md5}.json",
        f"/{sha256}.json?callback=showProfile",
        f"/{SLUG}.xml",
        f"/{md5}.php",
        f"/{SLUG}.vcf",
        f"/{md5}.qr?s=120&source=bench",
    ]


def edits(varnish_url: str, origin_url: str, changes: int) -> None:
    """The child: seed one published profile, then edit and poll; prints {"seconds": [...]}."""
    django.setup()
    from django.db import transaction
    from django.utils import timezone
    from PIL import Image

    from avatars.services import avatar_import
    from profiles.freshness import profile_served_changed
    from profiles.models import Profile

    photo = io.BytesIO()
    Image.new("RGB", (256, 256), (40, 90, 200)).save(photo, "JPEG")
    avatar = avatar_import(email=EMAIL, data=photo.getvalue())
    profile = Profile.objects.create(user=avatar.owner, slug=SLUG, published=True)
    address = avatar.owner.addresses.get()
    urls = answers(address.md5, address.sha256)
    seconds = []
    for number in range(changes + 1):
        for url in urls:
            request(varnish_url, url)  # cached before the edit
        title = f"Benchmarker no. {number}"
        started = time.monotonic()
        with transaction.atomic():
            Profile.objects.filter(pk=profile.pk).update(job_title=title, updated_at=timezone.now())
            profile.refresh_from_db()
            profile_served_changed(profile=profile)
        waiting = list(urls)
        while waiting:
            if time.monotonic() - started > POLL_TIMEOUT_S:
                last = request(varnish_url, waiting[0])
                sys.exit(
                    f"edit {number} not visible through Varnish after {POLL_TIMEOUT_S} s: "
                    f"{waiting}; {waiting[0]} answers {last.status} {last.cache}: "
                    f"{last.body[:1500]!r}"
                )
            waiting = [url for url in waiting if not _shows(varnish_url, origin_url, url, title)]
            if waiting:
                time.sleep(0.005)
        if number:  # the first edit only brings every answer into the cache
            seconds.append(time.monotonic() - started)
    json.dump({"seconds": seconds, "answers": urls}, sys.stdout)


def _shows(varnish_url: str, origin_url: str, url: str, title: str) -> bool:
    through = request(varnish_url, url)
    if through.status != 200:
        return False
    if ".qr" in url:
        return through.body == request(origin_url, url).body
    return title.encode() in through.body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=30)
    options = parser.parse_args()
    if find_program("varnishd") is None:
        sys.exit("varnishd is needed: run `make system-packages` as root")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="profiles-edge-bench-") as folder:
        tmp = Path(folder)
        env = _environment(tmp)
        print("Migrating a temporary database ...", flush=True)
        # As `make run` does: the page links its stylesheets through the static manifest.
        for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
            subprocess.run([PYTHON, "manage.py", *command, "-v0"], cwd=ROOT, env=env, check=True)
        with _gunicorn(env, tmp) as app_url:
            app = ("127.0.0.1", int(app_url.rsplit(":", 1)[1]))
            node = Varnish(tmp / "varnish", [app]).start()
            try:
                child = ["-m", "bench.bench_profiles_edge", "--child", node.url, app_url]
                result = subprocess.run(
                    [PYTHON, *child, str(options.changes)],
                    cwd=ROOT,
                    env={**env, "VARNISH_NODES": node.url},
                    capture_output=True,
                    text=True,
                    check=False,
                )
            finally:
                node.stop()
        if result.returncode != 0:
            sys.exit(f"the edits failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    measured = json.loads(result.stdout)
    summary = _summary(measured, time.monotonic() - started)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "profiles_edge.json").write_text(json.dumps(summary, indent=2) + "\n")
    markdown = _markdown(summary)
    (RESULTS / "profiles_edge.md").write_text(markdown)
    print()
    print(markdown)
    if not summary["met"]:
        sys.exit(f"p99 {summary['p99_ms']:.0f} ms: the target is under {TARGET_P99_S} s")


def _summary(measured: dict[str, Any], wall: float) -> dict[str, Any]:
    latencies = sorted(measured["seconds"])
    p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "answers": measured["answers"],
        "changes": len(latencies),
        "median_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(p99 * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        "target_p99_ms": TARGET_P99_S * 1000,
        "met": p99 < TARGET_P99_S,
        "hardware": _hardware(),
        "wall_seconds": round(wall, 1),
    }


def _markdown(summary: dict[str, Any]) -> str:
    hardware = summary["hardware"]
    return (
        f"Profile edits through Varnish, {summary['generated_at']}: {hardware['cpu']}, "
        f"{hardware['cores']} cores; Varnish 7.1 shares them with gunicorn on loopback.\n\n"
        f"{summary['changes']} edits of a published profile's job title, each until all "
        f"{len(summary['answers'])} public answers showed it through Varnish "
        f"({', '.join(f'`{url}`' for url in summary['answers'])}): "
        f"median {summary['median_ms']:.0f} ms, p99 {summary['p99_ms']:.0f} ms, "
        f"max {summary['max_ms']:.0f} ms (target: p99 under {TARGET_P99_S:g} s: "
        f"{'met' if summary['met'] else 'not met'}).\n"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        edits(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
