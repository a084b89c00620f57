"""/v3/me/... (spec §6) with a personal token: each operation's answer, and each error with
its documented shape, changing nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from api.models import ImageHandle
from api.services import image_ids_of
from avatars.models import Address, Avatar, ModerationState
from avatars.services import address_confirm
from profiles.models import Profile
from tests.api.conftest import bearer, personal_token
from tests.conftest import FIXTURES, decode, image_bytes

pytestmark = pytest.mark.django_db

UNAUTHORIZED = {"error": "You are not authorized to perform this action", "code": "unauthorized"}
NOT_FOUND = {"error": "Not found", "code": "not_found"}


@pytest.fixture
def alice_token(personas) -> str:
    return personal_token(personas.alice)


@pytest.fixture
def bob_token(personas) -> str:
    return personal_token(personas.bob)


def image_id(avatar: Avatar) -> str:
    return image_ids_of([avatar])[avatar.pk]


def upload(client, token, data: bytes, *, name="photo.jpg", query=""):
    return client.post(
        f"/v3/me/avatars{query}", {"image": SimpleUploadedFile(name, data)}, **bearer(token)
    )


def patch(client, path, token, body):
    return client.patch(path, json.dumps(body), content_type="application/json", **bearer(token))


def post_json(client, path, token, body):
    return client.post(path, json.dumps(body), content_type="application/json", **bearer(token))


# Authentication


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer avp_nonsense", "Basic YWxpY2U6cGFzcw==", "Bearer ava_unknown"],
)
def test_without_a_valid_bearer_token_every_operation_is_401(client, personas, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    for method, path in [
        ("get", "/v3/me/profile"),
        ("get", "/v3/me/avatars"),
        ("post", "/v3/me/avatars"),
        ("get", "/v3/me/associated-email?email_hash=x"),
        ("delete", f"/v3/me/avatars/{'0' * 32}"),
    ]:
        response = getattr(client, method)(path, **extra)
        assert response.status_code == 401, (method, path)
        assert response.json() == UNAUTHORIZED
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_session_cookie_is_not_a_credential(alice_client):
    response = alice_client.get("/v3/me/profile")
    assert response.status_code == 401
    assert "Set-Cookie" not in response


def test_an_expired_personal_token_is_401(client, personas):
    token = personal_token(personas.alice, expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/v3/me/profile", **bearer(token)).status_code == 401


def test_a_revoked_personal_token_is_401(client, personas, alice_token):
    personas.alice.personal_tokens.all().delete()
    assert client.get("/v3/me/profile", **bearer(alice_token)).status_code == 401


def test_a_disabled_account_token_is_401(client, personas, alice_token):
    personas.alice.is_active = False
    personas.alice.save()
    assert client.get("/v3/me/profile", **bearer(alice_token)).status_code == 401


def test_a_token_in_the_query_string_is_never_read(client, alice_token):
    assert client.get(f"/v3/me/profile?access_token={alice_token}").status_code == 401


def test_wrong_scope_is_403_and_changes_nothing(client, personas):
    token = personal_token(personas.alice, "profile:read")
    response = upload(client, token, image_bytes())
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert Avatar.objects.count() == 1
    avatar_path = f"/v3/me/avatars/{image_id(personas.alice_avatar)}"
    assert client.delete(avatar_path, **bearer(token)).status_code == 403
    assert Avatar.objects.filter(pk=personas.alice_avatar.pk).exists()


def test_last_use_is_written_at_most_once_a_minute(client, personas, alice_token):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    stored = personas.alice.personal_tokens.get()
    assert stored.last_used_at is None
    client.get("/v3/me/avatars", **bearer(alice_token))
    stored.refresh_from_db()
    first = stored.last_used_at
    assert first is not None
    with CaptureQueriesContext(connection) as queries:
        client.get("/v3/me/avatars", **bearer(alice_token))
    assert not [q for q in queries if q["sql"].startswith("UPDATE")]
    stored.refresh_from_db()
    assert stored.last_used_at == first


def test_an_unknown_method_is_405_json(client, alice_token):
    response = client.put("/v3/me/profile", **bearer(alice_token))
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert response["Allow"] == "GET, PATCH"


# Profile


def test_profile_read_shows_the_owner_their_profile(client, personas, alice_token):
    personas.alice.display_name = "Alice A."
    personas.alice.save()
    body = client.get("/v3/me/profile", **bearer(alice_token)).json()
    assert body["hash"] == personas.alice_address.sha256
    assert body["display_name"] == "Alice A."
    assert body["avatar_url"] == f"http://127.0.0.1:8000/avatar/{personas.alice_address.sha256}"
    assert body["published"] is False
    assert body["links"] == [] and body["description"] == ""


def test_profile_edit_changes_the_fields_sent_and_keeps_the_others(client, personas):
    token = personal_token(personas.alice, "profile:read profile:manage")
    response = patch(
        client,
        "/v3/me/profile",
        token,
        {"display_name": "Alice", "location": "Lisbon", "job_title": "Pilot"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["location"] == "Lisbon"
    body = patch(client, "/v3/me/profile", token, {"job_title": "", "description": "Hi"}).json()
    assert (body["display_name"], body["location"], body["job_title"], body["description"]) == (
        "Alice",
        "Lisbon",
        "",
        "Hi",
    )
    profile = Profile.objects.get(user=personas.alice)
    assert (profile.location, profile.about_me) == ("Lisbon", "Hi")


def test_profile_edit_replaces_links(client, personas):
    token = personal_token(personas.alice, "profile:manage profile:read")
    links = [{"label": "Blog", "url": "https://blog.example"}, {"url": "https://b.example/x"}]
    body = patch(client, "/v3/me/profile", token, {"links": links}).json()
    assert body["links"] == [
        {"label": "Blog", "url": "https://blog.example"},
        {"label": "b.example", "url": "https://b.example/x"},
    ]
    body = patch(client, "/v3/me/profile", token, {"links": []}).json()
    assert body["links"] == []


def test_a_published_profiles_edit_purges_its_hashes(client, personas, queued_purges):
    Profile.objects.create(user=personas.alice, slug="alice", published=True)
    token = personal_token(personas.alice, "profile:manage")
    assert patch(client, "/v3/me/profile", token, {"location": "Porto"}).status_code == 200
    assert personas.alice_address.sha256 in queued_purges()


@pytest.mark.parametrize(
    "body",
    [
        {"location": "x" * 101},
        {"background_color": "red"},
        {"location": 5},
        {"slug": "alice"},
        {"links": [{"url": "javascript:alert(1)"}]},
        {"links": [{"url": f"https://e.example/{n}"} for n in range(11)]},
        {"links": "https://e.example"},
    ],
)
def test_a_bad_profile_edit_is_400_and_changes_nothing(client, personas, body):
    token = personal_token(personas.alice, "profile:manage")
    patch(
        client,
        "/v3/me/profile",
        token,
        {"location": "Lisbon", "links": [{"url": "https://a.example"}]},
    )
    response = patch(client, "/v3/me/profile", token, {"job_title": "Pilot", **body})
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_request"
    profile = Profile.objects.get(user=personas.alice)
    assert (profile.location, profile.job_title) == ("Lisbon", "")
    assert [link.url for link in profile.links.all()] == ["https://a.example"]


def test_profile_edit_needs_profile_manage(client, personas, alice_token):
    token = personal_token(personas.alice, "profile:read avatars:manage")
    response = patch(client, "/v3/me/profile", token, {"location": "x"})
    assert response.status_code == 403
    assert not Profile.objects.filter(user=personas.alice, location="x").exists()


# Avatars


def test_avatars_list(client, personas, alice_token):
    response = client.get("/v3/me/avatars", **bearer(alice_token))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    [entry] = response.json()
    handle = ImageHandle.objects.get(avatar=personas.alice_avatar)
    assert entry["image_id"] == handle.image_id
    assert entry["image_id"] != str(personas.alice_avatar.pk)
    assert entry["rating"] == "G" and entry["selected"] is True
    assert entry["image_url"].endswith(f"/userimage/{handle.image_id}")
    image = client.get(entry["image_url"].removeprefix("http://127.0.0.1:8000"))
    assert image.status_code == 200
    assert decode(image.content).size == (256, 256)


def test_avatars_list_for_another_address(client, personas, alice_token):
    other = address_confirm(address=Address.objects.create(owner=personas.alice, email="a2@x.org"))
    response = client.get(
        f"/v3/me/avatars?selected_email_hash={other.sha256}", **bearer(alice_token)
    )
    assert [entry["selected"] for entry in response.json()] == [False]


def test_avatars_list_with_someone_elses_hash_is_400(client, personas, alice_token):
    unverified = Address.objects.create(owner=personas.alice, email="pending@x.org")
    for digest in (personas.bob_address.sha256, unverified.sha256):
        response = client.get(f"/v3/me/avatars?selected_email_hash={digest}", **bearer(alice_token))
        assert response.status_code == 400
        assert response.json()["code"] == "email_not_verified"


def test_upload_stores_a_centre_cropped_square_and_selects_it_for_a_bare_address(
    client, personas, alice_token, queued_purges
):
    bare = address_confirm(address=Address.objects.create(owner=personas.alice, email="b@x.org"))
    response = upload(
        client, alice_token, image_bytes((300, 200)), query=f"?selected_email_hash={bare.sha256}"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["selected"] is True and body["rating"] == "G"
    avatar = Avatar.objects.exclude(pk=personas.alice_avatar.pk).get()
    assert avatar.size == 200 and avatar.state == ModerationState.NEW
    bare.refresh_from_db()
    assert bare.avatar == avatar
    assert bare.sha256 in queued_purges()


def test_upload_leaves_a_chosen_avatar_unless_select_avatar(client, personas, alice_token):
    query = f"?selected_email_hash={personas.alice_address.sha256}"
    assert upload(client, alice_token, image_bytes(), query=query).json()["selected"] is False
    personas.alice_address.refresh_from_db()
    assert personas.alice_address.avatar == personas.alice_avatar
    body = upload(client, alice_token, image_bytes(), query=query + "&select_avatar=true").json()
    assert body["selected"] is True
    personas.alice_address.refresh_from_db()
    assert image_id(personas.alice_address.avatar) == body["image_id"]


@pytest.mark.parametrize(
    "name",
    [
        "not-an-image.jpg",
        "svg-named.png",
        "truncated.jpg",
        "empty.jpg",
        "corrupt.png",
        "huge-iccp.png",
        "huge-ztxt.png",
    ],
)
def test_a_hostile_upload_is_400_unsupported_image_and_stores_nothing(
    client, personas, alice_token, name
):
    response = upload(client, alice_token, (FIXTURES / "hostile" / name).read_bytes(), name=name)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "unsupported_image"
    assert response.json()["error"]
    assert Avatar.objects.count() == 1


@pytest.mark.parametrize("name", ["bomb.png", "huge-dimensions.png"])
def test_an_image_over_the_pixel_limit_is_413(client, personas, alice_token, name):
    response = upload(client, alice_token, (FIXTURES / "hostile" / name).read_bytes(), name=name)
    assert response.status_code == 413
    assert response.json()["code"] == "image_too_large"
    assert Avatar.objects.count() == 1


def test_a_file_over_the_byte_limit_is_413(client, personas, alice_token, settings):
    settings.AVATAR_MAX_UPLOAD_BYTES = 1_048_576
    response = upload(client, alice_token, image_bytes((700, 600), fmt="BMP"))
    assert response.status_code == 413
    assert response.json()["code"] == "image_too_large"
    assert Avatar.objects.count() == 1


@pytest.mark.parametrize("name", ["cmyk.jpg", "orientation-6.jpg", "photo.heic", "animated.gif"])
def test_the_upload_pages_odd_but_good_images_are_accepted(client, personas, alice_token, name):
    response = upload(client, alice_token, (FIXTURES / "hostile" / name).read_bytes(), name=name)
    assert response.status_code == 201, response.content


def test_json_instead_of_multipart_is_400(client, personas, alice_token):
    response = post_json(client, "/v3/me/avatars", alice_token, {"image": "aGVsbG8="})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    assert "multipart/form-data" in response.json()["error"]
    assert Avatar.objects.count() == 1


def test_upload_for_an_unverified_address_is_400_and_stores_nothing(client, personas, alice_token):
    response = upload(client, alice_token, image_bytes(), query=f"?selected_email_hash={'a' * 64}")
    assert response.status_code == 400
    assert Avatar.objects.count() == 1


def test_edit_rating_and_alt_text_purges(client, personas, alice_token, queued_purges):
    path = f"/v3/me/avatars/{image_id(personas.alice_avatar)}"
    response = patch(client, path, alice_token, {"rating": "pg", "alt_text": "Me at the sea"})
    assert response.status_code == 200
    assert response.json()["rating"] == "PG"
    assert response.json()["alt_text"] == "Me at the sea"
    personas.alice_avatar.refresh_from_db()
    assert (personas.alice_avatar.rating, personas.alice_avatar.alt_text) == ("pg", "Me at the sea")
    personas.alice_address.refresh_from_db()
    assert personas.alice_address.avatar == personas.alice_avatar  # still shown
    assert personas.alice_address.sha256 in queued_purges()


@pytest.mark.parametrize(
    "body",
    [{"rating": "NC-17"}, {"alt_text": "x" * 251}, {"rating": 3}, {"owner": 1}],
)
def test_a_bad_edit_is_400_and_changes_nothing(client, personas, alice_token, body):
    path = f"/v3/me/avatars/{image_id(personas.alice_avatar)}"
    response = patch(client, path, alice_token, body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    personas.alice_avatar.refresh_from_db()
    assert personas.alice_avatar.rating == "g" and personas.alice_avatar.alt_text == ""


def test_a_non_json_edit_is_400(client, personas, alice_token):
    path = f"/v3/me/avatars/{image_id(personas.alice_avatar)}"
    response = client.patch(
        path, "rating=pg", content_type="application/x-www-form-urlencoded", **bearer(alice_token)
    )
    assert response.status_code == 400
    response = client.patch(path, "{", content_type="application/json", **bearer(alice_token))
    assert response.status_code == 400


def test_another_persons_image_is_404_for_every_operation(client, personas, bob_token):
    path = f"/v3/me/avatars/{image_id(personas.alice_avatar)}"
    for response in (
        patch(client, path, bob_token, {"rating": "x"}),
        client.delete(path, **bearer(bob_token)),
        post_json(client, f"{path}/email", bob_token, {"email_hash": "a" * 64}),
    ):
        assert response.status_code == 404
        assert response.json() == NOT_FOUND
    assert Avatar.objects.filter(pk=personas.alice_avatar.pk, rating="g").exists()


def test_an_unknown_or_malformed_image_id_is_404(client, alice_token):
    for image in ("0" * 32, "1", "../../etc"):
        response = client.delete(f"/v3/me/avatars/{image}", **bearer(alice_token))
        assert response.status_code == 404


def test_delete(client, personas, alice_token, queued_purges):
    path = f"/v3/me/avatars/{image_id(personas.alice_avatar)}"
    response = client.delete(path, **bearer(alice_token))
    assert response.status_code == 204
    assert not Avatar.objects.exists()
    assert personas.alice_address.sha256 in queued_purges()
    assert client.delete(path, **bearer(alice_token)).status_code == 404


def test_assign_to_a_verified_address(client, personas, alice_token, queued_purges):
    other = address_confirm(address=Address.objects.create(owner=personas.alice, email="o@x.org"))
    path = f"/v3/me/avatars/{image_id(personas.alice_avatar)}/email"
    response = post_json(client, path, alice_token, {"email_hash": other.sha256})
    assert response.status_code == 200
    assert response.json()["selected"] is True
    other.refresh_from_db()
    assert other.avatar == personas.alice_avatar
    assert other.sha256 in queued_purges()


def test_assign_to_an_unverified_or_someone_elses_address_is_400(client, personas, alice_token):
    unverified = Address.objects.create(owner=personas.alice, email="pending@x.org")
    path = f"/v3/me/avatars/{image_id(personas.alice_avatar)}/email"
    for digest in (unverified.sha256, personas.bob_address.sha256, "nothex", ""):
        response = post_json(client, path, alice_token, {"email_hash": digest})
        assert response.status_code == 400
    unverified.refresh_from_db()
    assert unverified.avatar is None


def test_associated_email(client, personas, alice_token):
    def associated(digest):
        response = client.get(f"/v3/me/associated-email?email_hash={digest}", **bearer(alice_token))
        return response.json()["associated"]

    assert associated(personas.alice_address.sha256) is True
    assert associated(personas.alice_address.sha256.upper()) is True
    assert associated(personas.bob_address.sha256) is False
    assert client.get("/v3/me/associated-email", **bearer(alice_token)).status_code == 400


def test_an_unknown_path_under_me_is_a_json_404(client, alice_token):
    response = client.get("/v3/me/nothing-here", **bearer(alice_token))
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_the_api_prefix_answers_too(client, alice_token):
    assert client.get("/api/v3/me/profile", **bearer(alice_token)).status_code == 200


def test_cors_preflight_allows_authorization_without_credentials(client):
    response = client.options(
        "/v3/me/avatars",
        HTTP_ORIGIN="https://app.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "authorization" in response["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response


def test_a_rejected_images_url_is_not_found(client, personas, alice_token):
    url = client.get("/v3/me/avatars", **bearer(alice_token)).json()[0]["image_url"]
    Avatar.objects.update(state=ModerationState.REJECTED)
    assert client.get(url.removeprefix("http://127.0.0.1:8000")).status_code == 404
