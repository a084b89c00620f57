# gunicorn settings shared by `make run`, the benchmarks and the containers.
#
# Chosen by measurement (bench/run.py's server and wrk -t2 -c16 on loopback, 2 shared cores,
# five configurations interleaved in rounds of 3 s, medians of 4-5 rounds, two runs, 2026-12-01):
#
#   configuration                 bare req/s    cached known hash   d=404
#   sync, 5 workers               2,275-2,564   1,667-2,433         2,272-2,458
#   sync, 3 workers               3,476         2,585               2,208
#   gthread, 3 workers x 2        4,345-6,152   3,159-3,689         3,613-4,119
#   gthread, 3 workers x 4        3,871-4,632   2,600-3,634         2,762-3,129
#   gthread, 2 workers x 4        4,035-4,825   2,654-2,712         2,965-3,074
#
# Sync workers close every connection after one response, so each request (and each backend
# fetch of Varnish) pays a TCP connect and close on both sides; gthread workers keep it open.
# Threads share one interpreter lock, so a process per core, plus one to cover the moments a
# thread waits on the database or storage, keeps both cores busy; more processes only add
# memory (each holds its own rendition and resolution caches).
#
# Not measured again after the avatar fast path (avatars/handler.py, 2026-12-01): it cut the
# endpoint's own work by a third (bench/bench_instructions.py) but changes none of the reasons
# above, and the load of other sessions (load average 7-9) made wrk comparisons of
# configurations noise that day. Each worker also has one background thread for queued AVIF
# encodes, at a lower priority (avatars/renditions.py), which needs no core of its own.
import multiprocessing
import os
import shutil
from pathlib import Path

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
# Four threads rather than two (within the noise above for the avatar endpoint), so that an
# upload (about a second of decoding for a 48 Mpx photo) occupies one thread of a worker, not
# the whole worker: with sync workers five uploads at once held every worker and the avatar
# endpoint stalled for seconds. Decoding itself runs one at a time per worker at a lower
# priority (avatars/imaging/decode.py); bench/bench_uploads.py measures both.
worker_class = "gthread"
threads = 4
# Longer than Varnish's backend_idle_timeout (60 s): Varnish closes an idle backend connection
# first, so it never reuses one that gunicorn is closing at that moment.
keepalive = 75
timeout = 30
graceful_timeout = 10
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
preload_app = True


# Metrics (gravatar/metrics.py) in prometheus_client's multiprocess mode: each worker writes
# its samples to files here and /metrics adds them up. Set before the app is preloaded, since
# prometheus_client picks its storage when it is first imported; emptied when the server
# starts (on_starting), so a restart's counters start from zero instead of adding the dead
# processes' to the new ones. METRICS_ENABLED=false leaves it unset (bench/bench_metrics.py).
_metrics_on = os.environ.get("METRICS_ENABLED", "true").strip().lower() not in {
    "0", "false", "no", "off",
}  # fmt: skip
if _metrics_on and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _var_dir = Path(os.environ.get("VAR_DIR") or Path(__file__).resolve().parent.parent / "var")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_var_dir / "prometheus-multiproc")
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)


def on_starting(server: object) -> None:
    # After the preload, which only wrote the arbiter's own (unused) files.
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server: object, worker: object) -> None:
    # A dead worker's live gauges must not be reported; its counters are kept in the sums.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined,no-untyped-call]


def post_worker_init(worker: object) -> None:
    # Each worker subscribes to other nodes' changes before it serves its first request.
    from avatars.resolution import resolution_start

    resolution_start()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # The hot path's counts go to the files twice a second, not at each request.
        from gravatar import metrics

        metrics.buffer_start()


def worker_exit(server: object, worker: object) -> None:
    # Site keys' request counts wait in each worker for up to a minute (api/usage.py).
    from api.usage import site_key_uses_write_at_exit

    site_key_uses_write_at_exit()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from gravatar import metrics

        metrics.flush()
