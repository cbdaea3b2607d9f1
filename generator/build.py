"""Orchestrate a build: load, validate, resolve, then one Pelican run per municipality.

Each municipality is built into a fresh folder next to its live folder and swapped in
only when the whole run succeeded, so a failed build never leaves a half-written site.
Municipalities are built in parallel processes (one per core).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import multiprocessing as mp
import os
import shutil
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import FileSystemBytecodeCache

from .catalog import Catalog
from .errors import BuildError, ContentError
from .load import ParseCache, load_content
from .resolve import resolve_municipality
from .validate import ValidContent, validate
from .write import SiteWriter

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
THEME = ROOT / "site_templates"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


@dataclass
class SiteResult:
    slug: str
    pages: int
    rendered: int
    reused: int
    seconds: float
    warnings: list[str] = field(default_factory=list)


@dataclass
class BuildJob:
    """What the Pelican generator needs; travels through Pelican's settings."""

    catalog: Catalog
    writer: SiteWriter
    base_url: str
    today: dt.date
    theme_print: str
    progress: Callable[[int], None] = field(default=lambda n: None)
    search_cache: Path | None = None  # where the site's Whoosh index is kept between builds


def check(content_dir: Path, cache: ParseCache | None = None) -> ValidContent:
    """Load and validate all content; raise ContentError listing every problem."""
    raw, problems = load_content(content_dir, cache)
    valid, more = validate(raw)
    raw.cache.save()
    problems += more
    if problems:
        raise ContentError(problems)
    return valid


def theme_fingerprint() -> str:
    """Changes whenever a template, a static file, or the generator or search index code changes."""
    digest = hashlib.sha1()
    for folder in (THEME, ROOT / "generator", ROOT / "search_index"):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def pelican_settings(catalog: Catalog, output: Path, job: BuildJob) -> dict[str, Any]:
    from pelican.settings import DEFAULT_CONFIG, configure_settings

    from .pages import site_info
    from .plugin import SETTING

    m = catalog.municipality
    settings = dict(DEFAULT_CONFIG)
    static = [m.branding.logo] if m.branding.logo else []
    settings.update(
        {
            "PATH": str(catalog.folder),
            "OUTPUT_PATH": str(output),
            "THEME": str(THEME),
            "THEME_STATIC_DIR": "theme",
            "SITENAME": m.name,
            "SITEURL": f"/{catalog.slug}",
            "DEFAULT_LANG": "de",
            "TIMEZONE": "Europe/Berlin",
            "LOCALE": ("C.UTF-8", ""),
            "DEFAULT_DATE_FORMAT": "%d.%m.%Y",
            "DEFAULT_PAGINATION": False,
            "RELATIVE_URLS": False,
            "ARTICLE_PATHS": ["news"],
            "PAGE_PATHS": ["pages"],
            "STATIC_PATHS": static,
            "ARTICLE_EXCLUDES": [],
            "PAGE_EXCLUDES": [],
            "SLUGIFY_SOURCE": "basename",
            "ARTICLE_URL": "aktuelles/{slug}/",
            "ARTICLE_SAVE_AS": "aktuelles/{slug}/index.html",
            "PAGE_URL": "{slug}/",
            "PAGE_SAVE_AS": "{slug}/index.html",
            "DIRECT_TEMPLATES": [],
            "PAGINATED_TEMPLATES": {},
            "CATEGORY_SAVE_AS": "",
            "CATEGORIES_SAVE_AS": "",
            "TAG_SAVE_AS": "",
            "TAGS_SAVE_AS": "",
            "AUTHOR_SAVE_AS": "",
            "AUTHORS_SAVE_AS": "",
            "ARCHIVES_SAVE_AS": "",
            "YEAR_ARCHIVE_SAVE_AS": "",
            "MONTH_ARCHIVE_SAVE_AS": "",
            "DAY_ARCHIVE_SAVE_AS": "",
            "DRAFT_SAVE_AS": "",
            "DRAFT_PAGE_SAVE_AS": "",
            "FEED_DOMAIN": f"{job.base_url}/{catalog.slug}",
            "FEED_ALL_ATOM": "aktuelles/feed.xml",
            "FEED_ATOM": None,
            "CATEGORY_FEED_ATOM": None,
            "TRANSLATION_FEED_ATOM": None,
            "AUTHOR_FEED_ATOM": None,
            "AUTHOR_FEED_RSS": None,
            "FEED_ALL_RSS": None,
            "TAG_FEED_ATOM": None,
            "CACHE_CONTENT": False,
            "LOAD_CONTENT_CACHE": False,
            "DELETE_OUTPUT_DIRECTORY": False,
            "PLUGINS": ["generator.plugin"],
            "PLUGIN_PATHS": [],
            "JINJA_ENVIRONMENT": {  # the plugin makes the theme's environment with this cache
                # Compiled templates are kept between builds (a rebuild renders few pages).
                "bytecode_cache": FileSystemBytecodeCache(str(_folder(output.parent / ".cache" / "templates"))),
            },
            "TYPOGRIFY": False,
            "SUMMARY_MAX_LENGTH": 40,
            "PORTAL_SITE": site_info(catalog, job.base_url),
            SETTING: job,
        }
    )
    return configure_settings(settings)


