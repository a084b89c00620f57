"""Forms for signing up and in. They validate input; the workflows live in services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy

from accounts import emails, throttle
from accounts.models import User, normalise_email


class EmailForm(forms.Form):
    """Sign-up, the sign-in link and the check tool all ask for one address."""

    email = forms.EmailField(
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def clean_email(self) -> str:
        return normalise_email(self.cleaned_data["email"])


class LoginForm(auth_forms.AuthenticationForm):
    username = forms.EmailField(
        label=gettext_lazy("Email"),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def clean_username(self) -> str:
        return normalise_email(self.cleaned_data["username"])


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, through our email module, with links built from SITE_URL.

    Accounts made by sign-up have no password until they set one; a reset is how someone who
    only ever used emailed links gets one, so those accounts are included too.
    """

    def get_users(self, email: str) -> Any:
        if not throttle.allow_email("reset", email):
            return iter(())
        return iter(User.objects.filter(email=normalise_email(email), is_active=True))

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        user: User = context["user"]
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        path = reverse("password_reset_confirm", args=[uid, context["token"]])
        emails.send_password_reset(user=user, url=emails.absolute(path))
