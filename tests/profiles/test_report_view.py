"""The report page, `/<slug>/report`: a reason from the fixed list, CSRF, a limit per client
address (the one Varnish vouches for), and only for public profiles."""

from __future__ import annotations

import pytest
from django.test import Client

from avatars.models import Avatar, ModerationState
from profiles import rules
from profiles.models import Profile, ProfileReport
from tests.conftest import CommittingClient
from tests.profiles.moderated import make_published

pytestmark = pytest.mark.django_db

URL = "/alice/report"


@pytest.fixture
def published(personas):
    return make_published(personas)


def test_the_page_offers_every_reason(client, published):
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Report the profile of Alice Liddell" in page
    for value, label in rules.REPORT_REASONS:
        assert f'value="{value}"' in page and label.replace("'", "&#x27;") in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_sending_a_report_queues_it_and_thanks(client, personas, published):
    Avatar.objects.filter(pk=personas.alice_avatar.pk).update(state=ModerationState.APPROVED)
    response = client.post(URL, {"reason": "impersonation", "details": "Not the real Alice"})
    assert response.status_code == 200
    assert "in the moderators' queue" in response.content.decode()
    report = ProfileReport.objects.get()
    assert (report.profile, report.reason, report.details) == (
        published,
        "impersonation",
        "Not the real Alice",
    )
    personas.alice_avatar.refresh_from_db()
    assert personas.alice_avatar.state == ModerationState.FLAGGED


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "This field is required."),
        ({"reason": "boring"}, "Select a valid choice."),
        ({"reason": "spam", "details": "x" * (rules.REPORT_DETAILS_MAX + 1)}, "at most 500"),
    ],
)
def test_bad_input_gets_a_message_and_queues_nothing(client, published, data, message):
    response = client.post(URL, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ProfileReport.objects.exists()


def test_a_post_without_the_csrf_token_is_refused(published):
    response = Client(enforce_csrf_checks=True).post(URL, {"reason": "spam"})
    assert response.status_code == 403
    assert not ProfileReport.objects.exists()


def test_the_limit_is_per_client_address_behind_the_proxy(settings, published):
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]
    client = CommittingClient()

    def send(client_address: str):
        return client.post(
            URL, {"reason": "spam"}, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=client_address
        )

    for _ in range(rules.REPORTS_PER_WINDOW):
        assert send("198.51.100.7").status_code == 200
    refused = send("198.51.100.7")
    assert refused.status_code == 429
    assert "many reports recently" in refused.content.decode()
    assert send("198.51.100.8").status_code == 200
    assert ProfileReport.objects.count() == rules.REPORTS_PER_WINDOW + 1


@pytest.mark.parametrize(
    "change", [{"published": False}, {"hidden": True}, {"slug": "someone-else"}]
)
def test_only_a_public_profile_can_be_reported(client, published, change):
    Profile.objects.filter(pk=published.pk).update(**change)
    assert client.get(URL).status_code == 404
    assert client.post(URL, {"reason": "spam"}).status_code == 404
    assert not ProfileReport.objects.exists()


def test_an_unknown_slug_is_a_404(client, db):
    assert client.get("/nobody-here/report").status_code == 404


def test_the_public_page_links_to_the_report_page(client, published):
    page = client.get("/alice").content.decode()
    assert '<a href="/alice/report" rel="nofollow">Report this profile</a>' in page
