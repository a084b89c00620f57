"""S3 storage that is frozen must not hold a request for minutes: every call gives up within
S3_MAX_ATTEMPTS x S3_TIMEOUT (plus one short back-off) with a clear error, and an upload that
fails on it leaves nothing behind (gravatar/settings.py, s3_storage).

"Frozen" is a socket on loopback that completes the TCP handshake and never answers (an
object store whose disks hang, or a proxy whose backend is gone). The storage is built as
production builds it; the credentials are dummies and nothing leaves the machine.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError
from django.core.files.base import ContentFile
from django.test import override_settings
from django.utils.cache import get_max_age
from storages.backends.s3 import S3Storage

from accounts.models import User
from avatars import renditions
from avatars.models import Address, Avatar
from avatars.responses import STAND_IN_MAX_AGE
from avatars.services import avatar_import
from gravatar.settings import s3_storage
from tests.conftest import image_bytes
from tests.postgres import REPO

TIMEOUT = 1
ATTEMPTS = 2
# Standard retry mode waits at most 1 s before the second attempt; the rest is start-up slack.
BOUND = ATTEMPTS * TIMEOUT + 1 + 2


@dataclass
class FrozenEndpoint:
    listener: socket.socket

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def connections(self) -> int:
        """How many connections were made to it (each attempt opens one; none is answered)."""
        self.listener.setblocking(False)
        count = 0
        while True:
            try:
                accepted, _ = self.listener.accept()
            except BlockingIOError:
                return count
            accepted.close()
            count += 1


@pytest.fixture
def frozen_s3(frozen_listener: socket.socket) -> FrozenEndpoint:
    return FrozenEndpoint(frozen_listener)


def production_like(endpoint_url: str) -> dict[str, Any]:
    return s3_storage(
        bucket="avatars",
        endpoint_url=endpoint_url,
        access_key="dummy-key",
        secret_key="dummy-secret",
        region="us-east-1",
        timeout=TIMEOUT,
        max_attempts=ATTEMPTS,
    )


def timed_failure(call: Callable[[], object]) -> tuple[float, BaseException]:
    started = time.monotonic()
    with pytest.raises(ReadTimeoutError) as raised:
        call()
    return time.monotonic() - started, raised.value


@pytest.fixture(autouse=True)
def _bounded() -> Iterator[None]:
    """Without the client's timeouts botocore waits 60 s per read, five times: fail instead."""

    def give_up(*_: object) -> None:
        # pytest's failure, not TimeoutError: botocore would take that for a read timeout.
        pytest.fail("a storage call hung on the frozen endpoint")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.setitimer(signal.ITIMER_REAL, 20)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture(autouse=True)
def _no_aws_environment(monkeypatch) -> None:
    # A developer's AWS profile or proxy must not change what these calls do.
    for name in list(os.environ):
        if name.startswith("AWS_") or name.lower() in {"http_proxy", "https_proxy", "all_proxy"}:
            monkeypatch.delenv(name)


def test_save_gives_up_within_the_bound_with_a_clear_error(frozen_s3):
    storage = S3Storage(**production_like(frozen_s3.url)["OPTIONS"])

    elapsed, error = timed_failure(lambda: storage.save("avatars/x.jpg", ContentFile(b"jpeg")))

    assert elapsed < BOUND, f"{elapsed:.1f} s"
    assert f'Read timeout on endpoint URL: "{frozen_s3.url}/avatars/' in str(error)
    assert frozen_s3.connections() == ATTEMPTS


def test_open_gives_up_within_the_bound(frozen_s3):
    storage = S3Storage(**production_like(frozen_s3.url)["OPTIONS"])

    elapsed, error = timed_failure(lambda: storage.open("avatars/x.jpg").read())

    assert elapsed < BOUND, f"{elapsed:.1f} s"
    assert frozen_s3.url in str(error)
    assert frozen_s3.connections() == ATTEMPTS


@pytest.mark.django_db(transaction=True)
def test_an_upload_on_frozen_storage_fails_in_time_and_leaves_no_rows(frozen_s3, settings):
    frozen = production_like(frozen_s3.url)
    with override_settings(STORAGES={**settings.STORAGES, "default": frozen}):
        elapsed, _ = timed_failure(
            lambda: avatar_import(email="someone@example.com", data=image_bytes((300, 300)))
        )

    assert elapsed < BOUND, f"{elapsed:.1f} s"
    assert not User.objects.exists()
    assert not Address.objects.exists()
    assert not Avatar.objects.exists()


def test_the_settings_read_the_timeout_and_attempts_from_the_environment(tmp_path):
    code = (
        "from django.conf import settings; "
        "o = settings.STORAGES['default']['OPTIONS']; c = o['client_config']; "
        "print(c.connect_timeout, c.read_timeout, c.retries['total_max_attempts'], "
        "c.retries['mode'], o['transfer_config'].num_download_attempts)"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
        "DJANGO_SETTINGS_MODULE": "gravatar.settings",
        "VAR_DIR": str(tmp_path),
        "STORAGE": "s3",
        "S3_BUCKET": "avatars",
    }
    run = [sys.executable, "-c", code]

    defaults = subprocess.run(run, cwd=REPO, env=env, capture_output=True, text=True, check=True)
    chosen = subprocess.run(
        run,
        cwd=REPO,
        env={**env, "S3_TIMEOUT": "7", "S3_MAX_ATTEMPTS": "4"},
        capture_output=True,
        text=True,
        check=True,
    )

    assert defaults.stdout.split() == ["5", "5", "2", "standard", "1"]
    assert chosen.stdout.split() == ["7", "7", "4", "standard", "1"]


@pytest.mark.django_db
def test_the_avatar_endpoint_answers_a_short_lived_stand_in_within_the_bound(
    frozen_s3, settings, client, personas
):
    # Nothing cached: the rendition must come from storage.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    renditions.memory_cache().clear()

    frozen = production_like(frozen_s3.url)
    with override_settings(STORAGES={**settings.STORAGES, "default": frozen}):
        started = time.monotonic()
        response = client.get(f"/avatar/{personas.alice_address.md5}?s=81&d=404")
        elapsed = time.monotonic() - started

    assert elapsed < BOUND, f"{elapsed:.1f} s"
    assert response.status_code == 404  # d=404 stands in for the image S3 could not give
    assert get_max_age(response) == STAND_IN_MAX_AGE


def test_storage_that_refuses_connections_gets_the_stand_in_too(settings, client, personas):
    """botocore's connection and status errors are not OSErrors; they are unreadable images
    all the same, not 500s."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    renditions.memory_cache().clear()
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    refused = production_like(f"http://127.0.0.1:{closed}")
    with override_settings(STORAGES={**settings.STORAGES, "default": refused}):
        response = client.get(f"/avatar/{personas.alice_address.md5}?s=81&d=404")
    assert response.status_code == 404
    assert get_max_age(response) == STAND_IN_MAX_AGE
