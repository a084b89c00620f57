"""Time every default-image generator, and PNG encoding of its output.

Run from the project root:  .venv/bin/python bench/bench_defaults.py [--runs N]
Each run uses a fresh digest, as the hot path (unknown addresses) does; ``mp`` is cached
per size, so its numbers after the first run show the cache.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image

from avatars.defaults import GENERATORS, render_default

SIZES = (16, 80, 512)


def median_ms(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def render_next(kind: str, size: int, digests: Iterator[str]) -> Image.Image:
    return render_default(kind, next(digests), size, "JD")


def encode(image: Image.Image, level: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=False, compress_level=level)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=25)
    runs = parser.parse_args().runs
    digests = [hashlib.sha256(f"bench{i}@example.com".encode()).hexdigest() for i in range(runs)]

    columns = ("render", "png c6", "png c1", "KB c6", "KB c1")
    header = f"{'kind':<10} {'size':>5} " + " ".join(f"{c:>8}" for c in columns)
    print(f"median of {runs} runs, milliseconds (Python {sys.version.split()[0]})")
    print(header)
    print("-" * len(header))
    for kind in GENERATORS:
        for size in SIZES:
            render = median_ms(partial(render_next, kind, size, iter(digests)), runs)
            image = render_default(kind, digests[0], size, "JD")
            c6 = median_ms(partial(encode, image, 6), runs)
            c1 = median_ms(partial(encode, image, 1), runs)
            kb6, kb1 = len(encode(image, 6)) / 1024, len(encode(image, 1)) / 1024
            print(
                f"{kind:<10} {size:>5} {render:>8.2f} {c6:>8.2f} {c1:>8.2f} {kb6:>8.1f} {kb1:>8.1f}"
            )


if __name__ == "__main__":
    main()
