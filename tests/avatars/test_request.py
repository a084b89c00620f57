"""Parsing /avatar/<hash>[.<ext>]?<params> into an AvatarRequest: aliases, clamps, defaults."""

from __future__ import annotations

import hashlib

import pytest

from avatars.request import AvatarRequest, custom_default_allowed, default_url_allowed, negotiate

MD5 = hashlib.md5(b"jane@example.com", usedforsecurity=False).hexdigest()
SHA256 = hashlib.sha256(b"jane@example.com").hexdigest()


def parse(name: str = MD5, /, accept: str = "", **query: str) -> AvatarRequest:
    return AvatarRequest.parse(name=name, query=query, accept=accept)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (MD5, MD5),
        (SHA256, SHA256),
        (MD5.upper(), MD5),
        (f"{MD5}.jpg", MD5),
        (f"{SHA256.upper()}.PNG", SHA256),
        (f"{MD5}.gif", MD5),
        ("", ""),
        (MD5[:-1], ""),
        (MD5 + "0", ""),
        ("z" * 32, ""),
        (f"{MD5}.{MD5}", MD5),
        (f"{MD5[:8]}.{MD5}", ""),
        ("../../etc/passwd", ""),
    ],
)
def test_it_accepts_md5_and_sha256_in_any_case_and_nothing_else(name, expected):
    assert parse(name).hash == expected


@pytest.mark.parametrize(
    ("query", "size"),
    [
        ({}, 80),
        ({"s": "200"}, 200),
        ({"size": "200"}, 200),
        ({"s": "1"}, 1),
        ({"s": "2048"}, 2048),
        ({"s": "2049"}, 2048),
        ({"s": "99999999999999999999999999"}, 2048),
        ({"s": "9" * 5000}, 2048),
        ({"s": "0"}, 80),
        ({"s": "000"}, 80),
        ({"s": "-5"}, 80),
        ({"s": "abc"}, 80),
        ({"s": "12px"}, 80),
        ({"s": "1e3"}, 80),
        ({"s": " 64 "}, 64),
        ({"s": "+64"}, 64),
        ({"s": ""}, 80),
        ({"s": "64", "size": "128"}, 64),
    ],
)
def test_it_clamps_the_size_forgivingly(query, size):
    assert parse(**query).size == size


@pytest.mark.parametrize(
    ("query", "default"),
    [
        ({}, "mp"),
        ({"d": "identicon"}, "identicon"),
        ({"default": "identicon"}, "identicon"),
        ({"d": "mm"}, "mp"),
        ({"d": "MP"}, "mp"),
        ({"d": "404"}, "404"),
        ({"d": "nonsense"}, "mp"),
        ({"d": ""}, "mp"),
        *[({"d": kind}, kind) for kind in ("monsterid", "wavatar", "retro", "robohash")],
        *[({"d": kind}, kind) for kind in ("blank", "initials", "color")],
    ],
)
def test_it_reads_the_default_keyword_and_its_aliases(query, default):
    assert parse(**query).default == default


def test_an_unknown_keyword_falls_back_to_the_configured_default(settings):
    settings.AVATAR_DEFAULT = "retro"
    assert parse(d="sparkles").default == "retro"


@pytest.mark.parametrize(
    ("query", "forced"),
    [
        ({"f": "y"}, True),
        ({"f": "Y"}, True),
        ({"f": "1"}, True),
        ({"f": "true"}, True),
        ({"forcedefault": "y"}, True),
        ({"f": "yes"}, False),
        ({"f": "n"}, False),
        ({"f": ""}, False),
        ({}, False),
    ],
)
def test_it_reads_force_default(query, forced):
    assert parse(**query).force_default is forced


@pytest.mark.parametrize(
    ("query", "rank"),
    [
        ({}, 0),
        ({"r": "g"}, 0),
        ({"r": "pg"}, 1),
        ({"rating": "R"}, 2),
        ({"r": "x"}, 3),
        ({"r": "nc17"}, 0),
        ({"r": ""}, 0),
    ],
)
def test_it_reads_the_rating_and_treats_unknown_as_g(query, rank):
    assert parse(**query).rating == rank


@pytest.mark.parametrize(
    ("query", "letters"),
    [
        ({"name": "Some random user"}, "SU"),
        ({"name": "cher"}, "C"),
        ({"initials": "ab"}, "AB"),
        ({"initials": "abcdef"}, "ABC"),
        ({"initials": "a b"}, "AB"),
        ({"initials": "xy", "name": "Some random user"}, "XY"),
        ({"name": "\x00evil\x07 name"}, "EN"),
        ({}, ""),
    ],
)
def test_it_takes_initials_from_initials_or_name(query, letters):
    assert parse(**query).initials == letters


