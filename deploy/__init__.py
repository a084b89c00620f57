"""Deployment: gunicorn and Varnish configuration, `make run` and `make cluster` (cluster.py,
which the integration tests import)."""
