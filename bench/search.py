#!/usr/bin/env python3
"""Benchmark the static search and compare it with Pagefind, and print the figures.

    python bench/search.py [--services 2000]

Part 1, the synthetic knowledge base (N services × 4 municipalities): index build time,
size of the exported index, bytes fetched by a typical first query, median and 95th
percentile query time, in Python over the exported files and in chromium.
Part 2, our real content with the query set of tests/search/queries.yaml, against Pagefind
(`pagefind[bin]` from PyPI, installed when missing) over the same built pages (the <main>
of every page): top-3 hit rate, bytes fetched per first query (median), index size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from dynamic.platform.security import CONTENT_SECURITY_POLICY  # noqa: E402
from generator.pipeline import build, check  # noqa: E402
from generator.resolve import resolve  # noqa: E402
from generator.search_documents import documents  # noqa: E402
from search_index.index import export  # noqa: E402
from search_index.query import Index  # noqa: E402

SYNTHETIC_QUERIES = ["antrag", "bescheinigung ausweis", "genehmigung", "leistung 01234", "termin unterlagen",
                     "bescheid frist", "beratung", "zuschuss", "anmeldung formular", "nachweis gebuehr",
                     "ausweiss", "genehmigng", "verwaltung buergerbuero", "pruefung", "auskunft erlaubnis"]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


@contextmanager
def served(folder: Path, policy: str | None = None) -> Iterator[str]:
    from werkzeug.serving import make_server

    from dynamic import create_app
    from dynamic.platform.config import settings_from_env
    from dynamic.platform.security import CONTENT_SECURITY_POLICY
    from dynamic.serve import migrate_database

    settings = {"output_dir": folder, "var_dir": folder.parent / "var"}
    migrate_database(**settings)
    app = create_app(settings_from_env({}, **settings), CONTENT_SECURITY_POLICY=policy or CONTENT_SECURITY_POLICY)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def first_query(browser: Any, url: str, script: str, query: str, prefix: str) -> tuple[list[str], int]:
    """Top-3 URLs and the bytes fetched below prefix, in a fresh browser (empty cache)."""
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(url)
    fetched: list[int] = []
    page.on("response", lambda r: fetched.append(len(r.body())) if prefix in r.url else None)
    urls = page.evaluate(script, query)
    page.wait_for_timeout(50)
    context.close()
    return list(urls), sum(fetched)


OURS_JS = """async (q) => {
  const index = new BuergerportalSearch.Index(p => fetch(document.querySelector('#suchformular')
      .getAttribute('data-index') + p).then(r => r.ok ? r.json() : null));
  return (await index.search(q, 3)).map(h => h.url);
}"""
PAGEFIND_JS = """async (q) => {
  const base = location.pathname.split('/').slice(0, 2).join('/');
  const pagefind = await import(base + '/pagefind/pagefind.js');
  const result = await pagefind.search(q);
  const top = await Promise.all(result.results.slice(0, 3).map(r => r.data()));
  return top.map(d => d.url.replace(/index\\.html$/, ''));  // Pagefind's URLs already start at the server root
}"""
TIMING_JS = """async (queries) => {
  const index = new BuergerportalSearch.Index(p => fetch(document.querySelector('#suchformular')
      .getAttribute('data-index') + p).then(r => r.ok ? r.json() : null));
  const times = [];
  for (const q of queries) { const t = performance.now(); await index.search(q, 10); times.push(performance.now() - t); }
  return times;
}"""


def synthetic(services: int) -> None:
    from synthetic import make_content

    content = make_content(WORK / "content", services=services)
    catalogs = resolve(check(content))
    started = time.perf_counter()
    exported = {slug: export(documents(catalog, [])) for slug, catalog in catalogs.items()}
    seconds = time.perf_counter() - started
    size = sum(len(data) for files in exported.values() for data in files.values())
    files = exported["stadt-a"]
    times, first_bytes = [], []
    for _ in range(3):
        index = Index(files.get)
        for query in SYNTHETIC_QUERIES:
            fresh = Index(files.get)
            fresh.search(query)
            first_bytes.append(fresh.fetched_bytes)
            started_query = time.perf_counter()
            index.search(query)
            times.append((time.perf_counter() - started_query) * 1000)
    print(f"synthetic knowledge base: {services} services × 4 municipalities, {len(files)} files per site")
    print(f"index build (4 sites):    {seconds:6.2f} s")
    print(f"exported index size:      {size / 1e6:6.2f} MB for 4 sites ({sum(map(len, files.values())) / 1e6:.2f} MB per site)")
    print(f"bytes per first query:    {statistics.median(first_bytes) / 1e3:6.1f} kB (median)")
    print(f"query time, Python:       {statistics.median(times):6.1f} ms median, {percentile(times, 0.95):.1f} ms p95")

    out = WORK / "search-out"
    build(content, out, only="stadt-a", show_progress=False)
    with served(out) as base, chromium() as browser:
        page = browser.new_page()
        page.goto(f"{base}/stadt-a/suche/")
        browser_times = page.evaluate(TIMING_JS, SYNTHETIC_QUERIES * 3)
    print(f"query time, chromium:     {statistics.median(browser_times):6.1f} ms median, "
          f"{percentile(browser_times, 0.95):.1f} ms p95")


def against_pagefind() -> None:
    queries = yaml.safe_load((ROOT / "tests" / "search" / "queries.yaml").read_text(encoding="utf-8"))
    site = WORK / "pagefind-site"
    shutil.rmtree(site, ignore_errors=True)
    build(ROOT / "content", WORK / "real-out", today=dt.date.today(), show_progress=False)
    shutil.copytree(WORK / "real-out", site, symlinks=False, ignore=shutil.ignore_patterns(".*"))
    slugs = sorted({q["site"] for q in queries})
    for slug in slugs:
        subprocess.run([sys.executable, "-m", "pagefind", "--site", str(site / slug), "--root-selector", "main",
                        "--force-language", "de", "--silent"], check=True)
    ours_hits = theirs_hits = 0
    ours_bytes, theirs_bytes = [], []
    # Pagefind compiles WebAssembly, which our Content-Security-Policy forbids; only this
    # comparison relaxes it. Our own search runs under the strict policy.
    relaxed = CONTENT_SECURITY_POLICY.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'")
    with served(site, relaxed) as base, chromium() as browser:
        for q in queries:
            expected = f"/{q['site']}/{q['expect']}"
            url = f"{base}/{q['site']}/suche/"
            found, fetched = first_query(browser, url, OURS_JS, q["query"], "/suche/")
            ours_hits += expected in found
            ours_bytes.append(fetched)
            found, fetched = first_query(browser, url, PAGEFIND_JS, q["query"], "/pagefind/")
            theirs_hits += expected in found
            theirs_bytes.append(fetched)
    size = {"ours": sum(p.stat().st_size for s in slugs for p in (site / s / "suche").rglob("*") if p.is_file()),
            "pagefind": sum(p.stat().st_size for s in slugs for p in (site / s / "pagefind").rglob("*") if p.is_file())}
    n = len(queries)
    print(f"real content, {n} queries of tests/search/queries.yaml, four sites:")
    print(f"  top-3 hit rate:          ours {ours_hits / n:6.1%}   Pagefind {theirs_hits / n:6.1%}")
    print(f"  bytes per first query:   ours {statistics.median(ours_bytes) / 1e3:6.1f} kB   "
          f"Pagefind {statistics.median(theirs_bytes) / 1e3:6.1f} kB  (median)")
    print(f"  index size (4 sites):    ours {size['ours'] / 1e6:6.2f} MB   Pagefind {size['pagefind'] / 1e6:6.2f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=2000)
    args = parser.parse_args()
    try:
        import pagefind  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "pagefind[bin]==1.5.2"], check=True)
    synthetic(args.services)
    against_pagefind()


if __name__ == "__main__":
    main()
