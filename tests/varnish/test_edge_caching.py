"""What the shipped VCL caches, how it folds equivalent URLs together, and what it never caches."""

from __future__ import annotations

import hashlib
import http.client
from urllib.parse import urlsplit

import pytest
from django.test import Client

from avatars.purging import send_purge
from tests.personas import Personas, make_personas
from tests.varnish.conftest import Edge, close_to, colour_of

pytestmark = pytest.mark.varnish

ALICE_BLUE = (20, 120, 220)
NOBODY = hashlib.md5(b"nobody@example.com", usedforsecurity=False).hexdigest()


@pytest.fixture
def people(fresh_edge) -> Personas:
    return make_personas()


@pytest.fixture
def alice_md5(people) -> str:
    return people.alice_address.md5


def test_the_first_request_misses_and_the_next_hits(fresh_edge: Edge, alice_md5):
    first = fresh_edge.get(f"/avatar/{alice_md5}")
    second = fresh_edge.get(f"/avatar/{alice_md5}")

    assert (first.cache, second.cache) == ("MISS", "HIT")
    assert close_to(colour_of(second), ALICE_BLUE)
    assert second.body == first.body


@pytest.mark.parametrize(
    ("spellings", "accept"),
    [
        pytest.param(
            [
                "/avatar/{md5}",
                "/avatar/{MD5}",
                "/avatar/{md5}.jpg",
                "/avatar/{MD5}.PNG",
                "/avatar/{md5}.jpeg/",
                "/avatar/{md5}/",
                "/avatar/{md5}?s=80&r=g&f=n",
                "/avatar/{md5}?size=80&rating=G&forcedefault=no",
                "/avatar/{md5}?utm_source=newsletter&s=080",
                "/avatar/{md5}?s=0&d=no-such-style",
                "/avatar/{md5}?s=abc&r=nc17&f=maybe",
                "/avatar/{md5}?size=300&s=80",
            ],
            {},
            id="hash case, extension, names, order, defaults, unknown parameters",
        ),
        pytest.param(
            [
                "/avatar/{md5}?s=2048",
                "/avatar/{md5}?s=3000",
                "/avatar/{md5}?size=99999999999999",
                "/avatar/{md5}.png?s=100&s=2049",
            ],
            {},
            id="sizes clamped",
        ),
        pytest.param(
            [
                "/avatar/{nobody}?d=mp&s=64",
                "/avatar/{nobody}?d=mm&s=64",
                "/avatar/{nobody}?default=MP&size=64",
                "/avatar/{NOBODY}.jpg?s=64&d=mm&initials=AB",
            ],
            {},
            id="mm is mp, initials only matter to d=initials",
        ),
        pytest.param(
            [
                "/avatar/{nobody}?s=64&d=mp",
                "/avatar/{nobody}?d=mp&s=64",
                "/avatar/{nobody}?s=64&d=mp&r=g&f=n",
                "/avatar/{nobody}?s=64&r=g&f=n&d=mp",
                "/avatar/{nobody}?f=n&d=MM&r=G&size=64",
            ],
            {},
            id="the canonical shortcut and the full reading key alike",
        ),
        pytest.param(
            [
                "/avatar/{nobody}?d=initials&initials=ab",
                "/avatar/{nobody}?d=initials&initials=AB&name=Zed+Quux",
                "/avatar/{nobody}?default=initials&initials=abc&initials=ab",
            ],
            {},
            id="initials",
        ),
    ],
)
def test_equivalent_urls_share_one_object(fresh_edge: Edge, alice_md5, spellings, accept):
    names = {"md5": alice_md5, "MD5": alice_md5.upper(), "nobody": NOBODY, "NOBODY": NOBODY.upper()}
    responses = [fresh_edge.get(spelling.format(**names), accept) for spelling in spellings]

    assert [response.cache for response in responses] == ["MISS"] + ["HIT"] * (len(spellings) - 1)
    assert {response.body for response in responses} == {responses[0].body}


