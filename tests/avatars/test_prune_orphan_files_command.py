"""`manage.py prune_orphan_files` deletes stored files no avatar references, once they are
older than the grace period; avatars' own files and fresh uploads stay."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from tests.conftest import image_bytes, stored_files
from tests.personas import Personas

pytestmark = pytest.mark.django_db

TWO_HOURS = 2 * 3600


def orphan(name: str, *, age_seconds: int) -> Path:
    saved = default_storage.save(f"avatars/9/{name}/master.jpg", ContentFile(image_bytes()))
    path = Path(settings.MEDIA_ROOT) / saved
    then = time.time() - age_seconds
    os.utime(path, (then, then))
    return path


def prune(*args: str) -> str:
    out = io.StringIO()
    call_command("prune_orphan_files", *args, stdout=out)
    return out.getvalue()


def test_it_deletes_old_orphans_and_keeps_avatars_and_fresh_files(personas: Personas):
    old = orphan("crashed", age_seconds=TWO_HOURS)
    fresh = orphan("in-flight", age_seconds=0)
    kept = {Path(settings.MEDIA_ROOT) / personas.alice_avatar.master.name}

    output = prune()

    assert "avatars/9/crashed/master.jpg" in output and "deleted 1 orphan file(s)" in output
    files = set(stored_files(Path(settings.MEDIA_ROOT)))
    assert old not in files
    assert fresh in files and kept <= files


def test_a_dry_run_lists_and_deletes_nothing(personas: Personas):
    old = orphan("crashed", age_seconds=TWO_HOURS)

    output = prune("--dry-run")

    assert "would delete 1 orphan file(s)" in output
    assert old.exists()


def test_the_grace_period_is_an_option(personas: Personas):
    recent = orphan("recent", age_seconds=600)

    assert "deleted 0" in prune()
    assert "deleted 1" in prune("--grace-minutes", "5")
    assert not recent.exists()


def test_empty_storage_is_nothing_to_do(db):
    assert "deleted 0 orphan file(s)" in prune()
