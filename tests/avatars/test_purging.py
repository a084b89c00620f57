"""The purge queue: recorded with the change, sent after the commit, retried until delivered."""

from __future__ import annotations

import io
import socket
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from avatars import purging
from avatars.models import PurgeRequest
from avatars.purging import purge_queue
from tests.conftest import require_binary
from tests.personas import make_personas
from tests.varnish.conftest import Edge, address_of, start_app_server
from tests.varnish.harness import Varnish

pytestmark = pytest.mark.django_db

MD5 = "0bc83cb571cd1c50ba6f3e8a78ef1346"
SHA256 = "e8d8a5e1d7c1f9b3f4b0a1e4f2f0b6d1c8e7a9b2d3c4e5f60718293a4b5c6d7e"


def closed_port() -> int:
    """A port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def varnish(tmp_path_factory):
    """A real node with the shipped VCL; it needs no app server to take purges."""
    require_binary("varnishd")
    node = Varnish(tmp_path_factory.mktemp("varnish"), [("127.0.0.1", closed_port())])
    node.start()
    yield node
    node.stop()


@pytest.fixture
def dead_node() -> str:
    return f"http://127.0.0.1:{closed_port()}"


def test_without_varnish_nodes_nothing_is_queued(settings):
    settings.VARNISH_NODES = []

    with transaction.atomic():
        purge_queue(digests=[MD5, SHA256])

    assert not PurgeRequest.objects.exists()


def test_a_change_queues_its_purge_and_a_later_echo(settings):
    settings.VARNISH_NODES = ["http://127.0.0.1:9"]
    before = timezone.now()

    with transaction.atomic():
        purge_queue(digests=[SHA256, MD5.upper(), MD5, ""])

    purge, echo = PurgeRequest.objects.order_by("next_attempt_at").reverse()
    assert purge.digests == echo.digests == f"{MD5} {SHA256}"
    assert purge.next_attempt_at >= before + purging.AFTER_COMMIT_GRACE
    assert before + purging.ECHO_DELAY <= echo.next_attempt_at < purge.next_attempt_at
    assert purge.delivered_at is None and purge.attempts == 0


def test_a_rolled_back_change_queues_and_sends_nothing(
    settings, django_capture_on_commit_callbacks
):
    settings.VARNISH_NODES = ["http://127.0.0.1:9"]

    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        purge_queue(digests=[MD5])
        raise RuntimeError("the change failed")

    assert not PurgeRequest.objects.exists()
    assert callbacks == []


def test_the_purge_is_delivered_right_after_the_commit(
    settings, varnish, django_capture_on_commit_callbacks
):
    settings.VARNISH_NODES = [varnish.url]

    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            purge_queue(digests=[MD5, SHA256])
        assert not PurgeRequest.objects.filter(delivered_at__isnull=False).exists()

    delivered = PurgeRequest.objects.get(delivered_at__isnull=False)
    assert (delivered.attempts, delivered.last_error) == (1, "")
    # The echo waits for the worker.
    assert PurgeRequest.objects.filter(delivered_at__isnull=True, attempts=0).count() == 1


def test_a_node_that_is_down_leaves_the_purge_queued_with_the_reason(
    settings, varnish, dead_node, django_capture_on_commit_callbacks
):
    settings.VARNISH_NODES = [varnish.url, dead_node]

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        purge_queue(digests=[MD5])

    purge = PurgeRequest.objects.get(attempts=1)
    assert purge.delivered_at is None
    assert dead_node in purge.last_error and "ConnectionRefused" in purge.last_error
    assert varnish.url not in purge.last_error
    retry_in = purge.next_attempt_at - timezone.now()
    assert timedelta(0) < retry_in <= timedelta(seconds=1)


def test_the_worker_delivers_purges_the_app_never_sent(settings, varnish):
    """The app died between the commit and the purge: only the rows know."""
    settings.VARNISH_NODES = [varnish.url]
    with transaction.atomic():
        purge_queue(digests=[MD5])

    too_early = purging.purges_deliver_due()
    later = purging.purges_deliver_due(now=timezone.now() + purging.AFTER_COMMIT_GRACE)

    assert (too_early.delivered, too_early.failed) == (0, 0)
    assert (later.delivered, later.failed) == (2, 0)
    assert not PurgeRequest.objects.filter(delivered_at__isnull=True).exists()


def test_a_node_back_from_the_dead_gets_the_backlog(settings, varnish, dead_node):
    settings.VARNISH_NODES = [dead_node]
    with transaction.atomic():
        purge_queue(digests=[MD5])
    due = timezone.now() + purging.AFTER_COMMIT_GRACE
    assert purging.purges_deliver_due(now=due).failed == 2

    settings.VARNISH_NODES = [varnish.url]  # the node is reachable again
    retry = purging.purges_deliver_due(now=due + purging.MAX_RETRY_DELAY)

    assert retry.delivered == 2
    assert list(PurgeRequest.objects.values_list("attempts", flat=True)) == [2, 2]


def test_retries_back_off_up_to_half_a_minute():
    delays = [purging.retry_delay(attempts).total_seconds() for attempts in range(1, 9)]

    assert delays == [1, 2, 4, 8, 16, 30, 30, 30]
    assert purging.retry_delay(10_000) == purging.MAX_RETRY_DELAY


def test_one_round_tries_an_unreachable_node_once(settings, dead_node):
    settings.VARNISH_NODES = [dead_node]
    for _ in range(3):
        with transaction.atomic():
            purge_queue(digests=[MD5])

    round_ = purging.purges_deliver_due(now=timezone.now() + purging.AFTER_COMMIT_GRACE)

    assert (round_.delivered, round_.failed) == (0, 6)
    errors = list(
        PurgeRequest.objects.order_by("next_attempt_at").values_list("last_error", flat=True)
    )
    assert sum("skipped" not in error for error in errors) == 1
    assert sum("skipped" in error for error in errors) == 5


def test_a_worker_that_died_mid_round_leaves_its_rows_for_the_next(settings, dead_node):
    settings.VARNISH_NODES = [dead_node]
    with transaction.atomic():
        purge_queue(digests=[MD5])
    now = timezone.now() + purging.AFTER_COMMIT_GRACE
    # Taken by a worker (leased) that never reported back.
    PurgeRequest.objects.update(next_attempt_at=now + purging.LEASE)

    assert purging.purges_deliver_due(now=now).failed == 0
    assert purging.purges_deliver_due(now=now + purging.LEASE).failed == 2


def test_old_purges_are_forgotten(settings):
    now = timezone.now()
    settings.AVATAR_SHARED_MAX_AGE = 7 * 86400
    settings.AVATAR_STALE_IF_ERROR = 7 * 86400
    delivered_long_ago = PurgeRequest.objects.create(
        digests=MD5, next_attempt_at=now, delivered_at=now - timedelta(days=2)
    )
    delivered_lately = PurgeRequest.objects.create(
        digests=MD5, next_attempt_at=now, delivered_at=now - timedelta(hours=1)
    )
    never_delivered = PurgeRequest.objects.create(digests=MD5, next_attempt_at=now)
    PurgeRequest.objects.filter(pk=never_delivered.pk).update(created_at=now - timedelta(days=15))
    still_useful = PurgeRequest.objects.create(digests=MD5, next_attempt_at=now)
    PurgeRequest.objects.filter(pk=still_useful.pk).update(created_at=now - timedelta(days=13))

    assert purging.purges_prune(now=now) == 2

    kept = set(PurgeRequest.objects.values_list("pk", flat=True))
    assert kept == {delivered_lately.pk, still_useful.pk}
    assert delivered_long_ago.pk not in kept


def test_purge_worker_once_delivers_what_is_due(settings, varnish):
    settings.VARNISH_NODES = [varnish.url]
    PurgeRequest.objects.create(digests=f"{MD5} {SHA256}", next_attempt_at=timezone.now())
    out = io.StringIO()

    call_command("purge_worker", "--once", stdout=out)

    assert out.getvalue().strip() == "1 delivered, 0 to retry"
    assert PurgeRequest.objects.get().delivered_at is not None


@pytest.fixture
def edge(django_db_setup, django_db_blocker, tmp_path, transactional_db):
    """A node in front of the app, so that it holds objects to purge."""
    require_binary("varnishd")
    app = start_app_server(django_db_blocker)
    node = Varnish(tmp_path, [address_of(app)])
    try:
        node.start()
        yield Edge(node, [app])
    finally:
        node.stop()
        app.stop()


def test_send_purge_reports_how_many_objects_went(edge: Edge):
    people = make_personas()
    address = people.alice_address
    for path in (f"/avatar/{address.md5}", f"/avatar/{address.sha256}?s=40"):
        assert edge.get(path).cache == "MISS"
        assert edge.get(path).cache == "HIT"

    # Both objects carry both digests as xkeys, so either name drops both.
    assert purging.send_purge(edge.varnish.url, [address.md5]) == 2
    # Varnish's expiry thread takes purged objects out of xkey's index a moment later (on a
    # loaded machine, after a second purge sent at once could count them again), so what is
    # gone is checked as a visitor sees it.
    for path in (f"/avatar/{address.md5}", f"/avatar/{address.sha256}?s=40"):
        assert edge.get(path).cache == "MISS"
    assert purging.send_purge(edge.varnish.url, [MD5]) == 0  # no object of that hash


def test_send_purge_fails_on_anything_but_a_confirmation(varnish, dead_node):
    with pytest.raises(purging.PurgeFailed, match="ConnectionRefused"):
        purging.send_purge(dead_node, [MD5])
    with pytest.raises(purging.PurgeFailed, match="HTTP 400"):
        purging.send_purge(varnish.url, [])


@pytest.mark.parametrize(
    ("nodes", "errors"),
    [
        (["http://10.0.0.5:6081", "https://cache.example.com"], 0),
        (["ftp://10.0.0.5", "http://", "http://host:port", "10.0.0.5:6081"], 4),
    ],
)
def test_the_system_check_names_malformed_nodes(settings, nodes, errors):
    settings.VARNISH_NODES = nodes

    found = purging.check_varnish_nodes()

    assert len(found) == errors
    assert all(error.id == "avatars.E101" for error in found)


def test_a_node_down_across_many_purges_is_logged_once_and_again_when_back(
    settings, varnish, dead_node, caplog, django_capture_on_commit_callbacks
):
    settings.VARNISH_NODES = [dead_node]
    caplog.set_level("WARNING", logger="avatars.purging")
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            purge_queue(digests=[MD5])
    purging.purges_deliver_due(now=timezone.now() + purging.AFTER_COMMIT_GRACE)
    # The node comes back at the same address.
    purging.node_health.answered(dead_node)

    messages = [record.getMessage() for record in caplog.records]
    assert sum("is not taking purges" in message for message in messages) == 1
    assert sum("takes purges again" in message for message in messages) == 1
