"""Arbitrary paths, query strings and Accept headers never make the endpoint fail."""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import decode
from tests.personas import make_personas

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_caches")]

KNOWN_PARAMETERS = ["s", "size", "d", "default", "f", "forcedefault", "r", "rating"]
KNOWN_PARAMETERS += ["initials", "name"]
# What WSGI servers hand Django: latin-1 text, no line breaks in headers.
LATIN1 = st.characters(max_codepoint=255, exclude_characters="\r\n")
XKEY = re.compile(
    r"(?:[0-9a-f]{32} [0-9a-f]{64}|[0-9a-f]{32}|[0-9a-f]{64}|no-hash)"
    r" avatar(?: default| rendition)?"
)
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

hex_hashes = st.from_regex(r"\A[0-9a-fA-F]{32}\Z|\A[0-9a-fA-F]{64}\Z")
extensions = st.sampled_from(["", ".jpg", ".jpeg", ".png", ".webp", ".avif", ".gif", ".", "/"])
names = st.one_of(hex_hashes, st.text(max_size=70)) | st.just("")
values = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-10, max_value=300).map(str),
    st.sampled_from(["2048", "99999", "404", "mm", "identicon", "blank", "initials", "y"]),
    st.sampled_from(["https://img.example.com/a.png", "http://u:p@x.example/", "ftp://x/"]),
)
parameters = st.lists(
    st.tuples(st.one_of(st.sampled_from(KNOWN_PARAMETERS), st.text(max_size=8)), values),
    max_size=6,
)
accepts = st.one_of(
    st.sampled_from(["", "image/avif", "image/webp", "image/*", "image/webp;q=0, image/avif"]),
    st.text(LATIN1, max_size=60),
)


@pytest.fixture
def known_hashes() -> list[str]:
    address = make_personas().alice_address
    return [address.md5, address.sha256.upper()]


def check(response, method: str) -> None:
    assert response.status_code in {200, 302, 304, 404}, response.status_code
    if response.status_code == 404 and "xkey" not in response:
        return  # not this endpoint (a path with more segments)
    assert XKEY.fullmatch(response["xkey"]), response["xkey"]
    assert response["Vary"] == "Accept"
    assert "Set-Cookie" not in response
    if response.status_code == 200:
        assert response["Content-Type"].startswith("image/")
        assert re.fullmatch(
            r'inline; filename="(?:[0-9a-f]+|avatar)\.[a-z]+"', response["Content-Disposition"]
        )
        if method == "GET":
            assert response["Content-Length"] == str(len(response.content))
            image = decode(response.content)
            assert image.width == image.height
            assert 1 <= image.width <= 2048


@FUZZ
@given(data=st.data(), name=names, extension=extensions, query=parameters, accept=accepts)
def test_structured_requests_never_fail(client, known_hashes, data, name, extension, query, accept):
    if data.draw(st.booleans()):
        name = data.draw(st.sampled_from(known_hashes))
    method = data.draw(st.sampled_from(["GET", "HEAD"]))
    path = "/avatar/" + quote(name + extension, safe="/")
    response = client.generic(method, f"{path}?{urlencode(query)}", HTTP_ACCEPT=accept)
    check(response, method)


@FUZZ
@given(raw_path=st.text(LATIN1, max_size=80), raw_query=st.text(LATIN1, max_size=120))
def test_raw_paths_and_query_strings_never_fail(client, raw_path, raw_query):
    response = client.get("/avatar/" + quote(raw_path, safe=""), QUERY_STRING=raw_query)
    check(response, "GET")
