#!/usr/bin/env bash
# `make run`: gunicorn on HOST:PORT with the settings of deploy/gunicorn.conf.py.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "Serving on http://${HOST:-127.0.0.1}:${PORT:-8000}/"
exec .venv/bin/gunicorn gravatar.wsgi -c deploy/gunicorn.conf.py
