"""The profile editor's forms. They only read the request; every rule (lengths, slugs, URLs,
control characters, limits) is checked by profiles/services.py, whose messages land on the
fields here, so the editor and any other way in refuse the same input alike."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from accounts.models import User
from avatars.models import Address
from profiles import rules
from profiles.models import Profile
from profiles.services import DISPLAY_NAME_MAX, ProfileFields, grouped

LABELS = {
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "location": gettext_lazy("Location"),
    "pronouns": gettext_lazy("Pronouns"),
    "pronunciation": gettext_lazy("Pronunciation"),
    "job_title": gettext_lazy("Job title"),
    "company": gettext_lazy("Company"),
}


def _text(label: StrOrPromise, limit: int, **attrs: StrOrPromise) -> forms.CharField:
    # No max_length on the field: the service's message says it; the attribute helps typing.
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        widget=forms.TextInput(attrs={"maxlength": str(limit), **attrs}),
    )


# services.grouped, read when the help text is shown (in the visitor's language).
_grouped = lazy(grouped, str)


class ProfileForm(forms.Form):
    published = forms.BooleanField(
        label=gettext_lazy("Publish my profile"),
        required=False,
        help_text=gettext_lazy(
            "While this is off nobody sees any of it: every profile address answers "
            "“not found”, as for an address that has no account."
        ),
    )
    slug = forms.CharField(
        label=gettext_lazy("Profile address"),
        required=False,
        strip=False,
        help_text=format_lazy(
            gettext_lazy(
                "{min} to {max} lower-case letters, digits, - or _. When you change it, the old "
                "one keeps leading here for {days} days."
            ),
            min=rules.SLUG_MIN,
            max=rules.SLUG_MAX,
            days=rules.OLD_SLUG_REDIRECT.days,
        ),
        widget=forms.TextInput(
            attrs={
                "maxlength": str(rules.SLUG_MAX),
                "autocapitalize": "none",
                "autocomplete": "off",
                "spellcheck": "false",
            }
        ),
    )
    display_name = _text(gettext_lazy("Display name"), DISPLAY_NAME_MAX, autocomplete="nickname")
    first_name = _text(LABELS["first_name"], rules.TEXT_MAX, autocomplete="given-name")
    last_name = _text(LABELS["last_name"], rules.TEXT_MAX, autocomplete="family-name")
    pronouns = _text(LABELS["pronouns"], rules.TEXT_MAX)
    pronunciation = _text(LABELS["pronunciation"], rules.TEXT_MAX)
    about_me = forms.CharField(
        label=gettext_lazy("About me"),
        required=False,
        strip=False,
        help_text=format_lazy(
            gettext_lazy("Plain text, up to {limit} characters; web addresses become links."),
            limit=_grouped(rules.ABOUT_MAX),
        ),
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": str(rules.ABOUT_MAX)}),
    )
    location = _text(LABELS["location"], rules.TEXT_MAX)
    job_title = _text(LABELS["job_title"], rules.TEXT_MAX, autocomplete="organization-title")
    company = _text(LABELS["company"], rules.TEXT_MAX, autocomplete="organization")
    background_color = _text(
        gettext_lazy("Background colour"),
        7,
        placeholder="#3366cc",
        autocapitalize="none",
        spellcheck="false",
    )
    display_name_public = forms.BooleanField(
        label=gettext_lazy("Use my display name for initials images"),
        required=False,
        help_text=gettext_lazy("Sites asking for d=initials show your initials from this name."),
    )
    hide_avatar = forms.BooleanField(
        label=gettext_lazy("Hide my avatars: every address shows the site's default image"),
        required=False,
    )

    ABOUT = (
        "display_name",
        "first_name",
        "last_name",
        "pronouns",
        "pronunciation",
        "about_me",
        "location",
        "job_title",
        "company",
        "background_color",
    )

    def about_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.ABOUT]

    def profile_fields(self) -> ProfileFields:
        data = self.cleaned_data
        return ProfileFields(
            **{field: data[field] for field in (*rules.TEXT_FIELDS, "about_me")},
            background_color=data["background_color"],
        )


def profile_initial(user: User, profile: Profile | None) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "display_name": user.display_name,
        "display_name_public": user.display_name_public,
        "hide_avatar": user.hide_avatar,
    }
    if profile is not None:
        initial |= {
            "published": profile.published,
            "slug": profile.slug or "",
            "about_me": profile.about_me,
            "background_color": profile.background_color,
            **{field: getattr(profile, field) for field in rules.TEXT_FIELDS},
        }
    return initial


class LinkForm(forms.Form):
    label = _text(gettext_lazy("Label"), rules.LINK_LABEL_MAX, placeholder=gettext_lazy("Blog"))
    url = forms.CharField(
        label=gettext_lazy("Web address"),
        strip=False,
        widget=forms.URLInput(attrs={"maxlength": str(rules.URL_MAX), "placeholder": "https://"}),
    )


class AccountForm(forms.Form):
    service = forms.ChoiceField(
        label=gettext_lazy("Service"),
        required=False,
        choices=[("", gettext_lazy("Recognise it from the address"))]
        + [(key, gettext_lazy(label)) for key, (label, _hosts) in rules.SERVICES.items()],
    )
    url = forms.CharField(
        label=gettext_lazy("Address of your page there"),
        strip=False,
        widget=forms.URLInput(attrs={"maxlength": str(rules.URL_MAX), "placeholder": "https://"}),
    )


class AddressChoicesForm(forms.Form):
    shown = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Show my profile for"), required=False, coerce=int
    )
    published = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Publish the address"), required=False, coerce=int
    )

    def __init__(self, *args: Any, addresses: list[Address], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(address.pk, address.email) for address in addresses]
        for name in ("shown", "published"):
            field = self.fields[name]
            assert isinstance(field, forms.TypedMultipleChoiceField)
            field.choices = choices
