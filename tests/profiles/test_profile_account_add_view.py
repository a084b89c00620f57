"""Adding an account elsewhere: the service is recognised from the address or chosen; the
same URL rules as links, and at most 10."""

from __future__ import annotations

import pytest

from profiles import rules
from profiles.models import Profile, ProfileAccount

pytestmark = pytest.mark.django_db

URL = "/account/profile/accounts/add/"


@pytest.mark.parametrize(
    ("url", "service"),
    [
        ("https://github.com/alice", "github"),
        ("https://GitHub.com/alice", "github"),
        ("https://mastodon.social/@alice", "mastodon"),
        ("https://bsky.app/profile/alice.example", "bluesky"),
        ("https://www.linkedin.com/in/alice", "linkedin"),
        ("https://alice.example/", "website"),
    ],
)
def test_the_service_is_recognised_from_the_address(alice_client, url, service):
    response = alice_client.post(URL, {"service": "", "url": url})
    assert response["Location"] == "/account/profile/#accounts"
    account = ProfileAccount.objects.get()
    assert (account.service, account.url, account.verified_at) == (service, url, None)


def test_a_chosen_service_wins(alice_client):
    alice_client.post(URL, {"service": "mastodon", "url": "https://social.example/users/alice"})
    assert ProfileAccount.objects.get().service == "mastodon"


def test_an_unknown_service_or_a_bad_address_is_refused(alice_client):
    response = alice_client.post(URL, {"service": "myspace", "url": "https://a.example/"})
    assert "Select a valid choice" in response.content.decode()
    response = alice_client.post(URL, {"service": "", "url": "javascript:alert(1)"})
    assert "Only http:// and https://" in response.content.decode()
    assert not ProfileAccount.objects.exists()


def test_the_eleventh_account_is_refused(alice_client, personas, queued_purges):
    profile = Profile.objects.create(user=personas.alice)
    for n in range(rules.ACCOUNTS_MAX):
        ProfileAccount.objects.create(profile=profile, service="website", url=f"https://{n}.ex/")
    response = alice_client.post(URL, {"service": "", "url": "https://github.com/alice"})
    assert "at most 10 accounts" in response.content.decode()
    assert ProfileAccount.objects.count() == rules.ACCOUNTS_MAX
    assert queued_purges() == set()
