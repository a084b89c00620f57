"""The site's pages about addresses and avatars: the check tool, sign-up (an account starts as
a claimed address), the library and the account as it shows there. Each view is named after
its URL and calls the service of the same name, then renders or redirects. The public avatar
endpoint is `avatars/views.py`.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import anonymous_only
from accounts.forms import EmailForm
from accounts.models import User
from accounts.views import LINK_BACKEND
from avatars import export, federation, forms, services, urlfetch
from avatars.imaging import decode, encode
from avatars.models import Address, Avatar, address_digests
from avatars.tokens import address_tokens

# Sizes sites commonly ask for, so the owner sees the image as others will.
PREVIEW_SIZES = (32, 80, 160)


def _authenticated(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _home(request: HttpRequest, **context: object) -> HttpResponse:
    """The home page with its two check tools, either of them filled in."""
    context.setdefault("form", forms.CheckForm())
    context.setdefault("domain_form", forms.DomainCheckForm())
    return render(request, "avatars/home.html", {"site_url": settings.SITE_URL, **context})


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    form = forms.CheckForm(request.GET or None)
    result = None
    if form.is_valid():
        md5, sha256 = address_digests(form.cleaned_data["email"])
        result = {
            "email": form.cleaned_data["email"],
            "md5": md5,
            "sha256": sha256,
            "md5_url": f"{settings.SITE_URL}/avatar/{md5}",
            "sha256_url": f"{settings.SITE_URL}/avatar/{sha256}",
        }
    return _home(request, form=form, result=result)


@require_GET
def domain_check(request: HttpRequest) -> HttpResponse:
    """Whether a domain's avatar SRV records point here (avatars/federation.py)."""
    form = forms.DomainCheckForm(request.GET or None)
    check = None
    if form.is_valid():
        try:
            check = federation.domain_check(domain=form.cleaned_data["domain"])
        except federation.DomainLookupFailed as failure:
            form.add_error("domain", str(failure))
    return _home(request, domain_form=form, domain_result=check)


@anonymous_only
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if form.is_valid():
        services.user_signup(email=form.cleaned_data["email"])
        request.session["email_sent_to"] = form.cleaned_data["email"]
        return redirect("email_sent")
    return render(request, "accounts/signup.html", {"form": form})


