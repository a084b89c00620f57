# Two commands set everything up on a fresh Debian machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
VARNISH_PORT ?= 6081
PROMETHEUS_PORT ?= 9090
VARNISH_EXPORTER_PORT ?= 9131
export HOST PORT VARNISH_PORT PROMETHEUS_PORT VARNISH_EXPORTER_PORT

# Debian packages the service needs to start: GNU gettext's msgfmt, which compilemessages runs
# to build the translation catalogues (locale/*.po; no compiled .mo is committed).
RUN_DEBS := gettext
# Debian packages the tests and benchmarks drive for real.
TEST_DEBS := $(RUN_DEBS) varnish varnish-modules chromium chromium-driver wrk gcc libc6-dev valgrind prometheus prometheus-varnish-exporter
# The translation catalogues, compiled; makes nothing new when every .mo is current.
COMPILE_MESSAGES = $(BIN)/python manage.py compilemessages --ignore=$(VENV) --ignore=var -v0

.PHONY: run cluster test lint typecheck pytest bench system-packages run-packages clean

# What the browser tests inject into pages (axe-core), pinned in tests/browser/package-lock.json.
AXE := tests/browser/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.cluster-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[cluster]"
	touch $@ $(VENV)/.run-installed

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	touch $@ $(VENV)/.run-installed $(VENV)/.cluster-installed

run: run-packages $(VENV)/.run-installed
	$(COMPILE_MESSAGES)
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py collectstatic --noinput -v0
	exec deploy/run-local.sh

# The scaled-out shape on this machine (deploy/cluster.py): two app nodes, two Varnish nodes,
# PostgreSQL, Redis, S3 (moto), the purge worker and Prometheus; Ctrl-C stops it all. Ports and
# services: CLUSTER_APP_PORTS, CLUSTER_VARNISH_PORTS, CLUSTER_S3_PORT, CLUSTER_PROMETHEUS_PORT,
# CLUSTER_DATABASE_URL, CLUSTER_REDIS_URL, CLUSTER_DIR (see README).
cluster: run-packages $(VENV)/.cluster-installed
	$(COMPILE_MESSAGES)
	exec $(BIN)/python deploy/cluster.py

# $(call debian_packages,<names>): as root, installs those not installed; otherwise names them.
define debian_packages
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing Debian packages (run as root to install): $$missing"; \
	  fi; \
	fi
endef

# npm (for axe-core) comes with Debian's nodejs and npm where no other Node.js is installed.
system-packages:
	$(call debian_packages,$(TEST_DEBS) $(if $(shell command -v npm),,nodejs npm))

run-packages:
	$(call debian_packages,$(RUN_DEBS))

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy .

# Production-like values: `check --deploy` must be clean with DEBUG off behind HTTPS.
DEPLOY_ENV := DEBUG=false HTTPS=true SECURE_HSTS_PRELOAD=true SECRET_KEY=$$(head -c 48 /dev/urandom | base64) \
	ALLOWED_HOSTS=avatars.example.com SITE_URL=https://avatars.example.com

test: export AVATARS_IGNORE_RUN_ENV = 1
test: system-packages $(VENV)/.dev-installed $(AXE)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/python manage.py makemigrations --check --dry-run -v1
	$(BIN)/python manage.py vcl_contract --check
	$(DEPLOY_ENV) $(BIN)/python manage.py check --deploy --fail-level WARNING
	$(COMPILE_MESSAGES)
	$(BIN)/pytest $(PYTEST_ARGS)

bench: system-packages $(VENV)/.dev-installed
	$(BIN)/python bench/run.py
	$(BIN)/python bench/bench_instructions.py
	$(BIN)/python bench/varnish_bench.py
	$(BIN)/python bench/bench_profiles_edge.py
	$(BIN)/python bench/bench_shared_cache.py
	$(BIN)/python bench/bench_uploads.py
	$(BIN)/python bench/bench_profiles.py
	$(BIN)/python bench/bench_api.py
	$(BIN)/python bench/bench_metrics.py

clean:
	rm -rf $(VENV) var tests/browser/node_modules
