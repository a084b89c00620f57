"""Hovercards (spec profiles-api §7): a page on another origin holds this service's avatars and
one <script> tag of /static/hovercards.js; real Chromium hovers and tabs over them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import User
from avatars import contract
from avatars.models import Address
from avatars.services import address_confirm
from profiles.models import Profile, ProfileAccount
from tests.conftest import ImageServer, image_bytes
from tests.personas import Personas

SCRIPT = Path(settings.BASE_DIR) / "static" / "hovercards.js"
SIZE_LIMIT = 10_000  # bytes, unminified: spec §7 says under 10 KB
CARD = "avatars-hovercard .card"  # Playwright's CSS reaches into the open shadow root
NAME = "Alice <b>Liddell</b>"  # markup in profile data must show as text
ALT_TEXT = "Alice under a blue sky"  # her description of her image
# The browser's own line for an answer with an error status; the script itself logs nothing.
NOT_FOUND_LINE = "Failed to load resource: the server responded with a status of 404 (Not Found)"


def test_the_script_is_under_10_kb():
    assert len(SCRIPT.read_bytes()) < SIZE_LIMIT


def test_the_script_matches_hashes_with_the_contracts_pattern():
    assert f"/^\\/avatar\\/({contract.HASH_PATTERN})(?:" in SCRIPT.read_text()


@dataclass
class HostPage:
    """The page's URL and its two hashes: a published profile and a private one."""

    url: str
    published: str
    private: str


