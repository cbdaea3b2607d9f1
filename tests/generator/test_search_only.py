"""Words only for the search (issue 17): misspellings and colloquial words of a service live in
`search_only`, apart from its official synonyms. The search finds the service with both lists;
JSON-LD (alternateName), XZuFi (begriffImKontext) and katalog.json publish only the synonyms.
`check` warns when a synonym looks like a misspelling."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from generator import jsonld
from generator.export import katalog_json
from generator.models import Service
from generator.pipeline import check
from generator.resolve import resolve
from generator.search_documents import documents
from generator.validation.warnings import misspelt_synonyms
from generator.xzufi import XZUFI_NS, xzufi_xml

from ..conftest import TODAY

NS = {"x": XZUFI_NS}
ID_CARD = "services/personalausweis-beantragen.yaml"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def with_search_words(content: Path) -> Path:
    edit(content / ID_CARD, "synonyms: [Perso, Ausweis]", "synonyms: [Ausweis]\nsearch_only: [Perso, Personalausweiß]")
    return content


def service(name: str, synonyms: list[str]) -> Service:
    return Service.model_validate({"name": name, "synonyms": synonyms, "teaser": "Ein Satz zur Leistung.",
                                   "description": "Text.", "level": "kommune", "office": "citizens_office"})


def test_the_service_keeps_search_words_apart_from_its_synonyms(content: Path) -> None:
    valid = check(with_search_words(content), today=TODAY)
    card = valid.services["personalausweis-beantragen"]
    assert card.synonyms == ["Ausweis"]
    assert card.search_only == ["Perso", "Personalausweiß"]
    assert valid.services["kindergeld"].search_only == []  # optional


def test_the_search_finds_the_service_by_its_search_words_as_by_its_synonyms(content: Path) -> None:
    catalog = resolve(check(with_search_words(content), today=TODAY))["stadt"]
    doc = next(d for d in documents(catalog, []) if d.url.endswith("/leistungen/personalausweis-beantragen/"))
    words = doc.fields["synonyms"].split()
    assert {"Ausweis", "Perso", "Personalausweiß"} <= set(words)


def test_json_ld_katalog_and_xzufi_publish_only_the_synonyms(content: Path) -> None:
    edit(content / ID_CARD, "synonyms:", 'leika: "99008001000000"\nsynonyms:')  # XZuFi lists services with a key
    catalog = resolve(check(with_search_words(content), today=TODAY))["stadt"]
    entry = catalog.services["personalausweis-beantragen"]
    assert jsonld.service(catalog, entry, "https://x/", "https://x")["alternateName"] == ["Ausweis"]

    root = ET.fromstring(xzufi_xml(catalog, "https://x"))
    card = next(element for element in root.iterfind("x:schreibe/x:leistung", NS)
                if element.findtext("x:id", namespaces=NS) == "stadt.leistung.personalausweis-beantragen")
    assert [e.findtext("x:begriff", namespaces=NS) for e in card.iterfind("x:modulBegriffImKontext/x:begriffImKontext", NS)] == ["Ausweis"]
    terms = {e.text for e in root.iter(f"{{{XZUFI_NS}}}begriff")}
    assert "Ausweis" in terms and not terms & {"Perso", "Personalausweiß"}

    published = json.loads(katalog_json(catalog, "https://x"))["services"]["personalausweis-beantragen"]
    assert published["synonyms"] == ["Ausweis"] and "search_only" not in published


def test_a_synonym_that_looks_like_a_misspelling_is_a_warning(content: Path) -> None:
    edit(content / ID_CARD, "synonyms: [Perso, Ausweis]", "synonyms: [Perso, Ausweis, Personalausweiß]")
    valid = check(content, today=TODAY)  # a warning, not an error
    warnings = [str(problem) for problem in valid.warnings() if "misspelling" in problem.message]
    assert warnings == [
        'content/services/personalausweis-beantragen.yaml:2: synonyms[2]: synonym "Personalausweiß" looks like a '
        'misspelling of "Personalausweis beantragen": move it to search_only'
    ]
    edit(content / ID_CARD, "synonyms: [Perso, Ausweis, Personalausweiß]",
         "synonyms: [Perso, Ausweis]\nsearch_only: [Personalausweiß]")
    assert not [p for p in check(content, today=TODAY).warnings() if "misspelling" in p.message]


@pytest.mark.parametrize(("name", "synonyms", "misspelt"), [
    ("Sperrmüll zur Abholung anmelden", ["Sperrmüll", "Sperrmül", "Spermüll", "Sperrmuell"],
     ["Sperrmül", "Spermüll", "Sperrmuell"]),
    ("Hund zur Hundesteuer anmelden", ["Hundesteuer", "Hundesteur"], ["Hundesteur"]),
    ("Kinderreisepass", ["Kinderreisepas"], ["Kinderreisepas"]),  # one letter of a double letter
    ("Fundbüro", ["Fundbuero"], ["Fundbuero"]),  # umlauts written as ue, oe, ae, ss
    ("Sorgeerklärung abgeben", ["Sorgeerklaerung", "Sorgeerklärung"], ["Sorgeerklaerung"]),
    # Of two synonyms the later one, unless the earlier one is the spelling without umlauts.
    ("Führungszeugnis beantragen", ["Führungszeugnis", "Fuehrungszeugnis"], ["Fuehrungszeugnis"]),
])
def test_typos_and_ascii_spellings_are_found(name: str, synonyms: list[str], misspelt: list[str]) -> None:
    assert [term for _index, term, _other in misspelt_synonyms(service(name, synonyms))] == misspelt


@pytest.mark.parametrize(("name", "synonyms"), [
    ("Personalausweis beantragen", ["Perso", "Ausweis", "ID-Karte"]),  # colloquial, no typo: the editor decides
    ("Ausländischen Führerschein umschreiben", ["ausländischer führerschein"]),  # another form of the word
    ("Bauvorbescheid beantragen", ["Vorbescheid", "Bauvoranfrage"]),  # part of a compound
    ("Wohnsitz abmelden", ["Wohnsitz anmelden", "abmelden", "Abmeldung"]),  # other prefix, other form
    ("Geburt anzeigen", ["Geburt anmelden", "Geburt melden"]),
    ("Mülltonne bestellen, tauschen oder abmelden", ["Mülltonne bestellen", "Mülltonne"]),  # punctuation
    ("Gewerbe ummelden", ["gewerbe ändern", "gewerbe änderung"]),
])
def test_proper_words_are_no_misspellings(name: str, synonyms: list[str]) -> None:
    assert misspelt_synonyms(service(name, synonyms)) == []
