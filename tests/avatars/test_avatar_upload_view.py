"""Adding an image: from a file or a URL, cropped, rotated, rated, described and assigned."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from avatars.models import Avatar
from tests.conftest import FIXTURES, CommittingClient, decode, image_bytes
from tests.pixels import pixel

pytestmark = pytest.mark.django_db


def halves() -> bytes:
    """200 x 100: red on the left, blue on the right."""
    image = Image.new("RGB", (200, 100), (230, 20, 20))
    image.paste((20, 20, 230), (100, 0, 200, 100))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def upload(client, data: bytes, name: str = "me.png", **fields):
    payload = {"image": SimpleUploadedFile(name, data), "rating": "g", "alt_text": "", **fields}
    return client.post("/account/avatars/upload/", payload)


def master_of(avatar: Avatar) -> Image.Image:
    return decode(default_storage.open(avatar.master.name).read()).convert("RGB")


def test_the_page_has_the_progressive_parts(alice_client):
    page = alice_client.get("/account/avatars/upload/").content.decode()
    for part in ("data-dropzone", "data-camera", "data-rotate", "data-preview", "data-progress"):
        assert part in page
    assert 'enctype="multipart/form-data"' in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_it_stores_the_chosen_square_with_rating_text_and_addresses(alice_client, personas):
    response = upload(
        alice_client,
        halves(),
        crop_left="100",
        crop_top="0",
        crop_edge="100",
        rating="pg",
        alt_text="Blue square",
        addresses=[personas.alice_address.pk],
    )
    avatar = Avatar.objects.exclude(pk=personas.alice_avatar.pk).get()
    assert response["Location"] == f"/account/avatars/{avatar.pk}/"
    assert (avatar.rating, avatar.alt_text, avatar.size) == ("pg", "Blue square", 100)
    red, _, blue = pixel(master_of(avatar), (50, 50))
    assert blue > 200 and red < 50
    personas.alice_address.refresh_from_db()
    assert personas.alice_address.avatar == avatar


def test_it_rotates_before_cropping(alice_client, personas):
    # A quarter turn clockwise puts the red left half on top: 100 wide, 200 high.
    upload(alice_client, halves(), quarter_turns="1", crop_left="0", crop_top="0", crop_edge="100")
    avatar = Avatar.objects.exclude(pk=personas.alice_avatar.pk).get()
    red, _, blue = pixel(master_of(avatar), (50, 50))
    assert red > 200 and blue < 50


def test_without_a_crop_it_takes_the_centred_square(alice_client, personas):
    upload(alice_client, halves())
    master = master_of(Avatar.objects.exclude(pk=personas.alice_avatar.pk).get())
    assert master.size == (100, 100)
    assert pixel(master, (10, 50))[0] > 200 and pixel(master, (90, 50))[2] > 200


def test_the_script_gets_json_with_where_to_go(alice_client, personas):
    response = alice_client.post(
        "/account/avatars/upload/",
        {"image": SimpleUploadedFile("a.jpg", image_bytes()), "rating": "g"},
        headers={"Accept": "application/json"},
    )
    avatar = Avatar.objects.exclude(pk=personas.alice_avatar.pk).get()
    assert response.json() == {"redirect": f"/account/avatars/{avatar.pk}/"}


def test_a_refusal_says_what_was_wrong_in_the_page_and_in_json(alice_client, personas):
    page = upload(alice_client, b"%PDF-1.4 not a picture", name="photo.jpg").content.decode()
    assert "This file is not an image we can read" in page
    response = alice_client.post(
        "/account/avatars/upload/",
        {"image": SimpleUploadedFile("x.png", b"GIF89a broken"), "rating": "g"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert "not an image we can read" in response.json()["errors"][0]
    assert Avatar.objects.count() == 1


@pytest.mark.parametrize("name", ["huge-iccp.png", "huge-ztxt.png"])
def test_a_png_with_an_oversized_metadata_chunk_is_refused_in_the_page(alice_client, name):
    # Pillow's bare ValueError for such a chunk used to escape as a 500.
    response = upload(alice_client, (FIXTURES / "hostile" / name).read_bytes(), name=name)
    assert response.status_code == 200
    assert "colour profile or text block too large to read" in response.content.decode()
    assert Avatar.objects.count() == 1


def test_a_file_over_the_limit_is_refused_before_decoding(alice_client, settings):
    settings.AVATAR_MAX_UPLOAD_BYTES = 1_048_576
    page = upload(alice_client, image_bytes((700, 600), fmt="BMP")).content.decode()
    assert "The file is 1.2 MB; the limit is 1 MB." in page
    assert Avatar.objects.count() == 1


def test_it_needs_a_file_or_a_url(alice_client):
    page = alice_client.post("/account/avatars/upload/", {"rating": "g"}).content.decode()
    assert "Choose an image file or give the address of one." in page


def test_it_cannot_assign_to_someone_elses_address(alice_client, personas):
    page = upload(alice_client, image_bytes(), addresses=[personas.bob_address.pk])
    assert "Select a valid choice" in page.content.decode()
    personas.bob_address.refresh_from_db()
    assert personas.bob_address.avatar is None


def test_it_uploads_from_a_url_on_a_public_server(alice_client, personas, image_server):
    url = image_server.serve("/portrait.png", halves())
    response = alice_client.post(
        "/account/avatars/upload/",
        {"url": url, "rating": "g", "addresses": [personas.alice_address.pk]},
    )
    assert response.status_code == 302
    personas.alice_address.refresh_from_db()
    assert personas.alice_address.avatar.size == 100


def test_a_url_into_the_private_network_is_refused(alice_client, settings):
    settings.AVATAR_URL_FETCH_ALLOW_LOOPBACK = False
    page = alice_client.post(
        "/account/avatars/upload/", {"url": "http://127.0.0.1:8000/admin/", "rating": "g"}
    ).content.decode()
    assert "points into a private network" in page
    assert Avatar.objects.count() == 1


def test_fetch_gives_the_page_clean_bytes_to_crop(alice_client, image_server):
    exif = Image.Exif()
    exif[0x010F] = "Camera"
    source = io.BytesIO()
    Image.new("RGB", (64, 48), (0, 150, 0)).save(source, "JPEG", exif=exif.tobytes())
    url = image_server.serve("/p.jpg", source.getvalue(), **{"Content-Type": "image/jpeg"})
    response = alice_client.post("/account/avatars/fetch/", {"url": url})
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    image = decode(response.content)
    assert image.size == (64, 48)
    assert not image.getexif()


def test_fetch_reports_a_refusal_as_json(alice_client, image_server):
    url = image_server.serve("/x.png", b"<html>not an image</html>")
    response = alice_client.post("/account/avatars/fetch/", {"url": url})
    assert response.status_code == 400
    assert "not an image we can read" in response.json()["errors"][0]
    assert alice_client.post("/account/avatars/fetch/", {"url": "nope"}).status_code == 400


def test_fetch_needs_csrf_and_a_signed_in_person(personas):
    from django.test import Client

    assert (
        CommittingClient().post("/account/avatars/fetch/", {"url": "http://x"}).status_code == 302
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.alice)
    assert client.post("/account/avatars/fetch/", {"url": "http://x"}).status_code == 403
