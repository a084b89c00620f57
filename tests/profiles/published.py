"""A published profile with every field filled, and the private cases of spec §1, for the
public answers' tests."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone

from accounts.models import User
from avatars.models import Address
from avatars.services import address_confirm
from profiles.models import AddressChoice, Profile, ProfileAccount, ProfileLink
from tests.personas import Personas

ABOUT = 'Hi <b>there</b> & "friends": see https://alice.example/blog?a=1&b=2. Thanks!'


def publish_alice(personas: Personas) -> Profile:
    alice = personas.alice
    alice.display_name = "Alice Liddell"
    alice.save()
    profile = Profile.objects.create(
        user=alice,
        published=True,
        slug="alice",
        first_name="Alice",
        last_name="Liddell",
        about_me=ABOUT,
        location="Lisbon",
        pronouns="she/her",
        pronunciation="AL-iss",
        job_title="Engineer",
        company="Wonderland",
        background_color="#336699",
    )
    ProfileLink.objects.create(profile=profile, label="Blog", url="https://alice.example/")
    ProfileAccount.objects.create(
        profile=profile,
        service="github",
        url="https://github.com/alice",
        verified_at=timezone.now(),
    )
    ProfileAccount.objects.create(
        profile=profile, service="mastodon", url="https://mastodon.example/@alice", position=1
    )
    AddressChoice.objects.create(
        address=personas.alice_address, shows_profile=True, email_published=True
    )
    return profile


def minimal_profile(user: User, slug: str) -> Profile:
    address = address_confirm(address=Address.objects.create(owner=user, email=f"{slug}@x.example"))
    address.is_primary = True
    address.save()
    return Profile.objects.create(user=user, published=True, slug=slug)


# Each makes alice's published profile private in one of the ways spec §1 lists.
def _unpublished(personas: Personas, profile: Profile) -> None:
    Profile.objects.filter(pk=profile.pk).update(published=False)


def _hidden(personas: Personas, profile: Profile) -> None:
    Profile.objects.filter(pk=profile.pk).update(hidden=True)


def _unshown(personas: Personas, profile: Profile) -> None:
    AddressChoice.objects.filter(address=personas.alice_address).update(shows_profile=False)


def _unverified(personas: Personas, profile: Profile) -> None:
    Address.objects.filter(pk=personas.alice_address.pk).update(verified_at=None)


def _disabled(personas: Personas, profile: Profile) -> None:
    User.objects.filter(pk=personas.alice.pk).update(is_active=False)


PRIVATE_CASES: dict[str, Callable[[Personas, Profile], None]] = {
    "unpublished": _unpublished,
    "hidden": _hidden,
    "unshown address": _unshown,
    "unverified address": _unverified,
    "disabled account": _disabled,
}
