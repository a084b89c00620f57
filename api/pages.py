"""The account's pages for the API: Apps (register your own, see and revoke the ones you
authorised) and API tokens (personal tokens and site keys). A new secret is shown once, in
the answer to the POST that made it, and is never stored or put in the session."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from oauth2_provider.models import get_application_model

from accounts.models import User
from api import forms, scopes, services
from api.models import PersonalToken, SiteKey

Application = get_application_model()


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _secret_shown(response: HttpResponse) -> HttpResponse:
    # The page holds a secret: no cache may keep it.
    response["Cache-Control"] = "private, no-store"
    return response


def _apps_page(
    request: HttpRequest, *, form: forms.ApplicationForm | None = None, **extra: Any
) -> HttpResponse:
    user = _user(request)
    context = {
        "form": form or forms.ApplicationForm(),
        "own": Application.objects.filter(user=user).order_by("name"),
        "authorized": [
            (application, scopes.describe(held))
            for application, held in services.authorized_applications(user=user)
        ],
        **extra,
    }
    return _secret_shown(render(request, "api/apps.html", context))


@login_required
@require_GET
def api_apps(request: HttpRequest) -> HttpResponse:
    return _apps_page(request)


@login_required
@require_POST
def application_register(request: HttpRequest) -> HttpResponse:
    form = forms.ApplicationForm(request.POST)
    if not form.is_valid():
        return _apps_page(request, form=form)
    try:
        application, secret = services.application_register(
            owner=_user(request),
            name=form.cleaned_data["name"],
            redirect_uris=form.cleaned_data["redirect_uris"],
            confidential=form.cleaned_data["confidential"],
        )
    except ValidationError as error:
        form.add_error(None, error.messages[0])
        return _apps_page(request, form=form)
    return _apps_page(request, registered=application, client_secret=secret)


@login_required
@require_POST
def application_delete(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_object_or_404(Application, pk=pk, user=request.user)
    services.application_delete(application=application)
    messages.success(
        request,
        _("%(name)s was deleted; its tokens no longer work.") % {"name": application.name},
    )
    return redirect("api_apps")


@login_required
@require_POST
def authorization_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_object_or_404(Application, pk=pk)
    services.authorization_revoke(user=_user(request), application=application)
    messages.success(request, _("%(name)s can no longer act for you.") % {"name": application.name})
    return redirect("api_apps")


def _tokens_page(request: HttpRequest, **extra: Any) -> HttpResponse:
    user = _user(request)
    context = {
        "token_form": forms.PersonalTokenForm(),
        "key_form": forms.SiteKeyForm(),
        "tokens": [
            (token, scopes.describe(token.scopes))
            for token in PersonalToken.objects.filter(owner=user)
        ],
        "keys": SiteKey.objects.filter(owner=user),
        **extra,
    }
    return _secret_shown(render(request, "api/tokens.html", context))


@login_required
@require_GET
def api_tokens(request: HttpRequest) -> HttpResponse:
    return _tokens_page(request)


@login_required
@require_POST
def personal_token_create(request: HttpRequest) -> HttpResponse:
    form = forms.PersonalTokenForm(request.POST)
    if not form.is_valid():
        return _tokens_page(request, token_form=form)
    token, secret = services.personal_token_create(
        owner=_user(request),
        name=form.cleaned_data["name"],
        chosen_scopes=form.cleaned_data["scopes"],
        expires_at=form.expires_at(),
    )
    return _tokens_page(request, created=token, secret=secret)


@login_required
@require_POST
def personal_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(PersonalToken, pk=pk, owner=request.user)
    services.personal_token_revoke(token=token)
    messages.success(request, _("The token %(name)s was revoked.") % {"name": token.name})
    return redirect("api_tokens")


@login_required
@require_POST
def site_key_create(request: HttpRequest) -> HttpResponse:
    form = forms.SiteKeyForm(request.POST)
    if not form.is_valid():
        return _tokens_page(request, key_form=form)
    key, secret = services.site_key_create(owner=_user(request), name=form.cleaned_data["name"])
    return _tokens_page(request, created=key, secret=secret)


@login_required
@require_POST
def site_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(SiteKey, pk=pk, owner=request.user)
    services.site_key_revoke(key=key)
    messages.success(request, _("The site key %(name)s was revoked.") % {"name": key.name})
    return redirect("api_tokens")
