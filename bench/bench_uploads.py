"""`make bench`: what one upload costs a worker, and what five at once do to the avatar endpoint.

1. Memory and time of the image work of one upload (what avatar_store does before writing:
   decode, square master, encode the master and its preview), each case in a fresh Python
   process: peak RSS added (VmHWM after the work minus VmRSS before it; RSS is what the
   kernel has to find) and wall time. Sources, generated here: a 48 Mpx (8000 x 6000)
   photo-like JPEG as a phone saves it, a 48 Mpx PNG (a flat graphic: a photo that size
   would not fit the 10 MB limit as PNG), and a typical 2048 px JPEG upload for reference.
   Each through the current code (`decode_master`) and the naive full-size path it replaced,
   copied below, measured in the same run.
2. Five concurrent uploads of the 48 Mpx JPEG through the upload page, looping, to gunicorn
   started as `make run` starts it (deploy/gunicorn.conf.py), while wrk measures the avatar
   endpoint (a known hash at s=80) of the same server; against the same wrk run without
   uploads. Also the workers' total RSS at its highest during the uploads.

Targets (issue 9, item 5): one 48 Mpx upload adds at most 300 MB and takes at most 1.5 s;
five concurrent ones keep the avatar endpoint's p99 under 100 ms.

Writes bench/results/uploads.json and uploads.md.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
sys.path.insert(0, str(ROOT))

from bench.run import REPORT_LUA, _environment, _gunicorn  # noqa: E402

TARGET_ADDED_MB = 300
TARGET_SECONDS = 1.5
TARGET_P99_MS = 100
CONCURRENT_UPLOADS = 5
SOURCES = {
    "jpeg48": "48 Mpx JPEG photo (8000 x 6000)",
    "png48": "48 Mpx PNG graphic (8000 x 6000)",
    "jpeg2048": "2048 px JPEG photo (typical upload)",
}
METHODS = {"ours": "decode_master (now)", "naive": "full-size path (before)"}


# Sources ---------------------------------------------------------------------------------


def _shapes(width: int, height: int, seed: int) -> Any:
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    small = Image.new("RGB", (64, 48))
    draw = ImageDraw.Draw(small)
    for _ in range(40):
        x, y, r = rng.randrange(64), rng.randrange(48), rng.randrange(4, 24)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    return small.filter(ImageFilter.GaussianBlur(3)).resize(
        (width, height), Image.Resampling.BICUBIC
    )


def make_sources(folder: Path) -> dict[str, Path]:
    """bench/photos.py's recipe at 8000 x 6000 (smooth shapes plus sensor noise), saved at
    JPEG quality 90 like a phone; the PNG is the same shapes without the noise."""
    from PIL import Image

    from bench.photos import jpeg, photo

    base = _shapes(8000, 6000, seed=3)
    noise = Image.effect_noise((8000, 6000), 32)
    detail = Image.merge(
        "RGB",
        [
            noise,
            noise.transpose(Image.Transpose.ROTATE_180),
            noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        ],
    )
    paths = {
        "jpeg48": folder / "48mpx.jpg",
        "png48": folder / "48mpx.png",
        "jpeg2048": folder / "2048.jpg",
    }
    paths["jpeg48"].write_bytes(jpeg(Image.blend(base, detail, 0.12), quality=90))
    out = io.BytesIO()
    base.save(out, "PNG")
    paths["png48"].write_bytes(out.getvalue())
    paths["jpeg2048"].write_bytes(jpeg(photo(2048, seed=5)))
    return paths


# One upload's image work, in a fresh process ---------------------------------------------


def _naive_master(data: bytes) -> Any:
    """The path avatar_store took before decode_master: everything at full size."""
    from PIL import Image, ImageOps

    from avatars.imaging import decode, square

    image = Image.open(io.BytesIO(data))
    image.seek(0)
    image.load()
    upright = ImageOps.exif_transpose(image)
    if upright.mode in {"RGBA", "LA", "PA"} or "transparency" in upright.info:
        rgba = upright.convert("RGBA")
        clean = rgba if decode.has_transparency(rgba) else rgba.convert("RGB")
    else:
        clean = upright.convert("RGB")
    clean = Image.frombytes(clean.mode, clean.size, clean.tobytes())
    return square.make_square(square.rotate_quarter_turns(clean, 0), None)


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def measure_one(method: str, path: Path) -> dict[str, Any]:
    """Run in a child process: the image work of one upload, its RSS peak and its time."""
    import resource

    from avatars.imaging import decode, encode, square

    data = path.read_bytes()
    warm = decode.decode_master(_tiny_jpeg())  # plugins, the decoding thread, allocators
    encode.encode(warm, "JPEG", for_storage=True)
    before_kb = _status_kb("VmRSS")
    try:
        # Writing 5 resets the peak (VmHWM) to the current RSS (Linux 4.0 and later).
        Path("/proc/self/clear_refs").write_text("5")
        reset = True
    except OSError:
        reset = False
    started, cpu_started = time.perf_counter(), time.process_time()
    if method == "ours":
        master = decode.decode_master(data, decode.Limits())
    else:
        master = _naive_master(data)
    fmt = encode.natural_format(master)
    encode.encode(master, fmt, for_storage=True)
    encode.encode(square.resize_square(master, square.PREVIEW_EDGE), fmt, for_storage=True)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    peak_kb = _status_kb("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "added_mb": round((peak_kb - before_kb) / 1024, 1),
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu_seconds, 3),
        "rss_before_mb": round(before_kb / 1024, 1),
        "master_px": master.width,
    }


def _tiny_jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 120, 150)).save(out, "JPEG")
    return out.getvalue()


def single_uploads(paths: dict[str, Path], repeat: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for source, path in paths.items():
        for method in METHODS:
            runs = []
            for _ in range(repeat):
                child = subprocess.run(
                    [PYTHON, __file__, "--measure-one", method, str(path)],
                    cwd=ROOT,
                    check=True,
                    capture_output=True,
                    text=True,
                )
                runs.append(json.loads(child.stdout))
            results[f"{source}/{method}"] = {
                "source": source,
                "method": method,
                "file_mb": round(path.stat().st_size / 1_048_576, 2),
                "added_mb": max(run["added_mb"] for run in runs),
                "seconds": round(statistics.median(run["seconds"] for run in runs), 3),
                "cpu_seconds": round(statistics.median(run["cpu_seconds"] for run in runs), 3),
                "runs": runs,
            }
            print(
                f"{SOURCES[source]:<38} {METHODS[method]:<24} "
                f"+{results[f'{source}/{method}']['added_mb']:7.1f} MB "
                f"{results[f'{source}/{method}']['seconds']:6.2f} s",
                flush=True,
            )
    return results


# Five concurrent uploads against the avatar endpoint -------------------------------------


SEED_SCRIPT = """
import io, json, sys
import django
django.setup()
from django.core.management import call_command
from django.test import Client
from accounts.models import User
from avatars.models import address_digests
call_command("setavatar", "known@bench.example", sys.argv[1], stdout=io.StringIO())
uploader = User.objects.create_user("uploader@bench.example")
client = Client()
client.force_login(uploader)
json.dump({"md5": address_digests("known@bench.example")[0],
           "session": client.cookies["sessionid"].value}, sys.stdout)
