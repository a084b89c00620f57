"""Shared fixtures: personas and signed-in clients, emails, queued purges, image bytes and a
local image server, and CI's rule that nothing may be skipped."""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import threading
import uuid
from collections.abc import Callable, Generator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.core import mail
from django.test import Client, TestCase
from PIL import Image

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

    from tests.dns_server import DnsServer
    from tests.personas import Personas

FIXTURES = Path(__file__).parent / "fixtures"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
SKIP_IN_CI = "skipped in CI, where a skip counts as a failure"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """In CI a skip (pytest.skip, a skip marker, importorskip; setup or call) is a failure.

    Changed here, before any plugin sees the report, so the counts, the summary and the exit
    status all agree; an expected failure (xfail) is not a skip and stays as it is.
    """
    report = yield
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"{SKIP_IN_CI}: {_skip_reason(report.longrepr)}"
    return report


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """A module skipped while collected (importorskip or skip at module level) fails too."""
    report = yield
    if IN_CI and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"{SKIP_IN_CI}: {_skip_reason(report.longrepr)}"
    return report


def _skip_reason(longrepr: object) -> str:
    # A skip's longrepr is (path, line, "Skipped: reason").
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        path, line, reason = longrepr
        return f"{reason} ({path}:{line})"
    return str(longrepr)


def require_binary(name: str) -> str:
    """The path of a program a test drives; a skip locally, a failure in CI."""
    path = shutil.which(name) or (
        f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None
    )
    if path is None:
        message = f"{name} is not installed (make test installs it as root)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(autouse=True)
def _no_outgoing_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests talk only to this machine; anything else is a bug in the test or the code."""
    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not _is_local(host):
            raise RuntimeError(f"test tried to connect to {host}")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


@pytest.fixture
def frozen_listener() -> Iterator[socket.socket]:
    """A loopback server that is up and frozen (disks hung, a proxy whose backend is gone): the
    kernel accepts its connections and nobody ever reads them. Its port: getsockname()[1]."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    try:
        yield listener
    finally:
        listener.close()


@pytest.fixture
def dns_server(settings: Any) -> Iterator[DnsServer]:
    """A DNS server on loopback (tests/dns_server.py) that the domain check asks, giving up
    after a second."""
    from tests.dns_server import DnsServer

    server = DnsServer()
    settings.DNS_RESOLVER = server.address
    settings.DNS_TIMEOUT = 1
    try:
        yield server
    finally:
        server.close()


def _is_local(host: str) -> bool:
    return (
        host.startswith("127.") or host in {"localhost", "::1", "0.0.0.0"} or host.startswith("/")
    )


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each test writes media into its own folder, so storage assertions see only its files."""
    media = tmp_path_factory.mktemp("media")
    storages = dict(settings.STORAGES)  # type: ignore[attr-defined]
    if storages["default"]["BACKEND"].endswith("FileSystemStorage"):
        storages["default"] = {**storages["default"], "OPTIONS": {"location": str(media)}}
        settings.STORAGES = storages  # type: ignore[attr-defined]
        settings.MEDIA_ROOT = str(media)  # type: ignore[attr-defined]
    yield


@pytest.fixture(autouse=True)
def _static_without_manifest(settings: object) -> None:
    """Pages render {% static %}; the manifest exists only after collectstatic (`make run`)."""
    storages = dict(settings.STORAGES)  # type: ignore[attr-defined]
    storages["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    settings.STORAGES = storages  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _fresh_resolutions() -> None:
    """An earlier test's rows are rolled back or flushed without a change verb: nothing it left
    in the resolution cache may answer for this one."""
    from avatars.resolution import resolution_clear

    resolution_clear()


@pytest.fixture(autouse=True)
def _fresh_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The API's rate-limit windows last an hour in a Redis that outlives the test (and the
    run): each test counts under its own prefix, from zero. (Without Redis the counters are
    rows, rolled back with the test.)"""
    monkeypatch.setattr("profiles.ratelimit.REDIS_PREFIX", f"ratelimit:test-{uuid.uuid4().hex}")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: object) -> None:
    """Django's default hasher costs ~0.3 s per password by design; tests hash many."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


def image_bytes(
    size: tuple[int, int] = (300, 200),
    color: tuple[int, ...] = (200, 30, 30),
    fmt: str = "JPEG",
    mode: str = "RGB",
    **save_args: object,
) -> bytes:
    """A real encoded image file, made with Pillow, in the asked format."""
    image = Image.new(mode, size, color)
    out = io.BytesIO()
    image.save(out, fmt, **save_args)
    return out.getvalue()


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


# Signed-in people, emails and queued purges


class CommittingClient(Client):
    """Django's test client, with the request's transaction committed as it would be in
    production: the test's own transaction never commits, so the callbacks a request left for
    after the commit (emails, purges, file deletion) run when it returns."""

    def request(self, **request: Any) -> _MonkeyPatchedWSGIResponse:
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


@pytest.fixture
def client() -> Client:
    return CommittingClient()


@pytest.fixture
def personas(db: None) -> Personas:
    from tests.personas import make_personas  # the personas module imports this one

    return make_personas()


def signed_in(user: Any) -> Client:
    client = CommittingClient()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(personas: Personas) -> Client:
    return signed_in(personas.alice)


@pytest.fixture
def bob_client(personas: Personas) -> Client:
    return signed_in(personas.bob)


@pytest.fixture
def moderator(db: None) -> Any:
    """A staff account; the admin's tests give theirs the Moderators group instead."""
    from accounts.models import User

    return User.objects.create_user("mod@example.com", is_staff=True)


