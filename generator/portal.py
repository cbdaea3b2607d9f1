"""The portal's own pages, which belong to no municipality: the root page listing every
municipality, the operator's imprint, privacy notice and accessibility statement
(content/portal.yaml), and the root "page not found". They wear the portal's neutral look
(PORTAL_SITE) with the same templates as the sites, and the theme is copied to /theme/.
A SiteWriter writes them in place (the root has no second folder), each file whole.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from portal.theme import PORTAL_SITE, make_environment

from .models import Operator
from .write import SiteWriter

# output path → (template, title); the operator's pages only when content/portal.yaml exists
OPERATOR_PAGES = {
    "impressum/index.html": ("portal/impressum.html", "Impressum"),
    "datenschutz/index.html": ("portal/datenschutz.html", "Datenschutzerklärung"),
    "barrierefreiheit/index.html": ("portal/barrierefreiheit.html", "Erklärung zur Barrierefreiheit"),
}


def portal_pages(municipalities: list[tuple[str, Any]], operator: Operator | None) -> dict[str, tuple[str, str]]:
    """Output path → (template, title) of every page at the portal's root."""
    pages = {"index.html": ("portal.html", "Kommune wählen"), "404.html": ("portal/404.html", "Seite nicht gefunden")}
    if operator is not None:
        pages.update(OPERATOR_PAGES)
    return pages


def write_portal_pages(out_root: Path, theme: Path, municipalities: list[tuple[str, Any]],
                       operator: Operator | None, base_url: str) -> None:
    """Render the portal's root pages into out_root, write robots.txt and the sitemap index, and
    copy the theme to out_root/theme."""
    from jinja2 import FileSystemLoader

    env = make_environment(FileSystemLoader(theme / "templates"))
    listed = [(slug, m.name, m.kind) for slug, m in municipalities]
    out_root.mkdir(parents=True, exist_ok=True)
    writer = SiteWriter(out_root, None, shared=True)
    for path, (template, title) in portal_pages(municipalities, operator).items():
        url = "/" + path.removesuffix("index.html")
        crumbs = [("Startseite", "/"), (title, url)] if path in OPERATOR_PAGES else []
        html = env.get_template(template).render(
            PORTAL_SITE=PORTAL_SITE, title=title, crumbs=crumbs, jsonld=None, page_path=path,
            municipalities=listed, operator=operator,
        )
        _write(writer, path, "portal", html.encode("utf-8"))
    slugs = [slug for slug, _m in municipalities]
    _write(writer, "robots.txt", "portal", robots_txt(base_url).encode("utf-8"))
    _write(writer, "sitemap.xml", "portal", sitemap_index(base_url, slugs).encode("utf-8"))
    for file in sorted((theme / "static").rglob("*")):
        if file.is_file():
            _write(writer, f"theme/{file.relative_to(theme / 'static')}", "theme", file.read_bytes())
    writer.remove_stale([])
    writer.save_manifest()


# What search engines may read: the static sites. The dynamic areas answer only a signed-in
# citizen or clerk (account, inbox, login, staff pages) or change by the minute (free slots,
# form steps); crawling them only costs the app requests.
PRIVATE_PATHS = ("/konto/", "/postfach/", "/saml/", "/api/", "/*/verwaltung/", "/*/termine/", "/*/antrag/")


def robots_txt(base_url: str) -> str:
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in PRIVATE_PATHS), "",
             f"Sitemap: {base_url.rstrip('/')}/sitemap.xml"]
    return "\n".join(lines) + "\n"


def sitemap_index(base_url: str, slugs: list[str]) -> str:
    """The portal's sitemap index: one sitemap per municipality's site."""
    root = base_url.rstrip("/")
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    lines += [f"  <sitemap><loc>{escape(f'{root}/{slug}/sitemap.xml')}</loc></sitemap>" for slug in sorted(slugs)]
    lines.append("</sitemapindex>")
    return "\n".join(lines) + "\n"


def _write(writer: SiteWriter, path: str, source: str, data: bytes) -> None:
    writer.write(path, source, hashlib.sha1(data).hexdigest(), lambda: data)
