"""The apps depend on each other in one direction: accounts ← avatars ← profiles ← api.
accounts knows people and signing in; avatars knows addresses, images and what a hash serves;
profiles knows what an account publishes behind its hashes; api knows apps, tokens and keys,
and acts through the others' services."""

from __future__ import annotations

import ast
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(), filename=str(source))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def imports_of_app(app: str, forbidden: str) -> list[str]:
    return sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (ROOT / app).rglob("*.py")
        for name in imported_modules(path)
        if name == forbidden or name.startswith(f"{forbidden}.")
    )


def test_no_accounts_module_imports_avatars():
    assert imports_of_app("accounts", "avatars") == []


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    module = tmp_path / "late.py"
    module.write_text("def f():\n    from avatars import services\n    import avatars.models\n")
    assert imported_modules(module) >= {"avatars", "avatars.services", "avatars.models"}


def test_avatars_does_import_accounts_so_the_direction_is_one_way():
    assert imports_of_app("avatars", "accounts") != []


def test_no_accounts_or_avatars_module_imports_profiles():
    assert imports_of_app("accounts", "profiles") + imports_of_app("avatars", "profiles") == []


def test_no_accounts_avatars_or_profiles_module_imports_api():
    assert [
        found for app in ("accounts", "avatars", "profiles") for found in imports_of_app(app, "api")
    ] == []


def test_api_does_import_profiles_and_avatars():
    assert imports_of_app("api", "profiles") != []
    assert imports_of_app("api", "avatars") != []


def test_no_other_app_imports_operations():
    """operations reads the other apps (their rows, checks and nodes); they count through
    gravatar/metrics.py instead."""
    for app in ("accounts", "avatars", "profiles", "api"):
        assert imports_of_app(app, "operations") == [], app


def test_the_metric_families_import_no_app():
    names = imported_modules(ROOT / "gravatar" / "metrics.py")
    apps = {"accounts", "avatars", "profiles", "api", "operations"}
    assert not {name for name in names if name.split(".")[0] in apps}


def test_the_npm_lock_file_pins_versions_and_names_no_download_address():
    """tests/browser/.npmrc keeps `resolved` URLs out of the lock file: npm ci installs from
    whichever registry the machine's npm is set up for, checked against the hashes."""
    lock = (ROOT / "tests" / "browser" / "package-lock.json").read_text()
    assert "://" not in lock
    packages = json.loads(lock)["packages"]
    assert packages["node_modules/axe-core"]["integrity"].startswith("sha512-")
