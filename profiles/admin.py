"""Profiles in the moderators' admin: the queue of reported profiles, hiding and showing one,
clearing one field, and the visitors' reports. Every change goes through profiles.moderation,
which records it in the moderation log and purges what it changed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import User
from avatars.admin import thumbnail
from avatars.models import Avatar
from profiles.models import Profile, ProfileReport
from profiles.moderation import (
    UnknownField,
    clearable_fields_of,
    profile_clear_field,
    profile_reports_resolve,
    profile_set_hidden,
)


def _moderator(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


class ReportedFilter(admin.SimpleListFilter):
    """Without a choice, the queue: profiles with reports nobody has resolved yet."""

    title = "reports"
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("reported", "Reported, waiting for review"), ("hidden", "Hidden"), ("all", "All")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value() or "reported"
        if value == "reported":
            open_reports = ProfileReport.objects.filter(resolved_at__isnull=True)
            return queryset.filter(pk__in=open_reports.values("profile_id"))
        if value == "hidden":
            return queryset.filter(hidden=True)
        return queryset

    def choices(self, changelist: ChangeList) -> Iterator[Any]:
        current = self.value() or "reported"
        for value, label in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }


def _images_of(profile: Profile) -> SafeString | str:
    avatars = Avatar.objects.filter(
        addresses__owner_id=profile.user_id, addresses__verified_at__isnull=False
    ).distinct()
    return format_html_join(" ", "{}", ((thumbnail(a, 48),) for a in avatars)) or "—"


@admin.action(description=gettext_lazy("Hide the selected profiles (they answer as unknown)"))
def hide_profiles(
    model_admin: ProfileAdmin, request: HttpRequest, queryset: QuerySet[Profile]
) -> None:
    moderator = _moderator(request)
    count = sum(profile_set_hidden(moderator=moderator, profile=p, hidden=True) for p in queryset)
    done = ngettext("Hid %(count)d profile.", "Hid %(count)d profiles.", count)
    model_admin.message_user(request, done % {"count": count}, messages.SUCCESS)


@admin.action(description=gettext_lazy("Show the selected profiles again"))
def unhide_profiles(
    model_admin: ProfileAdmin, request: HttpRequest, queryset: QuerySet[Profile]
) -> None:
    moderator = _moderator(request)
    count = sum(profile_set_hidden(moderator=moderator, profile=p, hidden=False) for p in queryset)
    done = ngettext("Showed %(count)d profile again.", "Showed %(count)d profiles again.", count)
    model_admin.message_user(request, done % {"count": count}, messages.SUCCESS)


@admin.action(description=gettext_lazy("Resolve the reports of the selected profiles"))
def resolve_profile_reports(
    model_admin: ProfileAdmin, request: HttpRequest, queryset: QuerySet[Profile]
) -> None:
    reports = ProfileReport.objects.filter(profile__in=queryset)
    count = profile_reports_resolve(moderator=_moderator(request), reports=reports)
    _resolved(model_admin, request, count)


def _resolved(model_admin: admin.ModelAdmin[Any], request: HttpRequest, count: int) -> None:
    done = ngettext("Resolved %(count)d report.", "Resolved %(count)d reports.", count)
    model_admin.message_user(request, done % {"count": count}, messages.SUCCESS)


class ClearFieldForm(forms.Form):
    field = forms.ChoiceField(label=gettext_lazy("Field to clear"))
    note = forms.CharField(required=False, max_length=200, label=gettext_lazy("Note for the log"))

    def __init__(self, *args: Any, profile: Profile, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["field"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = clearable_fields_of(profile)


class ReportInline(admin.TabularInline[ProfileReport, Profile]):
    model = ProfileReport
    extra = 0
    fields = ("created_at", "reason", "details", "resolved_at", "resolved_by")
    readonly_fields = fields
    can_delete = False
    ordering = ["-created_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


SHOWN_FIELDS = [
    "user",
    "slug",
    "published",
    "public_id",
    "first_name",
    "last_name",
    "about_me",
    "location",
    "pronouns",
    "pronunciation",
    "job_title",
    "company",
    "background_color",
    "created_at",
    "updated_at",
]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin[Profile]):
    list_display = ["user", "slug", "published", "hidden", "open_reports", "images", "updated_at"]
    list_filter = [ReportedFilter, "published"]
    list_select_related = ["user"]
    search_fields = ["slug", "user__email", "user__display_name"]
    ordering = ["-updated_at"]
    actions = [hide_profiles, unhide_profiles, resolve_profile_reports]
    inlines = [ReportInline]
    fields = ["large_images", "display_name", *SHOWN_FIELDS, "entries", "hidden", "moderation"]
    readonly_fields = ["large_images", "display_name", *SHOWN_FIELDS, "entries", "moderation"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Profile]:
        return (
            super()
            .get_queryset(request)
            .annotate(_open=Count("reports", filter=Q(reports__resolved_at__isnull=True)))
        )

    @admin.display(description=gettext_lazy("Open reports"), ordering="_open")
    def open_reports(self, profile: Profile) -> int:
        return int(getattr(profile, "_open", 0))

    @admin.display(description=gettext_lazy("Images"))
    def images(self, profile: Profile) -> SafeString | str:
        return _images_of(profile)

    @admin.display(description=gettext_lazy("Images"))
    def large_images(self, profile: Profile) -> SafeString | str:
        return _images_of(profile)

    @admin.display(description=gettext_lazy("Display name"))
    def display_name(self, profile: Profile) -> str:
        return profile.user.display_name

    @admin.display(description=gettext_lazy("Links, accounts elsewhere"))
    def entries(self, profile: Profile) -> SafeString | str:
        rows = [(f"{link.label}: ", link.url) for link in profile.links.all()]
        rows += [(f"{account.service}: ", account.url) for account in profile.accounts.all()]
        return format_html_join(mark_safe("<br>"), "{}{}", rows) or "—"

    @admin.display(description=gettext_lazy("Moderation"))
    def moderation(self, profile: Profile) -> SafeString:
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:profiles_profile_clear_field", args=[profile.pk]),
            _("Clear one field…"),
        )

    def get_urls(self) -> list[URLPattern]:
        clear = path(
            "<int:pk>/clear/",
            self.admin_site.admin_view(self.clear_field_view),
            name="profiles_profile_clear_field",
        )
        return [clear, *super().get_urls()]

    def clear_field_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        profile = get_object_or_404(Profile.objects.select_related("user"), pk=pk)
        if not self.has_change_permission(request, profile):
            raise PermissionDenied
        form = ClearFieldForm(request.POST or None, profile=profile)
        if request.method == "POST" and form.is_valid():
            try:
                cleared = profile_clear_field(
                    moderator=_moderator(request),
                    profile=profile,
                    field=form.cleaned_data["field"],
                    note=form.cleaned_data["note"],
                )
            except UnknownField as error:
                form.add_error("field", str(error))
            else:
                field = form.cleaned_data["field"]
                if cleared:
                    message = _("Cleared %(field)s.") % {"field": field}
                else:
                    message = _("That field was already empty.")
                self.message_user(request, message, messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:profiles_profile_change", args=[profile.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Clear a field of {profile}",
            "opts": self.model._meta,
            "original": profile,
            "form": form,
        }
        return TemplateResponse(request, "admin/profiles/clear_field.html", context)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # profiles are their owners'

    def has_delete_permission(self, request: HttpRequest, obj: Profile | None = None) -> bool:
        return False  # hide instead: deletion is the owner's

    def save_model(
        self, request: HttpRequest, obj: Profile, form: ModelForm[Profile], change: bool
    ) -> None:
        # Only `hidden` is editable here; the service makes the change, records and purges it.
        if change and "hidden" in form.changed_data:
            profile_set_hidden(moderator=_moderator(request), profile=obj, hidden=obj.hidden)


@admin.action(description=gettext_lazy("Resolve the selected reports"))
def resolve_reports(
    model_admin: ProfileReportAdmin, request: HttpRequest, queryset: QuerySet[ProfileReport]
) -> None:
    count = profile_reports_resolve(moderator=_moderator(request), reports=queryset)
    _resolved(model_admin, request, count)


class OpenFilter(admin.SimpleListFilter):
    title = gettext_lazy("state")
    parameter_name = "open"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", _("Open")), ("resolved", _("Resolved")), ("all", _("All"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value() or "open"
        if value == "open":
            return queryset.filter(resolved_at__isnull=True)
        if value == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset

    def choices(self, changelist: ChangeList) -> Iterator[Any]:
        current = self.value() or "open"
        for value, label in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }


@admin.register(ProfileReport)
class ProfileReportAdmin(admin.ModelAdmin[ProfileReport]):
    """Visitors' reports, oldest open first; the decision is made on the profile."""

    list_display = ["created_at", "profile_link", "reason", "details", "images", "resolved_at"]
    list_filter = [OpenFilter, "reason", "created_at"]
    list_select_related = ["profile", "profile__user"]
    search_fields = ["profile__slug", "profile__user__email", "details"]
    ordering = ["created_at"]
    actions = [resolve_reports]
    fields = ("profile_link", "reason", "details", "created_at", "resolved_at", "resolved_by")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("Profile"))
    def profile_link(self, report: ProfileReport) -> SafeString:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:profiles_profile_change", args=[report.profile_id]),
            report.profile.slug or report.profile,
        )

    @admin.display(description=gettext_lazy("Images"))
    def images(self, report: ProfileReport) -> SafeString | str:
        return _images_of(report.profile)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # visitors report through the link on the public page

    def has_delete_permission(self, request: HttpRequest, obj: ProfileReport | None = None) -> bool:
        return False  # resolved reports stay, as the record of what was reported
