"""Forms of the account's Apps and API tokens pages. They validate input; the workflows live
in api/services.py."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from api import scopes

SCOPE_CHOICES = [
    (name, format_lazy("{}: {}", name, text)) for name, text in scopes.DESCRIPTIONS.items()
]
MAX_REDIRECT_URIS = 10


class ScopesField(forms.MultipleChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            choices=SCOPE_CHOICES,
            widget=forms.CheckboxSelectMultiple,
            label=gettext_lazy("Scopes"),
            **kwargs,
        )


class PersonalTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, label=gettext_lazy("Name"), help_text=gettext_lazy("What the token is for.")
    )
    scopes = ScopesField()
    expires_on = forms.DateField(
        required=False,
        label=gettext_lazy("Expires on (optional)"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("The token stops working at the start of this day (UTC)."),
    )

    def clean_expires_on(self) -> Any:
        day = self.cleaned_data.get("expires_on")
        if day is not None and day <= timezone.now().date():
            raise forms.ValidationError(_("Choose a day after today."))
        return day

    def expires_at(self) -> datetime | None:
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return datetime.combine(day, time.min, tzinfo=UTC)


class SiteKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label=gettext_lazy("Site name"),
        help_text=gettext_lazy("Where the key is used."),
    )


class ApplicationForm(forms.Form):
    name = forms.CharField(
        max_length=255,
        label=gettext_lazy("App name"),
        help_text=gettext_lazy("People see it when asked."),
    )
    redirect_uris = forms.CharField(
        label=gettext_lazy("Redirect URIs"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "One a line. The app's redirect_uri must match one of them exactly."
        ),
    )
    confidential = forms.BooleanField(
        required=False,
        label=gettext_lazy("Confidential (a server that can keep a client secret)"),
        help_text=gettext_lazy(
            "Leave off for phone and browser apps: they use PKCE without a secret."
        ),
    )

    def clean_redirect_uris(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["redirect_uris"].splitlines()]
        uris = list(dict.fromkeys(line for line in lines if line))
        if not uris or len(uris) > MAX_REDIRECT_URIS:
            raise forms.ValidationError(
                _("Give between 1 and %(count)d redirect URIs.") % {"count": MAX_REDIRECT_URIS}
            )
        for uri in uris:
            parts = urlsplit(uri)
            if parts.scheme not in {"https", "http"} or not parts.netloc or parts.fragment:
                raise forms.ValidationError(
                    _("%(uri)s is not an absolute http(s) URL without a fragment.") % {"uri": uri}
                )
            if any(char.isspace() for char in uri):
                raise forms.ValidationError(_("%(uri)s contains white space.") % {"uri": uri})
        return uris
