from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from avatars.services import orphan_files_prune


class Command(BaseCommand):
    help = (
        "Reconcile storage with the database: delete stored avatar files that no avatar "
        "references and that are older than the grace period (uploads still in their "
        "transaction are younger). --dry-run only lists them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="List, delete nothing")
        parser.add_argument(
            "--grace-minutes",
            type=int,
            default=60,
            help="Leave files younger than this alone (default 60)",
        )

    def handle(self, *args: Any, dry_run: bool, grace_minutes: int, **_: Any) -> None:
        names = orphan_files_prune(grace=timedelta(minutes=grace_minutes), dry_run=dry_run)
        for name in names:
            self.stdout.write(name)
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(f"{verb} {len(names)} orphan file(s)")
