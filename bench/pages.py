#!/usr/bin/env python3
"""Weigh every built page with what it loads, and print the figures.

    python bench/pages.py [--out DIR]      # default: build the real content into a temporary folder

For every HTML page of every site: the page's bytes plus the stylesheets and scripts it
loads (uncompressed and gzip level 6, as a web server sends them), the number of requests
(page, stylesheets, scripts, images), and whether its <main> has readable text without
running any script. Prints median and largest per measure, the largest page, and the
targets: every page under 30 KB gzip with everything it loads, and no page that needs
JavaScript to show its content.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_GZIP = 30 * 1024


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.styles: list[str] = []
        self.scripts: list[str] = []
        self.images: list[str] = []
        self.main_text: list[str] = []
        self._in_main = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "link" and "stylesheet" in a.get("rel", "").split() and a.get("media", "all") != "print":
            self.styles.append(a["href"])
        elif tag == "script":
            self._in_script = True
            if a.get("src"):
                self.scripts.append(a["src"])
        elif tag == "img" and a.get("src"):
            self.images.append(a["src"])
        elif tag == "main":
            self._in_main += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        elif tag == "main":
            self._in_main -= 1

    def handle_data(self, data: str) -> None:
        if self._in_main and not self._in_script and data.strip():
            self.main_text.append(data.strip())


@dataclass(frozen=True)
class Weight:
    path: str
    raw: int
    zipped: int
    requests: int
    readable: bool


@cache
def _sizes(file: Path) -> tuple[int, int]:
    data = file.read_bytes()
    return len(data), len(gzip.compress(data, 6))


def weigh(out: Path, page: Path) -> Weight:
    parser = _Page()
    parser.feed(page.read_text(encoding="utf-8"))
    raw, zipped = _sizes(page)
    for href in parser.styles + parser.scripts:
        if href.startswith("/") and not href.startswith("//"):
            target = out / href.split("?", 1)[0].lstrip("/")
            if target.is_file():
                r, z = _sizes(target)
                raw, zipped = raw + r, zipped + z
    requests = 1 + len(parser.styles) + len(parser.scripts) + len(parser.images)
    readable = sum(len(t) for t in parser.main_text) >= 20
    return Weight(str(page.relative_to(out)), raw, zipped, requests, readable)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=None, help="a built output folder (default: build one)")
    args = parser.parse_args()
    out = args.out
    if out is None:
        from generator.pipeline import build

        out = Path(tempfile.mkdtemp(prefix="pages-")) / "output"
        build(ROOT / "content", out, show_progress=False)
    pages = [p for site in sorted(out.iterdir()) if site.is_dir() and not site.name.startswith(".")
             for p in sorted(site.rglob("*.html"))]
    weights = [weigh(out, page) for page in pages]
    raw = [w.raw for w in weights]
    zipped = [w.zipped for w in weights]
    requests = [w.requests for w in weights]
    largest = max(weights, key=lambda w: w.zipped)
    over = [w for w in weights if w.zipped > TARGET_GZIP]
    unreadable = [w for w in weights if not w.readable]
    print(f"pages: {len(weights)} HTML pages of {len({w.path.split('/')[0] for w in weights})} sites in {out}")
    print(f"{'per page, with its CSS and scripts':36}{'median':>10}{'largest':>10}")
    print(f"{'bytes uncompressed':36}{statistics.median(raw):10,.0f}{max(raw):10,}")
    print(f"{'bytes gzip':36}{statistics.median(zipped):10,.0f}{max(zipped):10,}")
    print(f"{'requests (page, CSS, scripts, images)':36}{statistics.median(requests):10.0f}{max(requests):10}")
    print(f"largest: {largest.path} ({largest.zipped:,} bytes gzip, {largest.raw:,} uncompressed)")
    print(f"target: every page under {TARGET_GZIP // 1024} KB gzip with what it loads: "
          f"{'met' if not over else f'not met ({len(over)} pages over)'}")
    print(f"target: no page needs JavaScript for its content: "
          f"{'met' if not unreadable else 'not met: ' + ', '.join(w.path for w in unreadable[:5])}")


if __name__ == "__main__":
    main()
