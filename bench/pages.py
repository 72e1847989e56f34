"""Time the page work of a cold check, apart from the network: JSON decoding and view building.

A benchmark, not a test. It reads the PEP 691 pages a run left in a cache folder and times, best of 3, what a
worker does with each body: decode it, and decode it and build its view for one target. When msgspec is
importable (it is not a dependency: ``pip install msgspec`` into the same venv), it also times msgspec's
decoder, untyped and into Structs, on the same bodies: the typed decoder the restructuring issue asked to
measure before taking it (docs/architecture.md, "What was tried").

    python -m resolver check bench/ml.txt --cache-dir /tmp/c --python 3.11 --platform manylinux_2_28_x86_64
    python bench/pages.py /tmp/c
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import importlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from resolver.core.target import make_target
from resolver.index.cache import _LENGTH, _MAGIC, Cache
from resolver.index.finder import Finder
from resolver.index.lazylinks import LazyLinks
from resolver.index.simple import parse_json_page_entries

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


def _bodies(root: Path) -> list[tuple[str, bytes]]:
    """The JSON pages of a cache folder, each read back (and checksummed) by the cache under its own key."""
    cache = Cache(root)
    found = []
    for path in sorted((root / "pages").rglob("*")):
        raw = path.read_bytes() if path.is_file() else b""
        start = len(_MAGIC) + _LENGTH.size
        if not raw.startswith(_MAGIC) or len(raw) < start:
            continue
        (length,) = _LENGTH.unpack_from(raw, len(_MAGIC))
        key = json.loads(raw[start : start + length]).get("key", "")
        page = cache.get_page(key)
        if page is not None and (page.content_type or "").startswith(JSON_TYPE):
            found.append((key, page.body))
    return found


def _best(run: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        gc.collect()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cache", type=Path, help="a cache folder a check filled (--cache-dir)")
    args = parser.parse_args()
    bodies = _bodies(args.cache)
    if not bodies:
        raise SystemExit(f"{args.cache}: no JSON pages in this cache folder")
    size = sum(len(body) for _, body in bodies) / 1e6
    print(f"{len(bodies)} JSON pages, {size:.1f} MB")
    finder = Finder(None, make_target("3.11", "manylinux_2_28_x86_64"))  # type: ignore[arg-type]  # no index

    def views() -> None:
        for url, body in bodies:
            parsed, entries = parse_json_page_entries(body, url=url)
            page = dataclasses.replace(parsed, files=LazyLinks(entries, url=url, index_url=url, compact=True))
            finder._build(page)

    rows: list[tuple[str, float]] = [("json.loads", _best(lambda: [json.loads(b) for _, b in bodies]))]
    rows += _msgspec_rows(bodies)
    rows.append(("decode + view (what a worker does)", _best(views)))
    for label, seconds in rows:
        print(f"  {label:<36} {seconds:6.3f} s")


def _msgspec_rows(bodies: list[tuple[str, bytes]]) -> list[tuple[str, float]]:
    try:
        msgspec: Any = importlib.import_module("msgspec")
    except ImportError:
        return []
    file = msgspec.defstruct(
        "File",
        [
            ("filename", str),
            ("url", str),
            ("hashes", dict[str, str], {}),
            ("requires_python", str | None, None),
            ("yanked", bool | str, False),
            ("core_metadata", bool | dict[str, str], False),
            ("size", int | None, None),
            ("upload_time", str | None, None),
        ],
        rename={"requires_python": "requires-python", "core_metadata": "core-metadata", "upload_time": "upload-time"},
    )
    files = list.__class_getitem__(file)  # list[File], built at run time
    page = msgspec.defstruct("Page", [("name", str), ("files", files), ("versions", list[str], [])])
    untyped, typed = msgspec.json.Decoder(), msgspec.json.Decoder(page)
    return [
        ("msgspec, untyped", _best(lambda: [untyped.decode(b) for _, b in bodies])),
        ("msgspec, into Structs", _best(lambda: [typed.decode(b) for _, b in bodies])),
    ]


if __name__ == "__main__":
    main()
