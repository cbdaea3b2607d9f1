"""The knowledge base as a Pelican generator.

Pelican reads and writes news articles and Markdown pages, copies the theme's static
files and writes the news feed; this generator renders everything that comes from the
Catalog (services, life situations, A–Z, units, locations, contacts, legal pages) with the
same theme, plus katalog.json and sitemap.xml.
"""

from __future__ import annotations

from typing import Any

from pelican import signals
from pelican.generators import Generator

from . import export
from .pages import Page, build_pages, site_info
from .write import SiteWriter, fingerprint

SETTING = "PORTAL_BUILD"


class KnowledgeBaseGenerator(Generator):
    """Renders one municipality's Catalog into its site folder."""

    def generate_output(self, writer: Any) -> None:
        job = self.settings[SETTING]
        catalog, out = job.catalog, job.writer
        site = site_info(catalog, job.base_url)
        news = _news(self.context, site.base)
        pages = build_pages(catalog, job.base_url, job.today)
        pages.append(_news_index(site, news))
        for item in self.context.get("articles", []) + self.context.get("pages", []):
            out.claim(item.save_as, item.source_path)
        site_print = fingerprint(job.theme_print, site, news[:3])
        for page in pages:
            if page.path == "index.html":
                page.context["news"] = news[:3]
            template = self.get_template(page.template)
            context = {**self.context, **page.context, "page_path": page.path}
            out.write(page.path, page.source, fingerprint(site_print, page.template, page.context),
                      lambda template=template, context=context: template.render(context))
            job.progress(1)
        html_paths = [f"{site.base}{p.path.removesuffix('index.html')}" for p in pages if p.path != "404.html"]
        html_paths += [f"{site.base}{item.url}" for item in self.context.get("articles", []) + self.context.get("pages", [])]
        out.write("katalog.json", "catalog", fingerprint("katalog", catalog.services, catalog.units,
                                                         catalog.locations, catalog.municipality, job.base_url),
                  lambda: export.katalog_json(catalog, job.base_url))
        out.write("sitemap.xml", "site", fingerprint("sitemap", html_paths, job.base_url),
                  lambda: export.sitemap_xml(job.base_url, html_paths))
        out.write("theme/brand.css", "branding", fingerprint("brand", catalog.municipality.branding),
                  lambda: _brand_css(catalog.municipality.branding))


def _news(context: dict[str, Any], base: str) -> list[dict[str, Any]]:
    articles = sorted(context.get("articles", []), key=lambda a: (a.date, a.slug), reverse=True)
    return [{"title": a.title, "url": f"{base}{a.url}", "date": a.date.date(),
             "summary": getattr(a, "summary_text", None) or a.metadata.get("summary", "")} for a in articles]


def _news_index(site: Any, news: list[dict[str, Any]]) -> Page:
    crumbs = [("Startseite", site.base), ("Aktuelles", f"{site.base}aktuelles/")]
    from . import jsonld  # local: only needed here
    return Page(path="aktuelles/index.html", template="news", title="Aktuelles", source="news/",
                context={"title": "Aktuelles", "crumbs": crumbs, "news": news,
                         "jsonld": [jsonld.breadcrumbs(crumbs, site.base_url)]})


def _brand_css(branding: Any) -> str:
    accent = branding.accent or branding.primary
    return (":root {\n"
            f"  --brand: {branding.primary};\n"
            f"  --brand-accent: {accent};\n"
            "}\n")


def get_generators(_pelican: Any) -> type[Generator]:
    return KnowledgeBaseGenerator


def register() -> None:
    signals.get_generators.connect(get_generators)

