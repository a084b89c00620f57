"""GET|HEAD /avatar/<hash>: every row of the contract (docs: shared spec, sections 1-6)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.http import http_date, parse_http_date
from PIL import Image, ImageChops

from avatars import renditions
from avatars.defaults import render_default
from avatars.models import Address, Avatar, ModerationState
from avatars.services import address_add, address_confirm, avatar_assign, avatar_store
from avatars.views import avatar
from tests.conftest import decode, image_bytes
from tests.personas import Personas, make_personas
from tests.pixels import colours, extrema, pixel

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_caches")]

ALICE_BLUE = (20, 120, 220)
UNKNOWN = hashlib.md5(b"nobody@example.com", usedforsecurity=False).hexdigest()
UNKNOWN_SHA256 = hashlib.sha256(b"nobody@example.com").hexdigest()
GENERATED_KINDS = ["mp", "identicon", "monsterid", "wavatar", "retro", "robohash", "initials"]
FIXED_DATE = "Mon, 01 Jan 2024 00:00:00 GMT"


@pytest.fixture
def people() -> Personas:
    return make_personas()


@pytest.fixture
def alice_md5(people) -> str:
    return people.alice_address.md5


def url(name: str, /, **query: str) -> str:
    return f"/avatar/{name}" + (f"?{urlencode(query)}" if query else "")


def centre(image: Image.Image) -> tuple[int, ...]:
    return pixel(image.convert("RGB"), (image.width // 2, image.height // 2))


def near(colour: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))


def same_pixels(image: Image.Image, expected: Image.Image) -> bool:
    if image.size != expected.size:
        return False
    mode = "RGBA" if "A" in image.mode + expected.mode else "RGB"
    return ImageChops.difference(image.convert(mode), expected.convert(mode)).getbbox() is None


def shows_alice(response, size: int = 80) -> bool:
    image = decode(response.content)
    return (
        response.status_code == 200
        and image.size == (size, size)
        and near(centre(image), ALICE_BLUE)
    )


def shows_default(response, kind: str, seed: str, size: int = 80, text: str = "") -> bool:
    if response.status_code != 200 or response["Content-Type"] != "image/png":
        return False
    image = decode(response.content)
    return image.format == "PNG" and same_pixels(image, render_default(kind, seed, size, text))


# 1. The URL


def test_it_serves_the_avatar_for_the_md5_and_the_sha256_of_a_verified_address(client, people):
    for digest in (people.alice_address.md5, people.alice_address.sha256):
        response = client.get(url(digest))
        assert shows_alice(response)
        assert decode(response.content).format == "JPEG"
        assert response["Content-Type"] == "image/jpeg"


def test_the_hash_is_case_insensitive_and_a_trailing_slash_changes_nothing(client, alice_md5):
    assert shows_alice(client.get(url(alice_md5.upper())))
    assert shows_alice(client.get(url(alice_md5) + "/"))
    assert shows_alice(client.get(f"/avatar/{alice_md5.upper()}.JPG/"))


def test_an_unknown_hash_gets_the_default_image_with_status_200(client, people):
    assert shows_default(client.get(url(UNKNOWN)), "mp", UNKNOWN)
    assert shows_default(client.get(url(UNKNOWN_SHA256, d="retro")), "retro", UNKNOWN_SHA256)


@pytest.mark.parametrize(
    "name", ["", "not-a-hash", "abc", "0" * 31, "g" * 32, "%00", "..", "a.b.c"]
)
def test_a_malformed_or_missing_hash_gets_the_default_image(client, name):
    response = client.get(url(name, d="identicon"))
    assert shows_default(response, "identicon", "")


def test_only_d_404_turns_no_avatar_into_a_404(client, people):
    for name in (UNKNOWN, "malformed", ""):
        response = client.get(url(name, d="404"))
        assert response.status_code == 404
        assert len(response.content) < 100
    assert shows_alice(client.get(url(people.alice_address.md5, d="404")))


@pytest.mark.parametrize("extension", [".jpg", ".jpeg", ".png", ".JPG", ".gif"])
def test_jpg_jpeg_and_png_extensions_change_nothing(client, alice_md5, extension):
    response = client.get(url(alice_md5 + extension))
    assert shows_alice(response)
    assert decode(response.content).format == "JPEG"
    assert shows_default(client.get(url(UNKNOWN + extension, d="retro")), "retro", UNKNOWN)


@pytest.mark.parametrize(("extension", "fmt"), [(".webp", "WEBP"), (".avif", "AVIF")])
def test_webp_and_avif_extensions_return_that_format(client, alice_md5, extension, fmt):
    response = client.get(url(alice_md5 + extension, s="64"))
    image = decode(response.content)
    assert (image.format, image.size) == (fmt, (64, 64))
    assert response["Content-Type"] == f"image/{fmt.lower()}"
    assert near(centre(image), ALICE_BLUE, tolerance=20)
    default = decode(client.get(url(UNKNOWN + extension, d="blank")).content)
    assert default.format == fmt
    assert default.mode == "RGBA" and extrema(default)[3] == (0, 0)


def test_other_segments_under_avatar_are_not_this_endpoint(client):
    assert client.get(f"/avatar/{UNKNOWN}/extra").status_code == 404


# 2. The parameters


@pytest.mark.parametrize(
    ("query", "size"),
    [
        ({}, 80),
        ({"s": "200"}, 200),
        ({"size": "200"}, 200),
        ({"s": "1"}, 1),
        ({"s": "5000"}, 2048),
        ({"s": "0"}, 80),
        ({"s": "-3"}, 80),
        ({"s": "big"}, 80),
    ],
)
def test_size_and_its_alias_with_forgiving_clamps(client, alice_md5, query, size):
    assert shows_alice(client.get(url(alice_md5, **query)), size=size)


def test_a_default_at_the_largest_size(client):
    response = client.get(url(UNKNOWN, d="color", s="9999"))
    assert shows_default(response, "color", UNKNOWN, size=2048)


@pytest.mark.parametrize("kind", GENERATED_KINDS)
def test_every_generated_default_is_a_png_of_the_asked_size(client, kind):
    response = client.get(url(UNKNOWN, d=kind, s="96"))
    image = decode(response.content)
    assert (image.format, image.size) == ("PNG", (96, 96))
    # Full colour, or a palette for a drawing of a few flat colours (the identicon).
    assert image.mode in ({"RGB", "RGBA", "P"} if kind == "identicon" else {"RGB", "RGBA"})
    assert shows_default(response, kind, UNKNOWN, size=96)


@pytest.mark.parametrize("kind", [*GENERATED_KINDS, "blank", "color"])
def test_every_default_is_deterministic_across_processes_caches(client, kind):
    first = decode(client.get(url(UNKNOWN, d=kind)).content)
    renditions.memory_cache().clear()
    from django.core.cache import caches

    caches["default"].clear()
    second = decode(client.get(url(UNKNOWN, d=kind)).content)
    assert same_pixels(first, second)


def test_default_and_d_are_aliases_and_mm_is_mp(client):
    assert shows_default(client.get(url(UNKNOWN, default="wavatar")), "wavatar", UNKNOWN)
    assert shows_default(client.get(url(UNKNOWN, d="mm")), "mp", UNKNOWN)


def test_mp_is_the_same_silhouette_for_every_hash(client):
    one = decode(client.get(url(UNKNOWN, d="mp")).content)
    other = decode(client.get(url(UNKNOWN_SHA256, d="mp")).content)
    assert same_pixels(one, other)


def test_identicons_differ_between_hashes(client):
    one = decode(client.get(url(UNKNOWN, d="identicon")).content)
    other = decode(client.get(url(UNKNOWN_SHA256, d="identicon")).content)
    assert not same_pixels(one, other)


def test_blank_is_a_fully_transparent_png(client):
    image = decode(client.get(url(UNKNOWN, d="blank")).content)
    assert (image.format, image.mode) == ("PNG", "RGBA")
    assert extrema(image)[3] == (0, 0)


def test_color_is_one_flat_colour(client):
    image = decode(client.get(url(UNKNOWN, d="color")).content)
    assert len(colours(image)) == 1


def test_an_unknown_keyword_serves_the_services_own_default(client, settings):
    settings.AVATAR_DEFAULT = "retro"
    assert shows_default(client.get(url(UNKNOWN, d="sparkles")), "retro", UNKNOWN)
    assert shows_default(client.get(url(UNKNOWN)), "retro", UNKNOWN)


def test_initials_come_from_name_or_initials(client):
    by_name = client.get(url(UNKNOWN, d="initials", name="Some random user"))
    assert shows_default(by_name, "initials", UNKNOWN, text="SU")
    by_letters = client.get(url(UNKNOWN, d="initials", initials="su"))
    assert same_pixels(decode(by_letters.content), decode(by_name.content))
    at_most_three = client.get(url(UNKNOWN, d="initials", initials="abcd"))
    assert shows_default(at_most_three, "initials", UNKNOWN, text="ABC")


def test_initials_use_the_display_name_only_when_public(client, people):
    alice = people.alice
    alice.display_name, alice.hide_avatar = "Alice Liddell", True
    alice.save()
    digest = people.alice_address.md5
    assert shows_default(client.get(url(digest, d="initials")), "initials", digest)
    alice.display_name_public = True
    alice.save()
    assert shows_default(client.get(url(digest, d="initials")), "initials", digest, text="AL")
    asked = client.get(url(digest, d="initials", name="Bob Dylan"))
    assert shows_default(asked, "initials", digest, text="BD")


def test_without_a_name_initials_show_a_neutral_glyph(client):
    assert shows_default(client.get(url(UNKNOWN, d="initials")), "initials", UNKNOWN, text="")


# d=<URL>


def test_a_custom_default_url_is_a_302_to_that_url(client):
    target = "https://img.example.com/fallback.png"
    response = client.get(url(UNKNOWN, d=target))
    assert response.status_code == 302
    assert response["Location"] == target
    assert response["xkey"] == f"{UNKNOWN} avatar"


def test_an_avatar_wins_over_a_custom_default(client, alice_md5):
    assert shows_alice(client.get(url(alice_md5, d="https://img.example.com/fallback.png")))


@pytest.mark.parametrize(
    "target",
    [
        "ftp://img.example.com/a.png",
        "https://user:pw@img.example.com/a.png",
        "https://img.example.com:8443/a.png",
        "https://img.example.com/" + "x" * 2000,
        # Gravatar's rules (issue 9, item 8): a public host, an image, no query string.
        "http://127.0.0.1/a.png",
        "http://localhost/a.png",
        "http://169.254.169.254/latest/meta-data.png",
        "http://10.1.2.3/a.png",
        "http://[::1]/a.png",
        "http://printer.local/a.png",
        "http://intranet/a.png",
        "https://img.example.com/login.html",
        "https://img.example.com/a.png?next=/account/",
        "https://img.example.com/a.png#x",
    ],
)
def test_a_rejected_custom_default_falls_back_to_the_services_default(client, settings, target):
    settings.AVATAR_DEFAULT = "identicon"
    assert shows_default(client.get(url(UNKNOWN, d=target)), "identicon", UNKNOWN)


def test_the_host_allow_list_is_enforced(client, settings):
    settings.AVATAR_DEFAULT_URL_HOSTS = ["img.example.com"]
    allowed = client.get(url(UNKNOWN, d="https://img.example.com/a.png"))
    assert allowed.status_code == 302
    refused = client.get(url(UNKNOWN, d="https://elsewhere.example.net/a.png"))
    assert shows_default(refused, "mp", UNKNOWN)


# 3. Rating and force


@pytest.fixture
def pg_rated(people) -> str:
    Avatar.objects.filter(pk=people.alice_avatar.pk).update(rating="pg")
    return people.alice_address.md5


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ({}, False),
        ({"r": "g"}, False),
        ({"r": "pg"}, True),
        ({"r": "PG"}, True),
        ({"rating": "r"}, True),
        ({"r": "x"}, True),
        ({"r": "nonsense"}, False),
    ],
)
def test_an_avatar_rated_above_r_is_treated_as_absent(client, pg_rated, query, shown):
    response = client.get(url(pg_rated, d="retro", **query))
    assert shows_alice(response) if shown else shows_default(response, "retro", pg_rated)


def test_a_too_explicit_avatar_with_d_404_is_a_404(client, pg_rated):
    assert client.get(url(pg_rated, d="404")).status_code == 404


@pytest.mark.parametrize(
    ("query", "forced"),
    [
        ({"f": "y"}, True),
        ({"f": "1"}, True),
        ({"f": "true"}, True),
        ({"forcedefault": "y"}, True),
        ({"f": "n"}, False),
        ({"f": "yes"}, False),
    ],
)
def test_force_default_serves_the_default_even_with_an_avatar(client, alice_md5, query, forced):
    response = client.get(url(alice_md5, d="color", **query))
    assert shows_default(response, "color", alice_md5) if forced else shows_alice(response)


# Which addresses show an image (the lead's visibility rules)


def test_an_unverified_address_shows_no_avatar(client, people):
    avatar_assign(avatar=avatar_store(owner=people.bob, data=image_bytes()), addresses=[])
    Address.objects.filter(pk=people.bob_address.pk).update(avatar=people.alice_avatar)
    assert shows_default(client.get(url(people.bob_address.md5)), "mp", people.bob_address.md5)


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        ({"hide_avatar": True}, False),
        ({"is_active": False}, False),
        ({"display_name": "Alice"}, True),
    ],
)
def test_the_owners_account_decides_too(client, people, change, shown):
    type(people.alice).objects.filter(pk=people.alice.pk).update(**change)
    response = client.get(url(people.alice_address.md5, d="color"))
    digest = people.alice_address.md5
    assert shows_alice(response) if shown else shows_default(response, "color", digest)


@pytest.mark.parametrize(
    ("state", "moderation", "shown"),
    [
        (ModerationState.NEW, "post", True),
        (ModerationState.FLAGGED, "post", True),
        (ModerationState.APPROVED, "post", True),
        (ModerationState.REJECTED, "post", False),
        (ModerationState.NEW, "pre", False),
        (ModerationState.FLAGGED, "pre", False),
        (ModerationState.APPROVED, "pre", True),
        (ModerationState.REJECTED, "pre", False),
    ],
)
def test_moderation_decides_what_shows(client, settings, people, state, moderation, shown):
    settings.AVATAR_MODERATION = moderation
    Avatar.objects.filter(pk=people.alice_avatar.pk).update(state=state)
    digest = people.alice_address.md5
    response = client.get(url(digest, d="color"))
    assert shows_alice(response) if shown else shows_default(response, "color", digest)


def test_a_verified_address_without_an_avatar_gets_the_default(client, people):
    address = address_confirm(address=address_add(user=people.charlie, email="c@example.com"))
    response = client.get(url(address.sha256, d="identicon"))
    assert shows_default(response, "identicon", address.sha256)
    assert response["xkey"] == f"{address.md5} {address.sha256} avatar default"


# 4. The response


def test_image_responses_carry_every_contract_header(client, settings, people):
    settings.SITE_URL = "https://avatars.example.com"
    digest = people.alice_address.sha256
    response = client.get(url(digest.upper() + ".jpg"))
    assert response["Content-Length"] == str(len(response.content))
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Timing-Allow-Origin"] == "*"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="{digest}.jpg"'
    assert response["Link"] == f'<https://avatars.example.com/avatar/{digest}>; rel="canonical"'
    assert response["xkey"] == f"{people.alice_address.md5} {digest} avatar rendition"
    assert response["Vary"] == "Accept"


def test_cache_control_comes_from_settings(client, settings, alice_md5):
    settings.AVATAR_BROWSER_MAX_AGE = 120
    settings.AVATAR_SHARED_MAX_AGE = 86400
    settings.AVATAR_STALE_WHILE_REVALIDATE = 60
    settings.AVATAR_STALE_IF_ERROR = 3600
    for response in (
        client.get(url(alice_md5)),
        client.get(url(UNKNOWN, d="404")),
        client.get(url(UNKNOWN, d="https://img.example.com/a.png")),
    ):
        assert response["Cache-Control"] == (
            "public, max-age=120, s-maxage=86400, stale-while-revalidate=60, stale-if-error=3600"
        )


def test_the_etag_is_strong_and_changes_with_size_and_format(client, alice_md5):
    tags = {
        client.get(url(alice_md5))["ETag"],
        client.get(url(alice_md5, s="81"))["ETag"],
        client.get(url(alice_md5 + ".webp"))["ETag"],
        client.get(url(UNKNOWN, d="identicon"))["ETag"],
    }
    assert len(tags) == 4
    assert all(tag.startswith('"') and tag.endswith('"') for tag in tags)
    assert client.get(url(alice_md5))["ETag"] == client.get(url(alice_md5 + ".png"))["ETag"]


def test_last_modified_is_the_later_of_the_avatar_and_the_assignment(client, people):
    later = timezone.now() + timedelta(days=2)
    Address.objects.filter(pk=people.alice_address.pk).update(updated_at=later)
    response = client.get(url(people.alice_address.md5))
    assert parse_http_date(response["Last-Modified"]) == int(later.timestamp())
    Avatar.objects.filter(pk=people.alice_avatar.pk).update(updated_at=later + timedelta(days=1))
    response = client.get(url(people.alice_address.md5))
    assert parse_http_date(response["Last-Modified"]) == int(later.timestamp()) + 86400


def test_generated_defaults_have_a_fixed_last_modified(client):
    assert client.get(url(UNKNOWN, d="retro"))["Last-Modified"] == FIXED_DATE


def test_user_images_with_transparency_are_png(client, people):
    see_through = image_bytes((300, 300), (10, 200, 10, 128), fmt="PNG", mode="RGBA")
    avatar = avatar_store(owner=people.alice, data=see_through)
    avatar_assign(avatar=avatar, addresses=[people.alice_address])
    response = client.get(url(people.alice_address.md5, s="120"))
    image = decode(response.content)
    assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (120, 120))
    assert response["Content-Type"] == "image/png"
    assert near(pixel(image, (60, 60)), (10, 200, 10, 128))
    webp = decode(client.get(url(people.alice_address.md5 + ".webp")).content)
    assert webp.mode == "RGBA" and extrema(webp)[3][1] < 255


def test_xkey_for_unknown_and_malformed_hashes(client):
    assert client.get(url(UNKNOWN.upper()))["xkey"] == f"{UNKNOWN} avatar default"
    assert client.get(url(UNKNOWN_SHA256, d="404"))["xkey"] == f"{UNKNOWN_SHA256} avatar"
    assert client.get(url("<script>", d="404"))["xkey"] == "no-hash avatar"
    assert client.get("/avatar/")["xkey"] == "no-hash avatar default"


def test_no_usable_hash_gets_a_neutral_filename_and_no_canonical_link(client):
    response = client.get(url("not-a-hash"))
    assert response["Content-Disposition"] == 'inline; filename="avatar.png"'
    assert not response.has_header("Link")


def test_vary_accept_is_on_every_kind_of_response(client, alice_md5):
    responses = [
        client.get(url(alice_md5)),
        client.get(url(UNKNOWN, d="404")),
        client.get(url(UNKNOWN, d="https://img.example.com/a.png")),
        client.get(url(alice_md5), HTTP_IF_NONE_MATCH=client.get(url(alice_md5))["ETag"]),
    ]
    assert [r.status_code for r in responses] == [200, 404, 302, 304]
    assert all(r["Vary"] == "Accept" for r in responses)
    assert all(r["Access-Control-Allow-Origin"] == "*" for r in responses)


def test_the_endpoint_touches_no_session_even_for_a_signed_in_visitor(client, people):
    client.force_login(people.alice)
    for response in (
        client.get(url(people.alice_address.md5)),
        client.get(url(UNKNOWN, d="404")),
        client.head(url(UNKNOWN)),
    ):
        assert not response.cookies
        assert "Cookie" not in response.get("Vary", "")


# 5. Formats


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("image/avif", "AVIF"),
        ("image/webp", "WEBP"),
        ("", "JPEG"),
        ("image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8", "AVIF"),
        ("image/webp,*/*", "WEBP"),
        ("image/*", "JPEG"),
    ],
)
def test_accept_negotiates_the_format_of_user_images(client, alice_md5, accept, fmt):
    response = client.get(url(alice_md5), HTTP_ACCEPT=accept)
    image = decode(response.content)
    assert image.format == fmt
    assert response["Content-Type"] == Image.MIME[fmt]
    assert response["Vary"] == "Accept"


def test_accept_is_ignored_with_an_extension_and_for_generated_defaults(client, alice_md5):
    explicit = client.get(url(alice_md5 + ".jpg"), HTTP_ACCEPT="image/avif")
    assert decode(explicit.content).format == "JPEG"
    default = client.get(url(UNKNOWN, d="identicon"), HTTP_ACCEPT="image/webp")
    assert decode(default.content).format == "PNG"


# Conditional requests and HEAD


def test_if_none_match_gets_a_304_without_a_body(client, alice_md5):
    first = client.get(url(alice_md5))
    again = client.get(url(alice_md5), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    for header in ("ETag", "Cache-Control", "Vary", "xkey", "Last-Modified"):
        assert again[header] == first[header]
    weak = client.get(url(alice_md5), HTTP_IF_NONE_MATCH=f'"other", W/{first["ETag"]}')
    assert weak.status_code == 304
    assert client.get(url(alice_md5), HTTP_IF_NONE_MATCH="*").status_code == 304


def test_a_changed_etag_gets_the_new_image(client, alice_md5):
    response = client.get(url(alice_md5), HTTP_IF_NONE_MATCH='"stale"')
    assert shows_alice(response)


def test_if_modified_since_gets_a_304_unless_changed_since(client, alice_md5):
    first = client.get(url(alice_md5))
    stamp = parse_http_date(first["Last-Modified"])
    assert (
        client.get(url(alice_md5), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    )
    earlier = http_date(stamp - 60)
    assert client.get(url(alice_md5), HTTP_IF_MODIFIED_SINCE=earlier).status_code == 200
    assert client.get(url(alice_md5), HTTP_IF_MODIFIED_SINCE="garbage").status_code == 200


def test_if_none_match_takes_precedence_over_if_modified_since(client, alice_md5):
    later = http_date(parse_http_date(client.get(url(alice_md5))["Last-Modified"]) + 3600)
    response = client.get(
        url(alice_md5), HTTP_IF_NONE_MATCH='"stale"', HTTP_IF_MODIFIED_SINCE=later
    )
    assert response.status_code == 200


def test_generated_defaults_answer_conditional_requests_too(client):
    first = client.get(url(UNKNOWN, d="wavatar"))
    assert (
        client.get(url(UNKNOWN, d="wavatar"), HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    )
    assert (
        client.get(url(UNKNOWN, d="wavatar"), HTTP_IF_MODIFIED_SINCE=FIXED_DATE).status_code == 304
    )


@pytest.mark.parametrize(
    "query",
    [{"s": "100"}, {"d": "404", "f": "y"}, {"d": "https://img.example.com/a.png", "f": "y"}],
    ids=["image", "not-found", "redirect"],
)
def test_head_gives_the_same_headers_without_a_body(client, alice_md5, query):
    got = client.get(url(alice_md5, **query))
    head = client.head(url(alice_md5, **query))
    assert head.status_code == got.status_code
    assert head.content == b""
    assert dict(head.headers) == dict(got.headers)
    assert head["Content-Length"] == str(len(got.content))


def test_other_methods_are_refused(client, alice_md5):
    assert client.post(url(alice_md5)).status_code == 405
    assert client.put(url(alice_md5)).status_code == 405


# The hot path


def test_a_request_costs_one_select_and_never_writes(client, alice_md5, django_assert_num_queries):
    for attempt in range(2):  # a cold rendition, then a cached one
        with CaptureQueriesContext(connection) as queries:
            assert shows_alice(client.get(url(alice_md5)))
        assert len(queries) == 1, attempt
        assert queries[0]["sql"].lstrip().upper().startswith("SELECT")
    with django_assert_num_queries(1):
        client.get(url(UNKNOWN, d="identicon"))
    with django_assert_num_queries(0):
        client.get(url("malformed"))


@pytest.mark.django_db(transaction=True)
def test_it_runs_outside_any_transaction_even_with_atomic_requests(client, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    people = make_personas()
    seen = []

    def record(execute, sql, params, many, context):
        seen.append(connection.in_atomic_block)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        assert shows_alice(client.get(url(people.alice_address.md5)))
    assert seen == [False]


def test_renditions_are_served_from_cache_once_made(client, people):
    avatar = people.alice_avatar
    assert shows_alice(client.get(url(people.alice_address.md5, s="90")), size=90)
    default_storage.delete(avatar.master.name)
    default_storage.delete(avatar.preview.name)
    assert shows_alice(client.get(url(people.alice_address.md5, s="90")), size=90)
    # A size never made before needs the deleted files: the default, not a server error.
    response = client.get(url(people.alice_address.md5, s="91", d="color"))
    assert shows_default(response, "color", people.alice_address.md5, size=91)


def test_large_sizes_come_from_the_master_and_small_ones_from_the_preview(client, people):
    big = avatar_store(owner=people.alice, data=image_bytes((700, 700), (200, 60, 10)))
    avatar_assign(avatar=big, addresses=[people.alice_address])
    default_storage.delete(big.master.name)
    digest = people.alice_address.md5
    assert near(centre(decode(client.get(url(digest, s="256")).content)), (200, 60, 10))
    assert client.get(url(digest, s="257", d="404")).status_code == 404


@pytest.mark.parametrize("query", [{}, {"d": "404", "f": "y"}], ids=["image", "not-found"])
def test_the_view_itself_drops_the_body_of_head(rf, alice_md5, query):
    """The test client strips HEAD bodies the way runserver does; gunicorn does not."""
    response = avatar(rf.head(url(alice_md5, **query)), name=alice_md5)
    assert response.content == b""
    assert int(response["Content-Length"]) > 0
