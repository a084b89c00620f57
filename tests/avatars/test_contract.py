"""avatars/contract.py: the URL contract's facts, and that every other place takes them from it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from avatars import contract
from avatars.defaults import GENERATORS
from avatars.models import Rating

ROOT = Path(__file__).resolve().parents[2]
# Application code and the VCL; tests, benchmarks and migrations (a record of the past) aside.
APPLICATION = [
    path
    for folder in ("accounts", "avatars", "gravatar", "deploy", "templates", "static/js")
    for path in (ROOT / folder).rglob("*")
    if path.is_file()
    and path.suffix in {".py", ".vcl", ".html", ".js", ".sh", ".conf"}
    and "migrations" not in path.parts
]
HOMES = {ROOT / "avatars/contract.py", ROOT / "deploy/varnish/contract.vcl"}


@pytest.mark.parametrize("maximum", [1, 7, 9, 10, 11, 99, 100, 101, 255, 999, 1000, 2048, 4096])
def test_the_size_pattern_matches_exactly_one_to_the_maximum(maximum):
    pattern = re.compile(contract.size_pattern(maximum))
    for number in range(0, maximum * 10 + 20):
        assert bool(pattern.fullmatch(str(number))) == (1 <= number <= maximum), number
    assert not pattern.fullmatch("0" + str(maximum))
    assert not pattern.fullmatch("")


def test_the_hash_pattern_takes_lower_case_md5_and_sha256_only():
    pattern = re.compile(contract.HASH_PATTERN)
    assert pattern.fullmatch("a" * 32)
    assert pattern.fullmatch("0" * 64)
    for bad in ("a" * 31, "a" * 33, "a" * 63, "a" * 65, "A" * 32, "g" * 32, ""):
        assert not pattern.fullmatch(bad), bad


def test_ratings_rank_lowest_first_and_the_model_labels_them_in_that_order():
    assert [contract.rating_rank(rating) for rating in contract.RATINGS] == [0, 1, 2, 3]
    assert tuple(Rating.values) == contract.RATINGS
    assert Rating.describe() == "g, pg, r or x"
    with pytest.raises(ValueError):
        contract.rating_rank("nc-17")


def test_every_generated_default_has_a_drawing_and_every_drawing_a_keyword():
    assert tuple(GENERATORS) == contract.GENERATED_DEFAULTS
    assert set(contract.DEFAULT_ALIASES.values()) <= set(contract.DEFAULT_KEYWORDS)
    assert set(contract.GENERATED_DEFAULTS) >= contract.TEXT_DEFAULTS


def test_the_contract_module_needs_no_django():
    code = (
        "import sys, avatars.contract; "
        "sys.exit(any(name.split('.')[0] == 'django' for name in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False).returncode == 0


def homes_of(pattern: str) -> set[Path]:
    found = re.compile(pattern)
    return {path for path in APPLICATION if found.search(path.read_text(errors="replace"))}


def test_the_largest_size_is_written_only_in_the_contract_and_its_vcl():
    assert homes_of(rf"(?<![0-9]){contract.MAX_SIZE}(?![0-9])") <= HOMES


def test_the_keyword_list_is_written_only_in_the_contract_and_its_vcl():
    # A list: three keywords, quoted or in a regex alternation, within one line.
    quoted = "|".join(contract.GENERATED_DEFAULTS[1:])
    listed = rf"""(?:["'|(]|== ")(?:{quoted})\b.*(?:{quoted})\b.*(?:{quoted})\b"""
    assert homes_of(listed) <= HOMES


def test_the_ratings_are_written_only_in_the_contract_and_its_vcl():
    assert homes_of(r"""["'|(]pg["'|)]""") <= HOMES


@pytest.mark.django_db
def test_the_home_page_states_the_contract_it_is_given(client):
    page = client.get("/").content.decode()
    hint = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page.partition('class="hint">Sizes:')[2]))
    assert hint.startswith(f" ?s= 1 to {contract.MAX_SIZE}. Defaults: ?d=404, mp, identicon,")
    assert "Ratings: ?r=g (default), pg, r, x." in hint
