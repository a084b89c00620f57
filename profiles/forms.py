"""The profile editor's forms. They only read the request; every rule (lengths, slugs, URLs,
control characters, limits) is checked by profiles/services.py, whose messages land on the
fields here, so the editor and any other way in refuse the same input alike."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import User
from avatars.models import Address
from profiles import rules
from profiles.models import Profile
from profiles.services import DISPLAY_NAME_MAX, ProfileFields

LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "location": "Location",
    "pronouns": "Pronouns",
    "pronunciation": "Pronunciation",
    "job_title": "Job title",
    "company": "Company",
}


def _text(label: str, limit: int, **attrs: str) -> forms.CharField:
    # No max_length on the field: the service's message says it; the attribute helps typing.
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        widget=forms.TextInput(attrs={"maxlength": str(limit), **attrs}),
    )


class ProfileForm(forms.Form):
    published = forms.BooleanField(
        label="Publish my profile",
        required=False,
        help_text="While this is off nobody sees any of it: every profile address answers "
        "“not found”, as for an address that has no account.",
    )
    slug = forms.CharField(
        label="Profile address",
        required=False,
        strip=False,
        help_text=f"{rules.SLUG_MIN} to {rules.SLUG_MAX} lower-case letters, digits, - or _. "
        f"When you change it, the old one keeps leading here for "
        f"{rules.OLD_SLUG_REDIRECT.days} days.",
        widget=forms.TextInput(
            attrs={
                "maxlength": str(rules.SLUG_MAX),
                "autocapitalize": "none",
                "autocomplete": "off",
                "spellcheck": "false",
            }
        ),
    )
    display_name = _text("Display name", DISPLAY_NAME_MAX, autocomplete="nickname")
    first_name = _text(LABELS["first_name"], rules.TEXT_MAX, autocomplete="given-name")
    last_name = _text(LABELS["last_name"], rules.TEXT_MAX, autocomplete="family-name")
    pronouns = _text(LABELS["pronouns"], rules.TEXT_MAX)
    pronunciation = _text(LABELS["pronunciation"], rules.TEXT_MAX)
    about_me = forms.CharField(
        label="About me",
        required=False,
        strip=False,
        help_text=f"Plain text, up to {rules.ABOUT_MAX:,} characters; web addresses become links.",
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": str(rules.ABOUT_MAX)}),
    )
    location = _text(LABELS["location"], rules.TEXT_MAX)
    job_title = _text(LABELS["job_title"], rules.TEXT_MAX, autocomplete="organization-title")
    company = _text(LABELS["company"], rules.TEXT_MAX, autocomplete="organization")
    background_color = _text(
        "Background colour", 7, placeholder="#3366cc", autocapitalize="none", spellcheck="false"
    )
    display_name_public = forms.BooleanField(
        label="Use my display name for initials images",
        required=False,
        help_text="Sites asking for d=initials show your initials from this name.",
    )
    hide_avatar = forms.BooleanField(
        label="Hide my avatars: every address shows the site's default image", required=False
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
    label = _text("Label", rules.LINK_LABEL_MAX, placeholder="Blog")
    url = forms.CharField(
        label="Web address",
        strip=False,
        widget=forms.URLInput(attrs={"maxlength": str(rules.URL_MAX), "placeholder": "https://"}),
    )


class AccountForm(forms.Form):
    service = forms.ChoiceField(
        label="Service",
        required=False,
        choices=[("", "Recognise it from the address")]
        + [(key, label) for key, (label, _hosts) in rules.SERVICES.items()],
    )
    url = forms.CharField(
        label="Address of your page there",
        strip=False,
        widget=forms.URLInput(attrs={"maxlength": str(rules.URL_MAX), "placeholder": "https://"}),
    )


class AddressChoicesForm(forms.Form):
    shown = forms.TypedMultipleChoiceField(label="Show my profile for", required=False, coerce=int)
    published = forms.TypedMultipleChoiceField(
        label="Publish the address", required=False, coerce=int
    )

    def __init__(self, *args: Any, addresses: list[Address], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(address.pk, address.email) for address in addresses]
        for name in ("shown", "published"):
            field = self.fields[name]
            assert isinstance(field, forms.TypedMultipleChoiceField)
            field.choices = choices
