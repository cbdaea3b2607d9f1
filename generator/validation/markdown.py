"""News and pages (Markdown with a header of Title:, Date:): what the page needs, and no raw HTML."""

from __future__ import annotations

import datetime as dt
import re

from ..errors import Problem
from ..load import MarkdownFile
from ..messages import say
from ..news import NO, YES

HTTPS_URL = re.compile(r"https://[^\s/$.?#][^\s]*\.[^\s]{2,}")

# An HTML tag or comment. Markdown's own angle brackets (<https://…>, <post@…>) and a lone
# "<" in text do not match: a tag name is followed by a space, "/" or ">".
RAW_HTML = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|<!--")
CODE_SPAN = re.compile(r"(`+).*?\1")
CODE_FENCE = re.compile(r"^\s*(```|~~~)")
FIRST_HEADING = re.compile(r"^#(?!#)\s")


def _raw_html(md: MarkdownFile, lines: list[str], problems: list[Problem]) -> None:
    """News and pages are Markdown: raw HTML would be removed from the page, and a first-level
    heading would be a second h1 (its element is dropped as well), so say so here."""
    fenced = False
    for number, line in enumerate(lines, start=1):
        if CODE_FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced and FIRST_HEADING.match(line):
            problems.append(Problem(md.rel, number, "", say("ueberschrift-erster-ebene")))
        found = None if fenced else RAW_HTML.search(CODE_SPAN.sub("", line))
        if found:
            problems.append(Problem(md.rel, number, "", say("html-in-markdown", html=found.group(0))))


def header_of(lines: list[str]) -> dict[str, tuple[int, str]]:
    """The header of a Markdown file (the lines before the first empty one): key in lower case →
    (line number, value)."""
    header: dict[str, tuple[int, str]] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if sep:
            header[key.strip().lower()] = (number, value.strip())
    return header


def news_without_source(md: MarkdownFile) -> bool:
    """A news article that names no source and is not marked as an example (a warning)."""
    header = header_of(md.path.read_text(encoding="utf-8").splitlines())
    return "quelle" not in header and header.get("beispiel", (0, ""))[1].lower() != YES


def _provenance(md: MarkdownFile, header: dict[str, tuple[int, str]], problems: list[Problem]) -> None:
    if "beispiel" in header:
        number, value = header["beispiel"]
        if value.lower() not in (YES, NO):
            problems.append(Problem(md.rel, number, "Beispiel", say("meldung-beispiel-ja-nein", wert=value)))
    if "quelle" in header:
        number, value = header["quelle"]
        if not HTTPS_URL.fullmatch(value):
            problems.append(Problem(md.rel, number, "Quelle", say("meldung-quelle-keine-adresse", wert=value)))


def check_markdown(files: list[MarkdownFile], need_date: bool, problems: list[Problem]) -> None:
    for md in files:
        lines = md.path.read_text(encoding="utf-8").splitlines()
        _raw_html(md, lines, problems)
        header = header_of(lines)
        if need_date:
            _provenance(md, header, problems)
        if "title" not in header:
            problems.append(Problem(md.rel, 1, "Title", say("seite-ohne-titel")))
        if need_date:
            if "date" not in header:
                problems.append(Problem(md.rel, 1, "Date", say("meldung-ohne-datum")))
            else:
                number, value = header["date"]
                try:
                    dt.date.fromisoformat(value[:10])
                except ValueError:
                    problems.append(Problem(md.rel, number, "Date", say("datum-erwartet", wert=f'"{value}"')))


