"""The S3 server stopped: /readyz on every app node says storage is down, and the renditions
already made are still served, through both Varnish nodes and by the app nodes themselves."""

from __future__ import annotations

import json

import pytest

from deploy.cluster import Cluster
from tests.cluster.conftest import (
    TIMEOUT,
    Person,
    avatar,
    photo,
    purges_delivered,
    served_everywhere,
    signed_in,
)
from tests.varnish.conftest import close_to, colour_of
from tests.varnish.harness import request

pytestmark = pytest.mark.varnish

BLUE = (20, 120, 220)


def test_readyz_says_storage_is_down_and_cached_renditions_still_serve(
    whole: Cluster, person: Person
):
    visitor = signed_in(whole, 1, person)
    visitor.upload(photo(BLUE), address=person.address)
    # The echo purge, ECHO_DELAY after the commit, would empty the caches again mid-test.
    purges_delivered(person, timeout=30)
    served_everywhere(whole, person, BLUE, timeout=5)
    for url in whole.config.app_urls:
        # Each node makes the rendition once, while the S3 server is there.
        assert avatar(url, person).status == 200

    whole.stop_s3()

    readiness = [
        request(url, "/readyz", timeout=TIMEOUT)
        for url in (*whole.config.app_urls, *whole.config.varnish_urls)
    ]
    through_varnish = [avatar(url, person) for url in whole.config.varnish_urls]
    from_the_nodes = [avatar(url, person) for url in whole.config.app_urls]
    never_made = avatar(whole.config.app_urls[0], person, size=81)

    for response in readiness:
        assert response.status == 503
        assert json.loads(response.body) == {
            "status": "unavailable",
            "database": "ok",
            "storage": "unreachable",
        }
    for response in through_varnish:
        assert response.cache == "HIT" and close_to(colour_of(response), BLUE)
    for response in from_the_nodes:
        assert close_to(colour_of(response), BLUE)
    # A size never rendered needs the master: the stand-in, kept a minute, not a 500.
    assert never_made.status == 200
    assert "max-age=60" in (never_made.header("Cache-Control") or "")
