"""What a stranger can type into the search: huge input, control and invisible characters,
punctuation only, words that are names of JavaScript's own properties. Both engines answer
with a clear page (never a 500, never a script error), and a long word cannot make the
compound splitting explode."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from html import unescape
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from playwright.sync_api import expect

from search_index.query import MAX_QUERY, Index, clean

CUT = f"Ihre Suche war sehr lang: gesucht wurde nur nach den ersten {MAX_QUERY} Zeichen."
NOTHING = "Versuchen Sie ein anderes Wort oder nutzen Sie die Liste von A bis Z."
# (query, what the status line says): "cut" for a query longer than MAX_QUERY.
ODD = [
    ("a" * 10_000, "nothing cut"),
    ("perso " * 1_700, "found cut"),
    ("personalausweis" * 700, "found cut"),
    ("perso\x00\x01\x1b[31m\x7f", "found"),
    ("perso\x01\x1b[31m\x7f\x85", "found"),
    ("\u202eperso\u200b\ufeff", "found"),
    ("?!?!…;:„“()[]{}", "nothing"),
    ("%%% \\\\ ''' \"\"\"", "nothing"),
    ("constructor", "nothing"),
    ("perso constructor __proto__", "found"),
    ("<script>alert(1)</script>", "found"),
    ("😀" * 300, "nothing cut"),
]


def expected_status(query: str, kind: str) -> re.Pattern[str]:
    shown, _cut = clean(query)
    text = (f"Keine Ergebnisse für „{re.escape(shown)}“\\. {re.escape(NOTHING)}" if "nothing" in kind
            else f"\\d+ Ergebnisse? für „{re.escape(shown)}“\\.")
    return re.compile(f"^{text}" + (f" {re.escape(CUT)}$" if "cut" in kind else "$"), re.DOTALL)


@pytest.mark.parametrize(("query", "kind"), ODD, ids=range(len(ODD)))
def test_the_app_answers_odd_queries_with_a_clear_page(server: str, query: str, kind: str) -> None:
    response = requests.get(f"{server}/kreis-coesfeld/suche/", params={"q": query}, timeout=30)
    html = response.text
    if "\x00" in query:  # refused by the whole app (dynamic/platform/security.py), with a page that says why
        assert response.status_code == 400
        assert "Anfrage nicht verständlich" in html and "Diese Anfrage konnten wir nicht bearbeiten." in html
        return
    assert response.status_code == 200
    found = re.search(r'<p id="suchstatus" role="status" aria-live="polite">([^<]*)</p>', html)
    assert found
    assert expected_status(query, kind).match(unescape(found.group(1))), unescape(found.group(1))[:300]
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202e\u200b\ufeff]", html), "control characters in the page"
    assert "<script>alert(1)" not in html


def test_an_invalid_utf8_query_is_read_not_refused(server: str) -> None:
    response = requests.get(f"{server}/muenster/suche/?q=perso%ED%A0%80%FF", timeout=30)
    assert response.status_code == 200
    assert "Ergebnisse für „perso" in response.text


@pytest.fixture(scope="module")
def static_server(real_output: Path) -> Iterator[str]:
    """The static files alone, as nginx serves them when the app is down."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(real_output))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


@pytest.mark.browser
@pytest.mark.parametrize(("query", "kind"), ODD, ids=range(len(ODD)))
def test_the_browser_engine_answers_odd_queries_with_a_clear_page(
        browser: Any, static_server: str, query: str, kind: str) -> None:
    context = browser.new_context(locale="de-DE")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    try:
        tab.goto(f"{static_server}/kreis-coesfeld/suche/?q={quote(query)}")
        expect(tab.locator("#suchstatus")).to_have_text(expected_status(query, kind), timeout=30_000)
        assert errors == []
        assert tab.locator("#suchergebnisse script, #suchstatus *").count() == 0  # nothing typed became markup
    finally:
        context.close()


class CountingIndex(Index):
    lookups = 0

    def shard(self, term: str) -> dict[str, list[list[int]]]:
        CountingIndex.lookups += 1
        return super().shard(term)


@pytest.mark.parametrize("part", ["personalausweis", "ausweis", "hundesteuer", "antrag"])
def test_a_long_word_of_repeated_parts_is_split_in_bounded_work(real_output: Path, part: str) -> None:
    """Splitting tries each way of cutting a compound; without remembering the tails it has
    tried, 200 letters of "personalausweis…" took over a million lookups."""
    index = CountingIndex.from_folder(real_output / "muenster" / "suche")
    CountingIndex.lookups = 0
    hits = index.search(part * (MAX_QUERY // len(part) + 1) + "x")
    assert CountingIndex.lookups < 20_000
    assert isinstance(hits, list)
