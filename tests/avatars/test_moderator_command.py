"""`manage.py moderator EMAIL`: staff status and the Moderators group, and back."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("moderator", *args, stdout=out)
    return out.getvalue()


def test_it_makes_an_account_a_moderator_with_only_the_needed_permissions():
    user = User.objects.create_user("mod@example.com")
    assert run("Mod@Example.com") == "mod@example.com is now a moderator.\n"
    user = User.objects.get(pk=user.pk)
    assert user.is_staff and not user.is_superuser
    assert user.has_perm("avatars.change_avatar") and user.has_perm("accounts.change_user")
    assert not user.has_perm("avatars.delete_avatar")
    assert not user.has_perm("accounts.add_user")


def test_running_it_twice_changes_nothing_more():
    User.objects.create_user("mod@example.com")
    run("mod@example.com")
    run("mod@example.com")
    assert User.objects.get().groups.count() == 1


def test_remove_takes_staff_status_and_the_group_away():
    User.objects.create_user("mod@example.com")
    run("mod@example.com")
    assert run("mod@example.com", "--remove") == "mod@example.com is no longer a moderator.\n"
    user = User.objects.get()
    assert not user.is_staff and not user.groups.exists()


def test_the_account_must_exist():
    with pytest.raises(CommandError, match="must sign up first"):
        run("nobody@example.com")
