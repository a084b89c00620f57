"""Shared fixtures: personas, image bytes, and CI's rule that nothing may be skipped."""

from __future__ import annotations

import io
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

FIXTURES = Path(__file__).parent / "fixtures"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_skipped_key] = 0


_skipped_key = pytest.StashKey[int]()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and IN_CI:
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which counts as a failure: {report.longrepr}"


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
