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
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .catalog import Catalog
from .errors import BuildError, ContentError
from .load import load_content
from .resolve import resolve
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
    warnings: int = 0


@dataclass
class BuildJob:
    """What the Pelican generator needs; travels through Pelican's settings."""

    catalog: Catalog
    writer: SiteWriter
    base_url: str
    today: dt.date
    theme_print: str
    progress: Callable[[int], None] = field(default=lambda n: None)


def check(content_dir: Path) -> ValidContent:
    """Load and validate all content; raise ContentError listing every problem."""
    raw, problems = load_content(content_dir)
    valid, more = validate(raw)
    problems += more
    if problems:
        raise ContentError(problems)
    return valid


def theme_fingerprint() -> str:
    """Changes whenever a template, a static file or the generator's code changes."""
    digest = hashlib.sha1()
    for folder in (THEME, ROOT / "generator"):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def pelican_settings(catalog: Catalog, output: Path, job: BuildJob) -> dict[str, Any]:
    from pelican.settings import DEFAULT_CONFIG, configure_settings

    from .pages import site_info
    from .plugin import SETTING
    from .text import FILTERS

    m = catalog.municipality
    settings = dict(DEFAULT_CONFIG)
    static = [m.branding.logo] if m.branding.logo else []
    settings.update({
        "PATH": str(catalog.folder), "OUTPUT_PATH": str(output), "THEME": str(THEME),
        "THEME_STATIC_DIR": "theme", "SITENAME": m.name, "SITEURL": f"/{catalog.slug}",
        "DEFAULT_LANG": "de", "TIMEZONE": "Europe/Berlin", "LOCALE": ("C.UTF-8", ""),
        "DEFAULT_DATE_FORMAT": "%d.%m.%Y", "DEFAULT_PAGINATION": False, "RELATIVE_URLS": False,
        "ARTICLE_PATHS": ["news"], "PAGE_PATHS": ["pages"], "STATIC_PATHS": static,
        "ARTICLE_EXCLUDES": [], "PAGE_EXCLUDES": [],
        "SLUGIFY_SOURCE": "basename",
        "ARTICLE_URL": "aktuelles/{slug}/", "ARTICLE_SAVE_AS": "aktuelles/{slug}/index.html",
        "PAGE_URL": "{slug}/", "PAGE_SAVE_AS": "{slug}/index.html",
        "DIRECT_TEMPLATES": [], "PAGINATED_TEMPLATES": {},
        "CATEGORY_SAVE_AS": "", "CATEGORIES_SAVE_AS": "", "TAG_SAVE_AS": "", "TAGS_SAVE_AS": "",
        "AUTHOR_SAVE_AS": "", "AUTHORS_SAVE_AS": "", "ARCHIVES_SAVE_AS": "",
        "YEAR_ARCHIVE_SAVE_AS": "", "MONTH_ARCHIVE_SAVE_AS": "", "DAY_ARCHIVE_SAVE_AS": "",
        "DRAFT_SAVE_AS": "", "DRAFT_PAGE_SAVE_AS": "",
        "FEED_DOMAIN": job.base_url, "FEED_ALL_ATOM": "aktuelles/feed.xml", "FEED_ATOM": None,
        "CATEGORY_FEED_ATOM": None, "TRANSLATION_FEED_ATOM": None, "AUTHOR_FEED_ATOM": None,
        "AUTHOR_FEED_RSS": None, "FEED_ALL_RSS": None, "TAG_FEED_ATOM": None,
        "CACHE_CONTENT": False, "LOAD_CONTENT_CACHE": False, "DELETE_OUTPUT_DIRECTORY": False,
        "PLUGINS": ["generator.plugin"], "PLUGIN_PATHS": [],
        "JINJA_FILTERS": FILTERS, "JINJA_ENVIRONMENT": {"trim_blocks": True, "lstrip_blocks": True,
                                                         "extensions": [], "autoescape": True},
        "TYPOGRIFY": False, "SUMMARY_MAX_LENGTH": 40,
        "PORTAL_SITE": site_info(catalog, job.base_url), SETTING: job,
    })
    return configure_settings(settings)


