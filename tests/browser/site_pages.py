"""Every page of the site, in one place: the accessibility check visits each of them, and a test
walks the URL resolver so that a new named route is either listed here or declared not a page.

A page is a URL that a person's browser GETs and is answered with HTML. Some routes show more
than one page (a valid link and a used one); each state a person can reach is listed."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlencode, urlsplit

from django.contrib.auth.tokens import default_token_generator
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.emails import magic_link_url
from accounts.models import User
from api import services as api_services
from avatars.emails import address_confirmation_url
from avatars.models import Address, Avatar
from avatars.services import address_confirm, avatar_assign, avatar_store
from profiles.models import Profile, ProfileAccount, ProfileLink
from tests.conftest import image_bytes

EMAIL: Final = "ada@example.com"
PASSWORD: Final = "ada-password-1"
SLUG: Final = "ada"
ALT_TEXT: Final = "Ada smiling in front of a blue wall"
CALLBACK: Final = "https://app.example/callback"

# Routes whose GET answers no HTML page for a browser, and why. Anything else must be a page.
NOT_PAGES: Final = {
    "healthz": "plain text for the load balancer",
    "readyz": "plain text for the load balancer",
    "metrics": "Prometheus text",
    "avatar": "an image",
    "avatar_preview": "an image",
    "api_image": "an image",
    "profile_format": "JSON, XML, PHP, vCard or a QR code",
    "profile_v3": "JSON",
    "api_openapi": "JSON",
    "api_not_found": "JSON",
    "me_profile": "JSON",
    "me_avatars": "JSON",
    "me_avatar": "JSON",
    "me_avatar_email": "JSON",
    "me_associated_email": "JSON",
    "me_not_found": "JSON",
    "profile_slug_check": "JSON for the editor's script",
    "oauth_token": "JSON for apps (POST)",
    "oauth_revoke": "for apps (POST)",
    "logout": "POST only",
    "set_language": "POST only (Django's view; a GET redirects)",
    "avatar_fetch": "POST only",
    "avatar_delete": "POST only",
    "data_export": "POST only",
    "address_resend": "POST only",
    "address_remove": "POST only",
    "address_primary": "POST only",
    "application_register": "POST only",
    "application_delete": "POST only",
    "authorization_revoke": "POST only",
    "personal_token_create": "POST only",
    "personal_token_revoke": "POST only",
    "site_key_create": "POST only",
    "site_key_revoke": "POST only",
    "profile_link_add": "POST only",
    "profile_link_remove": "POST only",
    "profile_account_add": "POST only",
    "profile_account_remove": "POST only",
    "profile_account_verify": "POST only",
    "profile_addresses_choose": "POST only",
}


@dataclass(frozen=True)
class SitePage:
    route: str  # its URL name
    path: str
    state: str = ""  # which of the route's pages, when it has more than one
    status: int = 200


@dataclass(frozen=True)
class World:
    """What the pages show: a person with a confirmed and an unconfirmed address, an image with
    alt text, a published profile with a link and an account, an app, a token and a site key;
    and a second address waiting for its confirmation link."""

    user: User
    avatar: Avatar
    pending: Address
    client_id: str


def world_make() -> World:
    user = User.objects.create_user(EMAIL, PASSWORD, display_name="Ada Lovelace")
    address = address_confirm(address=Address.objects.create(owner=user, email=EMAIL))
    pending = Address.objects.create(owner=user, email="ada.work@example.com")
    picture = image_bytes((200, 200), (20, 90, 200))
    avatar = avatar_store(owner=user, data=picture, alt_text=ALT_TEXT)
    avatar_assign(avatar=avatar, addresses=[address])
    profile = Profile.objects.create(
        user=user, published=True, slug=SLUG, location="London", job_title="Analyst"
    )
    profile.links.add(ProfileLink(label="Notes", url="https://notes.example/ada"), bulk=False)
    profile.accounts.add(
        ProfileAccount(service="github", url="https://github.com/ada", verified_at=timezone.now()),
        bulk=False,
    )
    application, _ = api_services.application_register(
        owner=user, name="Ada's App", redirect_uris=[CALLBACK], confidential=False
    )
    api_services.personal_token_create(
        owner=user, name="laptop", chosen_scopes=["profile:read"], expires_at=None
    )
    api_services.site_key_create(owner=user, name="blog")
    return World(user=user, avatar=avatar, pending=pending, client_id=application.client_id)


def signed_out_pages(world: World) -> list[SitePage]:
    """What anyone can open; the signed-in check opens those of them that stay pages then."""
    uid = urlsafe_base64_encode(force_bytes(world.user.pk))
    reset_token = default_token_generator.make_token(world.user)
    return [
        SitePage("home", "/"),
        SitePage("home", f"/?email={EMAIL}", "an address checked"),
        SitePage("domain_check", "/domain/?domain=", "an error"),
        SitePage("signup", "/signup/"),
        SitePage("login", "/login/"),
        SitePage("magic_link_request", "/login/link/"),
        SitePage("email_sent", "/email-sent/"),
        SitePage("language_choose", "/i18n/?next=/"),
        SitePage("magic_link_confirm", urlsplit(magic_link_url(world.user)).path),
        SitePage("magic_link_confirm", f"/login/link/{uid}/used-token/", "a used link", 400),
        SitePage("address_confirm", urlsplit(address_confirmation_url(world.pending)).path),
        SitePage("address_confirm", f"/confirm/{world.pending.pk}/used-token/", "a used link", 400),
        SitePage("password_reset", "/password/reset/"),
        SitePage("password_reset_done", "/password/reset/sent/"),
        SitePage("password_reset_confirm", f"/password/reset/{uid}/{reset_token}/"),
        SitePage("password_reset_confirm", f"/password/reset/{uid}/used-token/", "a used link"),
        SitePage("password_reset_complete", "/password/reset/done/"),
        SitePage("profile_page", f"/{SLUG}"),
        SitePage("profile_page", "/nobody-here", "no such profile", 404),
        SitePage("profile_report", f"/{SLUG}/report"),
    ]


# Signed-out pages that send a signed-in person elsewhere (or sign them in).
SIGNED_OUT_ONLY: Final = frozenset(
    {"signup", "login", "magic_link_request", "magic_link_confirm", "address_confirm"}
)


def signed_in_pages(world: World) -> list[SitePage]:
    authorize = {
        "response_type": "code",
        "client_id": world.client_id,
        "redirect_uri": CALLBACK,
        "scope": "profile:read avatars:manage",
        "code_challenge": base64.urlsafe_b64encode(b"c" * 32).decode().rstrip("="),
        "code_challenge_method": "S256",
    }
    return [
        *(page for page in signed_out_pages(world) if page.route not in SIGNED_OUT_ONLY),
        SitePage("dashboard", "/account/"),
        SitePage("address_add", "/account/addresses/add/"),
        SitePage("avatar_upload", "/account/avatars/upload/"),
        SitePage("avatar_edit", f"/account/avatars/{world.avatar.pk}/"),
        SitePage("account_delete", "/account/delete/"),
        SitePage("profile_edit", "/account/profile/"),
        SitePage("api_apps", "/account/apps/"),
        SitePage("api_tokens", "/account/tokens/"),
        SitePage("password_change", "/password/change/"),
        SitePage("password_change_done", "/password/change/done/"),
        SitePage("oauth_authorize", f"/oauth/authorize/?{urlencode(authorize)}"),
    ]


# The admin's own pages are Django's; these are the project's, for a staff member.
STAFF_PAGES: Final = (
    SitePage("admin:index", "/admin/"),
    SitePage("service_health", "/admin/service-health/"),
)

# Pages that no URL asks for: the server's error pages and the lockout after failed logins,
# rendered without a request as Django, the outage middleware and django-axes render them.
TEMPLATE_PAGES: Final = ("500.html", "503.html", "registration/locked.html")
