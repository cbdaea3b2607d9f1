"""The build, stage by stage: resolve → render → export → index → swap.

`check` loads and validates all content once. Then, per municipality, `build_site`
resolves its Catalog, renders the pages into the site's staging folder (one Pelican run,
generator/render.py), exports katalog.json, xzufi.xml and the sitemap, builds the search
index (search_index), and only when all of that succeeded swaps the staging folder in, so
a failed build never leaves a half-written site. Every file goes through one SiteWriter
per site (generator/write.py). Municipalities are built in parallel processes (one per
core); last comes the portal's root (generator/portal.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import multiprocessing as mp
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any

from . import export, xzufi
from .catalog import Catalog, source_of
from .errors import BuildError, ContentError
from .load import ParseCache, load_content
from .opendata import write_open_data
from .render import ROOT, THEME, Rendered, render, static_files
from .resolve import resolve_municipality
from .search_documents import documents, search_extras
from .validate import ValidContent, validate
from .write import SiteWriter, digest, site_folders, swap

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


@dataclass
class SiteResult:
    slug: str
    pages: int
    rendered: int
    reused: int
    seconds: float
    warnings: list[str] = field(default_factory=list)


def build(
    content_dir: Path,
    out_root: Path,
    only: str | None = None,
    base_url: str = DEFAULT_BASE_URL,
    today: dt.date | None = None,
    workers: int | None = None,
    show_progress: bool | None = None,
    cache: ParseCache | None = None,
    first: str | None = None,
    site_built: Callable[[str], None] | None = None,
) -> list[SiteResult]:
    """Validate everything, then build every municipality (or only one).

    A long-running caller (build.py serve) passes its own cache and so keeps parsed and
    validated files in memory between builds; otherwise the cache lives in out_root. With
    `site_built`, the sites are built one after the other in this process (`first` first,
    the one an editor is looking at) and the callback hears of each as soon as it is live.
    """
    valid = check(content_dir, cache or ParseCache(out_root / ".cache" / "parsed-content.pickle"))
    slugs = sorted(valid.municipalities)
    if only is not None:
        if only not in valid.municipalities:
            raise BuildError(f'unknown municipality "{only}"; known: {", ".join(slugs)}')
        slugs = [only]
    out_root.mkdir(parents=True, exist_ok=True)
    today = today or dt.date.today()
    theme_print = theme_fingerprint()
    if first in slugs:
        slugs = [first, *(slug for slug in slugs if slug != first)]
    workers = 1 if site_built is not None else workers or min(len(slugs), os.cpu_count() or 1)
    show = sys.stderr.isatty() if show_progress is None else show_progress
    _preload()
    if workers <= 1:
        results = []
        for slug in slugs:
            results.append(build_site(valid, slug, out_root, base_url, today, theme_print))
            if site_built is not None:
                site_built(slug)
    else:
        results = _build_parallel(valid, slugs, out_root, base_url, today, theme_print, workers, show)
    if only is None:
        write_portal_index(out_root, [(slug, valid.municipalities[slug].municipality) for slug in sorted(slugs)],
                           valid.portal, base_url)
    return sorted(results, key=lambda result: result.slug)


def check(content_dir: Path, cache: ParseCache | None = None, *, today: dt.date | None = None,
          max_age_months: int = 12) -> ValidContent:
    """Load and validate all content; raise ContentError listing every problem. A check date
    (geprueft_am) older than max_age_months is a warning."""
    raw, problems = load_content(content_dir, cache)
    valid, more = validate(raw, today=today, max_age_months=max_age_months)
    raw.cache.save()
    problems += more
    if problems:
        raise ContentError(problems)
    return valid


def theme_fingerprint() -> str:
    """Changes whenever a template, a static file, or the generator or search index code changes."""
    fingerprint = hashlib.sha1()
    for folder in (THEME, ROOT / "generator", ROOT / "search_index"):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                fingerprint.update(str(path.relative_to(ROOT)).encode())
                fingerprint.update(path.read_bytes())
    return fingerprint.hexdigest()


def build_site(
    valid: ValidContent,
    slug: str,
    out_root: Path,
    base_url: str,
    today: dt.date,
    theme_print: str,
    progress: Callable[[int], None] = lambda n: None,
) -> SiteResult:
    """One municipality, stage by stage. Every stage writes through one SiteWriter into the
    site's staging folder, which is swapped in only when all of them succeeded."""
    catalog = resolve_municipality(valid.municipalities[slug], valid)
    started = time.perf_counter()
    live, staging = site_folders(out_root, slug)
    staging.mkdir(parents=True, exist_ok=True)
    writer = SiteWriter(staging, live)
    try:
        rendered = render(catalog, writer, base_url, today, theme_print, progress)
        export_site(catalog, writer, rendered, base_url, today)
        index_site(catalog, writer, rendered, out_root / ".cache" / "search" / slug)
        writer.remove_stale(static_files(catalog))
        writer.save_manifest()
    except BuildError:
        raise
    except Exception as exc:  # Pelican and templates raise anything; report it as a failed build
        raise BuildError(f"{slug}: build failed: {exc.__class__.__name__}: {exc}") from exc
    swap(out_root / slug, staging)
    return SiteResult(slug, len(writer.manifest), writer.rendered, writer.reused, time.perf_counter() - started)


