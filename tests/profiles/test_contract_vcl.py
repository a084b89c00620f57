"""The profile URLs' part of deploy/varnish/contract.vcl: generated from profiles/rules.py into
the one file `manage.py vcl_contract` writes and checks, and called by default.vcl."""

from __future__ import annotations

import re
from pathlib import Path

from avatars import contract_vcl, hooks
from profiles import contract_vcl as profile_urls_vcl
from profiles import rules

DEFAULT_VCL = Path(__file__).resolve().parents[2] / "deploy/varnish/default.vcl"


def test_the_section_is_part_of_the_committed_contract():
    assert profile_urls_vcl.render in hooks.vcl_sections()
    assert profile_urls_vcl.render() in contract_vcl.CONTRACT_VCL.read_text()
    assert contract_vcl.render().endswith(profile_urls_vcl.render())


def test_every_reserved_word_format_and_parameter_comes_from_the_rules():
    text = profile_urls_vcl.render()
    reserved = re.search(r'var.get\("name"\) ~ "\^\(\?:([^)]*)\)\$"', text)
    assert reserved is not None
    words = {word.replace("\\", "") for word in reserved.group(1).split("|")}
    assert words == set(rules.RESERVED_SLUGS)
    assert f"(?:{'|'.join(rules.FORMATS)})" in text
    for fmt, parameters in rules.FORMAT_PARAMETERS.items():
        assert f'"[.]{fmt}$"' in text
        assert f"(?:{'|'.join(parameters)})(?:[=&]|$)" in text
    assert f"{{{rules.SLUG_MIN},{rules.SLUG_MAX}}}" in text


def test_default_vcl_calls_it():
    assert "call contract_profile_url;" in DEFAULT_VCL.read_text()
