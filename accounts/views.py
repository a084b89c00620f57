"""Signing in: the emailed sign-in link and the password pages. The pages about addresses and
avatars (sign-up included, since an account starts as a claimed address) are in
`avatars/pages.py`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.encoding import force_str
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import User
from accounts.tokens import magic_link_tokens

# Sign-in through an emailed link skips the throttled password backend on purpose: the link
# is the proof. Naming the backend is what django.contrib.auth.login needs then.
LINK_BACKEND = "django.contrib.auth.backends.ModelBackend"


@require_GET
def email_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/email_sent.html", {"to": request.session.get("email_sent_to")})


@require_GET
def language_choose(request: HttpRequest) -> HttpResponse:
    """The switcher of a page rendered for everyone (the cached public profile, the error pages)
    has no CSRF token, so it asks here with GET; this page, in the language asked for, holds
    the form that POSTs to Django's set_language, which stores the choice in the cookie."""
    languages = dict(settings.LANGUAGES)
    chosen = request.GET.get("language", "")
    if chosen not in languages:
        chosen = translation.get_language()
    next_url = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    context = {"languages": settings.LANGUAGES, "chosen": chosen, "next": next_url}
    with translation.override(chosen):
        response = render(request, "accounts/language.html", context)
    response["Content-Language"] = chosen
    return response


@require_http_methods(["GET", "POST"])
def magic_link_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """GET asks for a click, so mail scanners that open links do not use up the sign-in."""
    try:
        user = User.objects.filter(pk=int(force_str(urlsafe_base64_decode(uidb64)))).first()
    except (ValueError, TypeError):
        user = None
    if user is None or not user.is_active or not magic_link_tokens.check_token(user, token):
        return render(request, "accounts/link_invalid.html", {"kind": "sign-in"}, status=400)
    if request.method == "POST":
        login(request, user, backend=LINK_BACKEND)
        messages.success(request, _("Signed in as %(email)s.") % {"email": user.email})
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/magic_link_confirm.html", {"link_user": user})


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change the password, or set a first one for an account made by sign-up."""

    def get_form_class(self) -> Any:
        user = self.request.user
        usable = isinstance(user, User) and user.has_usable_password()
        return PasswordChangeForm if usable else SetPasswordForm
