"""The citizen's top tasks come first: each home page starts with the municipality's top tasks
in their order, "Termin buchen" is in the main navigation and on a phone's first screen, and a
life situation reads as numbered steps, duties with their deadlines first."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import html5lib
import pytest

from generator.pipeline import build

from ..conftest import FIXTURE_CONTENT, TODAY

SITES = ["muenster", "hamm", "kreis-coesfeld", "kreis-warendorf"]
TOP_TASKS = {
    "muenster": ["Termin buchen", "Personalausweis", "Wohnsitz anmelden", "Reisepass", "Fahrzeug zulassen",
                 # Münster collects bulky waste without registration: the task is „Sperrmüll“ there.
                 "Meldebescheinigung", "Sperrmüll", "Hund anmelden"],
    "hamm": ["Termin buchen", "Personalausweis", "Wohnsitz anmelden", "Fahrzeug zulassen", "Reisepass",
             "Hund anmelden", "Meldebescheinigung", "Straßenschaden melden"],
    "kreis-coesfeld": ["Termin buchen", "Fahrzeug zulassen", "Personalausweis", "Wohnsitz anmelden", "Reisepass",
                       "Führerschein umtauschen", "Meldebescheinigung", "Sperrmüll anmelden"],
    "kreis-warendorf": ["Termin buchen", "Fahrzeug zulassen", "Personalausweis", "Wohnsitz anmelden", "Reisepass",
                        "Aufenthaltserlaubnis", "Führerschein umtauschen", "Meldebescheinigung"],
}
# The life situations that are guides in steps, on every site.
GUIDES = ["umzug", "geburt", "heirat", "todesfall", "zuzug-aus-dem-ausland", "auto-und-verkehr", "haustiere",
          "unternehmen-gruenden"]


def text(element: Element) -> str:
    """What a person reads in an element: its text with the spaces a browser shows."""
    return re.sub(r"\s+", " ", "".join(element.itertext())).strip()


def parse(path: Path) -> Element:
    return html5lib.parse(path.read_text(encoding="utf-8"), namespaceHTMLElements=False)


def texts(root: Element, path: str) -> list[str]:
    return [text(e) for e in root.iterfind(path)]


def section(root: Element, heading_id: str) -> Element:
    for candidate in root.iter("section"):
        if candidate.get("aria-labelledby") == heading_id:
            return candidate
    raise AssertionError(f"no section {heading_id}")


# ---------------------------------------------------------------- home page


@pytest.mark.parametrize("slug", SITES)
def test_home_page_starts_with_the_top_tasks_in_their_order(real_output: Path, slug: str) -> None:
    home = parse(real_output / slug / "index.html")
    main = next(home.iter("main"))
    # The top tasks come right after the heading, before anything else on the page.
    assert [child.tag for child in main][:2] == ["h1", "section"]
    tasks = section(main, "anliegen")
    assert texts(tasks, ".//h2") == ["Häufige Anliegen"]
    assert texts(tasks, ".//li") == TOP_TASKS[slug]
    links = list(tasks.iterfind(".//a"))
    assert (links[0].get("href"), links[0].get("class")) == (f"/{slug}/termine/", "button")
    assert all(re.fullmatch(rf"/{slug}/leistungen/[a-z0-9-]+/", str(a.get("href"))) for a in links[1:])


def test_a_top_task_leads_to_its_service(real_output: Path) -> None:
    tasks = section(parse(real_output / "kreis-coesfeld" / "index.html"), "anliegen")
    links = {text(a): a.get("href") for a in tasks.iterfind(".//a")}
    assert links["Fahrzeug zulassen"] == "/kreis-coesfeld/leistungen/fahrzeug-neu-zulassen/"
    assert links["Führerschein umtauschen"] == "/kreis-coesfeld/leistungen/fuehrerschein-umtausch/"


def test_frequently_searched_follows_the_top_tasks_then_the_alphabet(real_output: Path) -> None:
    home = parse(real_output / "muenster" / "index.html")
    names = texts(section(home, "gefragt"), ".//li/a")
    assert names[:7] == ["Personalausweis beantragen", "Wohnsitz anmelden", "Reisepass beantragen",
                         "Fahrzeug zulassen (Neufahrzeug)", "Meldebescheinigung beantragen",
                         "Sperrmüll zur Abholung anmelden", "Hund zur Hundesteuer anmelden"]
    rest = names[7:]
    assert rest == sorted(rest, key=str.casefold) and "Eheschließung anmelden" in rest


def test_without_top_tasks_the_home_page_offers_booking_and_the_online_services(tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(FIXTURE_CONTENT, out, today=TODAY, show_progress=False)
    tasks = section(parse(out / "stadt" / "index.html"), "anliegen")
    assert texts(tasks, ".//li") == ["Termin buchen", "Eheschließung anmelden", "Meldebescheinigung beantragen",
                                     "Personalausweis beantragen"]


@pytest.mark.parametrize("slug", SITES)
def test_termin_buchen_is_the_first_link_of_the_main_navigation_on_every_page(real_output: Path, slug: str) -> None:
    pages = [real_output / slug / "index.html", real_output / slug / "lebenslagen" / "umzug" / "index.html",
             real_output / slug / "leistungen" / "personalausweis-beantragen" / "index.html",
             real_output / slug / "impressum" / "index.html"]
    for path in pages:
        nav = next(n for n in parse(path).iter("nav") if n.get("aria-label") == "Hauptnavigation")
        first = next(nav.iterfind(".//a"))
        assert (text(first), first.get("href")) == ("Termin buchen", f"/{slug}/termine/"), path


# ---------------------------------------------------------------- life situations


def steps_of(root: Element) -> list[Element]:
    ol = next(e for e in root.iter("ol") if e.get("class") == "step-by-step")
    return list(ol)


def test_umzug_is_a_guide_in_steps_with_the_duty_and_its_deadline_first(real_output: Path) -> None:
    page = parse(real_output / "muenster" / "lebenslagen" / "umzug" / "index.html")
    steps = steps_of(page)
    assert [text(s.find("h3")) for s in steps] == [  # type: ignore[arg-type]
        "Schritt 1: Neue Wohnung anmelden",
        "Schritt 2: Neue Adresse für den Rundfunkbeitrag mitteilen",
        "Schritt 3: Neue Adresse in die Fahrzeugpapiere eintragen lassen",
        "Schritt 4: Hund und Zweitwohnung bei der Steuer melden",
        "Schritt 5: Den Umzugstag vorbereiten",
        "Schritt 6: Am neuen Wohnort parken",
    ]
    first = text(steps[0])
    assert first.index("Pflicht:") < first.index("Wohnsitz anmelden Frist: Melden Sie sich innerhalb von zwei "
                                                 "Wochen nach dem Einzug an.") < first.index("Außerdem, falls es Sie "
                                                                                             "betrifft:")
    assert "Umzug innerhalb des Ortes melden Frist: Melden Sie die neue Wohnung innerhalb von zwei Wochen nach " \
           "dem Einzug." in first
    assert text(steps[4]).startswith("Schritt 5: Den Umzugstag vorbereiten")
    assert "Pflicht" not in text(steps[4]) and "Falls es Sie betrifft: Halteverbot für einen Umzug beantragen" in \
        text(steps[4])
    # What the steps leave out is still there, after them.
    main = text(next(page.iter("main")))
    assert main.index("Schritt 6") < main.index("Weitere Leistungen zu dieser Lebenslage") < main.index(
        "Wohnsitz abmelden (Wegzug ins Ausland)")


@pytest.mark.parametrize(("situation", "first_step", "deadline"), [
    ("geburt", "Schritt 1: Geburt beim Standesamt anzeigen",
     "Geburt anzeigen und beurkunden Frist: Die Geburt muss innerhalb einer Woche beim Standesamt angezeigt werden."),
    ("todesfall", "Schritt 1: Sterbefall beim Standesamt anzeigen",
     "Sterbefall anzeigen Frist: Zeigen Sie den Tod spätestens am dritten Werktag nach dem Sterbetag an."),
    ("heirat", "Schritt 1: Eheschließung beim Standesamt anmelden",
     "Eheschließung anmelden Frist: Die Trauung muss innerhalb von sechs Monaten stattfinden, nachdem das "
     "Standesamt Ihnen mitgeteilt hat, dass kein Ehehindernis besteht."),
    ("zuzug-aus-dem-ausland", "Schritt 1: Wohnsitz anmelden",
     "Wohnsitz anmelden Frist: Melden Sie sich innerhalb von zwei Wochen nach dem Einzug an."),
    ("haustiere", "Schritt 1: Hund zur Hundesteuer anmelden", "Pflicht: Hund zur Hundesteuer anmelden Frist:"),
    ("unternehmen-gruenden", "Schritt 1: Gewerbe anmelden",
     "Gewerbe anmelden Frist: Melden Sie das Gewerbe gleichzeitig mit dem Beginn der Tätigkeit an."),
    ("auto-und-verkehr", "Schritt 1: Änderungen am Fahrzeug melden",
     "Adresse in den Fahrzeugpapieren ändern Frist: Teilen Sie die neue Adresse der Zulassungsstelle unverzüglich "
     "nach dem Umzug mit."),
])
def test_each_guide_begins_with_its_duty_and_the_deadline(real_output: Path, situation: str, first_step: str,
                                                          deadline: str) -> None:
    for slug in SITES:
        steps = steps_of(parse(real_output / slug / "lebenslagen" / situation / "index.html"))
        assert text(steps[0].find("h3")).startswith(first_step), slug  # type: ignore[arg-type]
        assert deadline in text(steps[0]), slug


@pytest.mark.parametrize("situation", GUIDES)
def test_the_steps_with_duties_come_before_the_steps_that_may_apply(real_output: Path, situation: str) -> None:
    steps = [text(s) for s in steps_of(parse(real_output / "hamm" / "lebenslagen" / situation / "index.html"))]
    duties = ["Pflicht:" in s for s in steps]
    assert duties[0] and duties == sorted(duties, reverse=True), steps


def test_a_life_situation_without_steps_keeps_its_list_of_services(real_output: Path) -> None:
    page = parse(real_output / "muenster" / "lebenslagen" / "abfall" / "index.html")
    assert not any(e.get("class") == "step-by-step" for e in page.iter("ol"))
    assert "Leistungen zu dieser Lebenslage" in texts(page, ".//h2")


# ---------------------------------------------------------------- in chromium, on a phone

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, locale="de-DE")
    tab = context.new_page()
    yield tab
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize("slug", SITES)
def test_termin_buchen_is_on_a_phones_first_screen_and_in_the_navigation(phone: Any, server: str, slug: str) -> None:
    phone.goto(f"{server}/{slug}/")
    button = phone.locator("main a.button", has_text=re.compile(r"^Termin buchen$"))
    box = button.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    nav = phone.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Termin buchen")
    assert nav.is_visible()
    # No sideways scrolling on the phone.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    button.click()
    phone.wait_for_url(f"{server}/{slug}/termine/")
    assert phone.locator("h1").inner_text() == "Termin buchen"
    current = phone.get_by_role("navigation", name="Hauptnavigation").locator("a[aria-current=page]")
    assert current.inner_text() == "Termin buchen"


def test_the_apps_pages_show_termin_buchen_in_the_navigation(server: str) -> None:
    with urllib.request.urlopen(f"{server}/hamm/termine/") as answer:
        html = answer.read().decode("utf-8")
    nav = html[html.index('aria-label="Hauptnavigation"') : html.index("</nav>")]
    assert '<a href="/hamm/termine/" aria-current="page">Termin buchen</a>' in nav


def test_a_changed_deadline_reaches_the_step_that_shows_it_on_the_next_build(content: Path, tmp_path: Path) -> None:
    umzug = content / "life-situations" / "umzug.yaml"
    umzug.write_text(umzug.read_text(encoding="utf-8") + "steps:\n  - title: Anmelden\n"
                     "    required: [kindergeld]\n", encoding="utf-8")
    out = tmp_path / "out"
    build(content, out, today=TODAY, show_progress=False)
    page = out / "stadt" / "lebenslagen" / "umzug" / "index.html"
    assert "Frist:" not in text(steps_of(parse(page))[0])
    service = content / "services" / "kindergeld.yaml"
    service.write_text(service.read_text(encoding="utf-8") + "deadlines:\n  - description: Beantragen Sie es "
                       "innerhalb von sechs Monaten.\n", encoding="utf-8")
    build(content, out, today=TODAY, show_progress=False)
    assert text(steps_of(parse(page))[0]) == ("Schritt 1: Anmelden Pflicht: Kindergeld beantragen Frist: Beantragen "
                                              "Sie es innerhalb von sechs Monaten.")
