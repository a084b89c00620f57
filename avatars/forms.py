"""Forms for the avatar library's pages. They validate input; the workflows live in services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import DomainNameValidator
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.forms import EmailForm
from accounts.models import User, normalise_email
from avatars import federation
from avatars.imaging.decode import too_large_message
from avatars.imaging.square import CropBox
from avatars.models import Address, Avatar, Rating
from avatars.services import UploadChoices


class CheckForm(EmailForm):
    email = forms.EmailField(
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "placeholder": "you@example.com"}),
    )


class DomainCheckForm(forms.Form):
    """A domain whose avatar records to check; an address stands for its domain."""

    NOT_A_DOMAIN = gettext_lazy("Enter a domain name, such as example.com.")

    domain = forms.CharField(
        max_length=253,
        label=gettext_lazy("Domain"),
        widget=forms.TextInput(
            attrs={"placeholder": "example.com", "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    def clean_domain(self) -> str:
        text: str = self.cleaned_data["domain"].strip().rpartition("@")[2].rstrip(".")
        DomainNameValidator(accept_idna=True, message=self.NOT_A_DOMAIN)(text)
        try:
            return federation.domain_name(text)
        except ValueError:
            raise forms.ValidationError(self.NOT_A_DOMAIN) from None


class AddressForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("Another email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class AddressChoiceField(forms.ModelMultipleChoiceField[Address]):
    def label_from_instance(self, obj: Address) -> str:
        if obj.is_verified:
            return obj.email
        return _("%(email)s (not confirmed yet)") % {"email": obj.email}


class AvatarSettingsForm(forms.Form):
    """What a person chooses about an image: rating, description and where it shows."""

    rating = forms.ChoiceField(
        choices=Rating.choices,
        initial=Rating.G,
        widget=forms.RadioSelect,
        label=gettext_lazy("Rating"),
    )
    alt_text = forms.CharField(
        label=gettext_lazy("Description (alt text)"),
        max_length=250,
        required=False,
        help_text=gettext_lazy("What the picture shows, for people who cannot see it."),
    )
    addresses = AddressChoiceField(
        queryset=Address.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Show for these addresses"),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["addresses"]
        assert isinstance(field, AddressChoiceField)
        field.queryset = Address.objects.filter(owner=user).order_by("-is_primary", "email")

    def chosen_addresses(self) -> list[Address]:
        chosen: QuerySet[Address] = self.cleaned_data["addresses"]
        return list(chosen)


class UploadForm(AvatarSettingsForm):
    """An image from a file (also drag and drop or the camera, which the page's script turns
    into a file) or from a URL, with the square chosen on the page."""

    image = forms.FileField(
        required=False,
        label=gettext_lazy("Image file"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    url = forms.URLField(
        required=False,
        max_length=2000,
        assume_scheme="https",
        label=gettext_lazy("…or the web address of an image"),
    )
    crop_left = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    crop_top = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    crop_edge = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    quarter_turns = forms.IntegerField(
        required=False, min_value=0, max_value=3, initial=0, widget=forms.HiddenInput
    )

    def clean_image(self) -> UploadedFile | None:
        upload: UploadedFile | None = self.cleaned_data.get("image")
        limit = settings.AVATAR_MAX_UPLOAD_BYTES
        if upload is not None and upload.size is not None and upload.size > limit:
            raise forms.ValidationError(too_large_message(upload.size, limit))
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if bool(cleaned.get("image")) == bool(cleaned.get("url")) and not self.errors:
            raise forms.ValidationError(_("Choose an image file or give the address of one."))
        return cleaned

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        # Preselect the addresses that show no image yet: the usual reason to upload.
        bare = Address.objects.filter(owner=user, avatar__isnull=True)
        kwargs.setdefault("initial", {"addresses": list(bare.values_list("pk", flat=True))})
        super().__init__(*args, user=user, **kwargs)

    def crop(self) -> CropBox | None:
        left, top, edge = (self.cleaned_data.get(f"crop_{key}") for key in ("left", "top", "edge"))
        if left is None or top is None or edge is None:
            return None
        return CropBox(left=left, top=top, edge=edge)

    def choices(self) -> UploadChoices:
        return UploadChoices(
            rating=self.cleaned_data["rating"],
            alt_text=self.cleaned_data["alt_text"],
            crop=self.crop(),
            quarter_turns=self.cleaned_data["quarter_turns"] or 0,
        )

    def file_bytes(self) -> bytes | None:
        upload: UploadedFile | None = self.cleaned_data["image"]
        if upload is None:
            return None
        # One byte over the limit is enough for decode to say the file is too big.
        return bytes(upload.read(settings.AVATAR_MAX_UPLOAD_BYTES + 1))

    def error_messages(self) -> list[str]:
        return [str(message) for messages in self.errors.values() for message in messages]


class AvatarEditForm(AvatarSettingsForm):
    @classmethod
    def for_avatar(cls, avatar: Avatar, data: Any = None) -> AvatarEditForm:
        initial = {
            "rating": avatar.rating,
            "alt_text": avatar.alt_text,
            "addresses": list(avatar.addresses.values_list("pk", flat=True)),
        }
        return cls(data, user=avatar.owner, initial=initial)


class FetchForm(forms.Form):
    url = forms.URLField(max_length=2000, assume_scheme="https")


class DeleteAccountForm(forms.Form):
    confirm = forms.CharField(
        label=gettext_lazy("Type your sign-in address to confirm"), max_length=254, strip=True
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_confirm(self) -> str:
        typed = normalise_email(self.cleaned_data["confirm"])
        if typed != self.user.email:
            raise forms.ValidationError(_("That is not your sign-in address."))
        return typed
