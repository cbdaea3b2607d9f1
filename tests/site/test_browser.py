"""The real sites in Debian's chromium: axe-core finds no violations, keyboard and phone work."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parent.parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = pytest.mark.browser

INDEXES = ["leistungen/", "lebenslagen/", "organisation/", "standorte/", "ansprechpersonen/", "aktuelles/"]
SINGLE = ["", "a-z/", "suche/", "impressum/", "datenschutz/", "barrierefreiheit/", "leichte-sprache/", "offene-daten/",
          "gibt-es-nicht/"]
SITES = ["muenster", "kreis-coesfeld"]  # a city and a district: every template, every kind of page
ALL_SITES = ["muenster", "hamm", "kreis-coesfeld", "kreis-warendorf"]


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    # bypass_csp lets the test inject axe-core; the site itself runs no script.
    context = browser.new_context(bypass_csp=True, locale="de-DE")
    tab = context.new_page()
    yield tab
    context.close()


def first_item_link(page: Any, server: str, index: str) -> str:
    page.goto(f"{server}{index}")
    href = page.eval_on_selector(f"main a[href^='{index}']:not([href='{index}'])", "a => a.getAttribute('href')")
    return str(href)


def axe_violations(page: Any) -> list[str]:
    if not AXE.exists():
        pytest.fail("axe-core is missing: run ./dev setup (npm install)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
        return r.violations.map(v => v.id + ': ' + v.help + ' @ ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
    }""")
    return list(result)


@pytest.mark.parametrize("slug", SITES)
def test_no_axe_violations_on_any_kind_of_page(page: Any, server: str, slug: str) -> None:
    base = f"/{slug}/"
    urls = [base + path for path in SINGLE + INDEXES]
    urls += [first_item_link(page, server, base + index) for index in INDEXES]
    urls.append("/")
    found = {}
    for url in urls:
        page.goto(server + url)
        violations = axe_violations(page)
        if violations:
            found[url] = violations
    assert found == {}