@dataclass
class Watch:
    """What the page did: requests to /v3/profiles by hash, console lines and page errors."""

    asked: Counter[str] = field(default_factory=Counter)
    console: list[tuple[str, str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def request(self, request: Any) -> None:
        if "/v3/profiles/" in request.url:
            self.asked[request.url.split("/v3/profiles/")[1].split("?")[0]] += 1

    def unexpected(self, site: str, private: str) -> list[tuple[str, str, str]]:
        expected = ("error", NOT_FOUND_LINE, f"{site}/v3/profiles/{private}?source=hovercard")
        return [line for line in self.console if line != expected] + [
            ("pageerror", error, "") for error in self.errors
        ]


@pytest.fixture
def published(personas: Personas) -> Profile:
    """Alice's profile: four verified accounts elsewhere (the card shows three) and one not."""
    personas.alice.display_name = NAME
    personas.alice.save()
    personas.alice_avatar.alt_text = ALT_TEXT
    personas.alice_avatar.save()
    profile = Profile.objects.create(
        user=personas.alice,
        published=True,
        slug="alice",
        location="Lisbon",
        job_title="Engineer",
        company="Acme",
    )
    now = timezone.now()
    for position, (service, url, verified) in enumerate(
        [
            ("github", "https://github.com/alice", True),
            ("codeberg", "https://codeberg.org/alice", False),
            ("mastodon", "https://mastodon.example/@alice", True),
            ("bluesky", "https://bsky.app/profile/alice", True),
            ("gitlab", "https://gitlab.com/alice", True),
        ]
    ):
        ProfileAccount.objects.create(
            profile=profile,
            position=position,
            service=service,
            url=url,
            verified_at=now if verified else None,
        )
    return profile


@pytest.fixture
def private() -> Address:
    """A verified address whose owner filled a profile and never published it."""
    owner = User.objects.create_user("carol@example.com", display_name="Carol")
    address = address_confirm(address=Address.objects.create(owner=owner, email=owner.email))
    Profile.objects.create(user=owner, slug="carol", location="Porto", job_title="Secret")
    return address


@pytest.fixture
def other_origin() -> Iterator[ImageServer]:
    server = ImageServer()
    yield server
    server.close()


@pytest.fixture
def host_page(site, personas, published, private, other_origin) -> HostPage:
    """A site on another origin (another loopback port): its own CSS against the card, the
    avatars of this service (one in a clipping box, repeated later by the page's script with
    another extension and query), one of its own /avatar/ images, and the one script tag."""
    alice = personas.alice_address.sha256
    own_avatar = other_origin.serve(f"/avatar/{alice}", image_bytes(fmt="PNG"))
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A forum</title>
<link rel="icon" href="data:,">
<style>
  * {{ color: red !important; font-size: 40px !important; outline: none !important }}
  a, p, ul, li {{ display: none !important }}
</style>
<script src="{site}/static/hovercards.js" async></script>
</head><body>
<button id="before">Before</button>
<div style="overflow: hidden; width: 64px; height: 64px; position: relative; z-index: 5">
  <img id="alice" src="{site}/avatar/{alice.upper()}.jpg?s=64&amp;d=identicon" alt="Alice">
</div>
<button id="after">After</button>
<img id="carol" src="{site}/avatar/{private.sha256}?s=64" alt="Carol">
<img id="own" src="{own_avatar}" alt="Not this service's">
<button id="more">Load more</button>
<button id="last">Last</button>
<script>
  document.getElementById("more").addEventListener("click", () => {{
    const img = document.createElement("img");
    img.id = "alice-again";
    img.alt = "Alice again";
    img.src = "{site}/avatar/{alice}.webp?s=48";
    document.body.append(img);
  }});
</script>
</body></html>"""
    page_url = other_origin.serve("/", html.encode(), **{"Content-Type": "text/html"})
    return HostPage(url=page_url, published=alice, private=private.sha256)


@pytest.fixture
def watched_page(new_page, host_page) -> Iterator[tuple[Any, Watch]]:
    page = new_page()
    watch = Watch()
    page.on("request", watch.request)
    page.on(
        "console",
        lambda line: watch.console.append((line.type, line.text, line.location.get("url", ""))),
    )
    page.on("pageerror", lambda error: watch.errors.append(str(error)))
    page.goto(host_page.url)
    # The script has run: it gave the avatar that is not in a link a tab stop.
    page.wait_for_selector("#alice[tabindex='0']")
    yield page, watch


def assert_alice_card(page, site: str) -> None:
    card = page.locator(CARD)
    card.wait_for()
    assert card.locator(".name").inner_text() == NAME
    assert card.locator("b").count() == 0
    assert card.locator(".meta").all_inner_texts() == ["Lisbon", "Engineer, Acme"]
    accounts = card.locator("ul[aria-label='Verified accounts'] a")
    assert accounts.all_inner_texts() == ["GitHub", "Mastodon", "Bluesky"]
    assert accounts.first.get_attribute("href") == "https://github.com/alice"
    profile = card.get_by_role("link", name="View profile")
    assert profile.get_attribute("href") == f"{site}/alice"
    avatar = card.locator("img")
    assert avatar.get_attribute("src", timeout=1000).split("?")[0].startswith(f"{site}/avatar/")
    assert avatar.get_attribute("alt") == ALT_TEXT
    page.wait_for_function(
        "document.querySelector('avatars-hovercard').shadowRoot.querySelector('img').naturalWidth"
        " > 0"
    )
    # The page's `* { color: red !important }` and hidden links stop at the shadow root.
    assert card.evaluate("node => getComputedStyle(node).color") == "rgb(31, 35, 40)"
    assert profile.is_visible()
    # On top of the page and not clipped by the avatar's `overflow: hidden` box: what is at
    # the link's centre is the card.
    centre = profile.bounding_box()
    assert centre is not None
    on_top = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).tagName",
        [centre["x"] + centre["width"] / 2, centre["y"] + centre["height"] / 2],
    )
    assert on_top == "AVATARS-HOVERCARD"
    host = page.locator("avatars-hovercard")
    assert host.get_attribute("role") == "dialog"
    assert host.get_attribute("aria-label") == f"Profile of {NAME}"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_hover_shows_the_published_fields_once_per_hash_and_nothing_without_a_profile(
    watched_page, host_page, site
):
    page, watch = watched_page
    page.hover("#alice")
    assert_alice_card(page, site)
    box = page.locator(CARD).bounding_box()
    avatar = page.locator("#alice").bounding_box()
    assert box is not None and avatar is not None
    assert box["y"] >= avatar["y"] + avatar["height"]  # below the avatar, not over it

    page.mouse.move(0, 0)
    page.locator(CARD).wait_for(state="detached")

    page.click("#more")  # the same hash, added later: the observer finds it
    page.wait_for_selector("#alice-again[tabindex='0']")
    page.hover("#alice-again")
    assert_alice_card(page, site)
    page.mouse.move(0, 0)
    page.locator(CARD).wait_for(state="detached")

    with page.expect_response(f"**/v3/profiles/{host_page.private}?source=hovercard") as answer:
        page.hover("#carol")
    assert answer.value.status == 404
    # The script's decision: nothing to show, so the image loses its tab stop.
    page.wait_for_selector("#carol:not([tabindex])", state="attached")
    assert page.locator("avatars-hovercard").count() == 0
    page.hover("#own")  # an /avatar/ image of the host page's own origin is not ours
    page.hover("#carol")
    page.hover("#alice")
    page.locator(CARD).wait_for()
    assert page.locator("avatars-hovercard .name").inner_text() == NAME

    assert page.get_attribute("#own", "tabindex") is None
    assert watch.asked == Counter({host_page.published: 1, host_page.private: 1})
    assert watch.unexpected(site, host_page.private) == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_keyboard_focus_shows_the_card_its_links_follow_and_escape_hides_it(
    watched_page, host_page, site
):
    page, watch = watched_page
    page.focus("#before")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "alice"
    assert_alice_card(page, site)
    assert page.get_attribute("#alice", "aria-describedby") == "avatars-hovercard"

    focused_in_card = (
        "(() => { const root = document.activeElement.shadowRoot;"
        " return root && root.activeElement && root.activeElement.textContent; })()"
    )
    seen = []
    for _ in range(4):
        page.keyboard.press("Tab")
        seen.append(page.evaluate(focused_in_card))
        outline = page.evaluate(
            "getComputedStyle(document.activeElement.shadowRoot.activeElement).outlineStyle"
        )
        assert outline == "solid"  # a visible focus, whatever the page's `outline: none`
    assert seen == ["GitHub", "Mastodon", "Bluesky", "View profile"]

    page.keyboard.press("Shift+Tab")
    assert page.evaluate(focused_in_card) == "Bluesky"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the card's last link: on to what follows the avatar
    assert page.evaluate("document.activeElement.id") == "after"
    page.locator("avatars-hovercard").wait_for(state="detached")
    assert page.get_attribute("#alice", "aria-describedby") is None

    page.keyboard.press("Shift+Tab")  # back onto the avatar: the card again
    assert page.evaluate("document.activeElement.id") == "alice"
    page.locator(CARD).wait_for()
    page.keyboard.press("Tab")
    assert page.evaluate(focused_in_card) == "GitHub"
    page.keyboard.press("Escape")  # from inside the card: closed, focus back on the avatar
    page.locator("avatars-hovercard").wait_for(state="detached")
    assert page.evaluate("document.activeElement.id") == "alice"

    page.focus("#after")
    with page.expect_response(f"**/v3/profiles/{host_page.private}?source=hovercard"):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "carol"
    page.keyboard.press("Tab")  # nothing was shown; leaving, it loses its tab stop
    page.wait_for_selector("#carol:not([tabindex])", state="attached")
    assert page.evaluate("document.activeElement.id") == "more"  # #own has none
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "after"
    assert page.locator("avatars-hovercard").count() == 0

    assert watch.asked == Counter({host_page.published: 1, host_page.private: 1})
    assert watch.unexpected(site, host_page.private) == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_card_appears_without_motion_when_reduced_motion_is_asked(watched_page, site):
    page, _ = watched_page
    animation = "node => getComputedStyle(node).animationName"
    page.hover("#alice")
    assert page.locator(CARD).evaluate(animation) == "in"
    page.mouse.move(0, 0)
    page.locator(CARD).wait_for(state="detached")
    page.emulate_media(reduced_motion="reduce")
    page.hover("#alice")
    assert page.locator(CARD).evaluate(animation) == "none"
