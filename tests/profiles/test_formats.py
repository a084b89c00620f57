"""The legacy formats (spec §4): /<hash-or-slug>.json|xml|php|vcf|qr, read back the way
libgravatar, node's gravatar and PHP sites read them, with the real parsers."""

from __future__ import annotations

import io
import json
from typing import Any
from xml.etree import ElementTree

import phpserialize
import pytest
import segno
import vobject
import zxingcpp
from PIL import Image

from avatars.responses import edge_cache_control
from profiles import rules
from profiles.models import Profile
from tests.personas import Personas
from tests.profiles.published import ABOUT, minimal_profile, publish_alice

pytestmark = pytest.mark.django_db

SITE = "https://avatars.example.com"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def alice_profile(personas: Personas) -> Profile:
    return publish_alice(personas)


def entry_of(response) -> dict[str, Any]:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    document = json.loads(response.content)
    assert list(document) == ["entry"] and len(document["entry"]) == 1
    return document["entry"][0]


def test_json_is_a_portable_contacts_entry(client, personas, alice_profile):
    address = personas.alice_address
    entry = entry_of(client.get(f"/{address.md5}.json"))
    assert entry == {
        "id": alice_profile.public_id,
        "hash": address.md5,
        "requestHash": address.md5,
        "profileUrl": f"{SITE}/alice",
        "preferredUsername": "alice",
        "thumbnailUrl": f"{SITE}/avatar/{address.md5}",
        "photos": [{"value": f"{SITE}/avatar/{address.md5}", "type": "thumbnail"}],
        "displayName": "Alice Liddell",
        "name": {"givenName": "Alice", "familyName": "Liddell", "formatted": "Alice Liddell"},
        "aboutMe": ABOUT,
        "currentLocation": "Lisbon",
        "pronouns": "she/her",
        "pronunciation": "AL-iss",
        "job_title": "Engineer",
        "company": "Wonderland",
        "urls": [{"value": "https://alice.example/", "title": "Blog"}],
        "accounts": [
            {
                "domain": "github.com",
                "display": "alice",
                "url": "https://github.com/alice",
                "username": "alice",
                "verified": "true",
                "shortname": "github",
                "iconUrl": f"{SITE}/static/profiles/services/github.svg",
            },
            {
                "domain": "mastodon.example",
                "display": "alice",
                "url": "https://mastodon.example/@alice",
                "username": "alice",
                "verified": "false",
                "shortname": "mastodon",
                "iconUrl": f"{SITE}/static/profiles/services/mastodon.svg",
            },
        ],
        "emails": [{"primary": "true", "value": "alice@example.com"}],
        "profileBackground": {"color": "#336699"},
    }
    assert entry["id"].isdigit() and entry["id"] != str(alice_profile.pk)


def test_json_hash_follows_the_requested_algorithm_and_keeps_the_typed_case(
    client, personas, alice_profile
):
    address = personas.alice_address
    sha = entry_of(client.get(f"/{address.sha256.upper()}.json"))
    assert (sha["hash"], sha["requestHash"]) == (address.sha256, address.sha256.upper())
    assert sha["thumbnailUrl"] == f"{SITE}/avatar/{address.sha256}"
    by_slug = entry_of(client.get("/Alice.json"))
    assert (by_slug["hash"], by_slug["requestHash"]) == (address.md5, "Alice")


def test_json_of_a_bare_profile_has_only_what_is_set_and_empty_lists(client, personas):
    minimal_profile(personas.charlie, "charlie")
    entry = entry_of(client.get("/charlie.json"))
    assert set(entry) == {
        "id",
        "hash",
        "requestHash",
        "profileUrl",
        "preferredUsername",
        "thumbnailUrl",
        "photos",
        "displayName",
        "urls",
        "accounts",
        "emails",
    }
    assert (entry["urls"], entry["accounts"], entry["emails"]) == ([], [], [])
    assert entry["displayName"] == "charlie"


def test_jsonp_wraps_the_json_in_the_callback(client, alice_profile):
    plain = client.get("/alice.json")
    response = client.get("/alice.json?callback=jQuery.cb_1$")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript"
    assert response.content == b"jQuery.cb_1$(" + plain.content + b")"


@pytest.mark.parametrize(
    "callback",
    ["", "1abc", "a-b", "alert(1)", "a b", "a;b", "x" * 65, "é", "a\nb", "a\n", "<script>"],
)
def test_a_callback_name_outside_the_pattern_is_400(client, alice_profile, callback):
    response = client.get("/alice.json", {"callback": callback})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.content == b'"Invalid callback name"'
    assert callback.encode() not in response.content or not callback


def test_the_longest_allowed_callback_works(client, alice_profile):
    name = "a" * 64
    assert rules.CALLBACK_PATTERN.fullmatch(name)
    assert client.get("/alice.json", {"callback": name}).status_code == 200


