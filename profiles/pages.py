"""The owner's profile editor under /account/profile/: one page, and one URL per action its
forms post to. Each view is named after its URL and calls the service of the same name, then
redirects back to the editor with a message, or shows it again with the form's errors."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from avatars.models import Address
from profiles import forms, rules, selectors, services
from profiles.models import AddressChoice, Profile, ProfileAccount, ProfileLink


def _authenticated(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _back(section: str = "") -> HttpResponse:
    return redirect(reverse("profile_edit") + (f"#{section}" if section else ""))


def _verified_addresses(user: User) -> list[Address]:
    return list(
        Address.objects.filter(owner=user, verified_at__isnull=False).order_by(
            "-is_primary", "email"
        )
    )


def _editor(request: HttpRequest, user: User, **bound: Any) -> HttpResponse:
    """The whole editor; `bound` holds the one form that was posted with errors."""
    profile = Profile.objects.filter(user=user).first()
    addresses = _verified_addresses(user)
    choices = {c.address_id: c for c in AddressChoice.objects.filter(address__in=addresses)}
    links = list(profile.links.all()) if profile else []
    accounts = list(profile.accounts.all()) if profile else []
    context = {
        "profile": profile,
        "form": forms.ProfileForm(initial=forms.profile_initial(user, profile)),
        "link_form": forms.LinkForm(),
        "account_form": forms.AccountForm(),
        "addresses_form": forms.AddressChoicesForm(addresses=addresses),
        **bound,
        "links": links,
        "accounts": [(account, _(rules.service_label(account.service))) for account in accounts],
        "addresses": [
            (
                address,
                selectors.shows_profile(address, choices.get(address.pk)),
                selectors.email_published(address, choices.get(address.pk)),
            )
            for address in addresses
        ],
        "links_full": len(links) >= rules.LINKS_MAX,
        "accounts_full": len(accounts) >= rules.ACCOUNTS_MAX,
        "rules": rules,
        "site_url": settings.SITE_URL.rstrip("/"),
        "preview": selectors.profile_preview(user=user),
    }
    return render(request, "profiles/edit.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest) -> HttpResponse:
    user = _authenticated(request)
    if request.method != "POST":
        return _editor(request, user)
    form = forms.ProfileForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.profile_edit(
                user=user,
                fields=form.profile_fields(),
                slug=data["slug"],
                published=data["published"],
                display_name=data["display_name"],
                display_name_public=data["display_name_public"],
                hide_avatar=data["hide_avatar"],
            )
        except ValidationError as error:
            form.add_error(None, error)  # keyed errors land on their field
        else:
            messages.success(request, _("Your profile is saved."))
            return _back()
    user.refresh_from_db()  # the rolled-back change may have touched the object in memory
    return _editor(request, user, form=form)


@login_required
@require_GET
def profile_slug_check(request: HttpRequest) -> HttpResponse:
    """The editor's live check as you type: {"slug", "status", "message"}. The server checks
    again on submit; this only saves a round trip through the form."""
    # Anything longer than a slug is refused as too long; no need to carry megabytes to say so.
    typed = request.GET.get("slug", "")[: rules.SLUG_MAX + 1]
    answer = selectors.profile_slug_check(slug=typed, user=_authenticated(request))
    response = JsonResponse(
        {"slug": answer.slug, "status": answer.status, "message": answer.message}
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def profile_link_add(request: HttpRequest) -> HttpResponse:
    user = _authenticated(request)
    form = forms.LinkForm(request.POST)
    if form.is_valid():
        try:
            services.profile_link_add(
                user=user, label=form.cleaned_data["label"], url=form.cleaned_data["url"]
            )
        except ValidationError as error:
            form.add_error(None, error)  # keyed errors land on their field
        else:
            messages.success(request, _("The link is added."))
            return _back("links")
    return _editor(request, user, link_form=form)


@login_required
@require_POST
def profile_link_remove(request: HttpRequest, pk: int) -> HttpResponse:
    link = get_object_or_404(ProfileLink, pk=pk, profile__user=_authenticated(request))
    services.profile_link_remove(link=link)
    messages.success(request, _("The link is removed."))
    return _back("links")


@login_required
@require_POST
def profile_account_add(request: HttpRequest) -> HttpResponse:
    user = _authenticated(request)
    form = forms.AccountForm(request.POST)
    if form.is_valid():
        try:
            services.profile_account_add(
                user=user, service=form.cleaned_data["service"], url=form.cleaned_data["url"]
            )
        except ValidationError as error:
            form.add_error(None, error)  # keyed errors land on their field
        else:
            messages.success(request, _("The account is added; verify it to show a check mark."))
            return _back("accounts")
    return _editor(request, user, account_form=form)


@login_required
@require_POST
def profile_account_remove(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(ProfileAccount, pk=pk, profile__user=_authenticated(request))
    services.profile_account_remove(account=account)
    messages.success(request, _("The account is removed."))
    return _back("accounts")


@login_required
@require_POST
def profile_account_verify(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(ProfileAccount, pk=pk, profile__user=_authenticated(request))
    try:
        checked = services.profile_account_verify(account=account)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if checked.is_verified:
            messages.success(request, checked.check_message)
        else:
            messages.error(request, checked.check_message)
    return _back(f"account-{account.pk}")


@login_required
@require_POST
def profile_addresses_choose(request: HttpRequest) -> HttpResponse:
    user = _authenticated(request)
    form = forms.AddressChoicesForm(request.POST, addresses=_verified_addresses(user))
    if form.is_valid():
        try:
            services.profile_addresses_choose(
                user=user,
                shown=form.cleaned_data["shown"],
                published=form.cleaned_data["published"],
            )
        except ValidationError as error:
            form.add_error(None, error)  # keyed errors land on their field
        else:
            messages.success(request, _("Your address choices are saved."))
            return _back("addresses")
    return _editor(request, user, addresses_form=form)
