"""The embedded default's SQLite with several writers at once (gravatar/settings.py,
SQLITE_OPTIONS): a transaction that reads and then writes while another writer holds the lock
waits for it instead of failing with "database is locked"."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections, transaction

from gravatar.settings import parse_database_url

ALIAS = "writers"


@pytest.fixture
def sqlite_file(tmp_path: Path, django_db_blocker) -> Iterator[str]:
    entry = parse_database_url(
        f"sqlite:///{tmp_path}/db.sqlite3", conn_max_age=0, connect_timeout=3
    )
    configured = connections.configure_settings({"default": {}, ALIAS: entry})
    connections.settings[ALIAS] = configured[ALIAS]
    with django_db_blocker.unblock():
        with connections[ALIAS].cursor() as cursor:
            cursor.execute("CREATE TABLE counter (n INTEGER)")
        try:
            yield ALIAS
        finally:
            connections[ALIAS].close()
            del connections.settings[ALIAS]


def _read_then_write(alias: str, entered: threading.Event, wait_for: threading.Event | None):
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM counter")
        entered.set()
        if wait_for is not None:
            # How long the other writer gets to read: it cannot while we hold the lock.
            wait_for.wait(timeout=1)
        cursor.execute("INSERT INTO counter VALUES (1)")
    connections[alias].close()


def test_a_second_writer_waits_for_the_first_instead_of_failing(sqlite_file, django_db_blocker):
    first_in, second_in = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def run(*args: object) -> None:
        try:
            with django_db_blocker.unblock():
                _read_then_write(*args)  # type: ignore[arg-type]
        except BaseException as error:  # the test reports it below
            errors.append(error)

    first = threading.Thread(target=run, args=(sqlite_file, first_in, second_in))
    first.start()
    assert first_in.wait(timeout=10)
    second = threading.Thread(target=run, args=(sqlite_file, second_in, None))
    second.start()
    first.join(timeout=30)
    second.join(timeout=30)

    assert errors == []
    with django_db_blocker.unblock(), connections[sqlite_file].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM counter")
        assert cursor.fetchone() == (2,)
