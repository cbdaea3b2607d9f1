"""The Pelican plugin: the knowledge base as a Pelican generator, and our writer for Pelican.

Pelican reads and renders news articles and Markdown pages, writes the news feed and
copies the theme's static files; `KnowledgeBaseGenerator` renders the Catalog's pages
(services, life situations, A–Z, units, locations, contacts, legal pages, the news list)
with the same theme. Pelican asks for a writer through its `get_writer` signal and gets
`PortalWriter`, which hands every file Pelican renders to our SiteWriter, so Pelican's
files are claimed, fingerprinted and kept in the manifest like our pages. The run is set
up by the render stage (generator/render.py), which hands it the RenderJob of the run (`current_job`).
"""

from __future__ import annotations

import hashlib
import html
import io
import os
import re
from collections.abc import Callable
from functools import partial
from types import TracebackType
from typing import Any
from urllib.parse import urljoin

from feedgenerator import get_tag_uri
from pelican import signals
from pelican.contents import Article, Content
from pelican.contents import Page as MarkdownPage
from pelican.generators import Generator
from pelican.writers import Writer

from portal.text import safe_html
from portal.theme import make_environment

from .catalog import source_of
from .errors import BuildError
from .news import EXAMPLE_NEWS, is_example_news, source_of_news
from .pages import Page, build_pages, site_info
from .render import Rendered, current_job
from .write import digest


class KnowledgeBaseGenerator(Generator):
    """Renders one municipality's Catalog into its site folder."""

    def generate_context(self) -> None:
        # Runs after Pelican has read the Markdown and before anything is written, so a
        # Markdown page that would overwrite a generated page stops the build here.
        job = current_job()
        self.site = site_info(job.catalog, job.base_url)
        self.news = _news(self.context, self.site.base)
        self.pages = build_pages(job.catalog, job.base_url, job.today)
        self.pages.append(_news_index(self.site, self.news))
        ours = {page.path: page.source for page in self.pages}
        for item in self.context.get("articles", []) + self.context.get("pages", []):
            if item.save_as in ours:
                raise BuildError(f"two sources write {item.save_as}: {ours[item.save_as]} and {item.source_path}")
            job.sources[item.save_as] = item.source_path

    def generate_output(self, writer: Any) -> None:
        job = current_job()
        catalog, out, site = job.catalog, job.writer, self.site
        news_print = [(n["title"], n["url"], n["date"], n["summary"], n["example"]) for n in self.news]
        site_print = digest(job.theme_print, source_of(catalog.municipality), site, news_print[:3], job.base_url)
        for page in self.pages:
            extra = news_print if page.template == "news" else ()
            out.write(
                page.path,
                page.source,
                digest(site_print, page.template, *page.deps, *extra),
                partial(self._render, page),
            )
            job.progress(1)
        html_paths = [f"{site.base}{p.path.removesuffix('index.html')}" for p in self.pages if p.path != "404.html"]
        html_paths += [
            f"{site.base}{item.url}" for item in self.context.get("articles", []) + self.context.get("pages", [])
        ]
        job.rendered = Rendered(site_print, html_paths, self.news)

    def _render(self, page: Page) -> str:
        context = {**self.context, **page.build(), "page_path": page.path}
        if page.path == "index.html":
            context["news"] = self.news[:3]
        return self.get_template(page.template).render(context)


class PortalWriter(Writer):
    """Pelican's writer, writing through the site's SiteWriter: Pelican renders, ours claims
    the path (a second source of one path is a build error), fingerprints the file by its
    bytes and writes it only when it changed. A feed may carry its time of writing, so it
    is written every time."""

    _feed = False  # True while Pelican writes a feed

    def write_feed(self, *args: Any, **kwargs: Any) -> Any:
        self._feed = True
        try:
            return super().write_feed(*args, **kwargs)
        finally:
            self._feed = False

    def _open_w(self, filename: str, encoding: str, override: bool = False) -> Any:
        # Pelican opens every file it writes here (pages, articles, feeds; pinned Pelican 4.12).
        job = current_job()
        path = os.path.relpath(filename, os.path.abspath(self.output_path))
        source = job.sources.get(path, f"Pelican ({path})")
        feed = self._feed

        def commit(text: str) -> None:
            data = text.encode(encoding)
            if feed:
                job.writer.write_other(path, source, data)
            else:
                job.writer.write(path, source, hashlib.sha1(data).hexdigest(), lambda: data)

        return _Captured(commit)


class _Captured(io.StringIO):
    """A file that hands its text on when it is closed after a successful write."""

    def __init__(self, commit: Callable[[str], None]) -> None:
        super().__init__()
        self._commit = commit

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is None:
            self._commit(self.getvalue())
        self.close()


def _news(context: dict[str, Any], base: str) -> list[dict[str, Any]]:
    articles = sorted(context.get("articles", []), key=lambda a: (a.date, a.slug), reverse=True)
    return [
        {
            "title": a.title,
            "url": f"{base}{a.url}",
            "date": a.date.date(),
            "summary": _text_of(a.metadata.get("summary", "")),
            "text": _text_of(a.content),
            "example": is_example_news(a.metadata),
            "source": source_of_news(a.metadata),
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


def get_generators(_pelican: Any) -> type[Generator]:
    return KnowledgeBaseGenerator


def get_writer(_pelican: Any) -> type[Writer]:
    return PortalWriter


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
    job = current_job()
    site = f"{job.base_url}/{job.catalog.slug}/"
    feed.feed.update(link=site, id=site, author_name=job.catalog.municipality.name)
    examples = [a.url for a in context.get("articles", []) if is_example_news(a.metadata)]
    for item in feed.items:
        if any(item["link"].endswith(url) for url in examples):
            item["title"] = f"{EXAMPLE_NEWS}: {item['title']}"
        item["link"] = urljoin(site, item["link"])
        item["unique_id"] = get_tag_uri(item["link"], item["pubdate"])
        item["author_name"] = None


def theme_environment(generator: Generator) -> None:
    """Pelican's generators render with the theme's environment (its loader and cache kept)."""
    generator.env = make_environment(generator.env.loader, bytecode_cache=generator.env.bytecode_cache)
    generator.env.globals.update(is_example_news=is_example_news, source_of_news=source_of_news,
                                 EXAMPLE_NEWS=EXAMPLE_NEWS)


def register() -> None:
    signals.generator_init.connect(theme_environment)
    signals.get_generators.connect(get_generators)
    signals.get_writer.connect(get_writer)
    signals.content_object_init.connect(sanitise_content)
    signals.feed_generated.connect(absolute_feed)
