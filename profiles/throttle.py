"""The limit on visitors' reports, per client address (`avatars.client_address.client_ip`).

Counted in the database, like the email cooldown (accounts/throttle.py), so every worker and
node shares it on the embedded SQLite default too and a Redis outage neither lifts nor breaks
it. Windows are fixed (`rules.REPORT_WINDOW`), one row per client digest and window, counted up
with an UPDATE that only matches while the count is under the limit: two workers racing for the
last report cannot both get it. Clients are kept as keyed digests, never as addresses.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac

from profiles import rules
from profiles.models import ReportThrottle


def client_digest(client_ip: str) -> str:
    return salted_hmac("profiles.throttle.client", client_ip, algorithm="sha256").hexdigest()


def window_start(now: datetime) -> datetime:
    seconds = int(rules.REPORT_WINDOW.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=UTC)


def allow_report(digest: str) -> bool:
    """Take one report of this client's allowance; False once the window's is used up."""
    start = window_start(timezone.now())
    # Past windows go first, which keeps the table to the current window's clients.
    ReportThrottle.objects.filter(window_start__lt=start).delete()
    current = ReportThrottle.objects.filter(client_digest=digest, window_start=start)
    for _ in range(2):
        if current.filter(count__lt=rules.REPORTS_PER_WINDOW).update(count=F("count") + 1):
            return True
        try:
            with transaction.atomic():  # a savepoint when the caller is in a transaction
                ReportThrottle.objects.create(client_digest=digest, window_start=start, count=1)
        except IntegrityError:  # the row exists: full, or another request just created it
            continue
        return True
    return False
