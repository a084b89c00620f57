"""Fixtures the avatar endpoint's tests share (modules opt in with `usefixtures`)."""

from __future__ import annotations

import uuid

import pytest

from avatars import renditions


@pytest.fixture
def fresh_caches(settings) -> None:
    """Empty rendition caches, whatever backend the run configures: a rendition cached by an
    earlier test would hide whether this one made it."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": uuid.uuid4().hex,
        }
    }
    renditions.memory_cache().clear()
