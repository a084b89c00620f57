"""The scaled-out shape, started once for these tests through deploy/cluster.py, the code
`make cluster` runs: two gunicorn app nodes, two varnishd in front of both, moto's S3 server,
the purge worker, the machine's Redis and the test database (PostgreSQL), all on loopback
ports of their own. Tests stop, kill and restart its parts and leave it whole again.

People sign in and upload through the nodes over HTTP, as a browser would; the test process
only creates their accounts (rows the nodes read) and reads the queue and the bucket.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password

from accounts.models import User
from avatars.models import Address, PurgeRequest
from avatars.services import address_confirm
from deploy.cluster import Cluster, ClusterConfig, free_port
from tests.conftest import image_bytes, require_binary
from tests.postgres import shared_database_url
from tests.varnish.harness import Response, request, wait_until

# Every request of these tests, so that a hung node fails a test instead of hanging it.
TIMEOUT = 10
PASSWORD = "cluster-password-1"


@pytest.fixture(scope="package")
def cluster(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Cluster]:
    require_binary("varnishd")
    with django_db_blocker.unblock():
        database_url = shared_database_url()
    config = ClusterConfig(
        root=tmp_path_factory.mktemp("cluster"),
        database_url=database_url,
        redis_url=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        app_ports=(free_port(), free_port()),
        varnish_ports=(free_port(), free_port()),
        s3_port=free_port(),
        # One worker per node: two nodes are the point, and the machine has two cores.
        app_workers=1,
    )
    # Prometheus is not part of what these tests look at.
    shape = Cluster(config, prometheus=False)
    shape.start(migrate=False)
    try:
        yield shape
    finally:
        shape.stop()


@pytest.fixture
def whole(cluster: Cluster, transactional_db) -> Iterator[Cluster]:
    """The cluster with every part running, before and after the test."""
    # Started moments ago, a node may still be sick to the probes: every request through
    # Varnish would then be its 503.
    cluster.wait_for_backends()
    yield cluster
    if cluster.s3 is None:
        cluster.start_s3()
    for number, app in enumerate(cluster.apps, 1):
        if app is None:
            cluster.start_app(number)
    for number, varnish in enumerate(cluster.varnishes, 1):
        if varnish is None:
            cluster.start_varnish(number)
    cluster.wait_for_backends()


@dataclass
class Person:
    user: User
    address: Address

    @property
    def md5(self) -> str:
        return hashlib.md5(self.address.email.encode(), usedforsecurity=False).hexdigest()


@pytest.fixture
def person(whole: Cluster) -> Person:
    """Someone with a password and a confirmed address, and no image yet."""
    # The nodes' own hasher: the tests' fast one is not among theirs.
    user = User.objects.create(
        email="dora@example.com", password=make_password(PASSWORD, hasher=PBKDF2PasswordHasher())
    )
    address = address_confirm(address=Address.objects.create(owner=user, email=user.email))
    return Person(user, address)


class Visitor:
    """A browser's session with one app node: cookies, CSRF tokens, forms."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def _token(self, path: str) -> str:
        page = self.session.get(self.base_url + path, timeout=TIMEOUT)
        assert page.status_code == 200, (path, page.status_code, page.text[:300])
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        token = self._token("/login/")
        response = self.session.post(
            self.base_url + "/login/",
            data={"csrfmiddlewaretoken": token, "username": email, "password": password},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        assert response.status_code == 302, (response.status_code, response.text[:500])

    def upload(self, image: bytes, *, address: Address) -> None:
        token = self._token("/account/avatars/upload/")
        response = self.session.post(
            self.base_url + "/account/avatars/upload/",
            data={"csrfmiddlewaretoken": token, "rating": "g", "addresses": [str(address.pk)]},
            files={"image": ("photo.jpg", image, "image/jpeg")},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        assert response.status_code == 302, (response.status_code, response.text[:500])


def signed_in(cluster: Cluster, node: int, person: Person) -> Visitor:
    visitor = Visitor(cluster.config.app_urls[node - 1])
    visitor.sign_in(person.user.email)
    return visitor


def photo(colour: tuple[int, int, int]) -> bytes:
    return image_bytes((400, 400), colour)


def avatar(base_url: str, person: Person, size: int = 80) -> Response:
    return request(base_url, f"/avatar/{person.md5}?s={size}", timeout=TIMEOUT)


def served_everywhere(cluster: Cluster, person: Person, colour, *, timeout: float) -> None:
    """Waits until every Varnish node serves `person`'s avatar in `colour`."""
    from tests.varnish.conftest import close_to, colour_of

    for url in cluster.config.varnish_urls:

        def shows(url: str = url) -> bool:
            response = avatar(url, person)
            return response.status == 200 and close_to(colour_of(response), colour)

        wait_until(shows, timeout=timeout, what=f"{url} serves the avatar in {colour}")


def purges_of(person: Person) -> list[PurgeRequest]:
    return list(PurgeRequest.objects.filter(digests__contains=person.md5))


def purges_delivered(person: Person, *, timeout: float) -> None:
    """Waits until every purge of `person`'s hashes reached every node, the echo sent
    ECHO_DELAY after the commit included: after it, nothing of theirs leaves the caches."""
    wait_until(
        lambda: all(purge.delivered_at is not None for purge in purges_of(person)),
        timeout=timeout,
        what="every queued purge of the address is delivered, echoes included",
        interval=0.2,
    )
