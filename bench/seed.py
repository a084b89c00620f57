"""Seed the benchmark's temporary database and media with `setavatar`, as an operator would.

Run by bench/run.py with DJANGO_SETTINGS_MODULE=bench.bench_settings and VAR_DIR/DATABASE_URL
pointing into a temporary folder; prints the hashes it made as JSON.
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
from pathlib import Path

import django


def main(count: int) -> None:
    django.setup()
    from django.core.management import call_command

    from avatars.models import address_digests
    from bench.photos import photo, variant

    base = photo(2048)
    emails = [f"person{index}@bench.example" for index in range(count)]
    with tempfile.TemporaryDirectory() as folder:
        for index, email in enumerate(emails):
            upload = Path(folder) / f"{index}.jpg"
            upload.write_bytes(variant(base, index))
            call_command("setavatar", email, str(upload), stdout=io.StringIO())
    json.dump(
        {"md5": [address_digests(email)[0] for email in emails], "emails": emails}, sys.stdout
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
