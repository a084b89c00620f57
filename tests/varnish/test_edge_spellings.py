"""Generated URL spellings through a real varnishd and straight to the app: the same bytes.

The VCL's normalisation is a second reading of avatars/request.py; the 78 fixed spellings in
test_edge_caching.py pin the cases someone thought of, and this test draws new ones (names,
extensions, long and short parameters in any order and case, repeats, percent-encoding,
clamps, aliases, URLs, Accept headers) within a bounded budget. The cache is not emptied
between examples, so a spelling that Varnish wrongly merged with an earlier one gets that
one's object and fails here.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from avatars import contract
from avatars.models import Address
from avatars.services import address_add, address_confirm, avatar_assign, avatar_store
from tests.conftest import image_bytes
from tests.personas import Personas, make_personas
from tests.varnish.conftest import Edge

pytestmark = pytest.mark.varnish

NOBODY = hashlib.md5(b"nobody@example.com", usedforsecurity=False).hexdigest()
SPELLINGS = settings(
    max_examples=150,
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# What may stand in a query value unencoded, plus % and + that only the app reads.
SAFE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%+:/"
noise = st.text(alphabet=SAFE, max_size=12)


def any_case(words) -> st.SearchStrategy[str]:
    return st.sampled_from(list(words)).flatmap(
        lambda word: st.sampled_from([word, word.upper(), word.capitalize()])
    )


# Where a clamp or a fast path could go wrong, more often than anywhere else.
EDGES = [0, 1, 2, contract.DEFAULT_SIZE, 99, 100, 999, 1000, contract.MAX_SIZE - 1]
EDGES += [contract.MAX_SIZE, contract.MAX_SIZE + 1, contract.MAX_SIZE * 10, 10**11]
sizes = st.one_of(
    st.sampled_from(EDGES).flatmap(lambda n: st.sampled_from([str(n), f"0{n}", f"-{n}"])),
    st.integers(min_value=-3, max_value=contract.MAX_SIZE * 2).map(str),
    st.sampled_from(["+5", "%2B5", "4.5", "%35", "1e3"]),
)
defaults = any_case([*contract.DEFAULT_KEYWORDS, *contract.DEFAULT_ALIASES, "unknown"]) | (
    st.sampled_from(
        [
            "https://example.com/a.png",
            "https%3A%2F%2Fexample.com%2Fa.png",
            "http://127.0.0.1/a.png",
            "https://example.com/login.html",
        ]
    )
)
ratings = any_case([*contract.RATINGS, "nc17"])
forces = any_case([*contract.FORCE_YES, "n", "no", "yes"])
letters = st.sampled_from(["ab", "abcd", "Abc1", "J%20D", "J+D", "Jane+Doe", "%C3%A9"])
# Each parameter by its short and long name, and what its values look like.
FAMILIES = {
    ("s", "size"): sizes,
    ("d", "default"): defaults,
    ("r", "rating"): ratings,
    ("f", "forcedefault"): forces,
    ("initials", "name"): letters,
}
# Names the app ignores, or that only it can decode.
OTHER_NAMES = ["S", "D", "x", "sizes", "%73", "d%3D", ""]
extensions = st.sampled_from(["", "", ".jpg", ".JPEG", ".png", ".webp", ".avif", ".gif", ".", "/"])


@st.composite
def parameters(draw) -> list[str]:
    """Each parameter present or not, by either name, with a value of its own kind, no value
    or noise; then repeats and unknown names; all in any order."""
    pairs = []
    for names, values in FAMILIES.items():
        for _ in range(draw(st.sampled_from([0, 0, 1, 1, 1, 2]))):
            key = draw(st.sampled_from(names))
            kind = draw(st.sampled_from(["family"] * 6 + ["noise", "bare"]))
            if kind == "bare":
                pairs.append(key)
            else:
                pairs.append(f"{key}={draw(values if kind == 'family' else noise)}")
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        pairs.append(f"{draw(st.sampled_from(OTHER_NAMES))}={draw(noise)}")
    return draw(st.permutations(pairs))


accepts = st.sampled_from(
    [
        "",
        "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
        "image/webp,*/*",
        "image/avif;q=0, image/webp",
        "IMAGE/WEBP",
        "text/html",
        "image/webp;q=0",
        "*/*",
    ]
)


@pytest.fixture
def people(fresh_edge, settings) -> Personas:
    # Not mp, so that an alias or an unknown keyword read wrongly shows in the bytes.
    settings.AVATAR_DEFAULT = "identicon"
    return make_personas()


@pytest.fixture
def rated_x(people) -> Address:
    """An address whose image only r=x shows, so a rating read wrongly shows in the bytes."""
    user = User.objects.create_user("xavier@example.com", "xavier-password-1")
    address = address_confirm(address=address_add(user=user, email="xavier@example.com"))
    avatar = avatar_store(owner=user, data=image_bytes((64, 64), (200, 40, 40)), rating="x")
    avatar_assign(avatar=avatar, addresses=[address])
    return address


def names_of(people: Personas, rated_x: Address) -> list[str]:
    alice = people.alice_address
    return [
        alice.md5,
        alice.md5.upper(),
        alice.sha256,
        alice.sha256.upper(),
        rated_x.md5,
        rated_x.md5,
        rated_x.sha256.upper(),
        people.bob_address.md5,
        NOBODY,
        NOBODY[:-1],
        "",
        "not-a-hash",
    ]


@SPELLINGS
@given(data=st.data(), extension=extensions, pairs=parameters(), accept=accepts)
def test_every_generated_spelling_gets_what_the_app_answers(
    fresh_edge: Edge, people, rated_x, data, extension, pairs, accept
):
    name = data.draw(st.sampled_from(names_of(people, rated_x)))
    path = f"/avatar/{name}{extension}" + ("?" + "&".join(pairs) if pairs else "")
    headers = {"Accept": accept} if accept else {}

    through_varnish = fresh_edge.get(path, headers)
    from_app = fresh_edge.direct(path, headers)

    assert through_varnish.status == from_app.status, path
    assert through_varnish.header("Content-Type") == from_app.header("Content-Type"), path
    assert through_varnish.header("Location") == from_app.header("Location"), path
    assert through_varnish.body == from_app.body, (path, accept)
