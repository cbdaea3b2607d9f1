"""Names in correct German: the forms a name takes in a sentence, checked by `check`, and the
sentences they make on the built pages of a city and a district."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.models import Grammar
from generator.pipeline import build
from portal.grammar import name_forms, name_the_city, upper_first

from ..conftest import FIXTURE_CONTENT, TODAY
from .test_pages import page, text_of
from .test_validate import edit, problems_of


@pytest.mark.parametrize(("name", "case", "expected"), [
    ("Kreis Coesfeld", "genitive", "des Kreises Coesfeld"),
    ("Kreis Coesfeld", "in_", "im Kreis Coesfeld"),
    ("Kreis Coesfeld", "accusative", "den Kreis Coesfeld"),
    ("Stadt Münster", "genitive", "der Stadt Münster"),
    ("Stadt Hamm", "in_", "in der Stadt Hamm"),
    ("Steueramt", "to", "an das Steueramt"),
    ("Bürgeramt", "at", "beim Bürgeramt"),
    ("Bürgerbüro Dülmen", "from_", "vom Bürgerbüro Dülmen"),
    ("Rathaus Ahlen", "genitive", "des Rathauses Ahlen"),
    ("Ausländerbehörde", "at", "bei der Ausländerbehörde"),
    ("Bürgerämter der Stadt Hamm", "at", "bei den Bürgerämtern der Stadt Hamm"),
    ("Abfallwirtschafts- und Stadtreinigungsbetrieb Hamm", "to", "an den Abfallwirtschafts- und "
                                                                 "Stadtreinigungsbetrieb Hamm"),
])
def test_a_name_takes_the_article_and_case_its_first_word_shows(name: str, case: str, expected: str) -> None:
    forms = name_forms(name)
    assert forms is not None and getattr(forms, case) == expected


def test_an_editor_sets_the_gender_or_a_whole_form_where_the_rule_does_not_fit() -> None:
    assert name_forms("Infothek") is None
    forms = name_forms("Infothek", Grammar(gender="f"))
    assert forms is not None and upper_first(forms.nominative) == "Die Infothek" and forms.at == "bei der Infothek"
    given = name_forms("Infothek und Wohngeld",
                       Grammar(nominative="die Stelle für Wohngeld", accusative="die Stelle für Wohngeld",
                               dative="der Stelle für Wohngeld", genitive="der Stelle für Wohngeld"))
    assert given is not None and given.to == "an die Stelle für Wohngeld" and given.at == "bei der Stelle für Wohngeld"


def test_shared_text_names_the_city_in_the_right_case_but_not_a_district() -> None:
    hamm, kreis = name_forms("Stadt Hamm"), name_forms("Kreis Coesfeld")
    assert hamm is not None and kreis is not None
    assert (name_the_city("Melden Sie den Hund bei Ihrer Stadt oder Gemeinde an. Ihre Stadt oder Gemeinde nennt "
                          "die Frist.", hamm)
            == "Melden Sie den Hund bei der Stadt Hamm an. Die Stadt Hamm nennt die Frist.")
    assert name_the_city("bei Ihrer Stadt oder Gemeinde", kreis) == "bei Ihrer Stadt oder Gemeinde"


def test_check_names_file_and_line_of_a_name_whose_article_it_cannot_tell(content: Path) -> None:
    unit = content / "municipalities" / "stadt" / "units" / "buergeramt.yaml"
    edit(unit, "name: Bürgeramt", "name: Infothek")
    assert problems_of(content) == [
        'content/municipalities/stadt/units/buergeramt.yaml:1: name: the article of "Infothek" does not follow '
        'from its first word "Infothek"; add "grammar: {gender: f}" (die), m (der), n (das) or pl (plural)']
    edit(unit, "name: Infothek", "name: Infothek\ngrammar: {gender: f}")
    edit(unit, "grammar: {gender: f}", "grammar: {gender: w}")
    [problem] = problems_of(content)
    assert problem.startswith("content/municipalities/stadt/units/buergeramt.yaml:2: grammar.gender: ")


def test_a_local_fee_with_a_source_needs_the_day_it_was_checked(content: Path) -> None:
    service = content / "services" / "personalausweis-beantragen.yaml"
    edit(service, "    amount: 37.00", "    amount: 37.00\n    source: https://example.org/satzung")
    [problem] = problems_of(content)
    assert problem.startswith("content/services/personalausweis-beantragen.yaml:")
    assert "checked_on: give the day the amount was compared with its source" in problem


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("grammar") / "output"
    build(FIXTURE_CONTENT, out, today=TODAY, show_progress=False)
    return out


def test_a_districts_pages_say_des_kreises_and_im_kreis(site: Path) -> None:
    home = text_of(page(site, "kreis"))
    assert "Leistungen der Verwaltung des Kreises Beispiel und seiner Städte und Gemeinden:" in home
    assert "Städte und Gemeinden im Kreis Beispiel" in home
    assert "Ihrer Stadt oder Gemeinde" in text_of(page(site, "kreis/leistungen/eheschliessung-anmelden"))


def test_a_citys_pages_name_the_city_with_its_article(site: Path) -> None:
    assert "Die Stadt Beispielstadt ist bemüht, diese Website barrierefrei zugänglich zu machen." in text_of(
        page(site, "stadt/barrierefreiheit"))


def test_hamms_dog_tax_page_names_hamm_and_shows_its_rates_with_source_and_date(real_output: Path) -> None:
    html = page(real_output, "hamm/leistungen/hundesteuer-anmelden")
    text = text_of(html).replace(" ,", ",")
    assert ("Wenn Sie einen Hund halten, müssen Sie ihn bei der Stadt Hamm zur Hundesteuer anmelden und erhalten "
            "eine Hundemarke.") in text
    assert ("Hundesteuer für einen Hund, pro Jahr 90,00 € Quelle: Hundesteuer für einen Hund, pro Jahr, "
            "Stand 5. Dezember 2026") in text
    assert "Hundesteuer bei zwei Hunden, je Hund und Jahr 124,00 €" in text
    assert 'href="https://www.wa.de/hamm/hundesteuer-2019-zahl-hunde-stadt-hamm-steigt-weiter-weniger-' in html
    assert ("Drei und mehr Hunde, gefährliche Hunde Dafür gelten höhere Sätze nach § 2 der Hundesteuersatzung der "
            "Stadt Hamm. Das Steueramt nennt Ihnen den Betrag.") in text


@pytest.mark.parametrize("slug", ["hamm", "muenster"])
def test_no_page_of_a_city_speaks_of_your_town_or_municipality(real_output: Path, slug: str) -> None:
    for path in sorted((real_output / slug).rglob("index.html")):
        text = text_of(path.read_text(encoding="utf-8"))
        assert "Ihrer Stadt oder Gemeinde" not in text and "Ihre Stadt oder Gemeinde" not in text, path


def test_the_district_home_page_lists_its_towns_im_kreis(real_output: Path) -> None:
    text = text_of(page(real_output, "kreis-coesfeld"))
    assert "Leistungen der Verwaltung des Kreises Coesfeld und seiner Städte und Gemeinden:" in text
    assert "Städte und Gemeinden im Kreis Coesfeld" in text
