"""The resolution cache: a hot hash answered without a query, forgotten after every change."""

from __future__ import annotations

import functools
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from avatars import moderation, resolution, services
from avatars.freshness import addresses_served_changed, avatars_served_changed, user_served_changed
from avatars.models import ModerationState
from avatars.selectors import KnownHash, StoredImage, hash_resolve
from tests.conftest import require_binary
from tests.personas import Personas, make_personas
from tests.postgres import AppProcess, app_env, free_port, shared_database_url

UNKNOWN = "0123456789abcdef0123456789abcdef"
ROOT = Path(__file__).resolve().parent.parent.parent


def queries_of(action: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        action()
    return len(captured)


def fresh_process() -> resolution._Process:
    """This process's cache made again from the settings as they are now."""
    _stop_listener()
    resolution._process = None
    return resolution._current()


def _stop_listener() -> None:
    process = resolution._process
    if process is not None and process.listener is not None:
        process.listener.stop()


@pytest.fixture
def cache_here(settings: Any, tmp_path: Path) -> Iterator[None]:
    """A fresh cache for this process, with its generation file in this test's folder and no
    Redis unless the test names one."""
    settings.VAR_DIR = tmp_path
    settings.REDIS_URL = ""
    fresh_process()
    yield
    _stop_listener()
    resolution._process = None


@pytest.fixture
def people(transactional_db: None, cache_here: None) -> Personas:
    """Committed rows: outside a transaction, as the avatar endpoint runs."""
    return make_personas()


def image_of(found: KnownHash | None) -> StoredImage | None:
    return found.image if found else None


def test_a_hot_hash_known_or_unknown_costs_no_query(people):
    digest = people.alice_address.md5
    assert queries_of(lambda: hash_resolve(digest=digest)) == 1
    assert queries_of(lambda: hash_resolve(digest=digest)) == 0
    assert hash_resolve(digest=digest) == hash_resolve(digest=people.alice_address.md5)
    assert queries_of(lambda: hash_resolve(digest=UNKNOWN)) == 1
    assert queries_of(lambda: hash_resolve(digest=UNKNOWN)) == 0
    assert hash_resolve(digest=UNKNOWN) is None


def test_inside_a_transaction_the_cache_is_neither_read_nor_written(people):
    digest = people.alice_address.md5
    with transaction.atomic():
        assert queries_of(lambda: hash_resolve(digest=digest)) == 1
        assert queries_of(lambda: hash_resolve(digest=digest)) == 1
    assert len(resolution._current().memory) == 0


def test_an_entry_expires_after_its_time_to_live(people, monkeypatch):
    hash_resolve(digest=UNKNOWN)
    now = time.monotonic()
    monkeypatch.setattr("avatars.resolution.time.monotonic", lambda: now + resolution.TTL_SECONDS)
    assert queries_of(lambda: hash_resolve(digest=UNKNOWN)) == 1


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda p: addresses_served_changed(addresses=[p.alice_address]), id="addresses"
        ),
        pytest.param(lambda p: user_served_changed(user=p.alice), id="user"),
        pytest.param(lambda p: avatars_served_changed(avatars=[p.alice_avatar]), id="avatars"),
    ],
)
def test_each_change_verb_drops_both_digests_after_the_commit(people, change):
    digests = (people.alice_address.md5, people.alice_address.sha256)
    for digest in digests:
        hash_resolve(digest=digest)
    with transaction.atomic():
        change(people)
        for digest in digests:
            assert resolution._current().memory.get(digest) is not None, "dropped before commit"
    for digest in digests:
        assert queries_of(functools.partial(hash_resolve, digest=digest)) == 1


