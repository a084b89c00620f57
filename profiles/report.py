"""The report page behind the link on every public profile: a reason from a fixed list and
optional details; `profile_report` (profiles.moderation) queues it, limited per client address.
Only public profiles can be reported, and anything else is the same 404 as an unknown slug."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from avatars.client_address import client_ip
from profiles import moderation, rules
from profiles.models import Profile
from profiles.selectors import profile_public


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        choices=[(key, gettext_lazy(label)) for key, label in rules.REPORT_REASONS],
        widget=forms.RadioSelect,
        label=gettext_lazy("What is wrong?"),
    )
    details = forms.CharField(
        required=False,
        max_length=rules.REPORT_DETAILS_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        label=gettext_lazy("Anything the moderators should know (optional)"),
    )


@require_http_methods(["GET", "POST"])
def profile_report(request: HttpRequest, slug: str) -> HttpResponse:
    public = profile_public(slug=slug)
    if public is None:
        raise Http404("No such profile")
    form = ReportForm(request.POST if request.method == "POST" else None)
    context = {"public": public, "form": form}
    if form.is_valid():
        profile = Profile.objects.get(public_id=public.public_id)
        try:
            moderation.profile_report(
                profile=profile,
                reason=form.cleaned_data["reason"],
                details=form.cleaned_data["details"],
                client_ip=client_ip(request),
            )
        except moderation.ReportLimitReached:
            form.add_error(None, _("You have sent many reports recently. Please try again later."))
            return render(request, "profiles/report.html", context, status=429)
        return render(request, "profiles/report_sent.html", context)
    return render(request, "profiles/report.html", context, status=400 if form.errors else 200)