@anonymous_only
@require_http_methods(["GET", "POST"])
def magic_link_request(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if form.is_valid():
        services.magic_link_request(email=form.cleaned_data["email"])
        request.session["email_sent_to"] = form.cleaned_data["email"]
        return redirect("email_sent")
    return render(request, "accounts/magic_link_request.html", {"form": form})


@require_http_methods(["GET", "POST"])
def address_confirm(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    address = Address.objects.select_related("owner").filter(pk=pk).first()
    if (
        address is None
        or not address.owner.is_active
        or not address_tokens.check_token(address, token)
    ):
        return render(request, "accounts/link_invalid.html", {"kind": "confirmation"}, status=400)
    if request.method == "GET":
        return render(request, "avatars/address_confirm.html", {"address": address})
    try:
        services.address_confirm(address=address)
    except services.AddressTaken:
        messages.error(
            request,
            _("%(email)s was confirmed by another account first.") % {"email": address.email},
        )
        return redirect("dashboard" if request.user.is_authenticated else "home")
    # The sign-in address proves the mailbox behind the account, like a sign-in link.
    if address.email == address.owner.email and request.user != address.owner:
        login(request, address.owner, backend=LINK_BACKEND)
    messages.success(request, _("%(email)s is confirmed.") % {"email": address.email})
    return redirect("dashboard" if request.user.is_authenticated else "login")


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    user = _authenticated(request)
    return render(
        request,
        "avatars/dashboard.html",
        {
            "addresses": services.addresses_visible_to(user),
            "avatars": services.avatars_of(user),
            "address_form": forms.AddressForm(),
            "moderation": settings.AVATAR_MODERATION,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def address_add(request: HttpRequest) -> HttpResponse:
    form = forms.AddressForm(request.POST or None)
    if form.is_valid():
        try:
            address = services.address_add(
                user=_authenticated(request), email=form.cleaned_data["email"]
            )
        except services.AddressTaken:
            form.add_error("email", _("This address is already confirmed by another account."))
        except ValidationError as error:
            form.add_error("email", error.messages[0])
        else:
            if not address.is_verified:
                messages.success(
                    request,
                    _("We sent a confirmation link to %(email)s.") % {"email": address.email},
                )
            return redirect("dashboard")
    return render(request, "avatars/address_add.html", {"form": form})


@login_required
@require_POST
def address_resend(request: HttpRequest, pk: int) -> HttpResponse:
    address = get_object_or_404(Address, pk=pk, owner=request.user)
    if services.address_resend(address=address):
        messages.success(
            request, _("We sent a new confirmation link to %(email)s.") % {"email": address.email}
        )
    else:
        messages.info(request, _("A link was sent less than a minute ago; check your inbox."))
    return redirect("dashboard")


@login_required
@require_POST
def address_remove(request: HttpRequest, pk: int) -> HttpResponse:
    address = get_object_or_404(Address, pk=pk, owner=request.user)
    services.address_remove(address=address)
    messages.success(request, _("%(email)s was removed.") % {"email": address.email})
    return redirect("dashboard")


@login_required
@require_POST
def address_primary(request: HttpRequest, pk: int) -> HttpResponse:
    address = get_object_or_404(Address, pk=pk, owner=request.user)
    try:
        services.address_primary(address=address)
    except services.AddressNotVerified as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("%(email)s is now your primary address.") % {"email": address.email}
        )
    return redirect("dashboard")


def _wants_json(request: HttpRequest) -> bool:
    """The upload page's script asks for JSON so it can show progress and stay on the page."""
    return request.headers.get("Accept", "").startswith("application/json")


@login_required
@require_http_methods(["GET", "POST"])
def avatar_upload(request: HttpRequest) -> HttpResponse:
    user = _authenticated(request)
    form = forms.UploadForm(request.POST or None, request.FILES or None, user=user)
    if form.is_valid():
        try:
            avatar = services.avatar_upload(
                owner=user,
                data=form.file_bytes(),
                url=form.cleaned_data["url"] or None,
                choices=form.choices(),
                addresses=form.chosen_addresses(),
            )
        except (decode.UploadRejected, urlfetch.FetchRefused) as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Your image was added."))
            url = reverse("avatar_edit", args=[avatar.pk])
            return JsonResponse({"redirect": url}) if _wants_json(request) else redirect(url)
    if request.method == "POST" and _wants_json(request):
        return JsonResponse({"errors": form.error_messages()}, status=400)
    context = {"form": form, "max_bytes": settings.AVATAR_MAX_UPLOAD_BYTES}
    return render(request, "avatars/avatar_upload.html", context)


@login_required
@require_POST
def avatar_fetch(request: HttpRequest) -> HttpResponse:
    """Fetch an image by URL for the crop screen: the page's script gets back clean bytes
    (decoded, upright, no metadata) and handles them like a file the person picked."""
    form = forms.FetchForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"errors": [_("That is not a valid web address.")]}, status=400)
    try:
        data, content_type = services.avatar_fetch(url=form.cleaned_data["url"])
    except (decode.UploadRejected, urlfetch.FetchRefused) as error:
        return JsonResponse({"errors": [str(error)]}, status=400)
    return HttpResponse(data, content_type=content_type)


@login_required
@require_http_methods(["GET", "POST"])
def avatar_edit(request: HttpRequest, pk: int) -> HttpResponse:
    avatar = get_object_or_404(Avatar, pk=pk, owner=request.user)
    form = forms.AvatarEditForm.for_avatar(avatar, request.POST or None)
    if form.is_valid():
        services.avatar_edit(
            avatar=avatar,
            rating=form.cleaned_data["rating"],
            alt_text=form.cleaned_data["alt_text"],
            addresses=form.chosen_addresses(),
        )
        messages.success(request, _("Saved."))
        return redirect("avatar_edit", pk=avatar.pk)
    return render(
        request,
        "avatars/avatar_edit.html",
        {
            "avatar": avatar,
            "form": form,
            "moderation": settings.AVATAR_MODERATION,
            "sizes": PREVIEW_SIZES,
        },
    )


@login_required
@require_POST
def avatar_delete(request: HttpRequest, pk: int) -> HttpResponse:
    avatar = get_object_or_404(Avatar, pk=pk, owner=request.user)
    services.avatar_delete(avatar=avatar)
    messages.success(request, _("The image was deleted."))
    return redirect("dashboard")


@login_required
@require_GET
def avatar_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The owner's (or a moderator's) view of a stored image, whatever its state."""
    avatar = get_object_or_404(Avatar, pk=pk)
    if avatar.owner_id != request.user.pk and not request.user.is_staff:
        return HttpResponse(status=404)
    with default_storage.open(avatar.preview.name, "rb") as preview:
        response = HttpResponse(preview.read(), content_type=encode.CONTENT_TYPES[avatar.format])
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_POST
def data_export(request: HttpRequest) -> HttpResponse:
    user = _authenticated(request)
    response = HttpResponse(export.data_export(user=user), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="avatars-export.zip"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    user = _authenticated(request)
    form = forms.DeleteAccountForm(request.POST or None, user=user)
    if form.is_valid():
        services.account_delete(user=user)
        logout(request)
        messages.success(request, _("Your account, addresses and images are deleted."))
        return redirect("home")
    return render(request, "avatars/account_delete.html", {"form": form})