def test_a_rolled_back_change_keeps_the_entries(people):
    hash_resolve(digest=people.alice_address.md5)
    with pytest.raises(RuntimeError), transaction.atomic():
        addresses_served_changed(addresses=[people.alice_address])
        raise RuntimeError("roll back")
    assert queries_of(lambda: hash_resolve(digest=people.alice_address.md5)) == 0


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda p: services.avatar_edit(
                avatar=p.alice_avatar, rating="x", alt_text="", addresses=[p.alice_address]
            ),
            id="rating",
        ),
        pytest.param(
            lambda p: services.user_privacy_update(
                user=p.alice, display_name="", display_name_public=False, hide_avatar=True
            ),
            id="privacy",
        ),
        pytest.param(
            lambda p: moderation.avatars_set_state(
                moderator=p.charlie, avatars=[p.alice_avatar], state=ModerationState.REJECTED
            ),
            id="moderation",
        ),
        pytest.param(
            lambda p: moderation.user_set_active(moderator=p.charlie, user=p.alice, active=False),
            id="account disabled",
        ),
        pytest.param(lambda p: services.avatar_delete(avatar=p.alice_avatar), id="deletion"),
        pytest.param(lambda p: services.address_remove(address=p.alice_address), id="removal"),
    ],
)
def test_a_change_through_the_services_is_served_at_once(people, change):
    """The image was cached for this process; right after the workflow commits, the next
    lookup reads the new state."""
    before = image_of(hash_resolve(digest=people.alice_address.sha256))
    assert before is not None and before.rating_rank == 0
    change(people)
    after = hash_resolve(digest=people.alice_address.sha256)
    assert after is None or after.image is None or after.image.rating_rank > 0


def test_a_newly_verified_address_is_no_longer_unknown(people):
    digest = people.bob_address.md5
    assert hash_resolve(digest=digest) is None
    services.address_confirm(address=people.bob_address)
    assert hash_resolve(digest=digest) is not None


def test_another_process_of_the_node_invalidates_through_the_generation_file(people, settings):
    """manage.py commands and other workers share VAR_DIR: their commits move its file."""
    hash_resolve(digest=UNKNOWN)
    path = Path(settings.VAR_DIR) / resolution.GENERATION_FILE
    bump = "import sys, pathlib, avatars.resolution as r; r._generation_bump(pathlib.Path(sys.argv[1]))"  # noqa: E501
    subprocess.run([sys.executable, "-c", bump, str(path)], check=True, timeout=30, cwd=ROOT)
    assert queries_of(lambda: hash_resolve(digest=UNKNOWN)) == 1


def test_a_read_that_overlaps_a_change_is_not_stored(people):
    """The read saw the database before the commit; the invalidation came before it was
    stored: storing it would keep the old answer for a whole time-to-live."""

    def resolve_across_a_change(digest: str) -> KnownHash | None:
        found = resolution_query(digest)
        resolution.digests_changed([digest])
        return found

    from avatars.selectors import _query as resolution_query

    resolution.resolution_cached(UNKNOWN, resolve_across_a_change)
    assert resolution._current().memory.get(UNKNOWN) is None


def test_memory_is_bounded_by_entry_count(transactional_db, cache_here, settings):
    settings.AVATAR_RESOLUTION_MEMORY_ENTRIES = 50
    fresh_process()
    for number in range(500):
        hash_resolve(digest=f"{number:032x}")
    memory = resolution._current().memory
    assert len(memory) == 50
    assert memory.get(f"{499:032x}") is not None and memory.get(f"{0:032x}") is None


def test_a_tagged_entry_goes_with_any_of_its_tags_and_leaves_no_index_behind():
    """Another app's space (profiles): an entry looked up by one key and dropped by any of
    the keys it names; evicted entries take their tags with them, so the index stays bounded."""
    memory = resolution.ResolutionLRU(2)
    entry = functools.partial(resolution._Entry, None, float("inf"), 0)
    memory.put("slug-alice", entry(("md5-a", "sha-a")), epoch=memory.epoch)
    memory.put("md5-a", entry(("sha-a", "slug-alice")), epoch=memory.epoch)
    memory.discard(["sha-a"])
    assert memory.get("slug-alice") is None and memory.get("md5-a") is None
    assert memory._tagged == {}
    for number in range(10):
        memory.put(f"key-{number}", entry((f"tag-{number}",)), epoch=memory.epoch)
    assert len(memory) == 2 and set(memory._tagged) == {"tag-8", "tag-9"}
    memory.put("key-9", entry(("tag-x",)), epoch=memory.epoch)  # replaced: its old tag goes
    assert set(memory._tagged) == {"tag-8", "tag-x"}


