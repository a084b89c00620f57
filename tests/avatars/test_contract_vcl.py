"""deploy/varnish/contract.vcl: generated from the contract, checked by `make test`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from avatars import contract
from avatars.contract_vcl import CONTRACT_VCL, render

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VCL = ROOT / "deploy/varnish/default.vcl"


def test_the_committed_file_is_what_the_contract_renders():
    assert CONTRACT_VCL.read_text() == render()
    call_command("vcl_contract", "--check")


def test_check_fails_when_the_file_was_edited_by_hand(tmp_path, capsys):
    edited = tmp_path / "contract.vcl"
    edited.write_text(render().replace(f'"{contract.MAX_SIZE}"', '"4096"'))

    with pytest.raises(CommandError, match="out of step"):
        call_command("vcl_contract", "--check", "--output", str(edited))

    call_command("vcl_contract", "--output", str(edited))
    assert edited.read_text() == render()
    call_command("vcl_contract", "--check", "--output", str(edited))


def test_check_fails_when_the_file_is_missing(tmp_path):
    with pytest.raises(CommandError, match="out of step"):
        call_command("vcl_contract", "--check", "--output", str(tmp_path / "none.vcl"))


def test_the_vcl_carries_every_fact_it_needs():
    text = render()
    assert contract.size_pattern() in text
    assert contract.HASH_PATTERN in text
    for keyword in contract.DEFAULT_KEYWORDS:
        assert f'"{keyword}"' in text or f"|{keyword}" in text, keyword
    for alias, keyword in contract.DEFAULT_ALIASES.items():
        assert f'== "{alias}") {{\n        var.set("d", "{keyword}");' in text


def test_default_vcl_calls_every_generated_sub_and_includes_the_file():
    generated = set(re.findall(r"^sub (\w+)", render(), re.MULTILINE))
    called = set(re.findall(r"call (contract_\w+);", DEFAULT_VCL.read_text()))
    assert generated == called
    assert 'include "contract.vcl";' in DEFAULT_VCL.read_text()


def test_every_place_that_runs_varnish_finds_the_included_files():
    includes = re.findall(r'^include "([^"]+)";', DEFAULT_VCL.read_text(), re.MULTILINE)
    assert includes == ["backends.vcl", "contract.vcl"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = re.findall(r"^COPY (.+) /etc/varnish/", dockerfile, re.MULTILINE)
    assert "deploy/varnish/contract.vcl" in " ".join(copied).split()
    # The rest find deploy/varnish on vcl_path.
    run_local = (ROOT / "deploy/run-local.sh").read_text()
    assert 'vcl_path=$workdir/vcl:$PWD/deploy/varnish"' in run_local
    harness = (ROOT / "tests/varnish/harness.py").read_text()
    assert 'f"vcl_path={include_dir}:{VCL_DIR}"' in harness
