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
from avatars.checks import check_avatar_default

ROOT = Path(__file__).resolve().parents[2]


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
