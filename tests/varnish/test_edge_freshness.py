"""Every kind of change to what a hash serves is visible through Varnish at once, though the
objects are kept for a week: the app purges both digests of the address after the commit.

Each test warms several spellings of an address's URLs (both digests, sizes, extensions,
negotiated formats), makes the change through the service the pages use, and measures how
long until every spelling shows the new state through Varnish.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from accounts.models import User
from avatars import moderation, services
from avatars.imaging.square import CropBox
from avatars.models import Address, ModerationState, PurgeRequest
from avatars.services import (
    address_add,
    address_confirm,
    avatar_assign,
    avatar_delete,
    avatar_store,
)
from tests.conftest import image_bytes
from tests.personas import Personas, make_personas
from tests.varnish.conftest import Edge, close_to, colour_of, measure_until
from tests.varnish.harness import Response, wait_until

pytestmark = pytest.mark.varnish

ALICE_BLUE = (20, 120, 220)
RED = (220, 30, 30)
GREEN = (30, 200, 60)
NO_AVATAR = 404
CHANGE_VISIBLE_WITHIN = 2.0

# How pages embed an address: either digest, several sizes, extensions and formats. d=404
# makes "no avatar" a status to assert; r=g is the default rating.
SPELLINGS = [
    ("/avatar/{md5}?d=404", {}),
    ("/avatar/{md5}.png?s=200&d=404", {}),
    ("/avatar/{sha256}?size=64&default=404", {"Accept": "image/webp"}),
    ("/avatar/{sha256}.jpg?d=404&r=g", {"Accept": "image/avif,image/webp"}),
]

Expected = tuple[int, int, int] | int


@pytest.fixture
def people(fresh_edge) -> Personas:
    return make_personas()


@pytest.fixture
def moderator(people) -> User:
    return User.objects.create_user("mod@example.com", is_staff=True)


def shows(response: Response, expected: Expected) -> bool:
    if expected == NO_AVATAR:
        return response.status == NO_AVATAR
    return response.status == 200 and close_to(colour_of(response), expected)  # type: ignore[arg-type]


def urls_of(address: Address) -> list[tuple[str, dict[str, str]]]:
    return [
        (path.format(md5=address.md5, sha256=address.sha256), headers)
        for path, headers in SPELLINGS
    ]


def assert_change_visible(
    edge: Edge, address: Address, *, before: Expected, after: Expected, change: Callable[[], object]
) -> None:
    urls = urls_of(address)
    for path, headers in urls:
        assert shows(edge.get(path, headers), before), path
        cached = edge.get(path, headers)
        assert cached.cache == "HIT" and shows(cached, before), path

    started = time.monotonic()
    change()
    elapsed = measure_until(
        lambda: all(shows(edge.get(path, headers), after) for path, headers in urls),
        since=started,
    )

    assert elapsed < CHANGE_VISIBLE_WITHIN


def solid(colour: tuple[int, int, int], size=(300, 300)) -> bytes:
    return image_bytes(size, colour)


def assert_upload_shows_red(
    edge: Edge,
    people: Personas,
    *,
    data: Callable[[], bytes],
    choices: services.UploadChoices,
) -> None:
    assert_change_visible(
        edge,
        people.alice_address,
        before=ALICE_BLUE,
        after=RED,
        change=lambda: services.avatar_upload(
            owner=people.alice, data=data(), choices=choices, addresses=[people.alice_address]
        ),
    )


def test_an_upload_shows_at_once(fresh_edge: Edge, people):
    assert_upload_shows_red(
        fresh_edge, people, data=lambda: solid(RED), choices=services.UploadChoices()
    )


def test_a_cropped_upload_shows_the_chosen_square_at_once(fresh_edge: Edge, people):
    # Green on the left, red on the right; the crop keeps the right half.
    image = Image.new("RGB", (400, 200), GREEN)
    image.paste(Image.new("RGB", (200, 200), RED), (200, 0))
    data = io.BytesIO()
    image.save(data, "PNG")

    assert_upload_shows_red(
        fresh_edge,
        people,
        data=data.getvalue,
        choices=services.UploadChoices(crop=CropBox(left=200, top=0, edge=200)),
    )


def test_assigning_another_avatar_shows_at_once(fresh_edge: Edge, people):
    green = avatar_store(owner=people.alice, data=solid(GREEN))

    assert_change_visible(
        fresh_edge,
        people.alice_address,
        before=ALICE_BLUE,
        after=GREEN,
        change=lambda: avatar_assign(avatar=green, addresses=[people.alice_address]),
    )


def test_verifying_an_address_shows_its_avatar_at_once(fresh_edge: Edge, people):
    bobs = avatar_store(owner=people.bob, data=solid(RED))
    avatar_assign(avatar=bobs, addresses=[people.bob_address])

    assert_change_visible(
        fresh_edge,
        people.bob_address,
        before=NO_AVATAR,
        after=RED,
        change=lambda: address_confirm(address=people.bob_address),
    )


# Changes after which Alice's address serves no avatar, so pages asking with d=404 get a 404.
DEFAULT_AFTER: dict[str, Callable[[Personas], object]] = {
    "a_higher_rating_to_pages_asking_for_g": lambda people: services.avatar_edit(
        avatar=people.alice_avatar, rating="x", alt_text="", addresses=[people.alice_address]
    ),
    "unassigning": lambda people: services.avatar_edit(
        avatar=people.alice_avatar, rating="g", alt_text="", addresses=[]
    ),
    "removing_an_address": lambda people: services.address_remove(address=people.alice_address),
    "hiding_the_avatar": lambda people: services.user_privacy_update(
        user=people.alice, display_name="", display_name_public=False, hide_avatar=True
    ),
    "deleting_an_avatar": lambda people: avatar_delete(avatar=people.alice_avatar),
    "deleting_the_account": lambda people: services.account_delete(user=people.alice),
}

DEFAULT_AFTER_MODERATION: dict[str, Callable[[Personas, User], object]] = {
    "a_moderators_rejection": lambda people, moderator: moderation.avatars_set_state(
        moderator=moderator, avatars=[people.alice_avatar], state=ModerationState.REJECTED
    ),
    "a_moderators_rating": lambda people, moderator: moderation.avatars_set_rating(
        moderator=moderator, avatars=[people.alice_avatar], rating="r"
    ),
    "disabling_an_account": lambda people, moderator: moderation.user_set_active(
        moderator=moderator, user=people.alice, active=False
    ),
}


@pytest.mark.parametrize("change", DEFAULT_AFTER.values(), ids=DEFAULT_AFTER.keys())
def test_a_change_shows_the_default_at_once(fresh_edge: Edge, people, change):
    assert_change_visible(
        fresh_edge,
        people.alice_address,
        before=ALICE_BLUE,
        after=NO_AVATAR,
        change=lambda: change(people),
    )


@pytest.mark.parametrize(
    "change", DEFAULT_AFTER_MODERATION.values(), ids=DEFAULT_AFTER_MODERATION.keys()
)
def test_a_moderators_change_shows_the_default_at_once(fresh_edge: Edge, people, moderator, change):
    assert_change_visible(
        fresh_edge,
        people.alice_address,
        before=ALICE_BLUE,
        after=NO_AVATAR,
        change=lambda: change(people, moderator),
    )


def test_making_the_display_name_public_redraws_initials_at_once(fresh_edge: Edge, people):
    address = address_confirm(address=address_add(user=people.charlie, email="c@example.com"))
    path = f"/avatar/{address.sha256}?d=initials&s=64"
    fresh_edge.get(path)
    before = fresh_edge.get(path)
    assert before.cache == "HIT"

    started = time.monotonic()
    services.user_privacy_update(
        user=people.charlie, display_name="Zed Quux", display_name_public=True, hide_avatar=False
    )
    elapsed = measure_until(
        lambda: fresh_edge.get(path).body not in {before.body, b""}, since=started
    )

    assert fresh_edge.get(path).body == fresh_edge.direct(path).body
    assert elapsed < CHANGE_VISIBLE_WITHIN


def test_a_purge_queued_while_varnish_is_down_is_delivered_when_it_comes_back(
    fresh_edge: Edge, people
):
    address = people.alice_address
    path = f"/avatar/{address.md5}?d=404"
    varnish = fresh_edge.varnish
    varnish.stop()

    # The change commits; its purge cannot reach the node and stays queued.
    services.address_remove(address=address)
    queued = PurgeRequest.objects.filter(delivered_at__isnull=True, attempts=1).get()
    assert address.md5 in queued.digests.split()
    assert "ConnectionRefused" in queued.last_error

    # The node comes back on its address (with an empty cache) and caches an object under
    # the address's key before the worker's next round.
    varnish.start()
    assert fresh_edge.get(path).cache == "MISS"
    assert fresh_edge.get(path).cache == "HIT"

    def delivered() -> bool:
        call_command("purge_worker", "--once", stdout=io.StringIO())
        return not PurgeRequest.objects.filter(pk=queued.pk, delivered_at__isnull=True).exists()

    retry_in = (queued.next_attempt_at - timezone.now()).total_seconds()
    wait_until(
        delivered, timeout=max(0.0, retry_in) + 10, what="the worker retries the queued purge"
    )

    assert fresh_edge.get(path).cache == "MISS"
