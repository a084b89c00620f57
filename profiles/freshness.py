"""A profile changed: the verb every profile workflow calls, inside its transaction.

It names every key the profile's public answers carry (`profiles.selectors.profile_keys_of`):
both digests of every verified address of the account and the slug's key, plus any slug the
change freed or claimed, so that a cached answer for an old slug (a page, a redirect or a 404)
goes too. Delivery, retries and the resolution caches are `avatars.freshness`'s.
"""

from __future__ import annotations

from collections.abc import Iterable

from avatars.freshness import keys_served_changed
from avatars.models import Address
from profiles import rules
from profiles.models import Profile
from profiles.selectors import profile_keys_of


def profile_served_changed(*, profile: Profile, slugs: Iterable[str] = ()) -> None:
    """Any field, the publish switch, address choices, verification, moderation. `slugs`: the
    slugs this change freed or claimed besides the profile's current one."""
    addresses = list(Address.objects.filter(owner_id=profile.user_id, verified_at__isnull=False))
    keys = profile_keys_of(profile, addresses) + [rules.slug_key(slug) for slug in slugs if slug]
    keys_served_changed(keys=keys)