def export_site(catalog: Catalog, writer: SiteWriter, rendered: Rendered, base_url: str, today: dt.date) -> None:
    """katalog.json and xzufi.xml from the Catalog, sitemap.xml from the rendered pages, each
    with the day it last changed."""
    katalog_print = digest(
        rendered.site_print,
        "katalog",
        *(s for e in catalog.services.values() for s in e.sources),
        *catalog.digests("units", catalog.units),
        *catalog.digests("locations", catalog.locations),
        *(source_of(f.form) for f in catalog.forms.values()),
    )
    writer.write("katalog.json", "catalog", katalog_print, lambda: export.katalog_json(catalog, base_url))
    export_xzufi(catalog, writer, digest(katalog_print, "xzufi"), base_url)
    site_base = f"/{catalog.slug}/"
    changed = {path: writer.changed_on(_file_of(path, site_base), today) for path in rendered.html_paths}
    writer.write("sitemap.xml", "site", digest("sitemap", *sorted(changed.items()), base_url),
                 lambda: export.sitemap_xml(base_url, changed))
    write_open_data(catalog, writer, base_url, today)  # vCards, closing days, the services as CSV and JSON


def export_xzufi(catalog: Catalog, writer: SiteWriter, print_: str, base_url: str) -> None:
    """xzufi.xml, and the change set against the last build (generator/xzufi/changes.py) with
    its record. The objects are made at most once, and not at all when nothing exported
    changed: then the last build's change set and record stand as they are."""

    @cache
    def made() -> tuple[list[xzufi.XObject], str, str]:
        found = xzufi.objects(catalog, base_url)
        changes, record = xzufi.change_document(catalog, found, xzufi.read_record(writer.live))
        return found, changes, json.dumps(record, sort_keys=True)

    writer.write("xzufi.xml", "catalog", print_, lambda: xzufi.full_document(catalog, made()[0]))
    live = writer.live_manifest
    if live.get("xzufi.xml") == print_ and xzufi.CHANGES in live and xzufi.RECORD in live:
        prints = (live[xzufi.CHANGES], live[xzufi.RECORD])
    else:
        prints = (digest(made()[1]), digest(made()[2]))
    writer.write(xzufi.CHANGES, "catalog", prints[0], lambda: made()[1])
    writer.write(xzufi.RECORD, "catalog", prints[1], lambda: made()[2])


def _file_of(url_path: str, site_base: str) -> str:
    """The file a page's address is served from: /muenster/leistungen/x/ → leistungen/x/index.html."""
    relative = url_path.removeprefix(site_base)
    return relative + "index.html" if relative.endswith("/") or not relative else relative


