"""An upload through app node 1 lands in the S3 bucket, is served by both Varnish nodes, and a
replacement shows on both within two seconds."""

from __future__ import annotations

import time

import pytest

from avatars.models import Avatar
from deploy.cluster import Cluster
from tests.cluster.conftest import Person, avatar, photo, served_everywhere, signed_in
from tests.varnish.conftest import close_to, colour_of

pytestmark = pytest.mark.varnish

BLUE = (20, 120, 220)
RED = (220, 30, 30)
# Issue 14's bound: a change visible through every Varnish node.
REPLACED_WITHIN = 2.0


def bucket_keys(cluster: Cluster) -> set[str]:
    listing = cluster.s3_client().list_objects_v2(Bucket=cluster.config.bucket)  # type: ignore[attr-defined]
    return {item["Key"] for item in listing.get("Contents", [])}


def test_an_upload_is_stored_in_s3_and_served_by_both_varnish_nodes(whole: Cluster, person: Person):
    visitor = signed_in(whole, 1, person)

    visitor.upload(photo(BLUE), address=person.address)

    stored = Avatar.objects.get(owner=person.user)
    assert {stored.master.name, stored.preview.name} <= bucket_keys(whole)
    for url in whole.config.varnish_urls:
        first, second = avatar(url, person), avatar(url, person)
        assert first.status == 200 and close_to(colour_of(first), BLUE), url
        assert (first.cache, second.cache) == ("MISS", "HIT"), url


def test_a_replacement_shows_on_both_varnish_nodes_within_two_seconds(
    whole: Cluster, person: Person
):
    visitor = signed_in(whole, 1, person)
    visitor.upload(photo(BLUE), address=person.address)
    served_everywhere(whole, person, BLUE, timeout=5)

    visitor.upload(photo(RED), address=person.address)
    uploaded = time.monotonic()
    served_everywhere(whole, person, RED, timeout=REPLACED_WITHIN)
    elapsed = time.monotonic() - uploaded
    print(f"the replacement showed on both Varnish nodes {elapsed * 1000:.0f} ms after the upload")

    masters = {avatar.master.name for avatar in Avatar.objects.filter(owner=person.user)}
    assert len(masters) == 2 and masters <= bucket_keys(whole)
    assert elapsed < REPLACED_WITHIN
