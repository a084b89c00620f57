"""The API's own workflows: credentials (personal tokens, site keys, OAuth apps and the
authorisations people gave them) and image ids. Changes to avatars and profiles are not here:
the API calls the same services as the web pages (avatars.services, profiles.services)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from oauth2_provider.models import (
    AbstractApplication,
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_refresh_token_model,
)

from accounts.models import User
from api import scopes, tokens
from api.models import ImageHandle, PersonalToken, SiteKey
from avatars.models import Avatar
from avatars.resolution import digests_changed

Application = get_application_model()


def _scopes_checked(chosen: Iterable[str]) -> str:
    names = list(dict.fromkeys(chosen))
    unknown = [name for name in names if name not in scopes.DESCRIPTIONS]
    if unknown or not names:
        raise ValidationError({"scopes": _("Choose at least one of the listed scopes.")})
    return " ".join(name for name in scopes.ALL if name in names)


def personal_token_create(
    *, owner: User, name: str, chosen_scopes: Iterable[str], expires_at: datetime | None
) -> tuple[PersonalToken, str]:
    """A new personal token and its secret, which is shown once and never stored."""
    secret = tokens.new_secret(tokens.PERSONAL_PREFIX)
    token = PersonalToken(
        owner=owner,
        name=name,
        scopes=_scopes_checked(chosen_scopes),
        checksum=tokens.checksum(secret),
        hint=tokens.hint(secret),
        expires_at=expires_at,
    )
    token.full_clean()
    token.save()
    return token, secret


def personal_token_revoke(*, token: PersonalToken) -> None:
    token.delete()


def site_key_create(*, owner: User, name: str) -> tuple[SiteKey, str]:
    secret = tokens.new_secret(tokens.SITE_KEY_PREFIX)
    key = SiteKey(
        owner=owner, name=name, checksum=tokens.checksum(secret), hint=tokens.hint(secret)
    )
    key.full_clean()
    key.save()
    return key, secret


def site_key_revoke(*, key: SiteKey) -> None:
    """Delete the key; once committed, every worker forgets it at once (they remember live
    keys, api.auth.site_key_id), so its next request is 401 wherever it lands."""
    checksum = key.checksum
    key.delete()
    transaction.on_commit(lambda: digests_changed([checksum]))


def application_register(
    *, owner: User, name: str, redirect_uris: list[str], confidential: bool
) -> tuple[AbstractApplication, str | None]:
    """Register an app of the owner's. A confidential app gets a client secret, returned
    once and stored hashed (django-oauth-toolkit's hash_client_secret); a public app (a
    phone or browser app, which cannot keep one) gets none and must use PKCE, as every app
    must."""
    application = Application(
        user=owner,
        name=name,
        redirect_uris=" ".join(redirect_uris),
        client_type=(
            Application.CLIENT_CONFIDENTIAL if confidential else Application.CLIENT_PUBLIC
        ),
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        skip_authorization=False,
        hash_client_secret=True,
    )
    secret: str | None = application.client_secret if confidential else None
    if not confidential:
        application.client_secret = ""
    application.full_clean()
    application.save()
    return application, secret


def application_delete(*, application: AbstractApplication) -> None:
    """Forget an app of the owner's; every token it holds goes with it."""
    application.delete()


def authorization_revoke(*, user: User, application: AbstractApplication) -> None:
    """Take back what the person granted the app: every access and refresh token and any
    code not yet exchanged. The app's next call with a token it holds gets 401."""
    with transaction.atomic():
        get_refresh_token_model().objects.filter(user=user, application=application).delete()
        get_access_token_model().objects.filter(user=user, application=application).delete()
        get_grant_model().objects.filter(user=user, application=application).delete()


def authorized_applications(*, user: User) -> list[tuple[AbstractApplication, str]]:
    """The apps holding a live token or refresh token of the person, with the scopes they
    hold, for the Apps page."""
    held: dict[int, tuple[AbstractApplication, set[str]]] = {}
    for token in (
        get_access_token_model()
        .objects.filter(user=user, application__isnull=False)
        .select_related("application")
    ):
        entry = held.setdefault(token.application_id, (token.application, set()))
        entry[1].update(token.scope.split())
    for refresh in (
        get_refresh_token_model()
        .objects.filter(user=user, revoked__isnull=True)
        .select_related("application")
    ):
        held.setdefault(refresh.application_id, (refresh.application, set()))
    return [
        (application, " ".join(name for name in scopes.ALL if name in names))
        for application, names in sorted(held.values(), key=lambda pair: pair[0].name)
    ]


def image_ids_of(avatars: Iterable[Avatar]) -> dict[int, str]:
    """The API id of each avatar, made on first use (images uploaded on the web pages have
    none until an app lists them)."""
    wanted = [avatar.pk for avatar in avatars]
    known = dict(
        ImageHandle.objects.filter(avatar_id__in=wanted).values_list("avatar_id", "image_id")
    )
    missing = [ImageHandle(avatar_id=pk) for pk in wanted if pk not in known]
    if missing:
        ImageHandle.objects.bulk_create(missing, ignore_conflicts=True)
        known = dict(
            ImageHandle.objects.filter(avatar_id__in=wanted).values_list("avatar_id", "image_id")
        )
    return known
