"""Public profiles through the shipped Varnish: every answer (the page, the hash redirect, each
legacy format) is cached for everyone alike, with cookies stripped and the parameters it does
not read folded away; every kind of profile change shows in every format within 2 s; owner
pages, the report form and /v3/ pass to the app."""

from __future__ import annotations

import dataclasses
import http.client
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings as django_settings
from django.test import Client

from accounts.models import User
from api.services import site_key_create, site_key_revoke
from avatars import moderation as avatar_moderation
from avatars.models import Address
from avatars.services import account_delete, address_confirm, address_primary, address_remove
from profiles import moderation, rules
from profiles.models import AddressChoice, Profile
from profiles.services import (
    ProfileFields,
    profile_account_add,
    profile_account_verify,
    profile_addresses_choose,
    profile_edit,
    profile_link_add,
)
from tests.personas import Personas, make_personas
from tests.profiles.moderated import WORK_EMAIL, make_published
from tests.varnish.conftest import CHANGE_LATENCIES, Edge
from tests.varnish.harness import Response
from tests.varnish.test_edge_client_address import CLIENT_A, CLIENT_B, Browser

pytestmark = pytest.mark.varnish

CHANGE_VISIBLE_WITHIN = 2.0


@dataclass
class World:
    people: Personas
    profile: Profile
    work: Address
    moderator: User


@pytest.fixture
def world(fresh_edge) -> World:
    people = make_personas()
    profile = make_published(people)
    moderator = User.objects.create_user("mod@example.com", is_staff=True)
    return World(people, profile, people.alice.addresses.get(email=WORK_EMAIL), moderator)


Answer = tuple[int, str | None, str | None, bytes]


def answer(response: Response) -> Answer:
    return (
        response.status,
        response.header("Location"),
        response.header("Content-Type"),
        response.body,
    )


def public_urls(world: World, *extra: str) -> list[str]:
    """Every public spelling of alice's profile: the page, the redirect, each format."""
    primary, work = world.people.alice_address, world.work
    return [
        "/alice",
        f"/{primary.md5}",
        f"/{primary.md5}.json",
        f"/{primary.sha256}.json?callback=showProfile",
        "/alice.xml",
        f"/{primary.md5}.php",
        "/alice.vcf",
        f"/{primary.sha256}.qr?s=120",
        f"/{work.md5}.json",
        f"/{work.sha256}",
        *extra,
    ]


def warm(edge: Edge, urls: list[str]) -> dict[str, Answer]:
    """Each URL cached and equal to the app's answer; returns what the edge shows now."""
    shown = {}
    for url in urls:
        edge.get(url)
        cached = edge.get(url)
        assert cached.cache == "HIT", (url, cached.status, cached.cache)
        assert answer(cached) == answer(edge.direct(url)), url
        shown[url] = answer(cached)
    return shown


def assert_every_format_changes(
    edge: Edge, urls: list[str], change: Callable[[], object]
) -> dict[str, Answer]:
    """Warm every URL, change, and poll through Varnish until each shows what the app answers
    now: within CHANGE_VISIBLE_WITHIN of the change's start. The URLs are polled at once, as
    many clients would ask, and what the app answers is read straight from it in another
    thread meanwhile, so neither stretches what is measured: each URL's time is when an
    answer from Varnish showing the change arrived."""
    before = warm(edge, urls)
    seen: dict[str, list[tuple[float, Answer]]] = {url: [] for url in urls}
    shown: dict[str, float] = {}
    with ThreadPoolExecutor(max_workers=len(urls) + 1) as pool:
        started = time.monotonic()

        def poll(url: str) -> None:
            got = answer(edge.get(url))
            seen[url].append((time.monotonic() - started, got))

        change()
        app_now = pool.submit(lambda: {url: answer(edge.direct(url)) for url in urls})
        while len(shown) < len(urls):
            if time.monotonic() - started > 10:
                missing = sorted(set(urls) - set(shown))
                raise AssertionError(f"not visible through Varnish: {missing}")
            list(pool.map(poll, [url for url in urls if url not in shown]))
            if app_now.done():
                now = app_now.result()
                for url in set(urls) - set(shown):
                    times = [t for t, got in seen[url] if got == now[url]]
                    if times:
                        shown[url] = times[0]
            else:
                time.sleep(0.01)
    assert now != before, "the change changed nothing the app answers"
    elapsed = max(shown.values())
    CHANGE_LATENCIES.append(elapsed)
    assert elapsed < CHANGE_VISIBLE_WITHIN, {url: round(t, 3) for url, t in shown.items()}
    return now