@pytest.mark.parametrize(
    ("name", "accept", "extension_format", "accept_format"),
    [
        (MD5, "", None, None),
        (f"{MD5}.webp", "", "WEBP", None),
        (f"{MD5}.avif", "", "AVIF", None),
        (f"{MD5}.jpg", "image/webp", None, None),
        (f"{MD5}.", "image/webp", None, None),
        (f"{MD5}.png", "image/avif", None, None),
        (MD5, "image/webp", None, "WEBP"),
        (MD5, "image/avif", None, "AVIF"),
    ],
)
def test_the_extension_decides_the_format_and_silences_accept(
    name, accept, extension_format, accept_format
):
    wanted = parse(name, accept=accept)
    assert (wanted.extension_format, wanted.accept_format) == (extension_format, accept_format)


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("", None),
        ("image/avif", "AVIF"),
        ("image/webp", "WEBP"),
        ("image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8", "AVIF"),
        ("image/webp,*/*", "WEBP"),
        ("image/webp;q=0.5, image/avif;q=0.1", "AVIF"),
        ("image/avif;q=0, image/webp", "WEBP"),
        ("image/webp;q=0.0", None),
        ("image/webp;q=oops", "WEBP"),
        ("image/*,*/*;q=0.8", None),
        ("text/html", None),
        ("IMAGE/WEBP", "WEBP"),
    ],
)
def test_accept_offers_avif_then_webp_by_name_only(accept, fmt):
    assert negotiate(accept) == fmt


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/default.png",
        "https://example.com:443/a.png",
        "http://example.com:80/a.png",
        "https://img.example.com/photos/Me.JPEG",
        *(f"https://example.com/a.{extension}" for extension in ("jpg", "gif", "webp", "avif")),
        "https://93.184.215.14/a.png",
        "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/a.png",
        "https://example.com./a.png",
    ],
)
def test_a_custom_default_url_is_accepted(url):
    assert default_url_allowed(url)
    wanted = parse(d=url)
    assert wanted.default_url == url


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/a.png",
        "javascript://example.com/%0aalert(1)",
        "https://user:secret@example.com/a.png",
        "https://user@example.com/a.png",
        "https://example.com:8443/a.png",
        "http://example.com:443/a.png",
        "https://example.com:99999/a.png",
        "https:///a.png",
        "https://exa mple.com/a.png",
        "https://example.com/a.png\r\nSet-Cookie: x=1",
        "https://exämple.com/a.png",
        "https://[::1/a.png",
        "https://example.com/" + "a" * 2000,
        # Not an image, or not only one: Gravatar's rules want an image extension, no query.
        "https://example.com/login.html?next=/a.png",
        "https://example.com/a.png?x=1",
        "https://example.com/a.png?",
        "https://example.com/a.png#.jpg",
        "https://example.com/a.svg",
        "https://example.com/a.png/",
        "https://example.com/.png",
        "https://example.com",
        "https://example.com\\@evil.example/a.png",
        # Hosts that are not public: IP literals in special ranges, in every spelling a
        # browser reads as an address, and names that only mean something locally.
        "http://127.0.0.1/a.png",
        "http://127.1/a.png",
        "http://2130706433/a.png",
        "http://0x7f.0.0.1/a.png",
        "http://0177.0.0.1/a.png",
        "http://169.254.169.254/a.png",
        "http://10.0.0.1/a.png",
        "http://172.16.0.1/a.png",
        "http://192.168.1.1/a.png",
        "http://100.64.0.1/a.png",
        "http://0.0.0.0/a.png",
        "http://224.0.0.1/a.png",
        "http://255.255.255.255/a.png",
        "http://[::1]/a.png",
        "http://[fe80::1]/a.png",
        "http://[fc00::1]/a.png",
        "http://[::ffff:127.0.0.1]/a.png",
        "http://[64:ff9b::a9fe:a9fe]/a.png",
        "http://[2002:7f00:1::]/a.png",
        "http://localhost/a.png",
        "http://LOCALHOST./a.png",
        "http://app.localhost/a.png",
        "http://printer.local/a.png",
        "http://metadata.google.internal/a.png",
        "http://intranet/a.png",
        "http://bad..example.com/a.png",
        "http://-bad.example.com/a.png",
    ],
)
def test_a_dangerous_or_odd_custom_default_url_is_refused(url, settings):
    settings.AVATAR_DEFAULT = "identicon"
    assert not default_url_allowed(url)
    wanted = parse(d=url)
    assert (wanted.default, wanted.default_url) == ("identicon", "")


def test_the_host_allow_list_limits_custom_defaults(settings):
    settings.AVATAR_DEFAULT_URL_HOSTS = ["img.example.com"]
    assert default_url_allowed("https://IMG.example.com/a.png")
    assert not default_url_allowed("https://evil.example.net/a.png")


def test_a_listed_host_is_trusted_as_named_but_every_other_rule_still_holds(settings):
    settings.AVATAR_DEFAULT_URL_HOSTS = ["images.intranet"]
    assert default_url_allowed("https://images.intranet/a.png")
    assert not default_url_allowed("https://images.intranet/a.png?x=1")
    assert not default_url_allowed("https://images.intranet/page.html")
    assert not default_url_allowed("https://images.intranet:8443/a.png")


def test_the_rules_need_no_settings_and_no_dns():
    assert custom_default_allowed("https://gravatar.example/a.png")
    assert not custom_default_allowed("https://gravatar.example/a.png", allowed_hosts=["x.example"])


@pytest.mark.parametrize(
    "names",
    [
        (MD5, SHA256.upper(), "not-a-hash", ""),
        (f"{MD5}.webp", f"{SHA256}.webp", "z.webp"),
        (f"{MD5}.AVIF", f"{SHA256}.avif"),
    ],
)
def test_names_first_seen_with_a_query_already_parsed_get_their_own_parse(names):
    # from_http reuses the parse of another name with the same query, Accept and extension.
    from django.test import RequestFactory

    from avatars import request as avatar_request

    avatar_request.parsed_requests.clear()
    avatar_request.parsed_queries.clear()
    query = "s=120&d=retro&r=pg&initials=ab"
    accept = "image/avif,image/webp,*/*"
    factory = RequestFactory()
    for _ in range(2):
        for name in names:
            request = factory.get(f"/avatar/{name}?{query}", HTTP_ACCEPT=accept)
            expected = AvatarRequest.parse(name=name, query=request.GET, accept=accept)
            assert AvatarRequest.from_http(request, name) == expected
