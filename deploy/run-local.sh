#!/usr/bin/env bash
# `make run`: gunicorn on HOST:PORT with the settings of deploy/gunicorn.conf.py and, when
# varnishd is installed, Varnish with deploy/varnish/default.vcl on HOST:VARNISH_PORT in front
# of it, plus the purge worker. gunicorn stays in the foreground; stopping it stops the rest.
set -euo pipefail
cd "$(dirname "$0")/.."

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
VARNISH_PORT="${VARNISH_PORT:-6081}"
export HOST PORT

varnishd_bin="$(command -v varnishd || true)"
if [ -z "$varnishd_bin" ] && [ -x /usr/sbin/varnishd ]; then
  varnishd_bin=/usr/sbin/varnishd
fi

workdir=""
varnish_pid=""
worker_pid=""
cleanup() {
  [ -n "$worker_pid" ] && kill "$worker_pid" 2>/dev/null || true
  [ -n "$varnish_pid" ] && kill "$varnish_pid" 2>/dev/null || true
  [ -n "$worker_pid" ] && wait "$worker_pid" 2>/dev/null || true
  [ -n "$varnish_pid" ] && wait "$varnish_pid" 2>/dev/null || true
  [ -n "$workdir" ] && rm -rf "$workdir"
}
trap cleanup EXIT

if [ -n "$varnishd_bin" ]; then
  workdir="$(mktemp -d)"
  mkdir -p "$workdir/vcl"
  # default.vcl's backend for this PORT; the probe and policy stay in default.vcl.
  sed -e "s/\.port = \"8000\";/.port = \"$PORT\";/" deploy/varnish/backends.vcl \
    > "$workdir/vcl/backends.vcl"
  # -j none: the default jail cannot read the temporary folder when started as root.
  "$varnishd_bin" -F -j none -n "$workdir/varnish" -a "$HOST:$VARNISH_PORT" \
    -f "$PWD/deploy/varnish/default.vcl" -p "vcl_path=$workdir/vcl:$PWD/deploy/varnish" \
    -s malloc,256m &
  varnish_pid=$!
  # The app purges this node on every change; the worker retries what it could not send.
  export VARNISH_NODES="${VARNISH_NODES:-http://127.0.0.1:$VARNISH_PORT}"
  .venv/bin/python manage.py purge_worker &
  worker_pid=$!
  echo "Varnish on http://$HOST:$VARNISH_PORT/ in front of gunicorn on http://$HOST:$PORT/"
  echo "(avatars cached and purged on change; the purge worker is running)"
else
  echo "varnishd is not installed: serving without the cache tier (make test installs it)."
  echo "Serving on http://$HOST:$PORT/"
fi

# In the background only so that a TERM to this script reaches gunicorn at once (bash defers
# traps while a foreground command runs); the script lives exactly as long as gunicorn.
.venv/bin/gunicorn gravatar.wsgi -c deploy/gunicorn.conf.py &
gunicorn_pid=$!
trap 'kill -TERM "$gunicorn_pid" 2>/dev/null || true' INT TERM
status=0
wait "$gunicorn_pid" || status=$?
# A signal interrupts the first wait; this one waits for gunicorn's graceful exit.
wait "$gunicorn_pid" 2>/dev/null || true
exit "$status"