"""


def _multipart(data: bytes, fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        disposition = f'Content-Disposition: form-data; name="{name}"'
        parts.append(f"--{boundary}\r\n{disposition}\r\n\r\n{value}\r\n".encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="photo.jpg"'
        f"\r\nContent-Type: image/jpeg\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class _Uploader(threading.Thread):
    """Uploads the photo through the upload page again and again until told to stop."""

    def __init__(self, port: int, session: str, data: bytes, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.port, self.stop = port, stop
        token = uuid.uuid4().hex  # any 32 characters: the cookie and the header must match
        self.body, content_type = _multipart(data, {"rating": "g", "alt_text": ""})
        self.headers = {
            "Content-Type": content_type,
            "Cookie": f"sessionid={session}; csrftoken={token}",
            "X-CSRFToken": token,
            "Accept": "application/json",
        }
        self.seconds: list[float] = []
        self.failures: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                connection.request("POST", "/account/avatars/upload/", self.body, self.headers)
                response = connection.getresponse()
                answer = response.read()
                if response.status != 200 or b"redirect" not in answer:
                    self.failures.append(f"{response.status}: {answer[:200]!r}")
            except OSError as error:
                self.failures.append(repr(error))
            finally:
                connection.close()
            self.seconds.append(time.perf_counter() - started)


def _workers_rss_mb(master_pid: int) -> float:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    total = 0
    for pid in children:
        try:
            total += _rss_kb(int(pid))
        except OSError:
            continue  # a worker restarting
    return total / 1024


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def concurrent_uploads(photo: Path, duration: int) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk is not installed: run `make system-packages` as root")
    with tempfile.TemporaryDirectory(prefix="avatar-bench-uploads-") as folder:
        tmp = Path(folder)
        env = _environment(tmp)
        Path(env["BENCH_BARE_FILE"]).write_bytes(b"")
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
        )
        small = tmp / "known.jpg"
        small.write_bytes(photo.parent.joinpath("2048.jpg").read_bytes())
        seeded = json.loads(
            subprocess.run(
                [PYTHON, "-c", SEED_SCRIPT, str(small)],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        (tmp / "report.lua").write_text(REPORT_LUA)
        server = _gunicorn(env, tmp)
        with server:
            assert server.process is not None
            master_pid = server.process.pid
            port = int(env["PORT"])
            url = f"http://127.0.0.1:{port}/avatar/{seeded['md5']}?s=80"
            _run_wrk(wrk, url, tmp, 3)  # warm every worker's rendition cache
            idle_rss = _workers_rss_mb(master_pid)
            quiet = _run_wrk(wrk, url, tmp, duration)
            print(f"avatar endpoint alone:        p99 {quiet['p99_us'] / 1000:7.2f} ms", flush=True)
            stop = threading.Event()
            data = photo.read_bytes()
            uploaders = [
                _Uploader(port, seeded["session"], data, stop) for _ in range(CONCURRENT_UPLOADS)
            ]
            peak_rss = idle_rss
            sampling = threading.Event()

            def sample() -> None:
                nonlocal peak_rss
                while not sampling.is_set():
                    peak_rss = max(peak_rss, _workers_rss_mb(master_pid))
                    sampling.wait(0.05)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            # Each client uploads again as soon as its upload is answered, so the whole window
            # wrk measures has five uploads in flight.
            for uploader in uploaders:
                uploader.start()
            busy = _run_wrk(wrk, url, tmp, duration)
            stop.set()
            for uploader in uploaders:
                uploader.join(timeout=120)
            sampling.set()
            sampler.join()
        failures = [failure for uploader in uploaders for failure in uploader.failures]
        if failures:
            log = (tmp / "gunicorn.log").read_text()[-4000:]
            sys.exit(f"uploads failed: {failures[:2]}\ngunicorn's log ends:\n{log}")
    upload_seconds = [seconds for uploader in uploaders for seconds in uploader.seconds]
    print(
        f"with {CONCURRENT_UPLOADS} concurrent uploads:   p99 {busy['p99_us'] / 1000:7.2f} ms "
        f"({len(upload_seconds)} uploads, median {statistics.median(upload_seconds):.2f} s)",
        flush=True,
    )
    return {
        "quiet": quiet,
        "busy": busy,
        "uploads": len(upload_seconds),
        "upload_seconds_median": round(statistics.median(upload_seconds), 2),
        "upload_seconds_max": round(max(upload_seconds), 2),
        "workers_rss_idle_mb": round(idle_rss, 1),
        "workers_rss_peak_mb": round(peak_rss, 1),
        "workers_rss_added_mb": round(peak_rss - idle_rss, 1),
        "gunicorn": _gunicorn_setup(),
    }


def _gunicorn_setup() -> str:
    # In a child: the file sets environment variables and makes folders for the metrics when it
    # runs (with METRICS_ENABLED=false it makes none), and it needs its own __file__.
    script = (
        "import runpy; ns = runpy.run_path('deploy/gunicorn.conf.py'); "
        "print(ns['workers'], ns['worker_class'], ns.get('threads', 1))"
    )
    env = {**os.environ, "METRICS_ENABLED": "false"}
    printed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    workers, worker_class, threads = printed.stdout.split()
    return f"{workers} {worker_class} workers x {threads} threads (deploy/gunicorn.conf.py)"


def _run_wrk(wrk: str, url: str, tmp: Path, duration: int) -> dict[str, Any]:
    command = [wrk, "-t2", "-c16", f"-d{duration}s", "--timeout", "10s"]
    command += ["-s", str(tmp / "report.lua"), url]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRKJSON "))
    result: dict[str, Any] = json.loads(line.removeprefix("WRKJSON "))
    result["req_per_s"] = round(result["requests"] / (result["duration_us"] / 1e6), 1)
    errors = sum(result[key] for key in ("connect_errors", "read_errors", "timeouts"))
    if errors or result["non_2xx_3xx"]:
        sys.exit(f"the avatar endpoint failed under load: {result}")
    return result


# Report ----------------------------------------------------------------------------------


def _markdown(result: dict[str, Any]) -> str:
    single = result["single"]
    lines = [
        f"Upload benchmark, {result['generated_at']}, {result['cores']} cores (1-minute load "
        f"average before the run {result['load_average_before'][0]}): the image work of one "
        "upload (decode, master, encode master and preview), each in a fresh process. Peak RSS "
        "added (the highest of the runs), wall and CPU time (medians).",
        "",
        "| source | file MB | path | MB added | wall s | CPU s |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for source, label in SOURCES.items():
        for method, path in METHODS.items():
            case = single[f"{source}/{method}"]
            lines.append(
                f"| {label} | {case['file_mb']:.1f} | {path} | {case['added_mb']:.0f} | "
                f"{case['seconds']:.2f} | {case['cpu_seconds']:.2f} |"
            )
    lines += [
        "",
        f"Targets for one 48 Mpx upload: at most {TARGET_ADDED_MB} MB added and "
        f"{TARGET_SECONDS} s (judged on CPU time, which other work on the machine does not "
        "stretch): "
        + ", ".join(
            f"{SOURCES[source]} {'met' if result['met'][source] else 'NOT met'}"
            for source in ("jpeg48", "png48")
        )
        + ".",
    ]
    load = result.get("concurrent")
    if load:
        quiet, busy = load["quiet"], load["busy"]
        lines += [
            "",
            f"Avatar endpoint (known hash, s=80; wrk -t2 -c16, {busy['duration_us'] / 1e6:.0f} s) "
            f"on gunicorn as `make run` starts it ({load['gunicorn']}), alone and while "
            f"{CONCURRENT_UPLOADS} clients upload the 48 Mpx JPEG through the upload page "
            "back to back:",
            "",
            "| | req/s | p50 ms | p99 ms | max ms |",
            "|---|---:|---:|---:|---:|",
        ]
        for label, run in (("alone", quiet), (f"{CONCURRENT_UPLOADS} uploads at once", busy)):
            lines.append(
                f"| {label} | {run['req_per_s']:.0f} | {run['p50_us'] / 1000:.2f} | "
                f"{run['p99_us'] / 1000:.2f} | {run['max_us'] / 1000:.0f} |"
            )
        lines += [
            "",
            f"{load['uploads']} uploads, median {load['upload_seconds_median']:.2f} s each "
            f"(max {load['upload_seconds_max']:.2f} s); the workers' RSS rose by "
            f"{load['workers_rss_added_mb']:.0f} MB at most (from "
            f"{load['workers_rss_idle_mb']:.0f} MB). Target p99 under {TARGET_P99_MS} ms: "
            f"{'met' if busy['p99_us'] / 1000 < TARGET_P99_MS else 'NOT met'}.",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per case")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--skip-concurrent", action="store_true")
    parser.add_argument("--only-concurrent", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--measure-one", nargs=2, metavar=("METHOD", "FILE"), help=argparse.SUPPRESS
    )
    options = parser.parse_args()
    if options.only_concurrent:
        with tempfile.TemporaryDirectory(prefix="avatar-bench-sources-") as folder:
            paths = make_sources(Path(folder))
            print(json.dumps(concurrent_uploads(paths["jpeg48"], options.duration), indent=1))
        return
    if options.measure_one:
        method, path = options.measure_one
        json.dump(measure_one(method, Path(path)), sys.stdout)
        return
    load_before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="avatar-bench-sources-") as folder:
        print("Generating the 48 Mpx sources ...", flush=True)
        paths = make_sources(Path(folder))
        single = single_uploads(paths, options.repeat)
        concurrent = None
        if not options.skip_concurrent:
            concurrent = concurrent_uploads(paths["jpeg48"], options.duration)
    met = {
        source: single[f"{source}/ours"]["added_mb"] <= TARGET_ADDED_MB
        and single[f"{source}/ours"]["cpu_seconds"] <= TARGET_SECONDS
        for source in ("jpeg48", "png48")
    }
    result: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "load_average_before": load_before,
        "targets": {
            "added_mb": TARGET_ADDED_MB,
            "seconds": TARGET_SECONDS,
            "concurrent_p99_ms": TARGET_P99_MS,
        },
        "single": single,
        "met": met,
        "concurrent": concurrent,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "uploads.json").write_text(json.dumps(result, indent=2) + "\n")
    markdown = _markdown(result)
    (RESULTS / "uploads.md").write_text(markdown)
    print()
    print(markdown)


if __name__ == "__main__":
    main()
