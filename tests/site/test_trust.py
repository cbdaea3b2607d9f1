"""What makes the portal trustworthy at a glance: pages without a municipality name their
operator (imprint, privacy notice, accessibility statement), every page has a favicon, the
municipality's logo keeps its proportions, times do not break, breadcrumb links are big
enough to hit on a phone, and nothing sticks to the footer."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import html5lib
import pytest

from generator.pipeline import check
from generator.portal import write_portal_pages

from ..conftest import ROOT
from .pagecheck import read_page

SITES = ["muenster", "hamm", "kreis-coesfeld", "kreis-warendorf"]
OPERATOR = "Zweckverband Bürgerportal Münsterland (Beispiel)"
EXAMPLE_NOTE = (f"Beispieldaten: Den Betreiber „{OPERATOR}“ gibt es nicht. Name, Anschrift und Kontaktangaben "
                "auf dieser Seite sind erfunden; sie zeigen nur, welche Angaben hier stehen.")
LEGAL_LINKS = [("Impressum", "/impressum/"), ("Datenschutz", "/datenschutz/"),
               ("Barrierefreiheit", "/barrierefreiheit/")]


def parse(path: Path) -> Element:
    tree: Element = html5lib.parse(path.read_text(encoding="utf-8"), namespaceHTMLElements=False)
    return tree


INLINE = {"a", "abbr", "b", "code", "em", "i", "kbd", "mark", "q", "small", "span", "strong", "time"}


def text_of(element: Element | None) -> str:
    """The text as a reader sees it: block elements and line breaks separate words."""
    assert element is not None
    parts: list[str] = []

    def walk(node: Element) -> None:
        gap = "" if node.tag in INLINE else " "
        parts.append(gap + (node.text or ""))
        for child in node:
            walk(child)
            parts.append(child.tail or "")
        parts.append(gap)

    walk(element)
    return " ".join("".join(parts).split())


def footer_links(page: Element) -> list[tuple[str, str]]:
    return [(text_of(a), a.get("href", "")) for a in page.iterfind(".//footer//a")]


# ---------------------------------------------------------------- built pages


@pytest.mark.parametrize("path", ["index.html", "404.html", "impressum/index.html", "datenschutz/index.html",
                                  "barrierefreiheit/index.html"])
def test_pages_without_a_municipality_link_to_the_operators_legal_pages(real_output: Path, path: str) -> None:
    links = footer_links(parse(real_output / path))
    assert [link for link in links if link in LEGAL_LINKS] == LEGAL_LINKS
    for _label, href in LEGAL_LINKS:
        assert (real_output / href.strip("/") / "index.html").is_file()


@pytest.mark.parametrize("path", ["/konto/anmelden", "/konto/registrieren", "/postfach/", "/gibt-es-nicht/"])
def test_dynamic_pages_without_a_municipality_link_to_the_operators_legal_pages(server: str, path: str) -> None:
    try:
        with urllib.request.urlopen(server + path) as response:
            body = response.read().decode()
    except urllib.error.HTTPError as error:  # the portal's 404 page
        body = error.read().decode()
    page: Element = html5lib.parse(body, namespaceHTMLElements=False)
    assert [link for link in footer_links(page) if link in LEGAL_LINKS] == LEGAL_LINKS


def test_the_operators_imprint_names_the_operator_and_says_it_is_an_example(real_output: Path) -> None:
    main = text_of(parse(real_output / "impressum/index.html").find(".//main"))
    assert main.startswith(f"Impressum {EXAMPLE_NOTE} Dieses Impressum gilt für die gemeinsamen Seiten des "
                           "Bürgerportals: die Startseite mit der Auswahl der Kommune, das Nutzerkonto und das Postfach.")
    assert (f"Betreiber des Bürgerportals {OPERATOR} Beispielweg 1 48999 Musterstadt E-Mail "
            "kontakt@buergerportal.example Website https://buergerportal.example") in main
    assert ("Rechtsform Zweckverband, Körperschaft des öffentlichen Rechts Vertreten durch Verbandsvorsteherin "
            "oder Verbandsvorsteher Aufsichtsbehörde Bezirksregierung Münster") in main
    assert "Impressum: Stadt Hamm Impressum: Kreis Coesfeld Impressum: Kreis Warendorf Impressum: Stadt Münster" in main


def test_the_operators_privacy_notice_names_who_is_responsible_for_the_account(real_output: Path) -> None:
    main = text_of(parse(real_output / "datenschutz/index.html").find(".//main"))
    assert EXAMPLE_NOTE in main
    assert (f"Verantwortliche Stelle {OPERATOR}, Beispielweg 1, 48999 Musterstadt, E-Mail "
            "kontakt@buergerportal.example") in main
    assert "E-Mail datenschutz@buergerportal.example" in main
    assert "Datenschutzerklärung: Kreis Coesfeld" in main
    assert "Sie können Ihr Konto jederzeit selbst löschen" in main


def test_the_operators_accessibility_statement_follows_the_eu_model(real_output: Path) -> None:
    page = parse(real_output / "barrierefreiheit/index.html")
    headings = [text_of(h) for h in page.iterfind(".//main/h2")]
    assert headings == ["Stand der Vereinbarkeit mit den Anforderungen", "Nicht barrierefreie Inhalte",
                        "Erstellung dieser Erklärung", "Barrieren melden: Kontakt zu den Feedback-Ansprechpartnern",
                        "Schlichtungsverfahren"]
    main = text_of(page.find(".//main"))
    assert EXAMPLE_NOTE in main
    assert ("Diese Seiten sind mit den Anforderungen der BITV NRW und der europäischen Norm EN 301 549 "
            "(WCAG 2.1, Stufe AA) teilweise vereinbar.") in main
    assert "Diese Erklärung wurde am 5. Dezember 2026 erstellt." in main
    assert "E-Mail an barrierefreiheit@buergerportal.example." in main


def test_a_real_operator_is_not_called_an_example(tmp_path: Path, content: Path) -> None:
    portal = content / "portal.yaml"
    portal.write_text(portal.read_text(encoding="utf-8").replace("example: true\n", ""), encoding="utf-8")
    valid = check(content)
    write_portal_pages(tmp_path, ROOT / "site_templates", [], valid.portal, "https://portal.example.org")
    for path in ("impressum", "datenschutz", "barrierefreiheit"):
        main = text_of(parse(tmp_path / path / "index.html").find(".//main"))
        assert OPERATOR in main and "Beispieldaten" not in main


def test_every_built_page_names_a_favicon_that_exists(real_output: Path) -> None:
    missing = []
    for path in sorted(real_output.rglob("*.html")):
        icons = [link for link in parse(path).iterfind(".//head/link") if link.get("rel") == "icon"]
        href = icons[0].get("href", "") if icons else ""
        if not href or not (real_output / href.lstrip("/")).is_file():
            missing.append(f"{path.relative_to(real_output)}: {href or 'no icon'}")
    assert missing == []


def test_each_site_has_an_icon_in_its_own_colour(real_output: Path) -> None:
    icon = (real_output / "hamm" / "theme" / "icon.svg").read_text(encoding="utf-8")
    assert 'fill="#a6192e"' in icon and ">H</text>" in icon
    assert read_page(real_output / "hamm" / "index.html").resources.count("/hamm/theme/icon.svg") == 1


# ---------------------------------------------------------------- in chromium

browser_test = pytest.mark.browser


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="de-DE", viewport={"width": 390, "height": 844})
    yield context.new_page()
    context.close()


@pytest.fixture
def desktop(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def icon_answer(tab: Any) -> tuple[int, str]:
    href = tab.evaluate("document.querySelector('link[rel=icon]').href")  # absolute
    response = tab.request.get(href)
    return response.status, response.headers["content-type"]


@browser_test
@pytest.mark.parametrize("path", ["/", "/impressum/", "/muenster/", "/hamm/leistungen/personalausweis-beantragen/",
                                  "/konto/anmelden", "/konto/registrieren?kommune=kreis-coesfeld",
                                  "/muenster/termine/personalausweis-beantragen/", "/gibt-es-nicht/"])
def test_the_favicon_of_static_and_dynamic_pages_answers(phone: Any, server: str, path: str) -> None:
    phone.goto(server + path)
    status, kind = icon_answer(phone)
    assert (status, kind.split(";")[0]) == (200, "image/svg+xml")


LOGO_BOX = """() => {
    const img = document.querySelector('.brand img');
    const box = img.getBoundingClientRect();
    return {width: box.width, height: box.height, natural: [img.naturalWidth, img.naturalHeight]};
}"""


@browser_test
@pytest.mark.parametrize("slug", SITES)
def test_the_logo_keeps_its_proportions_on_phone_and_desktop(phone: Any, desktop: Any, server: str, slug: str) -> None:
    for tab, heights in ((phone, (36, 44)), (desktop, (44, 52))):
        tab.goto(f"{server}/{slug}/leistungen/personalausweis-beantragen/")
        tab.wait_for_function("document.querySelector('.brand img').complete")
        box = tab.evaluate(LOGO_BOX)
        natural_width, natural_height = box["natural"]
        assert box["width"] / box["height"] == pytest.approx(natural_width / natural_height, rel=0.02)
        assert heights[0] <= box["height"] <= heights[1]
        assert box["width"] <= tab.viewport_size["width"] - 32


@browser_test
@pytest.mark.parametrize("slug", SITES)
def test_breadcrumb_links_are_targets_of_at_least_24_pixels_on_a_phone(phone: Any, server: str, slug: str) -> None:
    phone.goto(f"{server}/{slug}/leistungen/personalausweis-beantragen/")
    boxes = phone.eval_on_selector_all(".breadcrumbs a", """links => links.map(a => {
        const box = a.getBoundingClientRect();
        return [a.textContent.trim(), Math.round(box.width * 10) / 10, Math.round(box.height * 10) / 10];
    })""")
    assert len(boxes) >= 2
    assert [box for box in boxes if box[1] < 24 or box[2] < 24] == []


# The text of every "08:00 Uhr" in the page, and whether it is drawn on one line: a Range over
# the characters has one client rectangle per line it covers.
TIMES_ON_LINES = r"""() => {
    const found = [];
    const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const match of node.data.matchAll(/\d\d:\d\d Uhr/g)) {
            const range = document.createRange();
            range.setStart(node, match.index);
            range.setEnd(node, match.index + match[0].length);
            const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
            found.push([match[0], tops.size]);
        }
    }
    return found;
}"""


@browser_test
@pytest.mark.parametrize("width", [320, 390])
def test_opening_and_appointment_times_stay_on_one_line(browser: Any, server: str, width: int) -> None:
    context = browser.new_context(locale="de-DE", viewport={"width": width, "height": 800})
    tab = context.new_page()
    found = []
    for path in ["/muenster/standorte/stadthaus-1/", "/kreis-warendorf/standorte/",
                 "/hamm/leistungen/personalausweis-beantragen/"]:
        tab.goto(server + path)
        if path.endswith("/standorte/"):
            tab.goto(server + tab.get_attribute("main a[href*='/standorte/']", "href"))
        found += tab.evaluate(TIMES_ON_LINES)
    tab.goto(f"{server}/muenster/termine/personalausweis-beantragen/stadthaus-1/")
    tab.click("table.calendar td.free a >> nth=0")
    slots = tab.evaluate(TIMES_ON_LINES)  # the day's times to choose from
    context.close()
    assert len(slots) > 5
    found += slots
    assert len(found) > 5
    assert [text for text, lines in found if lines != 1] == []


FOOTER_GAP = """() => {
    const footer = document.querySelector('footer').getBoundingClientRect().top;
    const bottoms = [...document.querySelectorAll('main *')].map(e => e.getBoundingClientRect().bottom);
    return footer - Math.max(...bottoms);
}"""


@browser_test
@pytest.mark.parametrize("path", ["/konto/anmelden", "/muenster/standorte/stadthaus-1/", "/impressum/",
                                  "/muenster/termine/personalausweis-beantragen/"])
def test_buttons_and_tables_keep_their_distance_from_the_footer(phone: Any, server: str, path: str) -> None:
    phone.goto(server + path)
    assert phone.evaluate(FOOTER_GAP) >= 32


@browser_test
@pytest.mark.parametrize(("query", "target", "heading", "responsible"), [
    ("", "/datenschutz/", "Datenschutzerklärung", OPERATOR),
    ("?kommune=hamm", "/hamm/datenschutz/", "Datenschutzerklärung", "Stadt Hamm"),
])
def test_the_registrations_privacy_link_leads_to_a_privacy_notice(phone: Any, server: str, query: str, target: str,
                                                                 heading: str, responsible: str) -> None:
    phone.goto(f"{server}/konto/registrieren{query}")
    link = phone.get_by_role("link", name="Datenschutzhinweise")
    assert link.get_attribute("href") == target
    link.click()
    assert phone.inner_text("h1") == heading
    section = phone.inner_text("main")
    assert re.search(rf"Verantwortliche Stelle\s+{re.escape(responsible)}", section)


@browser_test
def test_the_operators_pages_have_no_axe_violations_on_a_phone(browser: Any, server: str) -> None:
    from .test_browser import axe_violations

    context = browser.new_context(bypass_csp=True, locale="de-DE", viewport={"width": 390, "height": 844})
    tab = context.new_page()
    found = {}
    for path in ["/", "/impressum/", "/datenschutz/", "/barrierefreiheit/", "/404.html"]:
        tab.goto(server + path)
        if violations := axe_violations(tab):
            found[path] = violations
    context.close()
    assert found == {}