def build_site(catalog: Catalog, out_root: Path, base_url: str, today: dt.date, theme_print: str,
               progress: Callable[[int], None] = lambda n: None) -> SiteResult:
    """Build one municipality into a fresh folder, then swap it in."""
    from pelican import Pelican
    from pelican.log import console

    console.quiet = True
    logging.getLogger("pelican").setLevel(logging.ERROR)
    started = time.perf_counter()
    live = out_root / catalog.slug
    staging = out_root / f".{catalog.slug}.building-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    writer = SiteWriter(staging, live if live.is_dir() else None)
    job = BuildJob(catalog, writer, base_url, today, theme_print, progress)
    try:
        Pelican(pelican_settings(catalog, staging, job)).run()
        writer.save_manifest()
    except BuildError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    except Exception as exc:  # Pelican and templates raise anything; report it as a failed build
        shutil.rmtree(staging, ignore_errors=True)
        raise BuildError(f"{catalog.slug}: build failed: {exc.__class__.__name__}: {exc}") from exc
    _swap(staging, live)
    return SiteResult(catalog.slug, len(writer.manifest), writer.rendered, writer.reused,
                      time.perf_counter() - started)


def _swap(staging: Path, live: Path) -> None:
    old = live.with_name(f".{live.name}.old-{os.getpid()}")
    if live.exists():
        live.rename(old)
    staging.rename(live)
    shutil.rmtree(old, ignore_errors=True)


# --- parallel build with one progress line ---------------------------------------------

_progress_slots: Any = None


def _init_worker(slots: Any) -> None:
    global _progress_slots  # per worker process: where to report progress
    _progress_slots = slots


def _build_in_worker(index: int, catalog: Catalog, out_root: Path, base_url: str, today: dt.date,
                     theme_print: str) -> SiteResult:
    def progress(n: int) -> None:
        with _progress_slots.get_lock():
            _progress_slots[index] += n
    return build_site(catalog, out_root, base_url, today, theme_print, progress)


def build(content_dir: Path, out_root: Path, only: str | None = None, base_url: str = DEFAULT_BASE_URL,
          today: dt.date | None = None, workers: int | None = None, show_progress: bool | None = None) -> list[SiteResult]:
    """Validate everything, then build every municipality (or only one)."""
    valid = check(content_dir)
    catalogs = resolve(valid)
    if only is not None:
        if only not in catalogs:
            raise BuildError(f'unknown municipality "{only}"; known: {", ".join(catalogs)}')
        catalogs = {only: catalogs[only]}
    out_root.mkdir(parents=True, exist_ok=True)
    today = today or dt.date.today()
    theme_print = theme_fingerprint()
    workers = workers or min(len(catalogs), os.cpu_count() or 1)
    show = sys.stderr.isatty() if show_progress is None else show_progress
    if workers <= 1:
        results = [build_site(c, out_root, base_url, today, theme_print) for c in catalogs.values()]
    else:
        results = _build_parallel(list(catalogs.values()), out_root, base_url, today, theme_print, workers, show)
    write_portal_index(out_root, [catalogs[r.slug] for r in results] if only is None else None)
    return results


def _build_parallel(catalogs: list[Catalog], out_root: Path, base_url: str, today: dt.date, theme_print: str,
                    workers: int, show: bool) -> list[SiteResult]:
    context = mp.get_context("fork")
    slots = context.Array("i", len(catalogs))
    totals = [len(c.services) + len(c.units) + len(c.locations) + len(c.contacts) + len(c.life_situations) + 10
              for c in catalogs]
    results: dict[str, SiteResult] = {}
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(slots,)) as pool:
        pending: set[Future[SiteResult]] = {
            pool.submit(_build_in_worker, i, c, out_root, base_url, today, theme_print) for i, c in enumerate(catalogs)}
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                result = future.result()
                results[result.slug] = result
            if show:
                line = "  ".join(f"{c.slug} {min(slots[i], totals[i])}/{totals[i]}" for i, c in enumerate(catalogs))
                sys.stderr.write(f"\r{line}\x1b[K")
                sys.stderr.flush()
    if show:
        sys.stderr.write("\r\x1b[K")
    return [results[c.slug] for c in catalogs]


def write_portal_index(out_root: Path, catalogs: list[Catalog] | None) -> None:
    """The portal's root page lists every municipality."""
    if catalogs is None:
        return
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(THEME / "templates"), autoescape=select_autoescape())
    html = env.get_template("portal.html").render(
        municipalities=[(c.slug, c.municipality.name, c.municipality.kind) for c in catalogs])
    (out_root / "index.html").write_text(html, encoding="utf-8")
    target = out_root / "theme"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(THEME / "static", target)
