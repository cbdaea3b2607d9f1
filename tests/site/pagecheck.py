"""Read built HTML pages the way a link checker and an accessibility reviewer would."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import html5lib

# Served by the dynamic tier, not present as files in the static output.
DYNAMIC_PREFIXES = ("/konto/", "/postfach/", "/saml/", "/api/", "/healthz")
DYNAMIC_SITE_PARTS = ("termine", "antrag", "verwaltung")


@dataclass
class PageFacts:
    path: Path
    lang: str | None = None
    ids: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)   # what the browser loads by itself
    h1: int = 0
    landmarks: set[str] = field(default_factory=set)
    jsonld: list[str] = field(default_factory=list)
    title: str = ""


class _Collector(HTMLParser):
    def __init__(self, facts: PageFacts):
        super().__init__(convert_charrefs=True)
        self.facts = facts
        self._script: list[str] | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.facts.lang = values.get("lang")
        if values.get("id"):
            self.facts.ids.append(values["id"] or "")
        for attr in ("href", "src"):
            if values.get(attr) and tag in ("a", "link", "img", "script"):
                self.facts.links.append(values[attr] or "")
        if tag in ("img", "script", "iframe", "video", "audio", "source") and values.get("src"):
            self.facts.resources.append(values["src"] or "")
        if tag == "link" and values.get("rel") != "alternate" and values.get("href"):
            self.facts.resources.append(values["href"] or "")
        if tag == "h1":
            self.facts.h1 += 1
        if tag in ("header", "nav", "main", "footer"):
            self.facts.landmarks.add(tag)
        if tag == "script" and values.get("type") == "application/ld+json":
            self._script = []
        if tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.facts.jsonld.append("".join(self._script))
            self._script = None
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)
        if self._in_title:
            self.facts.title += data


def read_page(path: Path) -> PageFacts:
    facts = PageFacts(path)
    _Collector(facts).feed(path.read_text(encoding="utf-8"))
    return facts


def html5_errors(path: Path) -> list[str]:
    parser = html5lib.HTMLParser(strict=False)
    parser.parse(path.read_bytes())
    return [f"{path}: {error[1]} {error[2] or ''}" for error in parser.errors]


def is_dynamic(url: str) -> bool:
    if url.startswith(DYNAMIC_PREFIXES):
        return True
    parts = url.strip("/").split("/")
    return len(parts) > 1 and parts[1] in DYNAMIC_SITE_PARTS


def target_of(out: Path, url: str) -> Path | None:
    """The file that serves an absolute site URL, or None when nothing does."""
    path = unquote(urlsplit(url).path)
    candidate = out / path.lstrip("/")
    if path.endswith("/") or candidate.is_dir():
        candidate = candidate / "index.html"
    return candidate if candidate.is_file() else None


def broken_links(out: Path, pages: list[PageFacts]) -> list[str]:
    by_path = {p.path: p for p in pages}
    broken = []
    for page in pages:
        for url in page.links:
            if url.startswith(("http://", "https://", "mailto:", "tel:", "geo:", "//")):
                continue
            if url.startswith("#"):
                if url[1:] and url[1:] not in page.ids:
                    broken.append(f"{page.path}: {url} (no such id on the page)")
                continue
            if is_dynamic(url):
                continue
            target = target_of(out, url)
            if target is None:
                broken.append(f"{page.path}: {url}")
                continue
            fragment = urlsplit(url).fragment
            if fragment and target in by_path and fragment not in by_path[target].ids:
                broken.append(f"{page.path}: {url} (no such id on the target)")
    return broken


def jsonld_problems(page: PageFacts) -> list[str]:
    problems = []
    for block in page.jsonld:
        try:
            data = json.loads(block)
        except ValueError as exc:
            problems.append(f"{page.path}: JSON-LD does not parse: {exc}")
            continue
        if data.get("@context") != "https://schema.org":
            problems.append(f"{page.path}: JSON-LD without schema.org context")
    return problems
