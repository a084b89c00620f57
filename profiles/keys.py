"""How /v3/profiles learns of site keys without knowing the app that makes them.

profiles must not import api (accounts <- avatars <- profiles <- api), yet a site key made on
the API's tokens page raises a reader's rate limit and adds the authenticated fields (spec §5).
So api registers, in its AppConfig.ready(), the one function that says which key an
`Authorization` header sends; /v3/profiles asks it and knows only the answer. While nothing is
registered, no key is valid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A live site key as /v3/profiles needs it: the name its requests are counted under in
    the rate limit (the same on every worker and node, never the secret itself)."""

    limit_key: str


# The `Authorization` header's value -> the live key it sends, or None for anything else.
SiteKeyCheck = Callable[[str], ApiKey | None]
_checks: list[SiteKeyCheck] = []


def site_key_check_register(check: SiteKeyCheck) -> None:
    """`check(header)` is called once per /v3/ request that has an Authorization header, and
    counts the request as the key's use."""
    _checks[:] = [check]


def site_key_of(header: str) -> ApiKey | None:
    """The live site key that `header` (an Authorization header's value) sends, or None."""
    return _checks[0](header) if _checks else None
