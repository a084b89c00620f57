"""Real headless Chromium (Debian's package) driven by Playwright against the live server."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.core.cache import cache

from tests.conftest import require_binary

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse ORM
# calls from it as "async unsafe". The test thread never shares a connection with the loop.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # A synthetic camera that needs no permission prompt, for the getUserMedia path.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = require_binary("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site(live_server, settings) -> str:
    """The live server's origin, also used in emailed links."""
    settings.SITE_URL = live_server.url
    cache.clear()
    return str(live_server.url)


@pytest.fixture
def new_page(browser, site):
    """Pages in separate browser contexts (separate cookies), phone-sized; options go to the
    context (java_script_enabled=False for the no-script path)."""
    contexts = []

    def make(**options):
        context = browser.new_context(viewport=PHONE, base_url=site, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
