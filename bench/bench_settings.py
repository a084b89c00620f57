"""The app's own settings, middleware included, plus the bare baseline view's URL."""

from gravatar.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bench_urls"
