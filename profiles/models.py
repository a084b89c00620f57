"""A profile: what an account shows behind its hashes and slug, once its owner publishes it."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from avatars.models import Address
from profiles import rules


def new_public_id() -> str:
    """Random digits, the first never 0, so the id keeps its length wherever it is parsed."""
    return str(
        secrets.randbelow(9 * 10 ** (rules.PUBLIC_ID_DIGITS - 1))
        + 10 ** (rules.PUBLIC_ID_DIGITS - 1)
    )


class Profile(models.Model):
    """One per account, created on first edit. Nothing of it is public while `published` is
    off, while a moderator has it `hidden`, or while the account is disabled. The display name
    is the account's (`User.display_name`): one name, also used for d=initials when allowed."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    public_id = models.CharField(max_length=20, unique=True, default=new_public_id, editable=False)
    published = models.BooleanField(default=False)
    slug = models.CharField(max_length=rules.SLUG_MAX, null=True, blank=True, unique=True)
    first_name = models.CharField(max_length=rules.TEXT_MAX, blank=True)
    last_name = models.CharField(max_length=rules.TEXT_MAX, blank=True)
    about_me = models.TextField(max_length=rules.ABOUT_MAX, blank=True)
    location = models.CharField(max_length=rules.TEXT_MAX, blank=True)
    pronouns = models.CharField(max_length=rules.TEXT_MAX, blank=True)
    pronunciation = models.CharField(max_length=rules.TEXT_MAX, blank=True)
    job_title = models.CharField(max_length=rules.TEXT_MAX, blank=True)
    company = models.CharField(max_length=rules.TEXT_MAX, blank=True)
    background_color = models.CharField(max_length=7, blank=True)
    hidden = models.BooleanField(
        default=False, help_text="Hidden by a moderator: answers as unknown."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # Slugs are stored lower-case; the index makes a mixed-case row impossible to collide.
            models.UniqueConstraint(Lower("slug"), name="profile_slug_ci_unique"),
        ]

    def __str__(self) -> str:
        return f"Profile of {self.user_id}"


class ProfileLink(models.Model):
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="links")
    position = models.PositiveSmallIntegerField(default=0)
    label = models.CharField(max_length=rules.LINK_LABEL_MAX)
    url = models.URLField(max_length=rules.URL_MAX)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.url


class ProfileAccount(models.Model):
    """An account elsewhere; verified when its page links back to the profile with rel="me"."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="accounts")
    position = models.PositiveSmallIntegerField(default=0)
    service = models.CharField(max_length=20)
    url = models.URLField(max_length=rules.URL_MAX)
    verified_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    check_message = models.CharField(max_length=250, blank=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.url

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class AddressChoice(models.Model):
    """The owner's choices for one address. Without a row, the rule of spec §1 holds: only the
    primary address shows the profile, and no address is published."""

    address = models.OneToOneField(
        Address, on_delete=models.CASCADE, primary_key=True, related_name="profile_choice"
    )
    shows_profile = models.BooleanField(default=False)
    email_published = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Choices for address {self.address_id}"


class OldSlug(models.Model):
    """A slug the profile used before: it redirects until `rules.OLD_SLUG_REDIRECT` has passed."""

    slug = models.CharField(max_length=rules.SLUG_MAX, unique=True)
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="old_slugs")
    retired_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.slug


class RateCounter(models.Model):
    """Requests of one client address, site key or token to the REST API in the current
    window (`client`: the address, or the credential's checksum): the embedded
    default's shared rate-limit store (profiles/ratelimit.py; with Redis, Redis is)."""

    client = models.CharField(max_length=64, primary_key=True)
    window_start = models.BigIntegerField(help_text="Unix time the window began.")
    hits = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.client}: {self.hits} since {self.window_start}"


class ProfileReport(models.Model):
    """A visitor's report of a public profile: it waits in the moderators' queue until one of
    them resolves it. The client is kept only as a keyed digest of its address."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="reports")
    reason = models.CharField(max_length=20, choices=rules.REPORT_REASONS)
    details = models.TextField(max_length=rules.REPORT_DETAILS_MAX, blank=True)
    client_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["resolved_at", "created_at"])]

    def __str__(self) -> str:
        return f"Report {self.pk} of profile {self.profile_id}"


class ReportThrottle(models.Model):
    """How many reports one client address sent in the current window: one row per digest and
    window, counted up with a conditional UPDATE, so concurrent workers cannot exceed it."""

    client_digest = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client_digest", "window_start"], name="report_throttle_once_per_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.count} report(s) since {self.window_start:%Y-%m-%d %H:%M}"
