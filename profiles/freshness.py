"""A profile changed: the verb every profile workflow calls, inside its transaction.

It names every key the profile's public answers carry (`profiles.selectors.profile_keys_of`):
both digests of every verified address of the account and the slug's key, plus any slug the
change freed or claimed, so that a cached answer for an old slug (a page, a redirect or a 404)
goes too. Delivery, retries and the resolution caches are `avatars.freshness`'s.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from avatars.freshness import keys_served_changed
from avatars.models import Address
from profiles import rules
from profiles.models import OldSlug, Profile
from profiles.selectors import profile_keys_of


def profile_served_changed(*, profile: Profile, slugs: Iterable[str] = ()) -> None:
    """Any field, the publish switch, address choices, verification, moderation. `slugs`: the
    slugs this change freed or claimed besides the profile's current one."""
    addresses = list(Address.objects.filter(owner_id=profile.user_id, verified_at__isnull=False))
    keys = profile_keys_of(profile, addresses) + [rules.slug_key(slug) for slug in slugs if slug]
    keys_served_changed(keys=keys)


def slug_keys_of_owners(owners: set[int]) -> list[str]:
    """The slug keys (current and still redirecting) of these accounts' profiles: what an
    address, avatar or account change must purge besides the digests (registered with
    `avatars.hooks.owner_keys_register`), since every answer of a profile, by hash or slug,
    carries its slug's key and shows the account's addresses, avatar and name."""
    slugs = list(
        Profile.objects.filter(user_id__in=owners, slug__isnull=False).values_list(
            "slug", flat=True
        )
    )
    slugs += OldSlug.objects.filter(
        profile__user_id__in=owners, retired_at__gt=timezone.now() - rules.OLD_SLUG_REDIRECT
    ).values_list("slug", flat=True)
    return [rules.slug_key(slug) for slug in slugs if slug]
