"""The server-side fetcher for uploads by URL refuses to be aimed at private networks."""

from __future__ import annotations

import time

import pytest

from avatars.urlfetch import FetchPolicy, FetchRefused, fetch, fetch_page, is_public_address
from tests.conftest import image_bytes

OPEN = FetchPolicy(max_bytes=100_000, timeout=3, allow_loopback=True)
STRICT = FetchPolicy(max_bytes=100_000, timeout=3)
OPEN_PAGE = FetchPolicy(
    max_bytes=100_000, timeout=3, allow_loopback=True, accept="text/html", kind="page"
)


@pytest.fixture
def server():
    from tests.conftest import ImageServer

    server = ImageServer()
    yield server
    server.close()


def test_it_fetches_an_image(server):
    data = image_bytes(fmt="PNG")
    assert fetch(server.serve("/a.png", data), OPEN) == data


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/a.png",
        "http://localhost/a.png",  # a name that resolves inward
        "http://2130706433/a.png",  # 127.0.0.1 as a number
        "http://[::1]/a.png",
        "http://[::ffff:127.0.0.1]/a.png",
        "http://10.1.2.3/a.png",
        "http://172.16.0.1/a.png",
        "http://192.168.1.1/a.png",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://100.64.0.1/a.png",  # carrier-grade NAT
        "http://0.0.0.0/a.png",
        "http://224.0.0.1/a.png",  # multicast
        "http://240.0.0.1/a.png",  # reserved
        "http://[fe80::1]/a.png",
        "http://[fc00::1]/a.png",
    ],
)
def test_it_refuses_private_loopback_and_special_addresses(url):
    with pytest.raises(FetchRefused, match="private network"):
        fetch(url, STRICT)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "Only http:// and https://"),
        ("ftp://example.com/a.png", "Only http:// and https://"),
        ("gopher://example.com/", "Only http:// and https://"),
        ("http://user:secret@example.com/a.png", "user name or password"),
        ("http:///a.png", "names no host"),
        ("http://example.com:99999/", "not a valid web address"),
    ],
)
def test_it_refuses_other_schemes_credentials_and_nonsense(url, message):
    with pytest.raises(FetchRefused, match=message):
        fetch(url, STRICT)


def test_a_public_host_on_an_odd_port_is_refused():
    with pytest.raises(FetchRefused, match="standard web ports"):
        fetch("http://8.8.8.8:6379/", STRICT)


def test_public_addresses_are_public():
    assert is_public_address("8.8.8.8")
    assert is_public_address("2606:4700:4700::1111")
    assert not is_public_address("::ffff:10.0.0.1")


def test_every_redirect_is_checked_again(server):
    server.serve("/hop", b"", status=302, Location="http://10.0.0.1/internal.png")
    with pytest.raises(FetchRefused, match="private network"):
        fetch(server.url("/hop"), OPEN)
    server.serve("/to-file", b"", status=301, Location="file:///etc/passwd")
    with pytest.raises(FetchRefused, match="Only http"):
        fetch(server.url("/to-file"), OPEN)


def test_a_safe_redirect_is_followed_but_not_forever(server):
    data = image_bytes(fmt="PNG")
    server.serve("/final.png", data)
    server.serve("/moved", b"", status=302, Location="/final.png")
    assert fetch(server.url("/moved"), OPEN) == data
    server.serve("/loop", b"", status=302, Location="/loop")
    with pytest.raises(FetchRefused, match="redirected more than"):
        fetch(server.url("/loop"), OPEN)


def test_a_body_over_the_limit_is_refused_by_header_and_by_count(server):
    big = b"x" * 200_000
    with pytest.raises(FetchRefused, match="larger than"):
        fetch(server.serve("/big", big), OPEN)

    def no_length(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.end_headers()
        handler.wfile.write(big)
        handler.close_connection = True

    server.routes["/chunked"] = no_length
    with pytest.raises(FetchRefused, match="larger than"):
        fetch(server.url("/chunked"), OPEN)


def test_a_server_that_drips_is_cut_off_at_the_deadline(server):
    def drip(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        for _ in range(100):
            handler.wfile.write(b"x")
            handler.wfile.flush()
            time.sleep(0.05)

    server.routes["/drip"] = drip
    started = time.monotonic()
    with pytest.raises(FetchRefused, match="too long"):
        fetch(server.url("/drip"), FetchPolicy(max_bytes=10_000, timeout=0.5, allow_loopback=True))
    assert time.monotonic() - started < 1.5


def test_an_error_status_is_reported(server):
    with pytest.raises(FetchRefused, match="answered 404"):
        fetch(server.url("/missing"), OPEN)


def test_a_page_is_fetched_as_text_in_its_charset(server):
    body = "<p>café</p>".encode("latin-1")
    url = server.serve("/p", body, **{"Content-Type": "text/html; charset=ISO-8859-1"})
    assert fetch_page(url, OPEN_PAGE) == "<p>café</p>"
    url = server.serve("/u", "<p>café</p>".encode(), **{"Content-Type": "text/html"})
    assert fetch_page(url, OPEN_PAGE) == "<p>café</p>"
    url = server.serve("/x", b"<p>x</p>", **{"Content-Type": "text/html; charset=nonsense"})
    assert fetch_page(url, OPEN_PAGE) == "<p>x</p>"


def test_a_page_must_be_html_and_within_its_own_limit(server):
    with pytest.raises(FetchRefused, match="not a web page"):
        fetch_page(server.serve("/img.png", image_bytes(fmt="PNG")), OPEN_PAGE)
    big = server.serve("/big", b"x" * 200_000, **{"Content-Type": "text/html"})
    with pytest.raises(FetchRefused, match="The page is larger than"):
        fetch_page(big, OPEN_PAGE)
