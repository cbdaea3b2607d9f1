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
                       operator: Operator | None) -> None:
    """Render the portal's root pages into out_root and copy the theme to out_root/theme."""
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
    for file in sorted((theme / "static").rglob("*")):
        if file.is_file():
            _write(writer, f"theme/{file.relative_to(theme / 'static')}", "theme", file.read_bytes())
    writer.remove_stale([])
    writer.save_manifest()


def _write(writer: SiteWriter, path: str, source: str, data: bytes) -> None:
    writer.write(path, source, hashlib.sha1(data).hexdigest(), lambda: data)
