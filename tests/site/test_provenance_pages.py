"""Provenance on the pages (issue 17): each service and location page says when its facts were
last checked („Stand: …“, never an invented date), and an example value is marked in words where
it stands, „Beispielangabe – nicht amtlich“; JSON-LD does not publish it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from generator.pipeline import build

from ..conftest import FIXTURE_CONTENT, TODAY
from .pagecheck import read_page
from .readable import visible_text

EXAMPLE = "Beispielangabe – nicht amtlich"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("provenance") / "output"
    build(FIXTURE_CONTENT, target, today=TODAY, show_progress=False)
    return target


def text(out: Path, path: str) -> str:
    return visible_text((out / path / "index.html").read_text(encoding="utf-8"))


def test_service_pages_say_when_their_facts_were_checked(out: Path) -> None:
    # the older of the shared description (2 November) and the city's own part (15 October)
    assert "Stand: 15. Oktober 2026" in text(out, "stadt/leistungen/personalausweis-beantragen")
    assert "Stand: 2. November 2026" in text(out, "kreis/leistungen/personalausweis-beantragen")
    html = (out / "stadt/leistungen/personalausweis-beantragen/index.html").read_text(encoding="utf-8")
    assert '<time datetime="2026-10-15">15. Oktober 2026</time>' in html
    # never checked: no date at all, not the day of the build
    assert "Stand:" not in text(out, "stadt/leistungen/kindergeld")


def test_location_pages_say_when_their_facts_were_checked(out: Path) -> None:
    assert "Stand: 20. November 2026" in text(out, "stadt/standorte/rathaus")
    assert "Stand:" not in text(out, "kreis/standorte/kreishaus")


def test_an_example_value_is_marked_in_words_where_it_stands(out: Path) -> None:
    page = text(out, "stadt/standorte/rathaus")
    transport = page.index("Anfahrt mit Bus und Bahn")
    assert page.index(EXAMPLE, transport) < page.index("Bus 1: Haltestelle Markt")
    assert page.count(EXAMPLE) == 1  # only the journey by bus is an example
    marriage = text(out, "stadt/leistungen/eheschliessung-anmelden")
    documents = marriage.index("Welche Unterlagen brauche ich?")
    assert marriage.index(EXAMPLE, documents) < marriage.index("Geburtsurkunden beider Verlobter")
    assert EXAMPLE not in text(out, "stadt/leistungen/personalausweis-beantragen")


def test_pages_of_examples_keep_their_facts_out_of_json_ld(out: Path) -> None:
    # The fixture's marks reach no structured data: the documents are not in JSON-LD anyway,
    # and nothing else is marked; see tests/generator/test_provenance.py for values left out.
    facts = read_page(out / "stadt/standorte/rathaus/index.html")
    data = [json.loads(block) for block in facts.jsonld]
    assert not re.search("Bus 1", json.dumps(data, ensure_ascii=False))


def test_a_page_whose_whole_file_is_an_example_says_so_at_the_top(content: Path, tmp_path: Path) -> None:
    location = content / "municipalities/kreis/locations/kreishaus.yaml"
    location.write_text(location.read_text(encoding="utf-8") + "beispiel: true\n", encoding="utf-8")
    unit = content / "municipalities/stadt/units/buergeramt.yaml"
    unit.write_text(unit.read_text(encoding="utf-8") + 'phone: "030 23125 100"\nbeispiel_felder: [phone]\n',
                    encoding="utf-8")
    out = tmp_path / "out"
    build(content, out, today=TODAY, show_progress=False)
    page = text(out, "kreis/standorte/kreishaus")
    assert page.index(f"{EXAMPLE}: Die Angaben dieser Seite sind Beispiele") < page.index("Adresse")
    service = text(out, "stadt/leistungen/personalausweis-beantragen")
    assert f"Telefon 030 23125 100 ({EXAMPLE})" in service
    data = json.dumps([json.loads(block) for block in read_page(out / "kreis/standorte/kreishaus/index.html").jsonld],
                      ensure_ascii=False)
    assert "openingHoursSpecification" not in data and "PostalAddress" not in data.split('"GovernmentOffice"')[1]
