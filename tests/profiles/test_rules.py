"""The profile's facts hold against the rest of the code."""

from __future__ import annotations

import re

from django.urls import URLPattern, URLResolver, get_resolver

from profiles import rules


def first_segments(patterns, prefix=""):
    """The literal first path segment of every routed URL ('' when it starts with a value)."""
    for entry in patterns:
        route = prefix + _literal(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from first_segments(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route.split("/", 1)[0]


def _literal(pattern) -> str:
    text = str(pattern).lstrip("^")
    # Stop at the first converter or regular-expression construct: what follows is a value.
    match = re.match(r"[A-Za-z0-9_.\-/]*", text)
    assert match is not None
    return match.group(0)


def test_every_first_segment_the_site_routes_is_reserved():
    segments = {s for s in first_segments(get_resolver().url_patterns) if s}
    assert segments, "no routes found"
    assert {"avatar", "account", "admin", "login", "signup"} <= segments
    assert segments - rules.RESERVED_SLUGS == set()


def test_reserved_words_are_lower_case_as_slugs_are_compared():
    for word in rules.RESERVED_SLUGS:
        assert word == word.lower()


def test_a_digest_shaped_slug_is_reserved_since_hash_urls_would_shadow_it():
    assert rules.slug_reserved("0" * 32) and rules.slug_reserved("ab" * 32)
    assert rules.slug_reserved("Admin")
    assert not rules.slug_reserved("0" * 31) and not rules.slug_reserved("alice")
