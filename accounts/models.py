from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


def normalise_email(email: str) -> str:
    """Gravatar's normal form: surrounding white space trimmed, every letter lower-cased."""
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("A user needs an email address")
        user = self.model(email=normalise_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """An account. The sign-in address is the identity; avatars hang off verified addresses."""

    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=100, blank=True)
    display_name_public = models.BooleanField(
        default=False, help_text="Use the display name for d=initials on this account's hashes."
    )
    hide_avatar = models.BooleanField(
        default=False, help_text="Serve the requested default instead of this account's images."
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalise_email(self.email)


class EmailCooldown(models.Model):
    """When the last email of a kind went to an address, so that the forms anyone can fill in
    cannot flood a mailbox. In the database, not the cache, so that every worker and node
    shares the window and a cache outage does not lift or break it (accounts/throttle.py)."""

    kind = models.CharField(max_length=20)
    # A keyed hash of the normalised address: the table holds no address in the clear.
    address_digest = models.CharField(max_length=64)
    sent_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "address_digest"], name="email_cooldown_once_per_address"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} email at {self.sent_at:%Y-%m-%d %H:%M:%S}"
