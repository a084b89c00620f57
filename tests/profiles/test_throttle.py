"""The report limit is a row in the database: every worker and node shares it, requests at
once cannot exceed it, the window reopens and only a keyed digest of the client is kept."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from profiles import rules
from profiles.models import ReportThrottle
from profiles.throttle import allow_report, client_digest, window_start

pytestmark = pytest.mark.django_db


def test_each_client_has_its_own_allowance():
    first, second = client_digest("198.51.100.7"), client_digest("198.51.100.8")
    assert [allow_report(first) for _ in range(rules.REPORTS_PER_WINDOW + 1)] == [True] * (
        rules.REPORTS_PER_WINDOW
    ) + [False]
    assert allow_report(second)


def test_the_window_reopens_and_past_windows_go():
    digest = client_digest("198.51.100.7")
    for _ in range(rules.REPORTS_PER_WINDOW):
        allow_report(digest)
    ReportThrottle.objects.update(window_start=window_start(timezone.now()) - rules.REPORT_WINDOW)
    assert allow_report(digest)
    assert ReportThrottle.objects.get().count == 1


def test_windows_are_fixed_steps_of_the_window_length():
    now = timezone.now()
    start = window_start(now)
    assert start <= now < start + rules.REPORT_WINDOW
    assert window_start(start + rules.REPORT_WINDOW - timedelta(seconds=1)) == start


def test_no_address_is_stored_in_the_clear():
    digest = client_digest("198.51.100.7")
    allow_report(digest)
    row = ReportThrottle.objects.get()
    assert "198.51" not in row.client_digest and len(row.client_digest) == 64


@pytest.mark.django_db(transaction=True)
def test_requests_at_once_on_separate_connections_get_exactly_the_allowance():
    digest = client_digest("198.51.100.7")
    tries = rules.REPORTS_PER_WINDOW * 2
    start = threading.Barrier(tries)
    answers: list[bool] = []

    def ask() -> None:
        try:
            start.wait(timeout=10)
            answers.append(allow_report(digest))
        finally:
            connection.close()  # each thread has its own database connection

    threads = [threading.Thread(target=ask) for _ in range(tries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answers) == [False] * (tries - rules.REPORTS_PER_WINDOW) + [True] * (
        rules.REPORTS_PER_WINDOW
    )
    assert ReportThrottle.objects.get().count == rules.REPORTS_PER_WINDOW
