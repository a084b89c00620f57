"""What a hash serves has changed: the verbs every workflow calls to keep the edge caches fresh.

Each verb takes the model objects a change touched and derives the digests itself (both digests
of every address concerned), so no caller computes one by hand. Call them inside the
transaction that makes the change: the purge is recorded in that transaction
(`avatars.purging.purge_queue`) and sent to every Varnish node right after the commit, and
`manage.py purge_worker` retries it until every node has it. A rolled-back change purges
nothing.

After the commit, and before the purges go out, the same digests are dropped from every app
server's resolution cache (`avatars.resolution.digests_changed`), with or without Varnish.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from django.db import transaction

from accounts.models import User
from avatars import hooks
from avatars.models import Address, Avatar
from avatars.purging import purge_queue
from avatars.resolution import digests_changed


def digests_of(addresses: Iterable[Address]) -> list[str]:
    """Both digests of each address: what one purge of those addresses must name."""
    return [digest for address in addresses for digest in (address.md5, address.sha256)]


def addresses_served_changed(*, addresses: Iterable[Address]) -> None:
    """These addresses now serve something else (assigned, verified, removed, unassigned)."""
    addresses = list(addresses)
    # Other apps' answers for these accounts show the addresses too (avatars.hooks).
    owners = {address.owner_id for address in addresses}
    keys_served_changed(keys=digests_of(addresses) + hooks.owner_keys(owners))


def keys_served_changed(*, keys: Iterable[str]) -> None:
    """The primitive under every verb: what these edge keys (digests, or another app's keys
    such as a profile slug's) tag has changed."""
    digests = list(keys)
    # Registered first, so it runs before the purge's own after-commit delivery: a render
    # Varnish asks for after the purge must not find the old answer in a worker's memory.
    # robust: the time-to-live bounds a failure; it is never an error for the person.
    transaction.on_commit(partial(digests_changed, digests), robust=True)
    purge_queue(digests=digests)


def user_served_changed(*, user: User) -> None:
    """Every verified address of the account serves something else (privacy, display name,
    disabled, deleted). Call it before deleting the account: the addresses go with it."""
    addresses_served_changed(
        addresses=Address.objects.filter(owner_id=user.pk, verified_at__isnull=False)
    )


def avatars_served_changed(*, avatars: Iterable[Avatar]) -> None:
    """The addresses showing these avatars serve something else (rating, moderation state,
    deletion). Call it before deleting an avatar: deletion unassigns its addresses."""
    addresses_served_changed(
        addresses=Address.objects.filter(avatar_id__in=[avatar.pk for avatar in avatars])
    )
