"""The provider chain: uploaded image, then custom URL, then 404, then a generated default."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.core.files.storage import default_storage

from avatars.providers import (
    DEFAULTS_LAST_MODIFIED,
    PROVIDERS,
    CustomUrlDefault,
    GeneratedDefault,
    ImageAnswer,
    NotFoundAnswer,
    NotFoundDefault,
    RedirectAnswer,
    UploadedImage,
    pick,
)
from avatars.renditions import RenditionUnavailable
from avatars.request import AvatarRequest
from avatars.selectors import KnownHash, hash_resolve
from tests.conftest import decode
from tests.personas import make_personas

UNKNOWN = "0123456789abcdef0123456789abcdef"

pytestmark = pytest.mark.usefixtures("fresh_caches")


@pytest.fixture
def alice() -> KnownHash:
    people = make_personas()
    found = hash_resolve(digest=people.alice_address.md5)
    assert found is not None
    return found


def wanted(name: str = UNKNOWN, /, **query: str) -> AvatarRequest:
    return AvatarRequest.parse(name=name, query=query, accept="")


def test_the_chain_is_configured_in_contract_order():
    kinds = [type(provider) for provider in PROVIDERS]
    assert kinds == [UploadedImage, CustomUrlDefault, NotFoundDefault, GeneratedDefault]


@pytest.mark.django_db
def test_the_uploaded_image_answers_first(alice):
    answer = pick(wanted(alice.md5, d="404"), alice)
    assert isinstance(answer, ImageAnswer)
    assert answer.last_modified == max(alice.updated_at, alice.image.updated_at)
    assert decode(answer.rendition.data).format == "JPEG"


def rated(found: KnownHash, rank: int) -> KnownHash:
    assert found.image is not None
    return replace(found, image=replace(found.image, rating_rank=rank))


@pytest.mark.django_db
@pytest.mark.parametrize("force", ["f", "forcedefault"])
def test_forcing_the_default_hides_an_image_every_rating_allows(alice, force):
    general = rated(alice, 0)
    assert isinstance(UploadedImage().answer(wanted(alice.md5, r="x"), general), ImageAnswer)
    assert UploadedImage().answer(wanted(alice.md5, r="x", **{force: "y"}), general) is None


@pytest.mark.django_db
def test_the_uploaded_image_steps_aside_when_rated_above_what_was_asked(alice):
    parental = rated(alice, 1)
    assert isinstance(UploadedImage().answer(wanted(alice.md5, r="pg"), parental), ImageAnswer)
    assert UploadedImage().answer(wanted(alice.md5, r="g"), parental) is None
    assert UploadedImage().answer(wanted(alice.md5), parental) is None  # G unless asked


def test_the_uploaded_image_has_nothing_for_an_unknown_hash():
    assert UploadedImage().answer(wanted(), None) is None


@pytest.mark.django_db
def test_a_lost_file_falls_through_to_a_stand_in(alice):
    default_storage.delete(alice.image.preview)
    with pytest.raises(RenditionUnavailable):
        UploadedImage().answer(wanted(alice.md5), alice)
    assert pick(wanted(alice.md5, d="404"), alice) == NotFoundAnswer(stand_in=True)
    assert pick(wanted(alice.md5, d="404", f="y"), alice) == NotFoundAnswer()


def test_a_custom_url_redirects_only_when_one_was_accepted():
    assert CustomUrlDefault().answer(wanted(d="https://img.example.com/a.png"), None) == (
        RedirectAnswer("https://img.example.com/a.png")
    )
    assert CustomUrlDefault().answer(wanted(d="ftp://img.example.com/a.png"), None) is None


def test_d_404_answers_not_found_and_nothing_else_does():
    assert NotFoundDefault().answer(wanted(d="404"), None) == NotFoundAnswer()
    assert NotFoundDefault().answer(wanted(d="retro"), None) is None


def test_the_generated_default_always_answers_with_a_fixed_date():
    for kind in ("mp", "identicon", "blank"):
        answer = GeneratedDefault().answer(wanted(d=kind), None)
        assert isinstance(answer, ImageAnswer)
        assert answer.last_modified == DEFAULTS_LAST_MODIFIED
        assert decode(answer.rendition.data).format == "PNG"


def test_the_generated_default_follows_a_format_extension():
    answer = GeneratedDefault().answer(wanted(f"{UNKNOWN}.webp", d="retro"), None)
    assert isinstance(answer, ImageAnswer)
    assert decode(answer.rendition.data).format == "WEBP"


def test_text_only_matters_to_initials():
    plain = GeneratedDefault().answer(wanted(d="identicon"), None)
    named = GeneratedDefault().answer(wanted(d="identicon", name="Some One"), None)
    assert isinstance(plain, ImageAnswer) and isinstance(named, ImageAnswer)
    assert plain.rendition.etag == named.rendition.etag


@pytest.mark.django_db
def test_initials_fall_back_to_the_public_display_name(alice):
    named = replace(alice, public_name="Alice Liddell")
    from_profile = GeneratedDefault().answer(wanted(alice.md5, d="initials"), named)
    asked = GeneratedDefault().answer(wanted(alice.md5, d="initials", initials="AL"), None)
    assert isinstance(from_profile, ImageAnswer) and isinstance(asked, ImageAnswer)
    assert from_profile.rendition.etag == asked.rendition.etag
