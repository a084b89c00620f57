from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from avatars.purging import purge_queue
from avatars.responses import AVATAR_XKEY, DEFAULT_XKEY, RENDITION_XKEY


class Command(BaseCommand):
    help = (
        "Purge every generated default (--defaults), every rendition of an uploaded image "
        "(--renditions) or every avatar response (--all) from every Varnish node, through the "
        "purge queue, so the worker retries nodes that are down. Run it after an upgrade that "
        "changed RENDITION_VERSION (or the URL contract)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        kinds = parser.add_mutually_exclusive_group(required=True)
        kinds.add_argument("--defaults", action="store_true", help="Every generated default")
        kinds.add_argument("--renditions", action="store_true", help="Every uploaded image")
        kinds.add_argument(
            "--all", dest="everything", action="store_true", help="Every avatar response"
        )

    def handle(
        self, *args: Any, defaults: bool, renditions: bool, everything: bool, **_: Any
    ) -> None:
        if not settings.VARNISH_NODES:
            raise CommandError("VARNISH_NODES is empty: there is no edge cache to purge.")
        key = AVATAR_XKEY if everything else DEFAULT_XKEY if defaults else RENDITION_XKEY
        # Queued and sent on commit, like every other purge; the worker retries failures.
        with transaction.atomic():
            purge_queue(digests=[key])
        nodes = ", ".join(settings.VARNISH_NODES)
        self.stdout.write(f"Queued a purge of xkey {key!r} on {nodes}.")
