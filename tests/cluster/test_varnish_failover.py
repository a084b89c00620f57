"""Varnish node 1 killed: node 2 keeps serving, changes included, and the purge queue
delivers node 1's backlog when it returns."""

from __future__ import annotations

import subprocess
import time

import pytest

from deploy.cluster import Cluster, find_program
from tests.cluster.conftest import (
    TIMEOUT,
    Person,
    avatar,
    photo,
    purges_of,
    served_everywhere,
    signed_in,
)
from tests.varnish.conftest import close_to, colour_of
from tests.varnish.harness import wait_until

pytestmark = pytest.mark.varnish

BLUE = (20, 120, 220)
RED = (220, 30, 30)
# The worker retries a node every 1, 2, 4 ... s, at most 30 s apart (avatars/purging.py).
BACKLOG_WITHIN = 35


def purges_received(cluster: Cluster, number: int) -> str:
    """The xkey-purge headers of the PURGE requests Varnish node `number` has seen."""
    result = subprocess.run(
        [
            find_program("varnishlog") or "varnishlog",
            *("-n", str(cluster.varnish_name(number)), "-d"),
            *("-q", 'ReqMethod eq "PURGE"', "-i", "ReqHeader"),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=TIMEOUT,
    )
    return result.stdout


def test_node_2_keeps_serving_and_node_1_gets_its_backlog_when_it_returns(
    whole: Cluster, person: Person
):
    node_1, node_2 = whole.config.varnish_urls
    visitor = signed_in(whole, 2, person)
    visitor.upload(photo(BLUE), address=person.address)
    served_everywhere(whole, person, BLUE, timeout=5)

    whole.kill_varnish(1)
    visitor.upload(photo(RED), address=person.address)
    uploaded = time.monotonic()
    wait_until(
        lambda: close_to(colour_of(avatar(node_2, person)), RED),
        timeout=2,
        what="Varnish node 2 serves the replacement",
    )
    shown_on_2 = time.monotonic() - uploaded
    # The purge right after the commit reached node 2 and not node 1; the echoes wait.
    tried = [purge for purge in purges_of(person) if purge.delivered_at is None and purge.attempts]
    assert tried and all(node_1 in purge.last_error for purge in tried)
    assert all(node_2 not in purge.last_error for purge in tried)

    whole.start_varnish(1)
    returned = time.monotonic()
    wait_until(
        lambda: all(purge.delivered_at is not None for purge in purges_of(person)),
        timeout=BACKLOG_WITHIN,
        what="every queued purge of the address is delivered to both nodes",
        interval=0.2,
    )
    delivered_after = time.monotonic() - returned
    print(
        f"node 2 showed the change after {shown_on_2:.2f} s; node 1's backlog was delivered "
        f"{delivered_after:.1f} s after it returned"
    )

    assert person.md5 in purges_received(whole, 1)
    assert all(purge.last_error == "" for purge in purges_of(person))
    assert close_to(colour_of(avatar(node_1, person)), RED)
