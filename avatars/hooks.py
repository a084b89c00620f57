"""Where apps built on avatars add their part to its account workflows.

avatars must never import them (accounts ← avatars ← profiles), yet a data export has to hold
everything the account owns and a deleted account must take the edge's copies of all of it
along. So those apps register here, in their AppConfig.ready(), and avatars calls what is
registered without knowing who did.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from accounts.models import User

ExportPart = Callable[[User], Any]
DeletionPart = Callable[[User], None]

_export_parts: dict[str, ExportPart] = {}
_deletion_parts: dict[str, DeletionPart] = {}


def export_part_register(name: str, build: ExportPart) -> None:
    """`build(user)` returns JSON-serialisable data, kept under `name` in account.json."""
    _export_parts[name] = build


def deletion_part_register(name: str, run: DeletionPart) -> None:
    """`run(user)` runs inside the deletion's transaction, before the account's rows go."""
    _deletion_parts[name] = run


def export_parts(user: User) -> dict[str, Any]:
    return {name: build(user) for name, build in _export_parts.items()}


def deletion_parts_run(user: User) -> None:
    for run in _deletion_parts.values():
        run(user)
