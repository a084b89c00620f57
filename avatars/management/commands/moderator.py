from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.models import User, normalise_email
from avatars import hooks

GROUP = "Moderators"
# What the moderation admin needs: the queue and its actions, the log, accounts with their
# addresses (to disable one). Nothing that adds or deletes. Apps built on avatars add theirs
# (avatars.hooks.moderator_permissions_register).
PERMISSIONS = [
    ("avatars", "view_avatar"),
    ("avatars", "change_avatar"),
    ("avatars", "view_moderationaction"),
    ("avatars", "view_address"),
    ("accounts", "view_user"),
    ("accounts", "change_user"),
]


class Command(BaseCommand):
    help = (
        f"Make an existing account a moderator: staff status and the {GROUP!r} group, which "
        "this command creates or brings up to date. --remove takes both away."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--remove", action="store_true", help="Stop being a moderator")

    def handle(self, *args: Any, email: str, remove: bool, **_: Any) -> None:
        user = User.objects.filter(email=normalise_email(email)).first()
        if user is None:
            raise CommandError(f"No account signs in with {email}; it must sign up first.")
        with transaction.atomic():
            group = moderators_group()
            if remove:
                user.groups.remove(group)
                user.is_staff = user.is_superuser
            else:
                user.groups.add(group)
                user.is_staff = True
            user.save(update_fields=["is_staff"])
        verb = "is no longer" if remove else "is now"
        self.stdout.write(f"{user.email} {verb} a moderator.")


def moderators_group() -> Group:
    group, _ = Group.objects.get_or_create(name=GROUP)
    wanted = [
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in PERMISSIONS + hooks.moderator_permissions()
    ]
    group.permissions.set(wanted)
    return group
