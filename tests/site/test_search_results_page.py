"""The search results page in chromium, as a citizen reads it, from both engines: the app's
answer without JavaScript (search_index/query.py) and the browser's script over the static
files when the app is down (search.js). Both show the best bets first, a named town's office,
contacts as text, and one line of alternatives instead of the home page's lists."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.site.test_browser import axe_violations

pytestmark = pytest.mark.browser

ENGINES = ["app-ohne-javascript", "browser-ohne-app"]
ALTERNATIVES = ("Auch ohne Suche finden Sie alles: Leistungen von A bis Z, Leistungen nach Themen, Lebenslagen, "
                "Ämter und Einrichtungen und Standorte.")


@pytest.fixture(scope="module")
def static_server(real_output: Path) -> Iterator[str]:
    """The static files alone, as nginx serves them when the app is down."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(real_output))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


@pytest.fixture
def results(browser: Any, server: str, static_server: str) -> Iterator[Any]:
    """open(engine, slug, query) → the tab showing the results of that engine."""
    contexts: list[Any] = []

    def open_page(engine: str, slug: str, query: str) -> Any:
        with_script = engine == "browser-ohne-app"
        context = browser.new_context(java_script_enabled=with_script, locale="de-DE", bypass_csp=True)
        contexts.append(context)
        tab = context.new_page()
        tab.goto(f"{static_server if with_script else server}/{slug}/suche/?q={quote(query)}")
        expect(tab.locator("#suchstatus")).to_contain_text(f"für „{query}“")
        return tab

    yield open_page
    for context in contexts:
        context.close()


def first_result(tab: Any) -> list[str]:
    """The first group's heading and the lines of its first result, as shown."""
    group = tab.locator("#suchergebnisse section").first
    return [group.locator("h2").inner_text(), *lines(group.locator("li").first.inner_text())]


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("slug", "query", "title"), [
    ("muenster", "umzug", "Umzug"),
    ("hamm", "auto anmelden", "Fahrzeug zulassen (Neufahrzeug)"),
    ("kreis-coesfeld", "Perso", "Personalausweis beantragen"),
    ("kreis-warendorf", "reisepass", "Reisepass beantragen"),
    ("muenster", "hund", "Hund zur Hundesteuer anmelden"),
    ("hamm", "sperrmüll", "Sperrmüll zur Abholung anmelden"),
    ("muenster", "heiraten", "Eheschließung anmelden"),
    ("kreis-coesfeld", "geburt", "Geburt eines Kindes"),
    ("muenster", "termin", "Termin buchen"),
])
def test_the_top_task_is_the_first_result_for_its_everyday_word(
        results: Any, engine: str, slug: str, query: str, title: str) -> None:
    tab = results(engine, slug, query)
    shown = first_result(tab)
    assert shown[:2] == ["Beste Treffer", title]
    assert tab.locator("#suchergebnisse a").first.inner_text() == title


@pytest.mark.parametrize("engine", ENGINES)
def test_umzug_shows_the_guide_and_the_duty_to_register_first(results: Any, engine: str) -> None:
    tab = results(engine, "muenster", "umzug")
    best = tab.locator("#suchergebnisse section").first
    assert best.locator("li > a").all_inner_texts() == ["Umzug", "Wohnsitz anmelden", "Umzug innerhalb des Ortes melden"]
    headings = tab.locator("#suchergebnisse h2").all_inner_texts()
    assert headings[0] == "Beste Treffer" and "Leistungen" in headings
    everything = tab.locator("#suchergebnisse li > a").all_inner_texts()
    assert len(everything) == len(set(everything)), "a best bet is not shown a second time"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("slug", "query", "title", "office"), [
    ("kreis-coesfeld", "personalausweis dülmen", "Personalausweis beantragen",
     "Für Dülmen zuständig: Bürgerbüro Dülmen, Markt 1-3, 48249 Dülmen"),
    ("kreis-warendorf", "reisepass ahlen", "Reisepass beantragen",
     "Für Ahlen zuständig: Bürgerbüro Ahlen, Westenmauer 10, 59227 Ahlen"),
])
def test_a_town_and_a_service_show_the_service_first_with_that_towns_office(
        results: Any, engine: str, slug: str, query: str, title: str, office: str) -> None:
    tab = results(engine, slug, query)
    shown = first_result(tab)
    assert shown[0:2] == ["Beste Treffer", title]
    assert shown[-1] == office
    town = office.split()[1]
    link = tab.locator("#suchergebnisse li").first.get_by_role("link", name=f"Bürgerbüro {town}")
    assert link.get_attribute("href") == f"/{slug}/organisation/buergerbuero-{town.lower().replace('ü', 'ue')}/"


@pytest.mark.parametrize("engine", ENGINES)
def test_the_results_page_shows_results_and_one_line_of_alternatives(results: Any, engine: str) -> None:
    tab = results(engine, "muenster", "perso")
    main = tab.locator("main").inner_text()
    assert "Häufig gesucht" not in main
    assert main.count("Auch ohne Suche") == 1
    assert tab.locator("#ohne-suche").inner_text() == ALTERNATIVES
    # Outside the results, main holds the form and that line: no lists of services or life situations.
    assert tab.locator("main ul:not(#suchergebnisse ul)").count() == 0
    assert tab.locator("main h2:not(#suchergebnisse h2)").count() == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_a_contacts_snippet_is_role_and_office(results: Any, engine: str) -> None:
    tab = results(engine, "hamm", "hund anmelden")
    group = tab.locator("#suchergebnisse section", has=tab.locator("h2", has_text="Ansprechpersonen"))
    person = group.locator("li", has=tab.get_by_role("link", name="Eva Demo"))
    assert lines(person.inner_text()) == ["Eva Demo", "Sachbearbeiterin Hundesteuer, Steueramt"]


@pytest.mark.parametrize(("slug", "query"), [
    ("muenster", "umzug"), ("kreis-coesfeld", "personalausweis dülmen"), ("kreis-warendorf", "ahlen reisepass"),
    ("hamm", "hundesteuer"), ("muenster", "xqzvw"), ("kreis-coesfeld", "rathaus billerbeck"),
])
def test_both_engines_show_the_same_text(results: Any, slug: str, query: str) -> None:
    shown = []
    for engine in ENGINES:
        tab = results(engine, slug, query)
        shown.append((tab.locator("#suchstatus").inner_text(), tab.locator("#suchergebnisse").inner_text()))
    assert shown[0] == shown[1]


def test_the_results_page_has_no_accessibility_violations(results: Any) -> None:
    tab = results("browser-ohne-app", "kreis-coesfeld", "personalausweis dülmen")
    assert axe_violations(tab) == []


@pytest.mark.parametrize(("slug", "hint"), [
    ("kreis-warendorf", "Wenn Sie Ihren Wohnort dazuschreiben, etwa „Personalausweis Ahlen“, zeigt die Suche die "
                        "dort zuständige Stelle."),
    ("muenster", None),
])
def test_in_a_district_the_hint_says_a_town_can_be_added(browser: Any, server: str, slug: str, hint: str | None) -> None:
    context = browser.new_context(locale="de-DE")
    try:
        tab = context.new_page()
        tab.goto(f"{server}/{slug}/suche/")
        text = tab.locator("#suchhinweis").inner_text()
        assert text.startswith("Zum Beispiel „Personalausweis“, „ummelden“ oder „Sperrmüll“.")
        assert (hint in text) if hint else ("Wohnort" not in text)
    finally:
        context.close()
