"""App node 1 killed (every process of it, at once) while both Varnish nodes are under load:
once their probes notice, not one request through either fails."""

from __future__ import annotations

import hashlib
import http.client
import itertools
import threading
import time

import pytest

from deploy.cluster import Cluster
from tests.varnish.harness import request, wait_until

pytestmark = pytest.mark.varnish

# Requests after the probes noticed, through each Varnish node.
AFTER_NOTICED = 40


class Load:
    """Clients asking every Varnish node for never-seen hashes: each request is a miss that
    needs an app node. Records (monotonic time, Varnish node, status) of every answer."""

    def __init__(self, urls: list[str], clients_per_node: int = 2) -> None:
        self.answers: list[tuple[float, str, int]] = []
        self.details: list[str] = []  # the first failures' answers, to say what they were
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.counter = itertools.count()
        self.threads = [
            threading.Thread(target=self.client, args=(url,), daemon=True)
            for url in urls
            for _ in range(clients_per_node)
        ]

    def client(self, url: str) -> None:
        while not self.stop.is_set():
            name = hashlib.md5(f"load-{next(self.counter)}".encode(), usedforsecurity=False)
            detail = ""
            try:
                response = request(url, f"/avatar/{name.hexdigest()}?d=identicon&s=40")
                status = response.status
                detail = f"{response.header('X-Cache')} {response.body[:200]!r}"
            except (OSError, http.client.HTTPException) as error:
                # Refused, reset, or cut short after the headers: a failed request all the same.
                status, detail = 0, repr(error)
            with self.lock:
                self.answers.append((time.monotonic(), url, status))
                if status != 200 and len(self.details) < 5:
                    self.details.append(f"{url} {status} {detail}")

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(15)

    def count(self, url: str, since: float = 0.0) -> int:
        with self.lock:
            return sum(1 for at, node, _ in self.answers if node == url and at >= since)

    def streak(self, url: str) -> int:
        """Answers through `url` since its last failure."""
        with self.lock:
            ours = [status for _, node, status in self.answers if node == url]
        for count, status in enumerate(reversed(ours)):
            if status != 200:
                return count
        return len(ours)

    def failures(self, since: float = 0.0) -> list[tuple[float, str, int]]:
        with self.lock:
            return [answer for answer in self.answers if answer[0] >= since and answer[2] != 200]


def test_no_request_fails_through_either_varnish_node_once_the_probes_notice_a_dead_app_node(
    whole: Cluster,
):
    urls = whole.config.varnish_urls
    with Load(urls) as load:
        # A node that has just started answers its first requests slowly (connections,
        # imports, caches) and on a loaded machine a probe may time out then: the kill comes
        # once both nodes serve the load steadily.
        wait_until(
            lambda: all(load.streak(url) >= 40 for url in urls),
            timeout=30,
            what="both Varnish nodes serve the load steadily",
        )
        killed = time.monotonic()
        whole.kill_app(1)
        whole.wait_for_backend("app1", "sick", timeout=10)
        noticed = time.monotonic()
        wait_until(
            lambda: all(load.count(url, since=noticed) >= AFTER_NOTICED for url in urls),
            timeout=20,
            what=f"{AFTER_NOTICED} answers through each Varnish node after the probes noticed",
        )

    before = load.failures(since=killed)
    print(
        f"app node 1 killed: probes noticed after {noticed - killed:.1f} s; "
        f"{len(before)} failed requests before that, {len(load.answers)} in all"
    )
    assert load.failures(since=noticed) == [], load.details
    for number in (1, 2):
        assert whole.backend_health(number)["app2"] == "healthy"
