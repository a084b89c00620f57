import hashlib

from hypothesis import given
from hypothesis import strategies as st

from avatars.defaults.base import DefaultRequest, Dice, digest_bytes

ADDRESS = b"jane@example.com"


def test_digest_bytes_gives_32_stable_bytes():
    digest = hashlib.md5(ADDRESS, usedforsecurity=False).hexdigest()
    assert len(digest_bytes(digest)) == 32
    assert digest_bytes(digest) == digest_bytes(digest)


def test_digest_bytes_ignores_case_and_surrounding_space():
    assert digest_bytes(" ABCDEF\n") == digest_bytes("abcdef")


def test_md5_and_sha256_of_the_same_address_differ():
    md5 = hashlib.md5(ADDRESS, usedforsecurity=False).hexdigest()
    sha256 = hashlib.sha256(ADDRESS).hexdigest()
    assert digest_bytes(md5) != digest_bytes(sha256)


@given(st.text())
def test_digest_bytes_accepts_any_string(digest):
    assert len(digest_bytes(digest)) == 32


def test_default_request_seed_is_the_digest_bytes():
    request = DefaultRequest("abc", 80)
    assert request.text == ""
    assert request.seed == digest_bytes("abc")


def test_dice_is_deterministic_for_a_seed_and_salt():
    a, b = Dice(b"seed", b"salt"), Dice(b"seed", b"salt")
    assert [a.byte() for _ in range(100)] == [b.byte() for _ in range(100)]


def test_dice_with_other_salt_rolls_differently():
    a, b = Dice(b"seed", b"one"), Dice(b"seed", b"two")
    assert [a.byte() for _ in range(16)] != [b.byte() for _ in range(16)]


def test_dice_keeps_rolling_past_one_hash_block():
    dice = Dice(b"seed", b"salt")
    rolls = [dice.byte() for _ in range(200)]
    assert rolls[:32] != rolls[32:64]
    assert len(set(rolls)) > 50


@given(st.binary(max_size=40), st.integers(min_value=1, max_value=300))
def test_dice_pick_stays_in_range(seed, n):
    dice = Dice(seed, b"test")
    assert all(0 <= dice.pick(n) < n for _ in range(20))


@given(st.binary(max_size=40))
def test_dice_between_stays_in_bounds(seed):
    dice = Dice(seed, b"test")
    assert all(2.5 <= dice.between(2.5, 7.0) <= 7.0 for _ in range(20))


def test_dice_chance_follows_probability_roughly():
    dice = Dice(b"seed", b"salt")
    hits = sum(dice.chance(0.25) for _ in range(2000))
    assert 400 < hits < 600
    assert not any(dice.chance(0) for _ in range(100))
    assert all(dice.chance(1.0001) for _ in range(100))


def test_dice_choice_picks_from_the_options():
    dice = Dice(b"seed", b"salt")
    picks = {dice.choice("abc") for _ in range(100)}
    assert picks == {"a", "b", "c"}
