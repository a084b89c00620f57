"""The admin's Service health page without a Prometheus to read: it says so plainly, fast,
and still shows every dependency's health (a real Prometheus: tests/browser/)."""

from __future__ import annotations

import time

import pytest

from accounts.models import User
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

URL = "/admin/service-health/"


@pytest.fixture
def operator():
    return signed_in(User.objects.create_superuser("ops@example.com", "ops-password-1"))


def test_only_superusers_see_it(client):
    assert client.get(URL).status_code == 302  # to the admin's login
    moderator = signed_in(User.objects.create_user("mod@example.com", is_staff=True))
    assert moderator.get(URL).status_code == 403


def test_the_admin_index_links_to_it(operator):
    page = operator.get("/admin/").content.decode()
    assert 'href="/admin/service-health/"' in page


def test_without_prometheus_it_says_so_and_checks_the_parts(operator, settings):
    settings.PROMETHEUS_URL = ""
    settings.VARNISH_NODES = []
    response = operator.get(URL)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "Prometheus is not configured" in page
    assert '<tr data-component="Database">' in page
    assert '<tr data-component="Storage">' in page
    assert '<tr data-component="Redis">' in page
    assert 'class="state-bad"' not in page


def test_a_prometheus_that_refuses_is_a_clear_message_at_once(operator, settings):
    settings.PROMETHEUS_URL = "http://127.0.0.1:9"
    started = time.monotonic()
    page = operator.get(URL).content.decode()
    assert time.monotonic() - started < 2
    assert "No graphs: Prometheus at http://127.0.0.1:9 cannot be reached" in page
    assert '<svg class="chart"' not in page


def test_a_prometheus_that_never_answers_costs_one_timeout(operator, settings, frozen_listener):
    host, port = frozen_listener.getsockname()
    settings.PROMETHEUS_URL = f"http://{host}:{port}"
    settings.PROMETHEUS_TIMEOUT_MS = 500
    started = time.monotonic()
    response = operator.get(URL)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert "did not answer within 0.5 s" in response.content.decode()
    assert elapsed < 2.5, elapsed


def test_a_varnish_node_that_is_down_shows_as_such(operator, settings):
    settings.PROMETHEUS_URL = ""
    settings.VARNISH_NODES = ["http://127.0.0.1:9"]
    page = operator.get(URL).content.decode()
    row = page[page.index('<tr data-component="Varnish node">') :]
    row = row[: row.index("</tr>")]
    assert "http://127.0.0.1:9" in row and "unreachable" in row


def test_every_configured_app_node_shows_even_without_prometheus(operator, settings, live_server):
    settings.PROMETHEUS_URL = ""
    settings.VARNISH_NODES = []
    settings.APP_NODES = [live_server.url, "http://127.0.0.1:9"]
    page = operator.get(URL).content.decode()
    rows = page.split('<tr data-component="App node">')[1:]
    rows = [row[: row.index("</tr>")] for row in rows]
    assert len(rows) == 2
    up, down = rows
    assert live_server.url in up and 'class="state-bad"' not in up
    assert "http://127.0.0.1:9" in down and "unreachable" in down


def test_a_varnish_node_is_asked_what_an_external_monitor_asks(operator, settings, live_server):
    """/edge-health is Varnish's own answer; an app server (as here) does not route it, so a
    node that is not a Varnish node running our VCL shows as not healthy."""
    settings.PROMETHEUS_URL = ""
    settings.VARNISH_NODES = [live_server.url]
    page = operator.get(URL).content.decode()
    row = page[page.index('<tr data-component="Varnish node">') :]
    row = row[: row.index("</tr>")]
    assert "/edge-health" in row and "answered 404" in row
