"""Search results without JavaScript.

`/<slug>/suche/?q=…` is the static search page, whose script queries the exported index in
the browser. Where the app runs, it answers the same address itself: it queries the same
files with search_index.query (the Python twin of search.js) and writes the results into
the static page, so a browser without JavaScript gets them too. Without `q` it serves the
static page as it is. The query is never logged: people type names and addresses into it.
"""

from __future__ import annotations

import threading
from pathlib import Path

from flask import Blueprint, current_app, render_template, request
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from search_index.query import MAX_QUERY, Hit, Index, clean

from .platform import config
from .platform.sites import not_found, static_file

search = Blueprint("search", __name__)

LIMIT = 20          # as many results as the script shows
BEST = "Beste Treffer"  # the heading of the best bets (as BEST in search.js)
EMPTY_RESULTS = '<div id="suchergebnisse"></div>'
EMPTY_STATUS = '<p id="suchstatus" role="status" aria-live="polite"></p>'
QUERY_FIELD = '<input id="suchbegriff" name="q"'

_indexes: dict[Path, Index] = {}
_lock = threading.Lock()


def _index(folder: Path) -> Index:
    """The index of a built site, kept per build: output/<slug> is a symlink that each build
    points at a fresh folder, so the resolved path names one build."""
    built = folder.resolve()
    with _lock:
        index = _indexes.get(built)
        if index is None:
            if len(_indexes) > 16:  # old builds of every site
                _indexes.clear()
            index = _indexes[built] = Index.from_folder(built)
        return index


def status_text(query: str, count: int, cut: bool = False) -> str:
    """The status line above the results (as statusText in search.js)."""
    if count == 0:
        text = (f"Keine Ergebnisse für „{query}“. Versuchen Sie ein anderes Wort oder nutzen Sie die Liste "
                "von A bis Z.")
    else:
        text = f"{'1 Ergebnis' if count == 1 else f'{count} Ergebnisse'} für „{query}“."
    if cut:
        text += f" Ihre Suche war sehr lang: gesucht wurde nur nach den ersten {MAX_QUERY} Zeichen."
    return text


def _groups(index: Index, hits: list[Hit], query: str) -> list[tuple[str, list[tuple[Hit, Markup]]]]:
    """Best bets first under their own heading, then the other hits grouped by kind, each group
    where its best hit ranks."""
    kinds = index.meta.get("kinds", {})
    groups: dict[str, list[tuple[Hit, Markup]]] = {}
    for hit in hits:
        pieces = index.highlighted(index.best_snippet(hit, query), query)
        snippet = Markup("").join(Markup("<mark>{}</mark>").format(text) if marked else escape(text)
                                  for text, marked in pieces)
        groups.setdefault(BEST if hit.best else kinds.get(hit.kind, hit.kind), []).append((hit, snippet))
    return list(groups.items())


@search.get("/<slug>/suche/")
def results(slug: str) -> Response:
    query, cut = clean(request.args.get("q", ""))
    folder = config.output_dir() / slug / "suche"
    static_page = folder / "index.html"
    if slug.startswith(".") or not static_page.is_file():
        return not_found(f"{slug}/suche/")
    if not query:
        return static_file(f"{slug}/suche/")
    index = _index(folder)
    hits = index.search(query, LIMIT) if index.meta.get("shards") is not None else []
    html = static_page.read_text(encoding="utf-8")
    fragment = render_template("suche_ergebnisse.html", groups=_groups(index, hits, query))
    status = f'<p id="suchstatus" role="status" aria-live="polite">{escape(status_text(query, len(hits), cut))}</p>'
    for marker in (EMPTY_RESULTS, EMPTY_STATUS, QUERY_FIELD, "<title>", "<noscript>"):
        if marker not in html:  # the template changed: the static page still works with its script
            current_app.logger.error("search page of %s lacks %s; serving it unchanged", slug, marker)
            return static_file(f"{slug}/suche/")
    start, end = html.index("<noscript>"), html.index("</noscript>") + len("</noscript>")
    html = html[:start] + html[end:]  # "Die Suche braucht JavaScript" is not true here
    html = (html.replace(EMPTY_RESULTS, f'<div id="suchergebnisse">{fragment}</div>', 1)
                .replace(EMPTY_STATUS, status, 1)
                .replace(QUERY_FIELD, f'{QUERY_FIELD} value="{escape(query)}"', 1)
                .replace("<title>", f"<title>„{escape(query)}“ – ", 1))
    response = Response(html, mimetype="text/html")
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Cache-Control"] = "private, max-age=300"  # what one person typed: no shared caches
    return response
