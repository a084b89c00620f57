from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy

from accounts.models import normalise_email
from avatars import contract


class Rating(models.TextChoices):
    """Labels for the contract's ratings, in its order (tests/avatars/test_contract.py)."""

    G = contract.G, gettext_lazy("G: suitable for every audience")
    PG = contract.PG, gettext_lazy("PG: may offend some")
    R = contract.R, gettext_lazy("R: adults only")
    X = contract.X, gettext_lazy("X: explicit")

    @classmethod
    def rank(cls, value: str) -> int:
        return contract.rating_rank(value)

    @classmethod
    def describe(cls) -> str:
        """The ratings as an error message lists them: "g, pg, r or x"."""
        return ", ".join(contract.RATINGS[:-1]) + " or " + contract.RATINGS[-1]


class ModerationState(models.TextChoices):
    NEW = "new", gettext_lazy("New, not yet reviewed")
    FLAGGED = "flagged", gettext_lazy("Flagged for review")
    APPROVED = "approved", gettext_lazy("Approved")
    REJECTED = "rejected", gettext_lazy("Rejected")


class Avatar(models.Model):
    """An image in a person's library. The bytes live in the storage backend, never here."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="avatars"
    )
    # The square master, capped in size, EXIF applied and stripped.
    master = models.FileField(max_length=200)
    # A small copy of the master so that common sizes never decode the full master.
    preview = models.FileField(max_length=200)
    size = models.PositiveIntegerField(help_text="Edge of the square master in pixels.")
    format = models.CharField(max_length=10, help_text="Format of the stored master: JPEG or PNG.")
    digest = models.CharField(
        max_length=64, help_text="SHA-256 of the master's bytes; keys every rendition."
    )
    rating = models.CharField(max_length=2, choices=Rating.choices, default=Rating.G)
    alt_text = models.CharField(max_length=250, blank=True)
    state = models.CharField(
        max_length=10, choices=ModerationState.choices, default=ModerationState.NEW
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "created_at"])]

    def __str__(self) -> str:
        return f"Avatar {self.pk} of {self.owner_id}"


class Address(models.Model):
    """An email address an account claims; it shows an image only once verified."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses"
    )
    email = models.EmailField()
    md5 = models.CharField(max_length=32, db_index=True)
    sha256 = models.CharField(max_length=64, db_index=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    is_primary = models.BooleanField(default=False)
    avatar = models.ForeignKey(
        Avatar, null=True, blank=True, on_delete=models.SET_NULL, related_name="addresses"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["email"]
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(fields=["owner", "email"], name="address_once_per_owner"),
            # Several accounts may claim an address while unverified; only one can prove it.
            models.UniqueConstraint(
                fields=["md5"], condition=Q(verified_at__isnull=False), name="verified_md5_unique"
            ),
            models.UniqueConstraint(
                fields=["sha256"],
                condition=Q(verified_at__isnull=False),
                name="verified_sha256_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args: object, **kwargs: object) -> None:
        # The digests are a pure function of the address; keeping them in step here means no
        # caller can store an address whose hash would not resolve.
        self.email = normalise_email(self.email)
        self.md5, self.sha256 = address_digests(self.email)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


def address_digests(email: str) -> tuple[str, str]:
    normal = normalise_email(email).encode()
    return hashlib.md5(normal, usedforsecurity=False).hexdigest(), hashlib.sha256(
        normal
    ).hexdigest()


class ModerationAction(models.Model):
    """A record of what a moderator did, to whom, and when. Kept when the avatar is deleted."""

    class Kind(models.TextChoices):
        APPROVE = "approve", "Approved"
        REJECT = "reject", "Rejected"
        FLAG = "flag", "Flagged"
        RATE = "rate", "Changed rating"
        DISABLE_USER = "disable_user", "Disabled account"
        ENABLE_USER = "enable_user", "Enabled account"
        # Profiles (the profiles app records these; avatars knows only their names).
        HIDE_PROFILE = "hide_profile", "Hid profile"
        UNHIDE_PROFILE = "unhide_profile", "Showed profile again"
        CLEAR_PROFILE_FIELD = "clear_profile_field", "Cleared profile field"
        # Not a moderator's decision: a visitor's report sent an approved image back to the queue.
        REPORT = "report", "Reported by a visitor"

    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    avatar = models.ForeignKey(
        Avatar, null=True, blank=True, on_delete=models.SET_NULL, related_name="moderation"
    )
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_received",
    )
    before = models.CharField(max_length=20, blank=True)
    after = models.CharField(max_length=20, blank=True)
    note = models.CharField(max_length=250, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()} by {self.moderator_id} at {self.created_at:%Y-%m-%d %H:%M}"
        )


class PurgeRequest(models.Model):
    """A purge of some digests on the edge caches, written in the transaction that changed
    what they serve, so neither a dead Varnish node nor a crash after commit loses it."""

    digests = models.TextField(help_text="Space-separated digests, one xkey each.")
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # The second purge of a change, due five seconds after it (avatars/purging.py); its
    # delivery is not a measure of how fast a change reaches the edge. A database default
    # too, so that the previous release, still running during an upgrade, can queue purges.
    echo = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["delivered_at", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"Purge {self.pk}: {self.digests[:40]}"