@pytest.fixture
def queued_purges(settings: Any) -> Callable[[], set[str]]:
    """With a Varnish node configured, every change records a purge row in its transaction;
    the test reads the digests those rows name. The node is a closed port: delivery, if a
    test commits, fails at once and leaves the rows for the worker."""
    from avatars.models import PurgeRequest

    settings.VARNISH_NODES = ["http://127.0.0.1:9"]

    def digests() -> set[str]:
        return {d for row in PurgeRequest.objects.all() for d in row.digests.split()}

    return digests


CSRF_FIELD = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*"')


def without_csrf_tokens(html: str) -> str:
    """The page with its CSRF tokens blanked: every page has one (the language switcher), and
    Django masks it afresh on each render, so two renders of the same page differ there."""
    return CSRF_FIELD.sub(r'\1"', html)


def link_in(message: mail.EmailMessage) -> str:
    """The first link in an email's text body, as a path the test client can open."""
    match = re.search(r"https?://[^\s]+", str(message.body))
    assert match, f"no link in {message.body!r}"
    return re.sub(r"^https?://[^/]+", "", match.group(0))


def html_of(message: mail.EmailMessage) -> str:
    alternatives = getattr(message, "alternatives", [])
    assert alternatives, "the email has no HTML part"
    return str(alternatives[0][0])


EMAIL_SENDER = "avatars@example.com"


@pytest.fixture
def email_site(settings: Any) -> None:
    """Emails built for a public site, so links and the sender are what production sends."""
    settings.SITE_URL = "https://avatars.example.com"
    settings.DEFAULT_FROM_EMAIL = EMAIL_SENDER


def sent_email() -> mail.EmailMultiAlternatives:
    """The one email sent, with a text and an HTML body, from the site's sender."""
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert isinstance(message, mail.EmailMultiAlternatives)
    assert message.from_email == EMAIL_SENDER
    assert "\n" not in message.subject
    return message


@pytest.fixture
def fresh_caches(settings: Any) -> Iterator[None]:
    """Empty rendition caches, whatever backend the run configures: a rendition cached by an
    earlier test would hide whether this one made it. Modules opt in with `usefixtures`. The
    AVIF encoder's calm period starts over too, before and after: a test that made a stand-in
    would otherwise turn the next second's cold AVIF of another test into one."""
    from avatars import renditions

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": uuid.uuid4().hex,
        }
    }
    renditions.memory_cache().clear()
    renditions.slow_encodes.calm_from = 0.0
    yield
    renditions.slow_encodes.calm_from = 0.0


# A local image server for upload from a URL


class ImageServer:
    """A real HTTP server on 127.0.0.1 for upload-from-URL tests; routes are set per test."""

    def __init__(self) -> None:
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
def image_server(settings: Any) -> Iterator[ImageServer]:
    """Loopback is refused by the SSRF guard; the test switch lets these tests reach it."""
    settings.AVATAR_URL_FETCH_ALLOW_LOOPBACK = True
    server = ImageServer()
    yield server
    server.close()
