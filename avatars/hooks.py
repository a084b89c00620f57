"""Where apps built on avatars add their part to its account workflows.

avatars must never import them (accounts ← avatars ← profiles), yet a data export has to hold
everything the account owns, a deleted account must take the edge's copies of all of it
along, a change to an address must purge the other answers that show it, moderators need the
other apps' permissions, and the VCL needs their URL facts. So those apps register here, in
their AppConfig.ready(), and avatars calls what is registered without knowing who did.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from accounts.models import User

ExportPart = Callable[[User], Any]
DeletionPart = Callable[[User], None]
OwnerKeys = Callable[[set[int]], list[str]]
VclSection = Callable[[], str]

_export_parts: dict[str, ExportPart] = {}
_deletion_parts: dict[str, DeletionPart] = {}
_owner_keys: dict[str, OwnerKeys] = {}
_moderator_permissions: dict[str, tuple[str, ...]] = {}
_vcl_sections: dict[str, VclSection] = {}


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


def owner_keys_register(name: str, keys: OwnerKeys) -> None:
    """`keys(owner ids)` names the edge keys of those accounts' other answers (a profile's
    slug), which show their addresses, images and names: every change verb that names an
    address purges them too (avatars.freshness)."""
    _owner_keys[name] = keys


def owner_keys(owners: set[int]) -> list[str]:
    if not owners:
        return []
    return [key for keys in _owner_keys.values() for key in keys(owners)]


def moderator_permissions_register(app_label: str, *codenames: str) -> None:
    """Permissions `manage.py moderator` gives the Moderators group besides avatars' own."""
    _moderator_permissions[app_label] = codenames


def moderator_permissions() -> list[tuple[str, str]]:
    return [(app, codename) for app, names in _moderator_permissions.items() for codename in names]


def vcl_section_register(name: str, render: VclSection) -> None:
    """`render()` returns VCL subs that avatars.contract_vcl appends to contract.vcl."""
    _vcl_sections[name] = render


def vcl_sections() -> list[VclSection]:
    return list(_vcl_sections.values())