def test_zero_entries_turns_the_cache_off(transactional_db, cache_here, settings):
    settings.AVATAR_RESOLUTION_MEMORY_ENTRIES = 0
    fresh_process()
    hash_resolve(digest=UNKNOWN)
    assert queries_of(lambda: hash_resolve(digest=UNKNOWN)) == 1


# Other nodes, through Redis


class RedisServer:
    """A redis-server of the test's own on a free port, stopped by its pid."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process = subprocess.Popen(
            [
                require_binary("redis-server"),
                *("--port", str(self.port), "--save", "", "--bind", "127.0.0.1"),
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5)
        until(lambda: _answers(client), "redis-server did not start")
        client.close()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/3"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def subscribers(client: redis.Redis, channel: str) -> int:
    """How many connections listen on `channel` (PUBSUB NUMSUB)."""
    # redis-py types each reply as sync-or-async; this client is the synchronous one
    counts = client.pubsub_numsub(channel)
    assert isinstance(counts, list), counts
    return int(counts[0][1])


def until(condition: Callable[[], bool], message: str, *, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.01)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def with_redis(people, settings, redis_server) -> resolution._Process:
    settings.REDIS_URL = redis_server.url
    process = fresh_process()
    assert process.listener is not None
    assert process.listener.connected.wait(5), "the listener did not subscribe"
    return process


def _other_node_publishes(url: str, digests: list[str]) -> None:
    client = redis.Redis.from_url(url, socket_timeout=1)
    client.publish(resolution.channel_name(client), " ".join(digests))
    client.close()


def test_a_change_on_another_node_is_dropped_by_the_listener(with_redis, redis_server, people):
    digest = people.alice_address.md5
    hash_resolve(digest=digest)
    assert with_redis.memory.get(digest) is not None
    _other_node_publishes(redis_server.url, [digest, "unrelated"])
    until(lambda: with_redis.memory.get(digest) is None, "the published change was not heard")


def test_changes_are_published_for_other_nodes(with_redis, redis_server, people):
    client = redis.Redis.from_url(redis_server.url, socket_timeout=2)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(resolution.channel_name(client))
    until(lambda: subscribers(client, resolution.channel_name(client)) == 2, "subscribed")
    services.user_privacy_update(
        user=people.alice, display_name="A", display_name_public=True, hide_avatar=False
    )
    messages: list[dict[str, Any]] = []

    def heard() -> bool:
        message = pubsub.get_message(timeout=0.1)  # None for the subscription's confirmation
        if message:
            messages.append(message)
        return bool(messages)

    until(heard, "nothing was published")
    assert set(messages[0]["data"].decode().split()) == {
        people.alice_address.md5,
        people.alice_address.sha256,
    }
    pubsub.close()
    client.close()


def test_the_listener_comes_back_with_redis_and_forgets_what_it_may_have_missed(
    with_redis, redis_server, people
):
    listener = with_redis.listener
    assert listener is not None
    redis_server.stop()
    until(lambda: not listener.connected.is_set(), "the listener did not notice", seconds=10)
    hash_resolve(digest=UNKNOWN)
    restarted = RedisServer(port=redis_server.port)
    try:
        until(listener.connected.is_set, "the listener did not reconnect", seconds=10)
        assert with_redis.memory.get(UNKNOWN) is None
        hash_resolve(digest=people.alice_address.md5)
        _other_node_publishes(restarted.url, [people.alice_address.md5])
        until(
            lambda: with_redis.memory.get(people.alice_address.md5) is None,
            "the reconnected listener did not hear the change",
        )
    finally:
        restarted.stop()
        redis_server.process = restarted.process


class SilentServer:
    """Accepts connections and never answers: a frozen Redis."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.port = self.socket.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.socket.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.socket.close()
        for conn in self.accepted:
            conn.close()


