"""Settings are read from the environment with typed helpers that fail loudly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gravatar import settings as project_settings
from gravatar.settings import (
    ImproperlyConfiguredEnv,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_str,
    load_or_create_secret_key,
    parse_database_url,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("1", True), ("YES", True), ("off", False), ("0", False), ("False", False)],
)
def test_env_bool_reads_common_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("SOME_FLAG", raw)
    assert env_bool("SOME_FLAG", not expected) is expected


def test_env_bool_uses_default_when_unset_or_empty(monkeypatch):
    monkeypatch.delenv("SOME_FLAG", raising=False)
    assert env_bool("SOME_FLAG", True) is True
    monkeypatch.setenv("SOME_FLAG", "")
    assert env_bool("SOME_FLAG", False) is False


def test_env_bool_rejects_anything_else(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(ImproperlyConfiguredEnv, match="SOME_FLAG='maybe' is not a boolean"):
        env_bool("SOME_FLAG", False)


def test_env_int_parses_and_checks_minimum(monkeypatch):
    monkeypatch.setenv("SOME_INT", "42")
    assert env_int("SOME_INT", 1, minimum=0) == 42
    monkeypatch.setenv("SOME_INT", "-1")
    with pytest.raises(ImproperlyConfiguredEnv, match="below the minimum"):
        env_int("SOME_INT", 1, minimum=0)
    monkeypatch.setenv("SOME_INT", "ten")
    with pytest.raises(ImproperlyConfiguredEnv, match="not a whole number"):
        env_int("SOME_INT", 1)


def test_env_list_splits_and_trims(monkeypatch):
    monkeypatch.setenv("SOME_LIST", " a.example , b.example,, ")
    assert env_list("SOME_LIST") == ["a.example", "b.example"]


def test_env_choice_rejects_unknown_values(monkeypatch):
    monkeypatch.setenv("SOME_CHOICE", "S3")
    assert env_choice("SOME_CHOICE", "local", ("local", "s3")) == "s3"
    monkeypatch.setenv("SOME_CHOICE", "ftp")
    with pytest.raises(ImproperlyConfiguredEnv, match="not one of local, s3"):
        env_choice("SOME_CHOICE", "local", ("local", "s3"))


def test_env_str_reads_a_secret_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("SOME_SECRET_FILE", str(secret))
    assert env_str("SOME_SECRET") == "from-a-file"


def test_postgres_url_gets_persistent_connections_without_a_health_check_query():
    db = parse_database_url(
        "postgres://user:p%40ss@db.internal:6543/avatars?sslmode=require",
        conn_max_age=600,
        connect_timeout=3,
    )
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "avatars",
        "user",
        "p@ss",
        "db.internal",
        "6543",
    )
    assert db["OPTIONS"]["sslmode"] == "require"
    assert db["OPTIONS"]["connect_timeout"] == 3
    assert db["CONN_MAX_AGE"] == 600
    assert db["CONN_HEALTH_CHECKS"] is False


def test_sqlite_url_names_a_file():
    db = parse_database_url("sqlite:////var/lib/avatars.db", conn_max_age=0, connect_timeout=3)
    assert db["NAME"] == "/var/lib/avatars.db"


@pytest.mark.parametrize("url", ["mysql://localhost/x", "postgres://localhost/", "sqlite://"])
def test_unusable_database_urls_are_refused(url):
    with pytest.raises(ImproperlyConfiguredEnv):
        parse_database_url(url, conn_max_age=0, connect_timeout=3)


def test_secret_key_is_generated_once_and_kept_private(tmp_path):
    first = load_or_create_secret_key(tmp_path)
    assert len(first) >= 50
    assert load_or_create_secret_key(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def _import_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    return subprocess.run(
        [sys.executable, "-c", "import gravatar.settings as s; print(s.DEBUG, s.STORAGE)"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_start_up_fails_loudly_on_a_bad_value(tmp_path):
    result = _import_settings(DEBUG="sometimes", VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "DEBUG='sometimes' is not a boolean" in result.stderr


def test_defaults_run_with_nothing_configured(tmp_path):
    result = _import_settings(VAR_DIR=str(tmp_path))
    assert result.stdout.split() == ["False", "local"]
    assert (tmp_path / "secret_key").exists()


def test_s3_storage_needs_a_bucket(tmp_path):
    result = _import_settings(STORAGE="s3", VAR_DIR=str(tmp_path))
    assert "STORAGE=s3 needs S3_BUCKET" in result.stderr


def test_env_example_lists_every_variable_the_settings_read():
    import re

    source = Path(project_settings.__file__).read_text()
    read = set(re.findall(r'env_(?:str|bool|int|list|networks|choice)\(\s*"([A-Z0-9_]+)"', source))
    example = set(re.findall(r"^#?\s*([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read - example == set(), "missing from .env.example"
    assert example - read == set(), "in .env.example but never read"


# What a test run sets that a process of the checkout would not have, and what run.env sets.
NOT_IN_A_TERMINAL = {"PYTEST_VERSION", "AVATARS_IGNORE_RUN_ENV", "SITE_URL", "VARNISH_NODES"}


def _outside_pytest() -> dict[str, str]:
    """This environment as a command typed in a terminal of the checkout would have it."""
    return {k: v for k, v in os.environ.items() if k not in NOT_IN_A_TERMINAL}


def _make_run_is_serving(var_dir: Path) -> None:
    """The run.env of a `make run` that is alive (this process stands in for it)."""
    (var_dir / "run.env").write_text(
        f"RUN_LOCAL_PID={os.getpid()}\nVARNISH_NODES=http://127.0.0.1:6081\n"
    )


def test_a_pytest_run_ignores_the_run_env_of_a_make_run_beside_it(tmp_path):
    _make_run_is_serving(tmp_path)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # not the project's configuration
    (tmp_path / "test_purges.py").write_text(
        "from django.conf import settings\n\n\n"
        "def test_purges_no_developer_varnish():\n"
        "    assert settings.VARNISH_NODES == []\n"
    )

    # pytest-django imports the settings before any conftest runs; nothing of ours is loaded.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--ds=gravatar.settings"],
        cwd=tmp_path,
        env={**_outside_pytest(), "VAR_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_avatars_ignore_run_env_makes_any_process_ignore_it(tmp_path):
    # What `make test` sets for the management commands it runs before pytest.
    _make_run_is_serving(tmp_path)
    code = "import gravatar.settings as s; print(s.VARNISH_NODES)"

    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**_outside_pytest(), "VAR_DIR": str(tmp_path), "AVATARS_IGNORE_RUN_ENV": "1"},
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == "[]"


def test_what_make_run_chose_is_read_below_the_real_environment(tmp_path):
    (tmp_path / "run.env").write_text(
        f"# comment\nRUN_LOCAL_PID={os.getpid()}\nSITE_URL=http://127.0.0.1:9000\n"
        "VARNISH_NODES=http://127.0.0.1:6081\nDEBUG=sometimes\n"
    )
    code = "import gravatar.settings as s; print(s.SITE_URL, s.VARNISH_NODES[0], s.DEBUG)"

    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**_outside_pytest(), "VAR_DIR": str(tmp_path), "DEBUG": "false"},
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.split() == ["http://127.0.0.1:9000", "http://127.0.0.1:6081", "False"]


def test_a_run_env_left_by_a_make_run_that_died_is_ignored(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", ""])
    dead.wait()
    (tmp_path / "run.env").write_text(f"RUN_LOCAL_PID={dead.pid}\nSITE_URL=http://stale:1\n")

    assert project_settings.read_run_env(tmp_path / "run.env") == {}
    assert project_settings.read_run_env(tmp_path / "missing.env") == {}