def test_not_found_is_the_json_string_user_not_found(client):
    response = client.get(f"/{'0' * 32}.json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.content == b'"User not found"'
    assert json.loads(response.content) == "User not found"
    wrapped = client.get(f"/{'0' * 32}.json?callback=show")
    assert wrapped.status_code == 404
    assert wrapped["Content-Type"] == "application/javascript"
    assert wrapped.content == b'show("User not found")'


@pytest.mark.parametrize("fmt", rules.FORMATS)
def test_every_format_has_the_edge_headers(client, personas, alice_profile, fmt):
    for path in (f"/alice.{fmt}", f"/{'0' * 32}.{fmt}"):
        response = client.get(path)
        assert response["Access-Control-Allow-Origin"] == "*"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"] == edge_cache_control()
    found = client.get(f"/alice.{fmt}")["xkey"].split()
    address = personas.alice_address
    assert {address.md5, address.sha256, "slug-alice", "profile"} <= set(found)
    assert client.get(f"/Nobody.{fmt}")["xkey"].split() == [rules.slug_key("nobody"), "profile"]


@pytest.mark.parametrize("fmt", rules.FORMATS)
def test_every_format_answers_user_not_found(client, fmt):
    response = client.get(f"/nobody.{fmt}")
    assert (response.status_code, response.content) == (404, b'"User not found"')
    assert response["Content-Type"] == "application/json"


def test_xml_has_the_json_names_as_elements(client, personas, alice_profile):
    response = client.get("/alice.xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    root = ElementTree.fromstring(response.content)  # noqa: S314 (our own answer)
    assert root.tag == "response"
    entry = root.find("entry")
    assert entry is not None
    assert entry.findtext("preferredUsername") == "alice"
    assert entry.findtext("hash") == personas.alice_address.md5
    assert entry.findtext("aboutMe") == ABOUT
    assert entry.findtext("name/givenName") == "Alice"
    assert [a.findtext("shortname") for a in entry.findall("accounts")] == ["github", "mastodon"]
    assert entry.findtext("urls/value") == "https://alice.example/"
    assert entry.findtext("emails/value") == "alice@example.com"
    assert entry.findtext("profileBackground/color") == "#336699"


def test_php_is_serialize_of_the_same_array(client, alice_profile):
    response = client.get("/alice.php")
    assert response.status_code == 200
    loaded = phpserialize.loads(response.content, decode_strings=True, array_hook=dict)
    json_entry = entry_of(client.get("/alice.json"))
    entry = loaded["entry"][0]
    assert entry["preferredUsername"] == "alice"
    assert entry["aboutMe"] == json_entry["aboutMe"]
    assert entry["accounts"][0]["verified"] == "true"
    assert entry["name"]["familyName"] == "Liddell"
    assert set(entry) == set(json_entry)


def test_vcf_is_a_vcard_3(client, personas, alice_profile):
    response = client.get("/alice.vcf")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    card = vobject.readOne(response.content.decode())
    assert card.version.value == "3.0"
    assert card.fn.value == "Alice Liddell"
    assert (card.n.value.given, card.n.value.family) == ("Alice", "Liddell")
    assert card.nickname.value == "alice"
    assert [url.value for url in card.url_list] == [f"{SITE}/alice", "https://alice.example/"]
    assert card.photo.value == f"{SITE}/avatar/{personas.alice_address.sha256}"
    assert card.note.value == ABOUT
    assert card.org.value == ["Wonderland"]
    assert card.title.value == "Engineer"
    assert [email.value for email in card.email_list] == ["alice@example.com"]


def qr_image(response) -> Image.Image:
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    return image


def test_qr_is_a_png_a_decoder_reads_as_the_profile_url(client, alice_profile):
    image = qr_image(client.get("/alice.qr?s=300"))
    assert image.size == (300, 300)
    decoded = zxingcpp.read_barcodes(image.convert("L"))
    assert [code.text for code in decoded] == [f"{SITE}/alice"]


def test_qr_modules_are_segnos_matrix(client, alice_profile):
    matrix = [list(row) for row in segno.make(f"{SITE}/alice", error="m").matrix_iter(border=4)]
    scale = 4
    image = qr_image(client.get(f"/alice.qr?size={len(matrix) * scale}")).convert("L")
    pixels = [
        [image.getpixel((x * scale + 1, y * scale + 1)) == 0 for x in range(len(matrix))]
        for y in range(len(matrix))
    ]
    assert pixels == [[bool(module) for module in row] for row in matrix]


@pytest.mark.parametrize(
    ("query", "size"),
    [
        ("", rules.QR_SIZE_DEFAULT),
        ("?s=1", 1),
        ("?s=1024", 1024),
        ("?s=1025", rules.QR_SIZE_MAX),
        ("?s=99999999999999999999999", rules.QR_SIZE_MAX),
        ("?s=0", rules.QR_SIZE_DEFAULT),
        ("?s=-5", rules.QR_SIZE_DEFAULT),
        ("?s=abc", rules.QR_SIZE_DEFAULT),
        ("?s=12.5", rules.QR_SIZE_DEFAULT),
        ("?s=", rules.QR_SIZE_DEFAULT),
        ("?s=120&size=200", 120),  # the short name wins, as with avatars
        ("?size=200", 200),
    ],
)
def test_qr_size_is_forgiving_like_avatars(client, alice_profile, query, size):
    assert qr_image(client.get(f"/alice.qr{query}")).size == (size, size)


def test_an_unknown_format_is_the_plain_404_page(client, alice_profile):
    for fmt in ("html", "txt", "jpg", "JSON", "json5"):
        response = client.get(f"/alice.{fmt}")
        assert response.status_code == 404
        assert response["Content-Type"] == "text/html; charset=utf-8"
