"""The render stage: one Pelican run per site, with that municipality's settings.

Pelican reads and renders the news articles and Markdown pages, writes the news feed and
copies the theme's static files; our plugin (generator/plugin.py) adds the Catalog's pages
as a Pelican generator and hands Pelican our writer, so every file Pelican renders goes
through the same claims and manifest as ours (generator/write.py). After the run this
stage writes the site's branding (brand.css, icon.svg) and tells the later stages what
they need: the fingerprint of what every page shows, the addresses of the pages and the
news.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import FileSystemBytecodeCache

from .catalog import Catalog
from .write import SiteWriter, digest

ROOT = Path(__file__).resolve().parent.parent
THEME = ROOT / "site_templates"


@dataclass(frozen=True)
class Rendered:
    """What the export and index stages need from rendering."""

    site_print: str  # changes with the theme, the site's settings, its latest news and the base URL
    html_paths: list[str]  # the address of every HTML page but the 404 page, for the sitemap
    news: list[dict[str, Any]]  # the news articles, newest first


@dataclass
class RenderJob:
    """What the plugin needs for the run under way (see `current_job`)."""

    catalog: Catalog
    writer: SiteWriter
    base_url: str
    today: dt.date
    theme_print: str
    progress: Callable[[int], None] = field(default=lambda n: None)
    # Filled in during the run: the source file of each path Pelican renders (for the
    # writer's claims), and the result.
    sources: dict[str, str] = field(default_factory=dict)
    rendered: Rendered | None = None


# The job of the Pelican run under way. Pelican calls the plugin back through its signals, which
# carry no arguments of ours; a typed context variable, set by `render` for exactly one run,
# hands the job over instead of a key in Pelican's settings.
_JOB: ContextVar[RenderJob] = ContextVar("render_job")


def current_job() -> RenderJob:
    """The job of the Pelican run under way; only `render` starts one."""
    try:
        return _JOB.get()
    except LookupError:
        raise RuntimeError("the portal's Pelican plugin runs only inside generator.render.render()") from None


def static_files(catalog: Catalog) -> list[str]:
    """The files Pelican copies rather than writes: the logo and the theme's static files."""
    logo = [catalog.municipality.branding.logo] if catalog.municipality.branding.logo else []
    return logo + [f"theme/{p.relative_to(THEME / 'static')}" for p in (THEME / "static").rglob("*") if p.is_file()]


def render(
    catalog: Catalog,
    writer: SiteWriter,
    base_url: str,
    today: dt.date,
    theme_print: str,
    progress: Callable[[int], None] = lambda n: None,
) -> Rendered:
    """Render the site into the writer's folder: pages, news, feed, theme and branding."""
    from pelican import Pelican
    from pelican.log import console

    console.quiet = True
    logging.getLogger("pelican").setLevel(logging.ERROR)
    job = RenderJob(catalog, writer, base_url, today, theme_print, progress)
    token = _JOB.set(job)
    try:
        Pelican(pelican_settings(catalog, writer.out_dir, job)).run()
    finally:
        _JOB.reset(token)
    assert job.rendered is not None, "the knowledge-base generator did not run"
    _write_branding(catalog, writer, job.rendered.site_print)
    return job.rendered


def pelican_settings(catalog: Catalog, output: Path, job: RenderJob) -> dict[str, Any]:
    from pelican.settings import DEFAULT_CONFIG, configure_settings

    from .pages import site_info

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
        }
    )
    return configure_settings(settings)


def _folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_branding(catalog: Catalog, writer: SiteWriter, site_print: str) -> None:
    branding = catalog.municipality.branding
    writer.write("theme/brand.css", "branding", digest("brand", site_print), lambda: _brand_css(branding))
    writer.write("theme/icon.svg", "branding", digest("icon", site_print),
                 lambda: _brand_icon(catalog.municipality.short_name, branding))


def _brand_css(branding: Any) -> str:
    accent = branding.accent or branding.primary
    return f":root {{\n  --brand: {branding.primary};\n  --brand-accent: {accent};\n}}\n"


def _brand_icon(short_name: str, branding: Any) -> str:
    """The site's favicon: the first letter of its name, white on its colour (a logo is
    usually too wide to read at 16 pixels)."""
    letter = html.escape(short_name[:1].upper())
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
        f'<rect width="32" height="32" rx="6" fill="{branding.primary}"/>'
        f'<text x="16" y="23" font-size="20" font-weight="bold" text-anchor="middle" fill="#fff" '
        f'font-family="Arial, Helvetica, sans-serif">{letter}</text></svg>\n'
    )
