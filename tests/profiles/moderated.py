"""A published profile for alice with one of everything a moderator can clear: the moderation,
admin and report tests share it."""

from __future__ import annotations

from avatars.models import Address
from avatars.services import address_confirm
from profiles.models import AddressChoice, Profile, ProfileAccount, ProfileLink
from tests.personas import Personas

WORK_EMAIL = "a@work.example"


def make_published(personas: Personas) -> Profile:
    personas.alice.display_name = "Alice Liddell"
    personas.alice.save()
    profile = Profile.objects.create(
        user=personas.alice,
        published=True,
        slug="alice",
        location="Lisbon",
        about_me="Down the rabbit hole",
        job_title="Explorer",
    )
    ProfileLink.objects.create(profile=profile, label="Blog", url="https://alice.example/")
    ProfileAccount.objects.create(profile=profile, service="github", url="https://github.com/a")
    work = address_confirm(address=Address.objects.create(owner=personas.alice, email=WORK_EMAIL))
    AddressChoice.objects.create(address=work, shows_profile=True, email_published=True)
    return profile
