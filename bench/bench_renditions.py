"""In-process microbenchmark: the time to make one rendition, per source size and method.

`python bench/bench_renditions.py` prints a table; `--json` prints what bench/run.py stores.
The sources are what avatar_store keeps for a typical upload (a 2048 px photo): the master
(JPEG q92, 2048 px) and its 256 px preview; 512 and 1024 px masters stand in for smaller
uploads. No Django: this measures the image work alone.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from avatars.imaging import encode, square
from avatars.renditions import render_source
from bench.photos import photo

TARGETS = (80, 200)


def _naive(source: bytes, size: int) -> bytes:
    """Decode everything, one LANCZOS resize: the obvious code."""
    with Image.open(io.BytesIO(source)) as image:
        image.load()
        return encode.encode(image.resize((size, size), Image.Resampling.LANCZOS), "JPEG")


def _thumbnail(source: bytes, size: int) -> bytes:
    with Image.open(io.BytesIO(source)) as image:
        image.thumbnail((size, size), Image.Resampling.LANCZOS)
        return encode.encode(image, "JPEG")


def _ours(source: bytes, size: int) -> bytes:
    """avatars.renditions.render_source: JPEG draft() decoding, then a reducing_gap resize."""
    return render_source(source, size, "JPEG")


METHODS: dict[str, Callable[[bytes, int], bytes]] = {
    "naive LANCZOS": _naive,
    "thumbnail()": _thumbnail,
    "draft + resize (ours)": _ours,
}


def median_ms(work: Callable[[], object], *, repeat: int) -> float:
    work()  # warm up allocators and Pillow's plugin registry
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def run(repeat: int) -> dict[str, object]:
    upload = photo(2048, seed=7)
    master = square.make_square(upload)
    sources = {
        "master 2048": encode.encode(master, "JPEG", for_storage=True),
        "master 1024": encode.encode(square.resize_square(master, 1024), "JPEG", for_storage=True),
        "master 512": encode.encode(square.resize_square(master, 512), "JPEG", for_storage=True),
        "preview 256": encode.encode(
            square.resize_square(master, square.PREVIEW_EDGE), "JPEG", for_storage=True
        ),
    }
    cases = []
    for source_name, data in sources.items():
        for target in TARGETS:
            for method_name, method in METHODS.items():
                runs = max(5, repeat // 4) if source_name == "master 2048" else repeat
                cases.append(
                    {
                        "source": source_name,
                        "target_px": target,
                        "method": method_name,
                        "median_ms": round(
                            median_ms(partial(method, data, target), repeat=runs), 2
                        ),
                    }
                )

    # The contract's cold path for a typical upload: read the stored preview, render s=80.
    with tempfile.TemporaryDirectory() as folder:
        stored = Path(folder) / "preview.jpg"
        stored.write_bytes(sources["preview 256"])
        cold_s80 = median_ms(
            lambda: render_source(stored.read_bytes(), 80, "JPEG"), repeat=repeat * 2
        )

    small = square.resize_square(master, 80)
    large = square.resize_square(master, 512)
    encodes = []
    for fmt in ("JPEG", "PNG", "WEBP", "AVIF"):
        if not encode.can_encode(fmt):
            continue
        for edge, image in ((80, small), (512, large)):
            encodes.append(
                {
                    "format": fmt,
                    "edge_px": edge,
                    "median_ms": round(
                        median_ms(partial(encode.encode, image, fmt), repeat=repeat), 2
                    ),
                    "bytes": len(encode.encode(image, fmt)),
                }
            )
    result: dict[str, object] = {
        "cold_s80_from_typical_upload_ms": round(cold_s80, 2),
        "target_ms": 5.0,
        "resize": cases,
        "encode": encodes,
    }
    result["markdown"] = _markdown(result)
    return result


def _markdown(result: dict[str, object]) -> str:
    lines = [
        "Rendition time in process (median ms; JPEG output unless stated):",
        "",
        "| source | target | " + " | ".join(METHODS) + " |",
        "|---|---:|" + "---:|" * len(METHODS),
    ]
    cases = result["resize"]
    assert isinstance(cases, list)
    rows: dict[tuple[str, int], dict[str, float]] = {}
    for case in cases:
        rows.setdefault((case["source"], case["target_px"]), {})[case["method"]] = case["median_ms"]
    for (source, target), timings in rows.items():
        cells = " | ".join(f"{timings[name]:.2f}" for name in METHODS)
        lines.append(f"| {source} | {target} px | {cells} |")
    lines += ["", "| encode | 80 px ms | 512 px ms | 512 px bytes |", "|---|---:|---:|---:|"]
    encodes = result["encode"]
    assert isinstance(encodes, list)
    by_format: dict[str, dict[int, dict[str, float]]] = {}
    for item in encodes:
        by_format.setdefault(item["format"], {})[item["edge_px"]] = item
    for fmt, edges in by_format.items():
        lines.append(
            f"| {fmt} | {edges[80]['median_ms']:.2f} | {edges[512]['median_ms']:.2f} | "
            f"{edges[512]['bytes']} |"
        )
    lines += [
        "",
        f"Cold s=80 rendition of a typical upload (2048 px photo; read the stored 256 px "
        f"preview, decode with draft, resize, encode): median "
        f"{result['cold_s80_from_typical_upload_ms']:.2f} ms (target: at most 5 ms).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON for bench/run.py")
    parser.add_argument("--repeat", type=int, default=40)
    options = parser.parse_args()
    result = run(options.repeat)
    if options.json:
        json.dump(result, sys.stdout, indent=2)
    else:
        print(result["markdown"])


if __name__ == "__main__":
    main()