@pytest.mark.parametrize(
    ("accepts", "content_type"),
    [
        (
            ["image/avif,image/webp,image/apng,*/*;q=0.8", "image/avif", "IMAGE/AVIF, image/*"],
            "image/avif",
        ),
        (["image/webp,*/*", "image/webp", "image/avif;q=0, image/webp"], "image/webp"),
        (["", "*/*", "text/html,image/*;q=0.8", "image/webp;q=0, image/avif;q=0.0"], "image/jpeg"),
    ],
)
def test_accept_is_reduced_to_the_formats_the_app_chooses_from(
    fresh_edge: Edge, alice_md5, accepts, content_type
):
    responses = [
        fresh_edge.get(f"/avatar/{alice_md5}", {"Accept": a} if a else {}) for a in accepts
    ]

    assert [response.cache for response in responses] == ["MISS"] + ["HIT"] * (len(accepts) - 1)
    assert {response.header("Content-Type") for response in responses} == {content_type}


# Each spelling through Varnish must get exactly what the app answers for that spelling, even
# with every other spelling already cached: a wrong merge would serve another URL's object.
SPELLINGS = [
    ("/avatar/{md5}", ""),
    ("/avatar/{md5}?s=40", ""),
    ("/avatar/{md5}?s=40&r=x", ""),
    ("/avatar/{md5}?s=40&f=y", ""),
    ("/avatar/{md5}?s=40&f=TRUE&d=retro", ""),
    ("/avatar/{md5}?s=40&f=1&d=identicon", ""),
    ("/avatar/{md5}?s=40&forcedefault=y&f=n", ""),
    ("/avatar/{md5}?s=40&f=%79", ""),
    ("/avatar/{md5}?s=40&f=+y", ""),
    ("/avatar/{md5}?size=+40", ""),
    ("/avatar/{md5}?s=%2040", ""),
    ("/avatar/{md5}?s=-40", ""),
    ("/avatar/{md5}?s=4e1", ""),
    ("/avatar/{md5}?%73=48", ""),
    ("/avatar/{md5}?s", ""),
    ("/avatar/{md5}?s=&size=48", ""),
    ("/avatar/{md5}.webp?s=40", ""),
    ("/avatar/{md5}.avif?s=40", "image/webp"),
    ("/avatar/{md5}.?s=40", "image/webp"),
    ("/avatar/{md5}.gif?s=40", "image/webp"),
    ("/avatar/{md5}.jpg.webp?s=40", ""),
    ("/avatar/{md5}?s=40", "image/avif,image/webp"),
    ("/avatar/{md5}?s=40", "image/webp;q=0.5"),
    ("/avatar/{md5}?s=40", "image/webp;q=0"),
    ("/avatar/{md5}?s=40", "image/webp;level=1;q=0.000, image/avif;q=0"),
    ("/avatar/{nobody}?s=40", ""),
    ("/avatar/{nobody}?s=40&d=404", ""),
    ("/avatar/{nobody}?s=40&d=%34%30%34", ""),
    ("/avatar/{nobody}?s=40&d=blank", ""),
    ("/avatar/{nobody}?s=40&d=Color", ""),
    ("/avatar/{nobody}?s=40&d=robohash&r=pg", ""),
    ("/avatar/{nobody}?s=40&d=wavatar", ""),
    ("/avatar/{nobody}?s=40&d=monsterid", ""),
    ("/avatar/{nobody}?s=40&d=initials", ""),
    ("/avatar/{nobody}?s=40&d=initials&initials=q", ""),
    ("/avatar/{nobody}?s=40&d=initials&initials=a-b", ""),
    ("/avatar/{nobody}?s=40&d=initials&initials=--&name=Some+random+user", ""),
    ("/avatar/{nobody}?s=40&d=initials&name=Zed%20Quux", ""),
    ("/avatar/{nobody}?s=40&initials=xy", ""),
    ("/avatar/{nobody}?s=40&d=https%3A%2F%2Fexample.com%2Fa.png", ""),
    ("/avatar/{nobody}?s=40&d=https://example.com/b.png", ""),
    ("/avatar/{nobody}?s=40&d=https%3A%2F%2Fuser%40example.com%2Fa.png", ""),
    ("/avatar/{nobody}?s=40&d=http%3A%2F%2Fexample.com%3A8080%2Fa.png", ""),
    ("/avatar/not-a-hash?s=40", ""),
    ("/avatar/?s=40", ""),
    ("/avatar/?s=40&d=identicon", ""),
    ("/avatar/{md5}%20?s=40", ""),
    ("/avatar/%{hex_of_first}{md5_tail}?s=40", ""),
    ("/avatar/{md5}?s=040", ""),
    ("/avatar/{md5}?s=0&d=404", ""),
    ("/avatar/{md5}?s=0000", ""),
    ("/avatar/{md5}?s=2049&r=x", ""),
    ("/avatar/{md5}?size=99999999999", ""),
    ("/avatar/{md5}?s=1", ""),
    ("/avatar/{md5}?s=40&r=PG&d=404", ""),
    ("/avatar/{md5}?s=40&rating=X", ""),
    ("/avatar/{md5}?s=40&r=q&d=404", ""),
    ("/avatar/{md5}?s=40&f=Y&d=Retro", ""),
    ("/avatar/{md5}?s=40&forcedefault=1&d=MM", ""),
    ("/avatar/{md5}?s=40&f=no&d=404", ""),
    ("/avatar/{md5}?s=40&f&d", ""),
    ("/avatar/{MD5}?s=040&f=True&d=IDENTICON", ""),
    ("/avatar/{MD5}/?size=48&rating=pg&forcedefault=y&default=mm", ""),
    ("/avatar/{sha256}?s=40&f=y&d=wavatar", ""),
    ("/avatar/{SHA256}.png?s=40&f=y&d=wavatar", ""),
    ("/avatar/{sha256}.webp?s=40", "image/avif"),
    ("/avatar/{nobody}?s=40&d=initials&initials=abcd", ""),
    ("/avatar/{nobody}?s=40&d=initials&initials=a1&name=Zed", ""),
    ("/avatar/{nobody}?s=40&d=retro&initials=ab&name=Zed", ""),
    ("/avatar/{nobody}?s=40&d=Initials&name=Zed+Quux", ""),
    ("/avatar/abc&s=5?s=40", ""),
    ("/avatar/{md5}?s=40", "image/avif ,image/webp"),
    ("/avatar/{md5}?s=40", "Image/AVIF, image/png"),
    ("/avatar/{md5}?s=40", "IMAGE/AVIF"),
    ("/avatar/{md5}?s=40", "image/avif;q=, image/png"),
    ("/avatar/{md5}?s=40", "image/avif;q=.0,image/webp;q=0."),
    ("/avatar/{md5}?s=40", "image/avif-sequence,image/webp"),
    ("/avatar/{md5}?s=40", "image/webp ; q=0.1"),
]


