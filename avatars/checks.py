"""System checks of the avatar settings against the contract (avatars/contract.py).

`manage.py check`, `migrate` and `runserver` run them, so `make run` and the compose
migration container stop on a bad value with the message below.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from avatars import contract


@register()
def check_avatar_default(**_: object) -> list[CheckMessage]:
    """AVATAR_DEFAULT must name a drawing: it answers requests whose d= names none."""
    value = settings.AVATAR_DEFAULT
    if value in contract.GENERATED_DEFAULTS:
        return []
    return [
        Error(
            f"AVATAR_DEFAULT={value!r} is not a generated default",
            hint=f"Use one of {', '.join(contract.GENERATED_DEFAULTS)}.",
            id="avatars.E102",
        )
    ]
