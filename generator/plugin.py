"""The knowledge base as a Pelican generator.

Pelican reads and writes news articles and Markdown pages, copies the theme's static
files and writes the news feed; this generator renders everything that comes from the
Catalog (services, life situations, A–Z, units, locations, contacts, legal pages) with the
same theme, plus katalog.json, xzufi.xml and sitemap.xml.
"""

from __future__ import annotations

import hashlib
import html
import re
from typing import Any
from urllib.parse import urljoin

from feedgenerator import get_tag_uri
from pelican import signals
from pelican.contents import Article, Content
from pelican.contents import Page as MarkdownPage
from pelican.generators import Generator

from portal.text import safe_html
from portal.theme import make_environment

from . import export, xzufi
from .catalog import source_of
from .errors import BuildError
from .pages import Page, build_pages, site_info
from .write import digest

SETTING = "PORTAL_BUILD"


class KnowledgeBaseGenerator(Generator):
    """Renders one municipality's Catalog into its site folder."""

    def generate_context(self) -> None:
        # Runs after Pelican has read the Markdown and before anything is written, so a
        # Markdown page that would overwrite a generated page stops the build here.
        job = self.settings[SETTING]
        self.site = site_info(job.catalog, job.base_url)
        self.news = _news(self.context, self.site.base)
        self.pages = build_pages(job.catalog, job.base_url, job.today)
        self.pages.append(_news_index(self.site, self.news))
        ours = {page.path: page.source for page in self.pages}
        for item in self.context.get("articles", []) + self.context.get("pages", []):
            if item.save_as in ours:
                raise BuildError(f"two sources write {item.save_as}: {ours[item.save_as]} and {item.source_path}")
            job.writer.claim(item.save_as, item.source_path)

    def generate_output(self, writer: Any) -> None:
        job = self.settings[SETTING]
        catalog, out, site = job.catalog, job.writer, self.site
        news_print = [(n["title"], n["url"], n["date"], n["summary"]) for n in self.news]
        site_print = digest(job.theme_print, source_of(catalog.municipality), site, news_print[:3], job.base_url)
        for page in self.pages:
            extra = news_print if page.template == "news" else ()
            out.write(
                page.path,
                page.source,
                digest(site_print, page.template, *page.deps, *extra),
                lambda page=page: self._render(page),
            )
            job.progress(1)
        html_paths = [f"{site.base}{p.path.removesuffix('index.html')}" for p in self.pages if p.path != "404.html"]
        html_paths += [
            f"{site.base}{item.url}" for item in self.context.get("articles", []) + self.context.get("pages", [])
        ]
        katalog_print = digest(
            site_print,
            "katalog",
            *(s for e in catalog.services.values() for s in e.sources),
            *catalog.digests("units", catalog.units),
            *catalog.digests("locations", catalog.locations),
            *(source_of(f.form) for f in catalog.forms.values()),
        )
        out.write("katalog.json", "catalog", katalog_print, lambda: export.katalog_json(catalog, job.base_url))
        xzufi_print = digest(katalog_print, "xzufi")
        out.write("xzufi.xml", "catalog", xzufi_print, lambda: xzufi.xzufi_xml(catalog, job.base_url))
        out.write(
            "sitemap.xml",
            "site",
            digest("sitemap", *html_paths, job.base_url),
            lambda: export.sitemap_xml(job.base_url, html_paths),
        )
        self._write_search_index(job, site_print)
        out.write(
            "theme/brand.css",
            "branding",
            digest("brand", site_print),
            lambda: _brand_css(catalog.municipality.branding),
        )
        out.write(
            "theme/icon.svg",
            "branding",
            digest("icon", site_print),
            lambda: _brand_icon(catalog.municipality.short_name, catalog.municipality.branding),
        )

    def _write_search_index(self, job: Any, site_print: str) -> None:
        """The exported search index under suche/, made again only when what it indexes
        changed; then each file is fingerprinted by its bytes, so that files which came
        out the same are linked, not written."""
        from search_index.documents import documents, extras
        from search_index.index import export

        docs = documents(job.catalog, self.news)
        meta = extras(job.catalog, docs)
        search_print = digest(site_print, "search", *(repr(d) for d in docs), repr(meta))
        marker = "suche/.quelle"  # a hidden file (not served) that records what was indexed
        previous = job.writer.previous_prints(("suche/t/", "suche/d/", "suche/meta.json", marker), marker, search_print)
        if previous is not None:
            for path, print_ in previous.items():
                job.writer.write(path, "search index", print_, _never)
            return
        for path, data in export(docs, job.search_cache, meta).items():
            job.writer.write(f"suche/{path}", "search index", hashlib.sha1(data).hexdigest(), lambda data=data: data)
        job.writer.write(marker, "search index", search_print, lambda: search_print.encode())

    def _render(self, page: Page) -> str:
        context = {**self.context, **page.build(), "page_path": page.path}
        if page.path == "index.html":
            context["news"] = self.news[:3]
        return self.get_template(page.template).render(context)


def _never() -> bytes:
    raise BuildError("a search index file to be reused was missing; run the build again")


def _news(context: dict[str, Any], base: str) -> list[dict[str, Any]]:
    articles = sorted(context.get("articles", []), key=lambda a: (a.date, a.slug), reverse=True)
    return [
        {
            "title": a.title,
            "url": f"{base}{a.url}",
            "date": a.date.date(),
            "summary": _text_of(a.metadata.get("summary", "")),
            "text": _text_of(a.content),
        }
        for a in articles
    ]


def _text_of(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", str(markup))).split())


def _news_index(site: Any, news: list[dict[str, Any]]) -> Page:
    from . import jsonld

    crumbs = [("Startseite", site.base), ("Aktuelles", f"{site.base}aktuelles/")]
    return Page(
        "aktuelles/index.html",
        "news",
        "news/",
        ("Aktuelles",),
        lambda: {
            "title": "Aktuelles",
            "crumbs": crumbs,
            "news": news,
            "jsonld": [jsonld.breadcrumbs(crumbs, site.base_url)],
        },
    )


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


def get_generators(_pelican: Any) -> type[Generator]:
    return KnowledgeBaseGenerator


def sanitise_content(content: Content) -> None:
    """News and Markdown pages carry only what editors' Markdown may become (text.safe_html),
    on their pages, in the news list and in the feed alike."""
    if not isinstance(content, (Article, MarkdownPage)):
        return
    content._content = str(safe_html(content._content))
    if getattr(content, "_summary", None):
        content._summary = str(safe_html(content._summary))
        content.metadata["summary"] = content._summary


def absolute_feed(context: dict[str, Any], feed: Any) -> None:
    """Pelican links the feed relative to SITEURL (a path); a feed reader needs full
    addresses, and a tag URI needs the host. The municipality is the author of its news."""
    job = context[SETTING]
    site = f"{job.base_url}/{job.catalog.slug}/"
    feed.feed.update(link=site, id=site, author_name=job.catalog.municipality.name)
    for item in feed.items:
        item["link"] = urljoin(site, item["link"])
        item["unique_id"] = get_tag_uri(item["link"], item["pubdate"])
        item["author_name"] = None


def theme_environment(generator: Generator) -> None:
    """Pelican's generators render with the theme's environment (its loader and cache kept)."""
    generator.env = make_environment(generator.env.loader, bytecode_cache=generator.env.bytecode_cache)


def register() -> None:
    signals.generator_init.connect(theme_environment)
    signals.get_generators.connect(get_generators)
    signals.content_object_init.connect(sanitise_content)
    signals.feed_generated.connect(absolute_feed)
