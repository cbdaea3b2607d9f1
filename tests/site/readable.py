"""What a person reads on a page, and what must never be part of it.

`problems(html)` takes a page's HTML, collects the text a reader meets inside `<main>` (text
nodes, and the alternative texts, placeholders and button labels that are read out or shown;
not what a citizen typed into a field, which the page rightly shows as typed)
and reports what no citizen should ever read there: markup or escaped characters shown as
text, Python's `None`, template syntax, placeholders left by an author, and the English texts
of the frameworks underneath (Flask, Werkzeug, WTForms, the browser's own messages).

It is used on every built page (tests/site/test_output.py), on every page a journey passes
(tests/journeys/steps.py) and on every page the browser-like client of the dynamic tests ends
on (tests/dynamic/browserlike.py).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements whose content nobody reads, and elements that have no end tag.
SILENT = {"script", "style", "template", "head"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
# Input types whose value is a label the page wrote (a button); others are not read, except
# that a field the page filled with a leftover of the code (None, undefined) is a problem.
LABEL_INPUTS = {"submit", "button", "reset"}
FIELD_INPUTS = {"text", "search", "email", "tel", "url", "number", "date", "time"}
LEFTOVER_VALUES = {"None", "undefined", "NaN"}

# (what it is, pattern) — each pattern is searched in the text as read, entities decoded.
FORBIDDEN: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("markup shown as text", re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|<!--|-->")),
    ("escaped character shown as text", re.compile(r"&(?:[A-Za-z]{2,8}|#[0-9]{2,6}|#x[0-9A-Fa-f]{2,5});")),
    ("Python's None", re.compile(r"\bNone\b")),
    ("JavaScript's undefined or NaN", re.compile(r"\b(?:undefined|NaN)\b")),
    ("template syntax", re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}|%\([a-z_]+\)s|\{[a-z_]+\}")),
    ("placeholder", re.compile(r"\b(?:TODO|FIXME|XXX|TBD)\b|\blorem\b|\bipsum\b|\[(?:\.\.\.|…)\]"
                               r"|\[[A-ZÄÖÜ][A-ZÄÖÜ_ -]{2,}\]", re.IGNORECASE)),
    ("English framework text", re.compile(
        r"\b(?:Not Found|Internal Server Error|Method Not Allowed|Bad Request|Forbidden|Unauthorized"
        r"|Too Many Requests|Service Unavailable|Payload Too Large|Request Entity Too Large|Redirecting"
        r"|You should be redirected|click here|field required|This field|Not a valid|Invalid (?:value|input|choice"
        r"|email)|CSRF token|Traceback|Please (?:fill|enter|select))", re.IGNORECASE)),
)


class _Reader(HTMLParser):
    """Collects the readable text inside <main> (and of the whole page if there is none)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []   # open elements: (tag, silent)
        self.main: list[str] | None = None
        self.main_depth: int | None = None
        self.seen_main = False

    @property
    def silent(self) -> bool:
        return any(quiet for _, quiet in self.stack)

    def _read(self, text: str) -> None:
        if self.main is not None and self.main_depth is not None and not self.silent:
            self.main.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        quiet = tag in SILENT or "hidden" in values or values.get("aria-hidden") == "true"
        if tag == "main" and not self.seen_main:
            self.seen_main, self.main, self.main_depth = True, [], len(self.stack)
        if not (quiet or self.silent):
            for name in ("alt", "placeholder", "title", "aria-label"):
                if values.get(name):
                    self._read(f" {values[name]} ")
            kind, value = values.get("type", "text"), values.get("value", "")
            if tag == "input" and (kind in LABEL_INPUTS or (kind in FIELD_INPUTS and value.strip() in LEFTOVER_VALUES)):
                self._read(f" {value} ")
        if tag in VOID:
            self._read(" ")
            return
        self.stack.append((tag, quiet))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                break
        if self.main_depth is not None and len(self.stack) <= self.main_depth:
            self.main_depth = None
            if self.main is not None:
                self.main.append("\n")
        self._read(" ")

    def handle_data(self, data: str) -> None:
        self._read(data)


def visible_text(html: str) -> str:
    """The text a reader meets inside the page's <main>, whitespace folded; "" without one."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return " ".join("".join(reader.main or []).split())


def text_problems(text: str) -> list[str]:
    """What must not be read in this text, each with a little of the text around it."""
    found = []
    for what, pattern in FORBIDDEN:
        for match in list(pattern.finditer(text))[:3]:  # three of a kind say enough
            start, end = max(match.start() - 30, 0), min(match.end() + 30, len(text))
            found.append(f"{what}: {match.group(0)!r} in …{text[start:end]}…")
    return found


def problems(html: str) -> list[str]:
    """What a reader of this page should never read inside its <main>."""
    if "<main" not in html:
        return ["the page has no <main>"]
    text = visible_text(html)
    if not text:
        return ["<main> holds no text"]
    return text_problems(text)