def test_normalising_never_changes_what_the_app_answers(fresh_edge: Edge, people, alice_md5):
    names = {
        "md5": alice_md5,
        "MD5": alice_md5.upper(),
        "sha256": people.alice_address.sha256,
        "SHA256": people.alice_address.sha256.upper(),
        "nobody": NOBODY,
        # The hash with its first character percent-encoded: the app decodes it.
        "hex_of_first": f"{ord(alice_md5[0]):02X}",
        "md5_tail": alice_md5[1:],
    }
    for template, accept in SPELLINGS:
        path = template.format(**names)
        headers = {"Accept": accept} if accept else {}
        through_varnish = fresh_edge.get(path, headers)
        from_app = fresh_edge.direct(path, headers)
        seen = (through_varnish.status, through_varnish.header("Content-Type"))
        assert seen == (from_app.status, from_app.header("Content-Type")), (path, accept)
        assert through_varnish.header("Location") == from_app.header("Location"), (path, accept)
        assert through_varnish.body == from_app.body, (path, accept)


def test_a_cookie_does_not_bust_the_cache(fresh_edge: Edge, alice_md5):
    fresh_edge.get(f"/avatar/{alice_md5}")
    with_cookies = fresh_edge.get(
        f"/avatar/{alice_md5}", {"Cookie": "sessionid=abc123; csrftoken=def456"}
    )

    assert with_cookies.cache == "HIT"
    assert "Set-Cookie" not in with_cookies.headers


def test_conditional_requests_get_304_from_varnish(fresh_edge: Edge, alice_md5):
    full = fresh_edge.get(f"/avatar/{alice_md5}")
    etag, last_modified = full.header("ETag"), full.header("Last-Modified")
    assert etag and last_modified
    by_etag = fresh_edge.get(f"/avatar/{alice_md5}", {"If-None-Match": etag})
    by_date = fresh_edge.get(f"/avatar/{alice_md5}", {"If-Modified-Since": last_modified})
    changed = fresh_edge.get(f"/avatar/{alice_md5}", {"If-None-Match": '"something-else"'})

    assert (by_etag.status, by_etag.cache, by_etag.body) == (304, "HIT", b"")
    assert (by_date.status, by_date.cache, by_date.body) == (304, "HIT", b"")
    assert (changed.status, changed.cache) == (200, "HIT")