def index_site(catalog: Catalog, writer: SiteWriter, rendered: Rendered, cache: Path) -> None:
    """The exported search index under suche/, made again only when what it indexes
    changed; then each file is fingerprinted by its bytes, so that files which came out
    the same are linked, not written. cache: where the site's Whoosh index is kept."""
    from search_index.index import export as export_index

    docs = documents(catalog, rendered.news)
    meta = search_extras(catalog, docs)
    search_print = digest(rendered.site_print, "search", *(repr(d) for d in docs), repr(meta))
    marker = "suche/.quelle"  # a hidden file (not served) that records what was indexed
    previous = writer.previous_prints(("suche/t/", "suche/d/", "suche/meta.json", marker), marker, search_print)
    if previous is not None:
        for path, print_ in previous.items():
            writer.write(path, "search index", print_, _never)
        return
    for path, data in export_index(docs, cache, meta).items():
        writer.write(f"suche/{path}", "search index", hashlib.sha1(data).hexdigest(), partial(bytes, data))
    writer.write(marker, "search index", search_print, lambda: search_print.encode())


def _never() -> bytes:
    raise BuildError("a search index file to be reused was missing; run the build again")


def write_portal_index(out_root: Path, municipalities: list[tuple[str, Any]], operator: Any = None,
                       base_url: str = DEFAULT_BASE_URL) -> None:
    """The portal's root page lists every municipality; beside it the operator's legal pages,
    robots.txt, the sitemap index and the theme (generator/portal.py, through a SiteWriter of
    its own)."""
    from .portal import write_portal_pages

    write_portal_pages(out_root, THEME, municipalities, operator, base_url)


# --- parallel build with one progress line ---------------------------------------------

_worker_state: dict[str, Any] = {}


def _init_worker(valid: ValidContent, slots: Any) -> None:
    # Forked workers receive the validated content and the progress counters without
    # pickling; each worker keeps them for the sites it builds.
    _worker_state.update(valid=valid, slots=slots)


def _build_in_worker(
    index: int, slug: str, out_root: Path, base_url: str, today: dt.date, theme_print: str
) -> SiteResult:
    slots = _worker_state["slots"]

    def progress(n: int) -> None:
        with slots.get_lock():
            slots[index] += n

    return build_site(_worker_state["valid"], slug, out_root, base_url, today, theme_print, progress)


def _preload() -> None:
    """Import what every site build needs once, before the workers are forked."""
    import pelican.generators  # noqa: F401

    from .pages import public_holidays

    public_holidays(dt.date.today())


def _build_parallel(
    valid: ValidContent,
    slugs: list[str],
    out_root: Path,
    base_url: str,
    today: dt.date,
    theme_print: str,
    workers: int,
    show: bool,
) -> list[SiteResult]:
    context = mp.get_context("fork")
    slots = context.Array("i", len(slugs))
    totals = [_page_estimate(valid, slug) for slug in slugs]
    results: dict[str, SiteResult] = {}
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(valid, slots)) as pool:
        pending: set[Future[SiteResult]] = {
            pool.submit(_build_in_worker, i, slug, out_root, base_url, today, theme_print)
            for i, slug in enumerate(slugs)
        }
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                result = future.result()
                results[result.slug] = result
            if show:
                line = "  ".join(f"{slug} {min(slots[i], totals[i])}/{totals[i]}" for i, slug in enumerate(slugs))
                sys.stderr.write(f"\r{line}\x1b[K")
                sys.stderr.flush()
    if show:
        sys.stderr.write("\r\x1b[K")
    return [results[slug] for slug in slugs]


def _page_estimate(valid: ValidContent, slug: str) -> int:
    content = valid.municipalities[slug]
    return (
        len(valid.services)
        + len(valid.life_situations)
        + len(content.units)
        + len(content.locations)
        + len(content.contacts)
        + 12
    )
