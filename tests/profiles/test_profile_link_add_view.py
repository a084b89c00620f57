"""Adding a link {label, url}: http/https only, no credentials, at most 2,000 characters and
10 links; each refusal says why and adds nothing."""

from __future__ import annotations

import pytest

from profiles import rules
from profiles.models import Profile, ProfileLink

pytestmark = pytest.mark.django_db

URL = "/account/profile/links/add/"


def test_it_adds_a_link_and_purges_the_profile(alice_client, personas, queued_purges):
    response = alice_client.post(URL, {"label": "Blog", "url": "https://alice.example/blog"})
    assert response["Location"] == "/account/profile/#links"
    link = ProfileLink.objects.get()
    assert (link.label, link.url, link.profile.user_id) == (
        "Blog",
        "https://alice.example/blog",
        personas.alice.pk,
    )
    assert personas.alice_address.sha256 in queued_purges()
    page = alice_client.get("/account/profile/").content.decode()
    assert "https://alice.example/blog" in page


def test_a_link_without_a_label_shows_its_host(alice_client):
    alice_client.post(URL, {"label": "", "url": "https://alice.example/x"})
    assert ProfileLink.objects.get().label == "alice.example"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("javascript:alert(1)", "Only http:// and https://"),
        ("JavaScript:alert(1)", "Only http:// and https://"),
        ("data:text/html,<script>alert(1)</script>", "Only http:// and https://"),
        ("ftp://files.example/", "Only http:// and https://"),
        ("https://user:pass@bank.example/", "user name or password"),
        ("https://bank.example@evil.example/", "user name or password"),
        ("https://example.com/" + "a" * 2000, "at most 2,000 characters"),
        ("https://exa mple.com/", "cannot contain spaces"),
        ("https://", "Enter a valid web address."),
        ("https://example.com:99999/", "Enter a valid web address."),
        ("", "This field is required."),
    ],
)
def test_a_bad_address_says_why_and_adds_nothing(alice_client, url, message):
    response = alice_client.post(URL, {"label": "x", "url": url})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ProfileLink.objects.exists()


def test_a_label_with_control_characters_is_refused(alice_client):
    response = alice_client.post(URL, {"label": "a\x1bb", "url": "https://a.example/"})
    assert "cannot contain line breaks or control characters" in response.content.decode()
    assert not ProfileLink.objects.exists()


def test_the_eleventh_link_is_refused(alice_client, personas):
    profile = Profile.objects.create(user=personas.alice)
    for n in range(rules.LINKS_MAX):
        ProfileLink.objects.create(profile=profile, label=str(n), url=f"https://{n}.example/")
    page = alice_client.get("/account/profile/").content.decode()
    assert "the most a profile can have" in page  # no add form any more
    response = alice_client.post(URL, {"label": "x", "url": "https://x.example/"})
    assert "at most 10 links" in response.content.decode()
    assert ProfileLink.objects.count() == rules.LINKS_MAX
