"""The translation catalogues are complete and current: a string marked for translation that
has no translation, a fuzzy or obsolete entry, or a catalogue that differs from what
`makemessages` makes of the code today fails `make test`.

makemessages runs on a copy of the checkout, so the committed locale/ is never touched; the
copy's catalogues are then compared with the committed ones entry by entry (msgmerge keeps
every translation of a msgid that still exists, and drops or marks the rest)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
# What makemessages reads: the apps, the project package and the templates.
SOURCES = ("accounts", "avatars", "profiles", "api", "operations", "gravatar", "templates")
OTHER_LANGUAGES = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
# %(name)s, %d, %%, and {name} (format_lazy): the same set must appear in msgid and msgstr.
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|%%|\{[a-z_]*\}")


def makemessages(root: Path) -> None:
    """The command `README.md` gives for refreshing the catalogues, run in `root`."""
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            *(f"--locale={code}" for code in OTHER_LANGUAGES),
            "--no-obsolete",
            "--ignore=.venv",
            "--ignore=var",
            "--ignore=tests",
            "--ignore=bench",
            "--ignore=deploy",
            "-v0",
        ],
        cwd=root,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "gravatar.settings"},
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sources and of locale/, with makemessages run over it."""
    root = tmp_path_factory.mktemp("checkout")
    for name in SOURCES:
        shutil.copytree(
            ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo")
        )
    shutil.copytree(ROOT / "locale", root / "locale", ignore=shutil.ignore_patterns("*.mo"))
    shutil.copy(ROOT / "manage.py", root / "manage.py")
    makemessages(root)
    return root


def entries(po: polib.POFile) -> list[tuple[object, ...]]:
    return sorted(
        (
            entry.msgctxt or "",
            entry.msgid,
            entry.msgid_plural,
            entry.msgstr,
            tuple(sorted(entry.msgstr_plural.items())),
            tuple(sorted(entry.flags)),
            entry.obsolete,
        )
        for entry in po
    )


def catalogue(root: Path, code: str) -> polib.POFile:
    return polib.pofile(str(root / "locale" / code / "LC_MESSAGES" / "django.po"))


def test_every_language_has_a_catalogue():
    assert OTHER_LANGUAGES == ["de", "fr", "es"]
    for code in OTHER_LANGUAGES:
        assert (ROOT / "locale" / code / "LC_MESSAGES" / "django.po").is_file()


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_the_committed_catalogue_is_what_makemessages_makes(fresh, code):
    """A string marked since (or changed) shows up here as an entry the committed file lacks."""
    committed, regenerated = catalogue(ROOT, code), catalogue(fresh, code)
    assert entries(committed) == entries(regenerated), (
        f"locale/{code} is out of date: run makemessages (README, Languages) and translate"
    )


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_every_entry_is_translated_and_none_is_fuzzy_or_obsolete(fresh, code):
    po = catalogue(fresh, code)
    assert len(po) > 400  # every page and email is marked
    assert not po.metadata_is_fuzzy
    assert [e.msgid for e in po if not e.translated()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []
    assert [e.msgid for e in po.obsolete_entries()] == []
    for entry in po:
        forms = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        assert all(form.strip() for form in forms), entry.msgid


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_placeholders_match(code):
    """%(email)s in the English must be %(email)s in the translation: a missing or misspelt
    one would raise, or drop the value, when the string is formatted."""
    for entry in catalogue(ROOT, code):
        if entry.msgid_plural:
            pairs = [(entry.msgid_plural, form) for form in entry.msgstr_plural.values()]
        else:
            pairs = [(entry.msgid, entry.msgstr)]
        for source, translated in pairs:
            assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(translated)), (
                code,
                entry.msgid,
                translated,
            )
        if "python-format" in entry.flags:
            # What gettext's own check says, too (msgfmt --check-format).
            assert PLACEHOLDER.findall(entry.msgid)


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_msgfmt_accepts_the_catalogue(code, tmp_path):
    """The catalogue compiles with the format checks compilemessages relies on."""
    result = subprocess.run(
        [
            "msgfmt",
            "--check",
            "-o",
            str(tmp_path / "django.mo"),
            str(ROOT / "locale" / code / "LC_MESSAGES" / "django.po"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
