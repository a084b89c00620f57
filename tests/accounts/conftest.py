"""Fixtures for the account pages: personas, signed-in clients, emails and queued purges."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from avatars.models import PurgeRequest
from tests.personas import Personas, make_personas


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Email cooldowns and login throttling live in the cache; no test may inherit them."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def personas(db) -> Personas:
    return make_personas()


@pytest.fixture
def alice_client(personas) -> Client:
    client = Client()
    client.force_login(personas.alice)
    return client


@pytest.fixture
def bob_client(personas) -> Client:
    client = Client()
    client.force_login(personas.bob)
    return client


@pytest.fixture
def queued_purges(settings):
    """With a Varnish node configured, hashes_changed records a purge row in the transaction;
    the test reads the digests those rows name. The node is never contacted: delivery runs
    after a commit, which a test transaction never makes."""
    settings.VARNISH_NODES = ["http://127.0.0.1:9"]

    def digests() -> set[str]:
        return {d for row in PurgeRequest.objects.all() for d in row.digests.split()}

    return digests


def link_in(message: mail.EmailMessage) -> str:
    """The first link in an email's text body, as a path the test client can open."""
    match = re.search(r"https?://[^\s]+", str(message.body))
    assert match, f"no link in {message.body!r}"
    return re.sub(r"^https?://[^/]+", "", match.group(0))


def html_of(message: mail.EmailMessage) -> str:
    alternatives = getattr(message, "alternatives", [])
    assert alternatives, "the email has no HTML part"
    return str(alternatives[0][0])


class ImageServer:
    """A real HTTP server on 127.0.0.1 for upload-from-URL tests; routes are set per test."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        routes: dict[str, object] = {}
        self.routes = routes

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                route = routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                if callable(route):
                    route(self)
                    return
                status: int
                headers: dict[str, str]
                body: bytes
                status, headers, body = route  # type: ignore[misc]
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def serve(self, path: str, body: bytes, status: int = 200, **headers: str) -> str:
        self.routes[path] = (status, {"Content-Type": "image/png", **headers}, body)
        return self.url(path)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def image_server(settings):
    """Loopback is refused by the SSRF guard; the test switch lets these tests reach it."""
    settings.AVATAR_URL_FETCH_ALLOW_LOOPBACK = True
    server = ImageServer()
    yield server
    server.close()