def edit(user: User, **changes: object) -> None:
    """The owner's editor (`profiles.services.profile_edit`) changing only what is named."""
    user = User.objects.get(pk=user.pk)
    profile = Profile.objects.filter(user=user).first()
    names = [field.name for field in dataclasses.fields(ProfileFields)]
    current = {name: getattr(profile, name) if profile else "" for name in names}
    fields = ProfileFields(**{**current, **{k: v for k, v in changes.items() if k in names}})  # type: ignore[arg-type]
    profile_edit(
        user=user,
        fields=fields,
        slug=str(changes.get("slug", (profile.slug if profile else "") or "")),
        published=bool(changes.get("published", profile.published if profile else False)),
        display_name=str(changes.get("display_name", user.display_name)),
        display_name_public=user.display_name_public,
        hide_avatar=user.hide_avatar,
    )


def choose(world: World, *, shown: list[Address], published: list[Address]) -> None:
    profile_addresses_choose(
        user=world.people.alice,
        shown=[address.pk for address in shown],
        published=[address.pk for address in published],
    )


def prepare_new_address(world: World) -> list[str]:
    new = Address.objects.create(owner=world.people.alice, email="new@alice.example")
    AddressChoice.objects.create(address=new, shows_profile=True, email_published=True)
    return [f"/{new.md5}.json", f"/{new.sha256}.vcf"]


def verify_new_address(world: World) -> None:
    address_confirm(address=Address.objects.get(email="new@alice.example"))


