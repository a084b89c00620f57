# gunicorn settings shared by `make run`, the benchmarks and the containers.
import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# Threads, so that an upload (about a second of decoding for a 48 Mpx photo) occupies one
# thread of a worker, not the whole worker: with sync workers five uploads at once held every
# worker and the avatar endpoint stalled for seconds. Decoding itself runs one at a time per
# worker at a lower priority (avatars/imaging/decode.py); bench/bench_uploads.py measures both.
worker_class = "gthread"
threads = 4
# Keep-alive only matters behind Varnish or a load balancer, which reuse connections.
keepalive = 5
timeout = 30
graceful_timeout = 10
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
preload_app = True
