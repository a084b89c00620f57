"""Replace an avatar through the service again and again while polling it through Varnish;
prints {"seconds": [...]}, the time from each change until Varnish serves the new image.

Run by bench/varnish_bench.py with the benchmark's database and VARNISH_NODES set, so the
change purges the node after its commit exactly as in production.
"""

from __future__ import annotations

import io
import json
import sys
import time
from typing import TYPE_CHECKING

import django

if TYPE_CHECKING:
    from tests.varnish.harness import Response


def main(varnish_url: str, changes: int) -> None:
    django.setup()
    from PIL import Image

    from avatars.models import address_digests
    from avatars.services import avatar_import
    from tests.varnish.harness import request

    email = "freshness@bench.example"
    path = f"/avatar/{address_digests(email)[0]}?s=80"
    colours = [(220, 30, 30), (30, 200, 60)]
    seconds = []
    for number in range(changes + 1):
        colour = colours[number % 2]
        upload = io.BytesIO()
        Image.new("RGB", (256, 256), colour).save(upload, "JPEG")
        started = time.monotonic()
        avatar_import(email=email, data=upload.getvalue())
        while not _shows(request(varnish_url, path), colour):
            time.sleep(0.005)
        if number:  # the first only puts the address in the cache
            seconds.append(time.monotonic() - started)
        request(varnish_url, path)  # cached again before the next change
    json.dump({"seconds": seconds}, sys.stdout)


def _shows(response: Response, colour: tuple[int, int, int]) -> bool:
    from PIL import Image

    from tests.pixels import pixel

    if response.status != 200:
        return False
    image = Image.open(io.BytesIO(response.body)).convert("RGB")
    centre = pixel(image, (image.width // 2, image.height // 2))
    return all(abs(a - b) <= 16 for a, b in zip(centre, colour, strict=True))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
