# gunicorn settings shared by `make run`, the benchmarks and the containers.
#
# Chosen by measurement (bench/run.py's server and wrk -t2 -c16 on loopback, 2 shared cores,
# five configurations interleaved in rounds of 3 s, medians of 4-5 rounds, two runs, 2026-12-01,
# before the avatar fast path):
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
# Measured again after the avatar fast path and the resolution cache (bench/run.py, quiet
# machine, load average under 1 before the first run, one configuration after another through
# GUNICORN_CMD_ARGS and WEB_CONCURRENCY, 3 rounds of 4 s, medians, 2026-12-01 17:39-17:54 UTC):
#
#   configuration                 bare req/s    cached known hash   d=404    never-seen identicon
#   gthread, 3 workers x 4        6,186-7,009   7,230-7,474         6,618-7,629   4,456-4,924
#   gthread, 3 workers x 2        6,340         6,711               6,481         4,180
#   gthread, 2 workers x 4        6,629         6,570               7,444         4,396
#   sync, 3 workers               6,887         6,884               7,426         4,597
#   sync, 5 workers               5,758         5,933               5,882         3,777
#
# With the endpoint's own work cut by a third, wrk on loopback no longer tells three processes of
# either kind apart (the two gthread 3 x 4 runs differ as much as any two configurations);
# five processes on two cores lose 15-20 %. gthread stays for what wrk does not measure: it
# keeps Varnish's backend connections open (a sync worker closes each after one answer, so
# every backend fetch also pays a TCP handshake and leaves a TIME_WAIT socket on both sides),
# and an upload holds one thread, not a worker (below). Each worker also has one background
# thread for queued AVIF encodes, at a lower priority (avatars/renditions.py), which needs no
# core of its own.
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