def test_skip_link_is_the_first_stop_and_moves_focus_to_the_content(page: Any, server: str) -> None:
    page.goto(f"{server}/muenster/a-z/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Zum Inhalt springen"
    assert page.is_visible("a.skip-link")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "inhalt"


def test_keyboard_reaches_a_service_from_the_a_to_z(page: Any, server: str) -> None:
    page.goto(f"{server}/muenster/a-z/")
    link = page.locator("main .az-list a").first
    name = link.text_content()
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.locator("h1").text_content() == name
    assert "/muenster/leistungen/" in page.url


def test_district_shows_the_responsible_office_per_town_without_javascript(browser: Any, server: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    tab = context.new_page()
    tab.goto(f"{server}/kreis-coesfeld/leistungen/personalausweis-beantragen/")
    summary = tab.locator("summary", has_text="Dülmen")
    assert summary.count() == 1
    office = tab.locator("details:has(summary:text-is('Dülmen')) a").first
    assert not office.is_visible()
    summary.click()
    assert office.is_visible()
    assert "Dülmen" in (office.text_content() or "")
    context.close()


@pytest.mark.parametrize("path", ["/muenster/", "/muenster/leistungen/personalausweis-beantragen/", "/kreis-warendorf/standorte/"])
def test_pages_fit_a_phone_screen(browser: Any, server: str, path: str) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True)
    tab = context.new_page()
    tab.goto(server + path)
    width = tab.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    context.close()


def test_search_shows_results_as_you_type_and_the_keyboard_follows_one(page: Any, server: str) -> None:
    page.goto(f"{server}/muenster/suche/")
    page.locator("#suchbegriff").press_sequentially("anwohnerparkausweis", delay=20)
    # Results come while typing; wait for those of the whole word.
    expect(page.locator("#suchstatus")).to_have_text(re.compile(r"^\d+ Ergebnis(se)? für „anwohnerparkausweis“\."))
    assert page.locator("#suchergebnisse a").first.text_content() == "Bewohnerparkausweis beantragen"
    assert page.locator("#suchergebnisse h2").first.text_content() == "Leistungen"
    assert axe_violations(page) == []
    page.locator("#suchbegriff").press("ArrowDown")
    assert page.evaluate("document.activeElement.textContent") == "Bewohnerparkausweis beantragen"
    page.keyboard.press("Enter")
    page.wait_for_url("**/muenster/leistungen/bewohnerparkausweis/")
    assert page.locator("h1").text_content() == "Bewohnerparkausweis beantragen"


def test_header_search_leads_to_results(page: Any, server: str) -> None:
    page.goto(f"{server}/kreis-warendorf/")
    page.fill("#kopfsuche", "rathaus telgte")
    page.keyboard.press("Enter")
    page.wait_for_url("**/kreis-warendorf/suche/?q=rathaus+telgte")
    page.locator("#suchergebnisse a").first.wait_for()
    links = [a.get_attribute("href") for a in page.locator("#suchergebnisse a").all()]
    assert links[0] == "/kreis-warendorf/organisation/rathaus-telgte/"  # results come grouped by kind
    assert "/kreis-warendorf/standorte/rathaus-telgte/" in links


def test_search_works_without_javascript(browser: Any, server: str) -> None:
    """The app writes the results into the page; the ways without search stay below them."""
    context = browser.new_context(java_script_enabled=False)
    tab = context.new_page()
    tab.goto(f"{server}/hamm/")
    tab.fill("#kopfsuche", "perso")
    tab.press("#kopfsuche", "Enter")
    tab.wait_for_url("**/hamm/suche/?q=perso")
    assert tab.locator("#suchergebnisse a").first.inner_text() == "Personalausweis beantragen"
    assert tab.locator("#suchstatus").inner_text().endswith("Ergebnisse für „perso“.")
    assert tab.locator("#suchbegriff").input_value() == "perso"
    assert tab.locator("main a[href='/hamm/a-z/']").count() >= 1
    tab.locator("#suchergebnisse a").first.click()
    tab.wait_for_url("**/hamm/leistungen/personalausweis-beantragen/")
    context.close()


def test_search_script_leaves_the_results_the_server_wrote(page: Any, server: str) -> None:
    """With JavaScript, the results in the page from the app stay in place: the script does
    not replace a link the citizen may be about to click."""
    page.goto(f"{server}/hamm/suche/?q=perso")
    first = page.locator("#suchergebnisse a").first.element_handle()
    page.wait_for_load_state("networkidle")  # the script has started and fetched what it wanted
    assert first.evaluate("link => link.isConnected")
    assert first.inner_text() == "Personalausweis beantragen"


def test_search_script_answers_when_only_the_static_page_is_there(page: Any, real_output: Path) -> None:
    """When the app is down, nginx serves the static search page: the script finds the results."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(real_output))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        page.goto(f"http://127.0.0.1:{httpd.server_port}/hamm/suche/?q=perso")
        expect(page.locator("#suchstatus")).to_have_text(re.compile(r"^\d+ Ergebnisse für „perso“\."))
        assert page.locator("#suchergebnisse a").first.inner_text() == "Personalausweis beantragen"
    finally:
        httpd.shutdown()


@pytest.mark.parametrize("slug", ALL_SITES)
def test_every_kind_of_page_reflows_at_400_percent_zoom(browser: Any, server: str, slug: str) -> None:
    """WCAG 1.4.10: at 400 % zoom of a 1280 px window (320 CSS px) nothing needs sideways scrolling."""
    context = browser.new_context(viewport={"width": 320, "height": 256}, locale="de-DE")
    tab = context.new_page()
    base = f"/{slug}/"
    urls = [base + path for path in SINGLE + INDEXES]
    urls += [first_item_link(tab, server, base + index) for index in INDEXES]
    too_wide = {}
    for url in urls:
        tab.goto(server + url)
        width = tab.evaluate("document.documentElement.scrollWidth")
        if width > 320:
            too_wide[url] = width
    context.close()
    assert too_wide == {}
