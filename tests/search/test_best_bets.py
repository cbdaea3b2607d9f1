"""A citizen's top task comes first for its everyday word (content/search/best-bets.yaml), in
both engines: the Python engine of the app's /suche and the browser's script (run in node
here; in chromium in tests/site/test_search_results_page.py). In a district, a town named with
the service finds the service first with that town's responsible office."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from generator.pipeline import check
from search_index.query import Index
from tests.conftest import REAL_CONTENT

HERE = Path(__file__).parent

TOP_TASKS = [
    ("umzug", "Umzug"),
    ("Umzug", "Umzug"),
    ("auto anmelden", "Fahrzeug zulassen (Neufahrzeug)"),
    ("kfz zulassung", "Fahrzeug zulassen (Neufahrzeug)"),
    ("perso", "Personalausweis beantragen"),
    ("personalausweis", "Personalausweis beantragen"),
    ("perso verloren", "Verlust oder Diebstahl von Ausweis oder Pass melden"),
    ("reisepass", "Reisepass beantragen"),
    ("hund", "Hund zur Hundesteuer anmelden"),
    ("sperrmüll", "Sperrmüll zur Abholung anmelden"),
    ("heiraten", "Eheschließung anmelden"),
    ("geburt", "Geburt eines Kindes"),
    ("ummelden", "Umzug innerhalb des Ortes melden"),
    ("termin", "Termin buchen"),
]
SITES = ["muenster", "hamm", "kreis-coesfeld", "kreis-warendorf"]
# (site, query, town id, office role of the service): the town must be a member of the district.
TOWN_QUERIES = [
    ("kreis-coesfeld", "personalausweis dülmen", "duelmen", "citizens_office", "Personalausweis beantragen"),
    ("kreis-warendorf", "reisepass ahlen", "ahlen", "citizens_office", "Reisepass beantragen"),
    ("kreis-warendorf", "Ahlen Reisepass", "ahlen", "citizens_office", "Reisepass beantragen"),
]


def browser_engine(folder: Path, queries: list[str]) -> list[list[dict[str, Any]]]:
    """The browser's search.js over the same files, in node."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to run the browser's search engine in this test")
    result = subprocess.run([node, str(HERE / "run_search.js"), str(folder)], input=json.dumps(queries),
                            capture_output=True, text=True, timeout=60, check=True)
    keys = ["kind", "title", "url", "snippet", "best", "office"]
    return [[dict(zip(keys, hit, strict=True)) for hit in hits] for hits in json.loads(result.stdout)]


@pytest.mark.parametrize("site", SITES)
def test_top_tasks_come_first_for_their_everyday_word_in_both_engines(real_output: Path, site: str) -> None:
    folder = real_output / site / "suche"
    index = Index.from_folder(folder)
    in_browser = browser_engine(folder, [query for query, _title in TOP_TASKS])
    for (query, title), browser_hits in zip(TOP_TASKS, in_browser, strict=True):
        python_hits = index.search(query, 10)
        assert python_hits[0].title == title, (site, query, [h.title for h in python_hits[:3]])
        assert python_hits[0].best, (site, query)
        assert browser_hits[0]["title"] == title, (site, query)
        assert browser_hits[0]["best"] is True


def test_the_umzug_guide_is_followed_by_the_duty_to_register(real_output: Path) -> None:
    hits = Index.from_folder(real_output / "muenster" / "suche").search("umzug", 10)
    assert [h.title for h in hits[:3]] == ["Umzug", "Wohnsitz anmelden", "Umzug innerhalb des Ortes melden"]
    assert [h.best for h in hits[:4]] == [True, True, True, False]
    assert len({h.url for h in hits}) == len(hits), "a best bet is not listed a second time"


@pytest.mark.parametrize(("site", "query", "town_id", "role", "title"), TOWN_QUERIES)
def test_a_town_and_a_service_give_the_service_with_that_towns_office(
        real_output: Path, site: str, query: str, town_id: str, role: str, title: str) -> None:
    content = check(REAL_CONTENT).municipalities[site]
    towns = {town.id: town for town in content.municipality.towns}
    assert town_id in towns, f"{town_id} is not a member town of {site} in the content"
    office = content.units[towns[town_id].offices[role]]
    location = content.locations[office.locations[0]]
    address = f"{location.address.street}, {location.address.postal_code} {location.address.city}"
    assert location.town == town_id

    folder = real_output / site / "suche"
    first = Index.from_folder(folder).search(query, 10)[0]
    assert (first.title, first.best) == (title, True)
    assert first.office is not None
    assert (first.office.town, first.office.name, first.office.address) == (towns[town_id].name, office.name, address)
    assert first.office.url == f"/{site}/organisation/{towns[town_id].offices[role]}/"
    in_browser = browser_engine(folder, [query])[0][0]
    assert in_browser["title"] == title
    assert in_browser["office"] == [towns[town_id].name, office.name, first.office.url, address]


def test_a_district_wide_office_is_shown_at_its_branch_in_the_named_town(real_output: Path) -> None:
    """The Kfz-Zulassung of Kreis Warendorf has a branch in Beckum: a query naming Beckum shows it."""
    first = Index.from_folder(real_output / "kreis-warendorf" / "suche").search("auto anmelden beckum", 5)[0]
    assert first.title == "Fahrzeug zulassen (Neufahrzeug)"
    assert first.office is not None and first.office.address.endswith("Beckum")
    other = Index.from_folder(real_output / "kreis-warendorf" / "suche").search("auto anmelden ahlen", 5)[0]
    assert other.office is not None and other.office.address.endswith("48231 Warendorf")


def test_without_a_town_no_office_line_is_shown(real_output: Path) -> None:
    for site, query in [("kreis-coesfeld", "personalausweis"), ("muenster", "personalausweis münster"),
                        ("kreis-coesfeld", "personalausweis kreis coesfeld")]:
        hits = Index.from_folder(real_output / site / "suche").search(query, 5)
        assert hits[0].title == "Personalausweis beantragen" and hits[0].best, (site, query)
        assert all(hit.office is None for hit in hits), (site, query)


def test_a_query_with_more_words_than_a_best_bet_is_ranked_as_usual(real_output: Path) -> None:
    index = Index.from_folder(real_output / "muenster" / "suche")
    assert not any(hit.best for hit in index.search("umzug halteverbot", 10))
    assert index.search("halteverbot umzug", 3)[0].title == "Halteverbot für einen Umzug beantragen"


@pytest.mark.parametrize(("site", "expected"), [
    ("hamm", "Sachbearbeiterin Hundesteuer, Steueramt"),
    ("muenster", "Sachbearbeiterin Hundesteuer, Amt für Finanzen und Beteiligungen – Steuern"),
])
def test_a_contact_reads_as_role_and_office_not_as_a_run_of_service_names(
        real_output: Path, site: str, expected: str) -> None:
    index = Index.from_folder(real_output / site / "suche")
    for query in ("hundesteuer", "hund anmelden"):
        contacts = [hit for hit in index.search(query, 20) if hit.kind == "contact"]
        assert contacts, "a contact for the dog tax is found"
        snippets = [index.best_snippet(hit, query) for hit in contacts]
        assert expected in snippets, snippets
        assert not any("anmelden" in snippet or "abmelden" in snippet for snippet in snippets), snippets