CHANGES: dict[str, Callable[[World], object]] = {
    "a_text_field": lambda w: edit(w.people.alice, location="Porto"),
    "about_me": lambda w: edit(w.people.alice, about_me="Back through the looking glass"),
    "a_link": lambda w: profile_link_add(
        user=w.people.alice, label="Shop", url="https://shop.example/"
    ),
    "the_display_name": lambda w: edit(w.people.alice, display_name="Alice L."),
    "unpublishing": lambda w: edit(w.people.alice, published=False),
    "an_address_no_longer_showing_it": lambda w: choose(
        w, shown=[w.people.alice_address], published=[w.work]
    ),
    "an_address_published": lambda w: choose(
        w, shown=[w.people.alice_address, w.work], published=[w.work, w.people.alice_address]
    ),
    "an_address_removed": lambda w: address_remove(address=w.work),
    "another_primary_address": lambda w: address_primary(address=w.work),
    "a_moderator_hiding_it": lambda w: moderation.profile_set_hidden(
        moderator=w.moderator, profile=w.profile, hidden=True
    ),
    "a_moderator_clearing_a_field": lambda w: moderation.profile_clear_field(
        moderator=w.moderator, profile=w.profile, field="location"
    ),
    "a_moderator_clearing_a_link": lambda w: moderation.profile_clear_field(
        moderator=w.moderator, profile=w.profile, field=f"link:{w.profile.links.get().pk}"
    ),
    "the_account_disabled": lambda w: avatar_moderation.user_set_active(
        moderator=w.moderator, user=w.people.alice, active=False
    ),
    "the_account_deleted": lambda w: account_delete(user=w.people.alice),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_profile_change_shows_in_every_format_at_once(fresh_edge: Edge, world, change):
    assert_every_format_changes(fresh_edge, public_urls(world), lambda: change(world))


def test_publishing_shows_every_format_at_once(fresh_edge: Edge, world):
    edit(world.people.alice, published=False)
    urls = public_urls(world)
    assert all(fresh_edge.get(url).status == 404 for url in urls)
    after = assert_every_format_changes(
        fresh_edge, urls, lambda: edit(world.people.alice, published=True)
    )
    assert after["/alice"][0] == 200


def test_a_moderator_showing_a_hidden_profile_again(fresh_edge: Edge, world):
    moderation.profile_set_hidden(moderator=world.moderator, profile=world.profile, hidden=True)
    assert_every_format_changes(
        fresh_edge,
        public_urls(world),
        lambda: moderation.profile_set_hidden(
            moderator=world.moderator, profile=world.profile, hidden=False
        ),
    )


def test_verifying_an_account_elsewhere_shows_at_once(fresh_edge: Edge, world, image_server):
    page = b'<html><body><a rel="me" href="%s/alice">me</a></body></html>' % (
        django_settings.SITE_URL.rstrip("/").encode()
    )
    url = image_server.serve("/alice-elsewhere", page, **{"Content-Type": "text/html"})
    account = profile_account_add(user=world.people.alice, service="website", url=url)
    assert_every_format_changes(
        fresh_edge, public_urls(world), lambda: profile_account_verify(account=account)
    )
    account.refresh_from_db()
    assert account.verified_at is not None


def test_verifying_an_address_shows_the_profile_on_it_at_once(fresh_edge: Edge, world):
    extra = prepare_new_address(world)
    assert all(fresh_edge.get(url).status == 404 for url in extra)
    after = assert_every_format_changes(
        fresh_edge, public_urls(world, *extra), lambda: verify_new_address(world)
    )
    assert after[extra[0]][0] == 200


def test_a_slug_change_moves_every_format_and_the_old_slug_redirects(fresh_edge: Edge, world):
    urls = public_urls(world, "/alice-b", "/alice-b.json", "/alice.json")
    after = assert_every_format_changes(
        fresh_edge, urls, lambda: edit(world.people.alice, slug="alice-b")
    )
    assert after["/alice-b"][0] == 200
    assert after["/alice"][:2] == (302, "/alice-b")


def test_a_cached_404_for_a_slug_goes_once_the_slug_is_claimed_and_published(
    fresh_edge: Edge, world
):
    bob = world.people.bob
    address_confirm(address=world.people.bob_address)
    urls = ["/newbie", "/newbie.json", "/newbie.vcf"]
    assert [fresh_edge.get(url).status for url in urls] == [404] * 3
    after = assert_every_format_changes(
        fresh_edge, urls, lambda: edit(bob, slug="newbie", published=True)
    )
    assert [status for status, *_ in after.values()] == [200] * 3


def test_answers_are_shared_whatever_parameters_and_cookies_come_with_them(fresh_edge: Edge, world):
    md5 = world.people.alice_address.md5
    client = Client()
    client.force_login(world.people.alice)
    session = {"Cookie": f"sessionid={client.cookies['sessionid'].value}; csrftoken=abc"}
    same = [
        ("/alice", "/alice?source=hovercard"),
        ("/alice", "/alice?utm_source=x&s=200"),
        (f"/{md5}.json", f"/{md5}.json?source=hovercard&size=3"),
        (f"/{md5}.json?callback=cb", f"/{md5}.json?source=x&callback=cb&z=1"),
        (f"/{md5}.xml", f"/{md5}.xml?callback=cb"),
        (f"/{md5}.qr?s=100", f"/{md5}.qr?s=100&source=hovercard"),
        (f"/{md5}.vcf", f"/{md5}.vcf?ref=mail"),
    ]
    for first, second in same:
        fresh_edge.get(first, session)
        shared = fresh_edge.get(second, session)
        assert shared.cache == "HIT", (first, second)
        assert shared.header("Set-Cookie") is None
        assert answer(shared) == answer(fresh_edge.direct(first)), second
    # What an answer reads still tells objects apart.
    jsonp = fresh_edge.get(f"/{md5}.json?callback=other")
    assert jsonp.cache == "MISS" and jsonp.body.startswith(b"other(")
    bigger = fresh_edge.get(f"/{md5}.qr?s=300")
    assert bigger.cache == "MISS" and bigger.body != fresh_edge.get(f"/{md5}.qr?s=100").body


def test_a_repeated_or_percent_encoded_parameter_is_read_as_the_app_reads_it(
    fresh_edge: Edge, world
):
    md5 = world.people.alice_address.md5
    for url in (
        f"/{md5}.json?callback=first&callback=second",
        f"/{md5}.json?call%62ack=cb",
        f"/{md5}.qr?size=90&s=150",
        f"/{md5}.json?callback=bad-name!",
    ):
        assert answer(fresh_edge.get(url)) == answer(fresh_edge.direct(url)), url


def test_an_answer_that_sets_a_cookie_is_never_stored(fresh_edge: Edge, settings, db):
    settings.ROOT_URLCONF = "tests.varnish.cookie_urls"
    first, second = fresh_edge.get("/cookie-page"), fresh_edge.get("/cookie-page")
    assert [first.cache, second.cache] == ["MISS", "MISS"]
    cookies = [first.header("Set-Cookie"), second.header("Set-Cookie")]
    assert all(cookies) and cookies[0] != cookies[1]


def test_owner_pages_the_report_form_and_reserved_names_pass(fresh_edge: Edge, world):
    client = Client()
    client.force_login(world.people.alice)
    session = {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}
    for url, headers in [
        ("/account/profile/", session),
        ("/account/", session),
        ("/alice/report", {}),
        ("/healthz", {}),
        ("/login", {}),
    ]:
        responses = [fresh_edge.get(url, headers) for _ in range(2)]
        assert [r.cache for r in responses] == ["PASS", "PASS"], url
    owner = fresh_edge.get("/account/", session)
    assert owner.status == 200 and b"alice@example.com" in owner.body
    assert fresh_edge.get("/account/profile/", session).status == 200
    assert fresh_edge.get("/account/profile/").status == 302  # nobody else's copy


def report_through(browser: Browser) -> int:
    status, page = browser.send("GET", "/alice/report")
    assert status == 200, page[:300]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    form = {"reason": "spam", "csrfmiddlewaretoken": token.group(1)}
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _ = browser.send("POST", "/alice/report", urlencode(form), headers)
    return status


def test_reports_are_limited_per_client_behind_varnish(fresh_edge: Edge, world, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1", "::1"]
    flooder, other = Browser(fresh_edge, CLIENT_A), Browser(fresh_edge, CLIENT_B)
    statuses = [report_through(flooder) for _ in range(rules.REPORTS_PER_WINDOW + 1)]
    assert statuses == [200] * rules.REPORTS_PER_WINDOW + [429]
    assert report_through(other) == 200


@pytest.mark.parametrize("path", ["/v3/who", "/api/v3/who"])
def test_v3_passes_with_each_clients_own_address_and_no_cookies(
    fresh_edge: Edge, settings, db, path
):
    """The /v3/ rate limit is the app's, per client address: Varnish must pass every request
    (a cached answer would carry another client's counts) from the address it saw, whatever
    the client claims."""
    settings.ROOT_URLCONF = "tests.varnish.client_urls"
    settings.TRUSTED_PROXIES = ["127.0.0.1", "::1"]
    first, second = Browser(fresh_edge, CLIENT_A), Browser(fresh_edge, CLIENT_B)
    first.cookies["sessionid"] = "abc"
    answers = [
        first.send("GET", path, headers={"X-Forwarded-For": CLIENT_B}),
        second.send("GET", path),
        first.send("GET", path),
        second.send("GET", path, headers={"X-Forwarded-For": "198.51.100.1"}),
    ]
    assert answers == [(200, CLIENT_A), (200, CLIENT_B), (200, CLIENT_A), (200, CLIENT_B)]
    through = fresh_edge.get(path, {"Cookie": "sessionid=abc"})
    assert through.cache == "PASS" and through.header("X-Cookies-Seen") == "0"


def test_the_v3_rate_limit_counts_each_client_behind_varnish(fresh_edge: Edge, world, settings):
    """Enforced by the app (profiles/ratelimit.py) behind a Varnish that passes /v3/: each
    client sees its own counts, is refused alone, and cannot spend another's allowance."""
    settings.TRUSTED_PROXIES = ["127.0.0.1", "::1"]
    settings.API_RATE_LIMIT = 3
    settings.REDIS_URL = ""  # the database's store: fresh for this test, shared by workers
    flooder, other = CLIENT_A, CLIENT_B
    path = f"/v3/profiles/{world.people.alice_address.sha256}"
    host, port = (
        urlsplit(fresh_edge.varnish.url).hostname or "",
        urlsplit(fresh_edge.varnish.url).port,
    )

    def remaining(source: str, **headers: str) -> tuple[int, str | None, str | None]:
        connection = http.client.HTTPConnection(host, port, timeout=10, source_address=(source, 0))
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            return (
                response.status,
                response.getheader("X-RateLimit-Remaining"),
                response.getheader("X-Cache"),
            )
        finally:
            connection.close()

    seen = [remaining(flooder, **{"X-Forwarded-For": CLIENT_B}) for _ in range(4)]
    assert seen == [(200, "2", "PASS"), (200, "1", "PASS"), (200, "0", "PASS"), (429, "0", "PASS")]
    assert remaining(other) == (200, "2", "PASS")
    assert remaining(other, **{"X-Forwarded-For": CLIENT_A}) == (200, "1", "PASS")
    assert remaining(flooder)[0] == 429


def test_a_site_keys_answer_is_never_cached_for_anyone(fresh_edge: Edge, world, settings):
    """/v3/ passes with the Authorization header: a key's answer (its fields, its count)
    reaches only its holder, a request without the key never gets those fields, and a
    revoked key is refused at once through the edge too."""
    settings.TRUSTED_PROXIES = ["127.0.0.1", "::1"]
    settings.API_KEY_RATE_LIMIT = 50
    key_row, key = site_key_create(owner=world.people.bob, name="edge")
    path = f"/v3/profiles/{world.people.alice_address.sha256}"
    authorised = {"Authorization": f"Bearer {key}"}
    for remaining in ("49", "48"):
        keyed = fresh_edge.get(path, authorised)
        assert (keyed.status, keyed.cache) == (200, "PASS")
        assert b'"registration_date"' in keyed.body
        assert keyed.header("X-RateLimit-Limit") == "50"
        assert keyed.header("X-RateLimit-Remaining") == remaining
        assert keyed.header("Cache-Control") == "private, no-store"
    for _ in range(2):
        public = fresh_edge.get(path)
        assert (public.status, public.cache) == (200, "PASS")
        assert b"registration_date" not in public.body and b"contact_info" not in public.body
        assert public.header("X-RateLimit-Limit") == "100"
    site_key_revoke(key=key_row)
    refused = fresh_edge.get(path, authorised)
    assert (refused.status, refused.cache) == (401, "PASS")
    assert b"invalid_api_key" in refused.body
