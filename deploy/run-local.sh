#!/usr/bin/env bash
# `make run`: gunicorn on HOST:PORT with the settings of deploy/gunicorn.conf.py and, when
# varnishd is installed, Varnish with deploy/varnish/default.vcl on HOST:VARNISH_PORT in front
# of it, plus the purge worker (restarted if it ever exits). gunicorn stays in the foreground;
# stopping it stops the rest. When Debian's prometheus is installed too, Prometheus runs beside
# them with deploy/prometheus/prometheus.yml on PROMETHEUS_PORT (loopback), scraping the app,
# the purge worker (PURGE_WORKER_METRICS_PORT) and prometheus-varnish-exporter
# (VARNISH_EXPORTER_PORT), and the admin's Service health page reads it (PROMETHEUS_URL).
#
# The configuration chosen here (the Varnish node to purge, SITE_URL for this PORT, and every
# variable of .env.example set in this environment) is written to $VAR_DIR/run.env while it
# runs: gravatar/settings.py reads it below the real environment, so `manage.py setavatar`,
# the shell or the admin in another terminal purge this Varnish and link to this server.
set -euo pipefail
cd "$(dirname "$0")/.."

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
VARNISH_PORT="${VARNISH_PORT:-6081}"
PROMETHEUS_PORT="${PROMETHEUS_PORT:-9090}"
VARNISH_EXPORTER_PORT="${VARNISH_EXPORTER_PORT:-9131}"
VAR_DIR="${VAR_DIR:-$PWD/var}"
export HOST PORT
export SITE_URL="${SITE_URL:-http://$HOST:$PORT}"
run_env="$VAR_DIR/run.env"

varnishd_bin="$(command -v varnishd || true)"
if [ -z "$varnishd_bin" ] && [ -x /usr/sbin/varnishd ]; then
  varnishd_bin=/usr/sbin/varnishd
fi
prometheus_bin="$(command -v prometheus || true)"
exporter_bin="$(command -v prometheus-varnish-exporter || true)"

workdir=""
varnish_pid=""
worker_pid=""
prometheus_pid=""
exporter_pid=""
cleanup() {
  rm -f "$run_env"
  local pid
  for pid in "$worker_pid" "$prometheus_pid" "$exporter_pid" "$varnish_pid"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for pid in "$worker_pid" "$prometheus_pid" "$exporter_pid" "$varnish_pid"; do
    [ -n "$pid" ] && wait "$pid" 2>/dev/null || true
  done
  [ -n "$workdir" ] && rm -rf "$workdir"
}

# Whether something already listens on HOST:$1 (another checkout's Prometheus, say).
port_taken() {
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}
trap cleanup EXIT

# Runs the purge worker until TERM; a worker that exits anyway (a bug, a lost database it
# could not survive) is started again after a pause that grows with each quick exit.
supervise_worker() {
  local child="" status pause=1 started
  trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 0' TERM
  while true; do
    started=$SECONDS
    .venv/bin/python manage.py purge_worker &
    child=$!
    status=0
    wait "$child" || status=$?
    child=""
    if [ $((SECONDS - started)) -gt 60 ]; then pause=1; fi
    echo "purge worker exited with status $status; restarting it in ${pause} s" >&2
    sleep "$pause"
    pause=$((pause < 30 ? pause * 2 : 30))
  done
}

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
fi

prometheus_note=""
if [ -n "$varnish_pid" ] && [ -n "$prometheus_bin" ]; then
  if port_taken "$PROMETHEUS_PORT"; then
    prometheus_note="port $PROMETHEUS_PORT is taken: Prometheus not started (set PROMETHEUS_PORT)"
  else
    export PURGE_WORKER_METRICS_PORT="${PURGE_WORKER_METRICS_PORT:-9132}"
    export PROMETHEUS_URL="${PROMETHEUS_URL:-http://$HOST:$PROMETHEUS_PORT}"
    # The shipped targets, moved to the ports chosen here.
    sed -e "s/127\.0\.0\.1:8000/$HOST:$PORT/; s/127\.0\.0\.1:9132/$HOST:$PURGE_WORKER_METRICS_PORT/" \
      -e "s/127\.0\.0\.1:9131/$HOST:$VARNISH_EXPORTER_PORT/; s/127\.0\.0\.1:9090/$HOST:$PROMETHEUS_PORT/" \
      deploy/prometheus/prometheus.yml > "$workdir/prometheus.yml"
    mkdir -p "$VAR_DIR/prometheus"
    # Two days of samples at most (the Service health page shows one), and never more than
    # 512 MB, in VAR_DIR; loopback only.
    "$prometheus_bin" --config.file="$workdir/prometheus.yml" \
      --storage.tsdb.path="$VAR_DIR/prometheus" \
      --storage.tsdb.retention.time=2d --storage.tsdb.retention.size=512MB \
      --web.listen-address="$HOST:$PROMETHEUS_PORT" > "$VAR_DIR/prometheus.log" 2>&1 &
    prometheus_pid=$!
    prometheus_note="Prometheus on $PROMETHEUS_URL/ (log: $VAR_DIR/prometheus.log)"
    if [ -n "$exporter_bin" ]; then
      "$exporter_bin" -n "$workdir/varnish" -raw \
        -web.listen-address "$HOST:$VARNISH_EXPORTER_PORT" > "$VAR_DIR/varnish-exporter.log" 2>&1 &
      exporter_pid=$!
    else
      prometheus_note="$prometheus_note; prometheus-varnish-exporter is not installed"
    fi
  fi
fi

# Every variable the settings read that this environment sets, for the other processes of
# this checkout (private: it may hold secrets). Values with a newline cannot be written.
mkdir -p "$VAR_DIR"
(
  umask 077
  echo "# Written by deploy/run-local.sh while it runs; removed when it stops."
  echo "RUN_LOCAL_PID=$$"
  for name in $(sed -n 's/^#\{0,1\} *\([A-Z][A-Z0-9_]*\)=.*/\1/p' .env.example | sort -u); do
    for variable in "$name" "${name}_FILE"; do
      if [ -n "${!variable+x}" ] && [[ "${!variable}" != *$'\n'* ]]; then
        printf '%s=%s\n' "$variable" "${!variable}"
      fi
    done
  done
) > "$run_env.tmp"
mv "$run_env.tmp" "$run_env"

if [ -n "$varnish_pid" ]; then
  supervise_worker &
  worker_pid=$!
  echo "Varnish on http://$HOST:$VARNISH_PORT/ in front of gunicorn on http://$HOST:$PORT/"
  echo "(avatars cached and purged on change; the purge worker is running)"
  [ -n "$prometheus_note" ] && echo "$prometheus_note"
else
  echo "varnishd is not installed: serving without the cache tier (make test installs it)."
  echo "Serving on http://$HOST:$PORT/"
fi
echo "Links in emails point to $SITE_URL; other commands in this checkout use $run_env."

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