def _folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def build_site(
    catalog: Catalog,
    out_root: Path,
    base_url: str,
    today: dt.date,
    theme_print: str,
    progress: Callable[[int], None] = lambda n: None,
) -> SiteResult:
    """Bring the staging folder of one municipality up to date, then swap it in."""
    from pelican import Pelican, signals
    from pelican.log import console

    console.quiet = True
    logging.getLogger("pelican").setLevel(logging.ERROR)
    started = time.perf_counter()
    link = out_root / catalog.slug
    live, staging = _buffers(out_root, catalog.slug)
    staging.mkdir(parents=True, exist_ok=True)
    writer = SiteWriter(staging, live)
    job = BuildJob(catalog, writer, base_url, today, theme_print, progress,
                   search_cache=out_root / ".cache" / "search" / catalog.slug)
    written_by_pelican: list[str] = []

    def remember(path: str, **_: Any) -> None:
        if Path(path).is_relative_to(staging):
            written_by_pelican.append(str(Path(path).relative_to(staging)))

    signals.content_written.connect(remember)
    signals.feed_written.connect(remember)
    try:
        pelican = Pelican(pelican_settings(catalog, staging, job))
        pelican.run()
        static = [catalog.municipality.branding.logo] if catalog.municipality.branding.logo else []
        theme = [f"theme/{p.relative_to(THEME / 'static')}" for p in (THEME / "static").rglob("*") if p.is_file()]
        writer.remove_stale(written_by_pelican + static + theme)
        writer.save_manifest()
    except BuildError:
        raise
    except Exception as exc:  # Pelican and templates raise anything; report it as a failed build
        raise BuildError(f"{catalog.slug}: build failed: {exc.__class__.__name__}: {exc}") from exc
    finally:
        signals.content_written.disconnect(remember)
        signals.feed_written.disconnect(remember)
    _point(link, staging)
    return SiteResult(catalog.slug, len(writer.manifest), writer.rendered, writer.reused, time.perf_counter() - started)


def _buffers(out_root: Path, slug: str) -> tuple[Path | None, Path]:
    """The live folder (None before the first build) and the staging folder of a site."""
    link = out_root / slug
    first, second = out_root / f".{slug}.a", out_root / f".{slug}.b"
    if link.is_symlink():
        live = (out_root / os.readlink(link)).resolve()
        return live, (second if live == first.resolve() else first)
    if link.is_dir():  # a plain folder from elsewhere: adopt it as the live buffer
        shutil.rmtree(first, ignore_errors=True)
        link.rename(first)
        link.symlink_to(first.name)
        return first.resolve(), second
    return None, first


def _point(link: Path, target: Path) -> None:
    """Atomically make link point to target (a sibling folder)."""
    temporary = link.with_name(f".{link.name}.link")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target.name)
    os.replace(temporary, link)


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

    valid: ValidContent = _worker_state["valid"]
    catalog = resolve_municipality(valid.municipalities[slug], valid)
    return build_site(catalog, out_root, base_url, today, theme_print, progress)


def _preload() -> None:
    """Import what every site build needs once, before the workers are forked."""
    import pelican.generators  # noqa: F401

    from .pages import public_holidays

    public_holidays(dt.date.today())


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
            catalog = resolve_municipality(valid.municipalities[slug], valid)
            results.append(build_site(catalog, out_root, base_url, today, theme_print))
            if site_built is not None:
                site_built(slug)
    else:
        results = _build_parallel(valid, slugs, out_root, base_url, today, theme_print, workers, show)
    if only is None:
        write_portal_index(out_root, [(slug, valid.municipalities[slug].municipality) for slug in sorted(slugs)],
                           valid.portal)
    return sorted(results, key=lambda result: result.slug)


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


def write_portal_index(out_root: Path, municipalities: list[tuple[str, Any]], operator: Any = None) -> None:
    """The portal's root page lists every municipality; beside it the operator's legal pages
    (generator/portal.py)."""
    from .portal import write_portal_pages

    write_portal_pages(out_root, THEME, municipalities, operator)
