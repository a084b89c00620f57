"""Addresses are normalised and carry both digests; a verified digest belongs to one account."""

from __future__ import annotations

import hashlib

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from avatars.models import Address, Rating, address_digests


def test_sha256_of_the_documented_address():
    _md5, sha256 = address_digests(" MyEmailAddress@example.com ")
    assert sha256 == "84059b07d4be67b806386c0aad8070a23f18836bbaae342275dc0a83414c32ee"


def test_md5_is_of_the_trimmed_lower_cased_address():
    md5, _ = address_digests(" MyEmailAddress@example.com ")
    assert md5 == hashlib.md5(b"myemailaddress@example.com").hexdigest()  # noqa: S324
    assert md5 == "0bc83cb571cd1c50ba6f3e8a78ef1346"


def test_ratings_are_ordered_g_pg_r_x():
    assert [Rating.rank(r) for r in ("g", "pg", "r", "x")] == [0, 1, 2, 3]


@pytest.mark.django_db
def test_saving_an_address_normalises_it_and_fills_both_digests():
    user = User.objects.create_user("someone@example.com")
    address = Address.objects.create(owner=user, email="  Some.One@Example.COM ")
    address.refresh_from_db()
    assert address.email == "some.one@example.com"
    assert (address.md5, address.sha256) == address_digests("some.one@example.com")


@pytest.mark.django_db
def test_two_accounts_cannot_both_verify_the_same_address():
    alice = User.objects.create_user("alice@example.com")
    mallory = User.objects.create_user("mallory@example.com")
    Address.objects.create(owner=alice, email="shared@example.com", verified_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Address.objects.create(
            owner=mallory, email="shared@example.com", verified_at=timezone.now()
        )


@pytest.mark.django_db
def test_an_unverified_claim_does_not_block_the_real_owner():
    alice = User.objects.create_user("alice@example.com")
    mallory = User.objects.create_user("mallory@example.com")
    Address.objects.create(owner=mallory, email="alice.work@example.com")
    Address.objects.create(owner=alice, email="alice.work@example.com", verified_at=timezone.now())
    assert Address.objects.filter(email="alice.work@example.com").count() == 2


@pytest.mark.django_db
def test_an_account_lists_an_address_once():
    alice = User.objects.create_user("alice@example.com")
    Address.objects.create(owner=alice, email="a@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        Address.objects.create(owner=alice, email="A@example.com")
