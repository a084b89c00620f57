"""avatars/checks.py: settings checked against the contract at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from avatars import contract
from avatars.checks import (
    check_app_nodes,
    check_avatar_default,
    check_dns_resolver,
    check_scale_out,
)

ROOT = Path(__file__).resolve().parents[2]
# The scale-out checks read an overridden DATABASES; no connection is ever made with it.
pytestmark = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")


@pytest.mark.parametrize("kind", contract.GENERATED_DEFAULTS)
def test_every_generated_default_may_be_the_services_default(settings, kind):
    settings.AVATAR_DEFAULT = kind
    assert check_avatar_default() == []


@pytest.mark.parametrize("value", ["404", "mm", "gravatar", ""])
def test_anything_else_is_error_e102_naming_the_choices(settings, value):
    settings.AVATAR_DEFAULT = value
    [error] = check_avatar_default()
    assert error.id == "avatars.E102"
    assert f"AVATAR_DEFAULT={value!r}" in error.msg
    assert error.hint == f"Use one of {', '.join(contract.GENERATED_DEFAULTS)}."


def test_manage_py_check_stops_on_it(settings):
    settings.AVATAR_DEFAULT = "nope"
    with pytest.raises(SystemCheckError, match=r"avatars\.E102"):
        call_command("check")


def test_the_environment_value_is_read_in_any_case():
    environment = {**os.environ, "AVATAR_DEFAULT": " Identicon "}
    code = "from django.conf import settings; print(settings.AVATAR_DEFAULT)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v0", "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "identicon"


def _load_wsgi(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import gravatar.wsgi"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_server_started_without_manage_py_stops_on_it_too():
    """gunicorn runs no checks: the WSGI module does, so a bad value never serves 500s."""
    bad = _load_wsgi({**os.environ, "AVATAR_DEFAULT": "nope"})
    assert bad.returncode != 0
    assert "avatars.E102" in bad.stderr
    assert _load_wsgi({**os.environ, "AVATAR_DEFAULT": "identicon"}).returncode == 0


# Several app nodes (APP_NODES): what one node keeps to itself


SHARED_STORAGE = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {"bucket_name": "a"}}
SHARED_CACHE = {"BACKEND": "avatars.cache.FaultTolerantRedisCache", "LOCATION": "redis://x"}
NODES = ["http://10.0.0.5:8000", "http://10.0.0.6:8000"]


def postgres_databases(settings):
    return {"default": {**settings.DATABASES["default"], "ENGINE": "django.db.backends.postgresql"}}


@pytest.fixture
def scaled_out(settings, tmp_path):
    """Two app nodes on PostgreSQL, S3 and Redis, with a SECRET_KEY of the deployment's."""
    settings.APP_NODES = NODES
    settings.STORAGES = {**settings.STORAGES, "default": SHARED_STORAGE}
    settings.CACHES = {"default": SHARED_CACHE}
    settings.DATABASES = postgres_databases(settings)
    settings.VAR_DIR = tmp_path
    settings.SECRET_KEY = "the deployment's own key, the same on every node"
    return settings


def warning_ids() -> list[str]:
    return [message.id or "" for message in check_scale_out()]


def test_a_configuration_that_scales_out_gets_no_warning(scaled_out):
    assert check_scale_out() == []


def test_one_node_may_keep_everything_to_itself(settings):
    # The embedded default: local media, the in-process cache, SQLite, a generated key.
    for nodes in ([], NODES[:1]):
        settings.APP_NODES = nodes
        assert check_scale_out() == []


def test_local_media_with_several_nodes_is_warning_w103(scaled_out, tmp_path):
    scaled_out.STORAGES = {
        **scaled_out.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    [warning] = check_scale_out()
    assert warning.id == "avatars.W103"
    assert "APP_NODES lists 2 app nodes" in warning.msg and "STORAGE=local" in warning.msg
    assert warning.hint == "Set STORAGE=s3 and the S3_* variables on every node."


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.filebased.FileBasedCache",
    ],
)
def test_a_per_process_or_per_host_cache_is_warning_w104(scaled_out, backend):
    scaled_out.CACHES = {"default": {"BACKEND": backend, "LOCATION": "/tmp/x"}}
    [warning] = check_scale_out()
    assert warning.id == "avatars.W104"
    assert warning.hint == "Set REDIS_URL to a Redis every node shares."


def test_sqlite_is_warning_w105(scaled_out):
    scaled_out.DATABASES = {
        "default": {**scaled_out.DATABASES["default"], "ENGINE": "django.db.backends.sqlite3"}
    }
    assert warning_ids() == ["avatars.W105"]


def test_a_generated_secret_key_is_warning_w106(scaled_out, tmp_path):
    (tmp_path / "secret_key").write_text(scaled_out.SECRET_KEY + "\n")
    [warning] = check_scale_out()
    assert warning.id == "avatars.W106"
    assert str(tmp_path / "secret_key") in warning.msg


def test_the_embedded_default_on_several_nodes_gets_every_warning(settings, tmp_path):
    code = (
        "from avatars.checks import check_scale_out; print(sorted(m.id for m in check_scale_out()))"
    )
    environment = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
        "APP_NODES": ",".join(NODES),
        "VAR_DIR": str(tmp_path),
        "AVATARS_IGNORE_RUN_ENV": "1",
    }
    environment.pop("SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v0", "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == str(
        ["avatars.W103", "avatars.W104", "avatars.W105", "avatars.W106"]
    )


def test_an_app_node_that_is_not_a_url_is_error_e103(settings):
    settings.APP_NODES = ["http://10.0.0.5:8000", "10.0.0.6:8000", "http://:80"]
    errors = check_app_nodes()
    assert [error.id for error in errors] == ["avatars.E103", "avatars.E103"]
    assert "'10.0.0.6:8000'" in errors[0].msg


def test_gunicorn_logs_the_warnings_when_it_loads_the_app(tmp_path):
    environment = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
        "APP_NODES": ",".join(NODES),
        "VAR_DIR": str(tmp_path),
        "AVATARS_IGNORE_RUN_ENV": "1",
        "SECRET_KEY": "the deployment's own key",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import gravatar.wsgi"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "(avatars.W103) APP_NODES lists 2 app nodes" in result.stderr
    assert "avatars.W106" not in result.stderr


@pytest.mark.parametrize("value", ["dns.example.com", "127.0.0.1:99999", "1.2.3:53"])
def test_a_dns_resolver_that_is_not_an_address_is_error_e104(settings, value):
    settings.DNS_RESOLVER = value
    [error] = check_dns_resolver()
    assert error.id == "avatars.E104"
    assert f"DNS_RESOLVER={value!r}" in error.msg


@pytest.mark.parametrize("value", ["", "127.0.0.1", "127.0.0.1:5353", "[::1]:53"])
def test_an_ip_address_and_port_or_none_is_a_dns_resolver(settings, value):
    settings.DNS_RESOLVER = value
    assert check_dns_resolver() == []
