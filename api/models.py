"""The API's own credentials and ids. OAuth applications and their tokens are
django-oauth-toolkit's models (stored as checksums too, see settings.OAUTH2_PROVIDER)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models

from avatars.models import Avatar

# Random bytes in an image id: unguessable, so an id never tells how many images exist and
# cannot be probed (a wrong one is 404 whoever owns it).
IMAGE_ID_BYTES = 16


def new_image_id() -> str:
    return secrets.token_hex(IMAGE_ID_BYTES)


class PersonalToken(models.Model):
    """A token a person made for their own scripts, with the scopes they chose."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="personal_tokens"
    )
    name = models.CharField(max_length=100)
    scopes = models.CharField(max_length=200, help_text="Space-separated scopes.")
    checksum = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=20, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint})"


class SiteKey(models.Model):
    """A key a site sends to read public profiles in bulk, with the authenticated fields."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="site_keys"
    )
    name = models.CharField(max_length=100)
    checksum = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=20, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    request_count = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint})"


class ImageHandle(models.Model):
    """The API's id of an image in a library: random, never the database key."""

    avatar = models.OneToOneField(
        Avatar, on_delete=models.CASCADE, primary_key=True, related_name="api_handle"
    )
    image_id = models.CharField(max_length=32, unique=True, default=new_image_id)

    def __str__(self) -> str:
        return self.image_id