def test_account_pages_are_never_cached(fresh_edge: Edge, people):
    client = Client()
    client.force_login(people.alice)
    session = f"sessionid={client.cookies['sessionid'].value}"

    alices_page = fresh_edge.get("/account/", {"Cookie": session})
    anonymous = fresh_edge.get("/account/")
    login_pages = [fresh_edge.get("/login/"), fresh_edge.get("/login/")]
    admin = fresh_edge.get("/admin/login/")

    assert (alices_page.status, alices_page.cache) == (200, "PASS")
    assert b"alice@example.com" in alices_page.body
    assert anonymous.status == 302
    assert urlsplit(anonymous.header("Location") or "").path.startswith("/login")
    assert [page.cache for page in login_pages] == ["PASS", "PASS"]
    # Each visitor gets their own CSRF cookie, never someone else's.
    cookies = [page.header("Set-Cookie") for page in login_pages]
    assert all(cookies) and cookies[0] != cookies[1]
    assert admin.cache == "PASS"


def test_responses_carry_x_cache_and_no_internal_headers(fresh_edge: Edge, alice_md5):
    response = fresh_edge.get(f"/avatar/{alice_md5}")
    from_app = fresh_edge.direct(f"/avatar/{alice_md5}")

    assert response.cache == "MISS"
    assert from_app.header("xkey") and response.header("xkey") is None
    assert response.header("Age") is None
    # Browsers and other shared caches get the browser lifetime; only this tier is purged.
    assert "s-maxage" in (from_app.header("Cache-Control") or "")
    assert "s-maxage" not in (response.header("Cache-Control") or "")
    assert "max-age=300" in (response.header("Cache-Control") or "")


def test_a_purge_drops_every_size_and_format_of_an_address(fresh_edge: Edge, people):
    address = people.alice_address
    paths = [
        (f"/avatar/{address.md5}", {}),
        (f"/avatar/{address.md5}?s=200", {"Accept": "image/webp"}),
        (f"/avatar/{address.sha256}.png?size=32", {}),
        (f"/avatar/{address.sha256}", {"Accept": "image/avif"}),
    ]
    for path, headers in paths:
        fresh_edge.get(path, headers)
    assert {fresh_edge.get(path, headers).cache for path, headers in paths} == {"HIT"}

    dropped = send_purge(fresh_edge.varnish.url, [address.md5])

    assert dropped == len(paths)
    assert {fresh_edge.get(path, headers).cache for path, headers in paths} == {"MISS"}


def test_a_soft_purge_serves_the_old_copy_once_while_it_refreshes(fresh_edge: Edge, alice_md5):
    fresh_edge.get(f"/avatar/{alice_md5}")

    status, reason = purge_request(fresh_edge.varnish.url, {"xkey-softpurge": alice_md5})
    stale = fresh_edge.get(f"/avatar/{alice_md5}")

    assert (status, reason) == (200, "Purged 1")
    assert stale.cache == "HIT-STALE"
    assert close_to(colour_of(stale), ALICE_BLUE)


def test_purges_are_refused_outside_the_acl(fresh_edge: Edge, alice_md5):
    fresh_edge.get(f"/avatar/{alice_md5}")

    # The acl allows 127.0.0.1 only; 127.0.0.2 is another host on the loopback network.
    status, _ = purge_request(fresh_edge.varnish.url, {"xkey-purge": alice_md5}, source="127.0.0.2")

    assert status == 403
    assert fresh_edge.get(f"/avatar/{alice_md5}").cache == "HIT"


def test_a_purge_without_keys_is_a_bad_request(fresh_edge: Edge):
    status, _ = purge_request(fresh_edge.varnish.url, {})

    assert status == 400


def purge_request(base_url: str, headers: dict[str, str], source: str = "127.0.0.1"):
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(
        parts.hostname or "", parts.port, timeout=5, source_address=(source, 0)
    )
    try:
        connection.request("PURGE", "/", headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, response.reason
    finally:
        connection.close()
