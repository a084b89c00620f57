from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from avatars.contract_vcl import CONTRACT_VCL, render


class Command(BaseCommand):
    help = (
        "Write deploy/varnish/contract.vcl, the VCL copy of avatars/contract.py that "
        "default.vcl includes. --check only compares, and fails when the file is out of step."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="Fail if the file differs; write nothing"
        )
        parser.add_argument("--output", type=Path, default=CONTRACT_VCL, help="Where to write")

    def handle(self, *args: Any, check: bool, output: Path, **_: Any) -> None:
        wanted = render()
        current = output.read_text() if output.exists() else None
        if check:
            if current != wanted:
                raise CommandError(
                    f"{output} is out of step with avatars/contract.py: run "
                    "`manage.py vcl_contract` and commit the result (never edit it by hand)."
                )
            self.stdout.write(f"{output} matches avatars/contract.py")
            return
        if current == wanted:
            self.stdout.write(f"{output} is up to date")
            return
        output.write_text(wanted)
        self.stdout.write(f"Wrote {output}")
