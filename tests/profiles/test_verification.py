"""Finding a rel="me" link back to the profile in a page: html.parser, not a pattern."""

from __future__ import annotations

import pytest

from profiles.verification import profile_page_urls, rel_me_links

SITE = "https://avatars.example.com"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


def test_it_finds_a_and_link_elements_with_me_among_their_rels():
    html = """<html><head><link rel="me" href="https://avatars.example.com/alice"></head>
    <body><a href="/relative" REL="nofollow ME">x</a><a rel="menu" href="/not">y</a>
    <a href="/plain">z</a><link rel=me href='https://other.example/'/></body></html>"""
    assert rel_me_links(html, "https://github.com/alice") == [
        "https://avatars.example.com/alice",
        "https://github.com/relative",
        "https://other.example/",
    ]


def test_broken_markup_and_odd_attribute_order_still_parse():
    html = '<div><a\nhref="https://avatars.example.com/alice"\n  class="x" rel="me">me</div'
    assert rel_me_links(html, "https://g.example/") == ["https://avatars.example.com/alice"]


def test_a_rel_me_in_a_comment_or_text_does_not_count():
    html = '<!-- <a rel="me" href="https://avatars.example.com/alice"> --> rel="me" href=x'
    assert rel_me_links(html, "https://g.example/") == []


def test_the_profile_is_named_by_slug_or_hash_whatever_the_case_or_trailing_slash():
    urls = profile_page_urls(slug="alice", digests=["ab" * 16])
    assert urls == {f"{SITE}/alice", f"{SITE}/{'ab' * 16}"}
    from profiles.verification import _normal

    assert _normal("HTTPS://Avatars.Example.com/Alice/?utm=x#top") in urls
    assert _normal("https://avatars.example.com.evil.example/alice") not in urls
    assert _normal("http://avatars.example.com/alice") not in urls  # another origin