@pytest.mark.parametrize("state", ["down", "frozen"])
def test_with_redis_down_or_frozen_changes_and_lookups_stay_within_the_timeouts(
    people, settings, state
):
    silent = SilentServer() if state == "frozen" else None
    port = silent.port if silent else free_port()
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    fresh_process()
    try:
        started = time.monotonic()
        found = hash_resolve(digest=people.alice_address.md5)
        assert image_of(found) is not None
        services.user_privacy_update(
            user=people.alice, display_name="", display_name_public=False, hide_avatar=True
        )
        assert image_of(hash_resolve(digest=people.alice_address.md5)) is None
        # Two lookups, a committed change and a publish that gives up: never a hang.
        assert time.monotonic() - started < 2 * resolution.redis_timeout() + 1.0
    finally:
        if silent:
            silent.close()


def test_a_frozen_redis_makes_the_listener_reconnect(people, settings):
    silent = SilentServer()
    settings.REDIS_URL = f"redis://127.0.0.1:{silent.port}/0"
    try:
        process = fresh_process()
        assert process.listener is not None
        until(lambda: len(silent.accepted) >= 2, "the listener never tried again", seconds=10)
        assert not process.listener.connected.is_set()
    finally:
        silent.close()


# Other processes: gunicorn's workers on this node and on another


@pytest.fixture
def shared_media(settings: Any, tmp_path: Path) -> Path:
    """The media folder a server with VAR_DIR=tmp_path reads."""
    media = tmp_path / "media"
    storages = dict(settings.STORAGES)
    storages["default"] = {**storages["default"], "OPTIONS": {"location": str(media)}}
    settings.STORAGES = storages
    settings.MEDIA_ROOT = str(media)
    return media


@pytest.fixture
def node_people(transactional_db, shared_media, cache_here) -> Personas:
    return make_personas()


def _hide_alice(people: Personas) -> None:
    services.user_privacy_update(
        user=people.alice, display_name="", display_name_public=False, hide_avatar=True
    )


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., AppProcess]]:
    """Start gunicorn with two workers on the test database, VAR_DIR=tmp_path; stopped after."""
    started: list[AppProcess] = []

    def start(**env: str) -> AppProcess:
        app = AppProcess(
            app_env(DATABASE_URL=shared_database_url(), VAR_DIR=str(tmp_path), **env),
            tmp_path / "gunicorn.log",
            workers=2,
        )
        started.append(app.start())
        return app

    yield start
    for app in started:
        app.stop()


def status_of(app: AppProcess, path: str) -> int:
    """On a new connection each time, so that each request may reach another worker."""
    try:
        with urllib.request.urlopen(f"{app.url}{path}", timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_a_change_in_another_process_is_served_by_every_worker_of_the_node_at_once(
    node_people, workers
):
    """No Redis: the commit moves the node's generation file before the change returns, so no
    worker may answer with what it remembered (its entries would live another second)."""
    known = f"/avatar/{node_people.alice_address.md5}?s=80&d=404"
    app = workers()
    assert [status_of(app, known) for _ in range(20)] == [200] * 20
    _hide_alice(node_people)
    assert [status_of(app, known) for _ in range(20)] == [404] * 20


def test_a_change_on_another_node_is_served_by_every_worker_within_half_a_second(
    node_people, workers, tmp_path, settings, redis_server
):
    """The test process is another node (its own generation file); Redis carries the news."""
    settings.VAR_DIR = tmp_path / "other-node"
    settings.REDIS_URL = redis_server.url
    fresh_process()
    known = f"/avatar/{node_people.alice_address.md5}?s=80&d=404"
    app = workers(REDIS_URL=redis_server.url)
    client = redis.Redis.from_url(redis_server.url, socket_timeout=1)
    channel = resolution.channel_name(client)
    # This process and both workers, which subscribe as they start (gunicorn.conf.py).
    until(lambda: subscribers(client, channel) == 3, "a worker did not subscribe")
    client.close()
    assert [status_of(app, known) for _ in range(20)] == [200] * 20
    _hide_alice(node_people)
    changed = time.monotonic()
    seen: list[tuple[float, int]] = []

    def every_worker_serves_the_change() -> bool:
        seen.append((time.monotonic() - changed, status_of(app, known)))
        return [status for _, status in seen[-20:]] == [404] * 20

    until(every_worker_serves_the_change, f"still stale: {seen}", seconds=5)
    assert seen[-20][0] < 0.5, seen
