"""Provenance (issue 17): every file that states facts says where they come from and when they
were checked; what nobody can source is marked as an example, and examples are never published as
facts in JSON-LD or XZuFi."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from generator import jsonld
from generator.errors import ContentError
from generator.pipeline import check
from generator.resolve import resolve
from generator.validation.provenance import is_fiction_number, months_before
from generator.xzufi import XZUFI_NS, xzufi_xml

from ..conftest import TODAY

NS = {"x": XZUFI_NS}
SOURCES = """quellen:
  - url: https://www.example.org/quelle
    titel: Eine öffentliche Quelle
    abgerufen: 2026-11-20
"""


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n" + text, encoding="utf-8")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def warnings_of(content: Path, **options: object) -> list[str]:
    return [str(problem) for problem in check(content, today=TODAY, **options).warnings()]  # type: ignore[arg-type]


def test_every_file_that_states_facts_takes_sources_a_check_date_and_example_marks(content: Path) -> None:
    stadt = content / "municipalities/stadt"
    for path in (stadt / "municipality.yaml", stadt / "units/buergeramt.yaml"):
        append(path, SOURCES + "geprueft_am: 2026-11-21\nbeispiel: true\n")
    edit(stadt / "locations/rathaus.yaml", "beispiel_felder: [transport]", "beispiel_felder: [opening_hours, geo]")
    valid = check(content, today=TODAY)
    rathaus = valid.municipalities["stadt"].locations["rathaus"]
    assert rathaus.is_example("opening_hours") and rathaus.is_example("geo") and not rathaus.is_example("address")
    unit = valid.municipalities["stadt"].units["buergeramt"]
    assert unit.beispiel and unit.is_example("email") and unit.geprueft_am == dt.date(2026, 11, 21)
    service = valid.services["personalausweis-beantragen"]
    assert service.quellen[0].titel == "Personalausweis beantragen (Beispielquelle der Tests)"
    assert service.quellen[0].abgerufen == dt.date(2026, 11, 2)
    assert service.geprueft_am == dt.date(2026, 11, 2)


def test_a_file_without_sources_is_a_warning_at_its_first_line(content: Path) -> None:
    found = warnings_of(content)
    message = "no sources (quellen): say where the facts of this file come from, or mark it as an example (beispiel: true)"
    assert f"content/services/kindergeld.yaml:1: {message}" in found
    assert f"content/municipalities/stadt/units/buergerservice.yaml:1: {message}" in found
    assert f"content/municipalities/kreis/municipality.yaml:1: {message}" in found
    # sourced in the fixture, or examples as a whole: no warning
    assert not any(line.startswith("content/services/personalausweis-beantragen.yaml:1: no sources") for line in found)
    append(content / "services/kindergeld.yaml", "beispiel: true\n")
    assert not any(line.startswith("content/services/kindergeld.yaml:") for line in warnings_of(content))


def test_a_check_date_older_than_the_allowed_age_is_a_warning(content: Path) -> None:
    path = content / "municipalities/stadt/units/buergerservice.yaml"
    append(path, SOURCES + "geprueft_am: 2026-04-01\n")
    line = path.read_text(encoding="utf-8").splitlines().index("geprueft_am: 2026-04-01") + 1
    assert not any("buergerservice" in found for found in warnings_of(content))  # twelve months by default
    stale = (f"content/municipalities/stadt/units/buergerservice.yaml:{line}: geprueft_am: last checked on "
             "2026-04-01, more than 6 months ago: compare the facts with the sources again")
    assert stale in warnings_of(content, max_age_months=6)


def test_sources_without_a_check_date_are_a_warning(content: Path) -> None:
    path = content / "municipalities/stadt/units/buergerservice.yaml"
    append(path, SOURCES)
    line = path.read_text(encoding="utf-8").splitlines().index("quellen:") + 1
    assert (f"content/municipalities/stadt/units/buergerservice.yaml:{line}: quellen: sources without geprueft_am: give "
            "the day an editor last compared the facts with them") in warnings_of(content)


def test_a_source_names_address_title_and_day(content: Path) -> None:
    append(content / "municipalities/stadt/units/buergerservice.yaml",
           "quellen:\n  - url: www.example.org\n    abgerufen: gestern\ngeprueft_am: 2026-11-20\n")
    with pytest.raises(ContentError) as caught:
        check(content)
    found = [str(problem) for problem in caught.value.problems]
    assert any("quellen[0].url" in line for line in found)
    assert any("quellen[0].titel: required field is missing" in line for line in found)
    assert any("quellen[0].abgerufen" in line for line in found)


def test_example_fields_name_fields_of_the_file(content: Path) -> None:
    edit(content / "municipalities/stadt/locations/rathaus.yaml", "beispiel_felder: [transport]",
         "beispiel_felder: [transport, opening_hour]")
    with pytest.raises(ContentError) as caught:
        check(content)
    assert [str(problem) for problem in caught.value.problems] == [
        'content/municipalities/stadt/locations/rathaus.yaml:23: beispiel_felder[1]: "opening_hour" is not a field '
        'of this file; did you mean "opening_hours"?']


@pytest.mark.parametrize(("number", "fiction"), [
    ("030 23125 000", True), ("030 23125-999", True), ("+49 30 23125123", True), ("0049 69 90009 500", True),
    ("040 66969 321", True), ("0221 4710 000", True), ("089 99998 999", True),
    ("030 23125 1000", False), ("030 23126 000", False), ("0251 492-1234", False), ("02381 17-9906", False),
])
def test_the_bundesnetzagentur_keeps_five_ranges_for_fiction(number: str, fiction: bool) -> None:
    assert is_fiction_number(number) is fiction


def test_a_sample_contact_never_rings_a_real_desk(content: Path) -> None:
    path = content / "municipalities/stadt/contacts/erika-beispiel.yaml"
    warning = ('content/municipalities/stadt/contacts/erika-beispiel.yaml:5: phone: sample contact with the phone '
               'number "0251 000-1234", which may ring a real desk: use a number the Bundesnetzagentur keeps for '
               'fiction (such as 030 23125 000 to 999) or none')
    assert warning in warnings_of(content)
    edit(path, '"0251 000-1234"', '"030 23125 123"')
    assert not any("sample contact" in found for found in warnings_of(content))
    edit(path, 'phone: "030 23125 123"\n', "")
    assert not any("sample contact" in found for found in warnings_of(content))
    edit(path, "sample: true", "sample: false")
    append(path, 'phone: "0251 000-1234"\n')
    assert not any("sample contact" in found for found in warnings_of(content))


def test_months_before_keeps_the_day_or_takes_the_months_last() -> None:
    assert months_before(dt.date(2026, 12, 5), 12) == dt.date(2025, 12, 5)
    assert months_before(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
    assert months_before(dt.date(2026, 1, 15), 2) == dt.date(2025, 11, 15)


def test_the_catalog_carries_example_marks_and_the_check_date(content: Path) -> None:
    append(content / "municipalities/stadt/services/personalausweis-beantragen.yaml", "beispiel_felder: [fees]\n")
    catalogs = resolve(check(content, today=TODAY))
    city, district = (catalogs[slug].services["personalausweis-beantragen"] for slug in ("stadt", "kreis"))
    assert city.is_example("fees") and not district.is_example("fees")
    assert not city.is_example("processing_time")
    marriage = catalogs["stadt"].services["eheschliessung-anmelden"]
    assert marriage.is_example("documents") and not marriage.is_example("fees")
    # the page's facts were checked when the oldest of their files was
    assert city.checked_on == dt.date(2026, 10, 15) and district.checked_on == dt.date(2026, 11, 2)
    assert catalogs["stadt"].services["kindergeld"].checked_on is None  # never checked: no date
    assert catalogs["stadt"].locations["rathaus"].is_example("transport")


def leistung(root: ET.Element, xzufi_id: str) -> ET.Element:
    return next(element for element in root.iterfind("x:schreibe/x:leistung", NS)
                if element.findtext("x:id", namespaces=NS) == xzufi_id)


def test_json_ld_and_xzufi_never_publish_example_values(content: Path) -> None:
    stadt = content / "municipalities/stadt"
    append(stadt / "services/personalausweis-beantragen.yaml", "beispiel_felder: [fees]\n")
    append(stadt / "locations/rathaus.yaml", "beispiel: true\n")
    append(stadt / "units/buergeramt.yaml", "beispiel_felder: [email]\n")
    append(content / "services/meldebescheinigung.yaml", "beispiel_felder: [fees, processing_time]\n")
    catalog = resolve(check(content, today=TODAY))["stadt"]
    entry = catalog.services["personalausweis-beantragen"]
    data = jsonld.service(catalog, entry, "https://x/", "https://x")
    assert "offers" not in data
    assert all("serviceLocation" not in channel for channel in data.get("availableChannel", []))
    place = jsonld.place(catalog.locations["rathaus"], "https://x/", [])
    assert set(place) == {"@type", "name", "url"}
    assert "email" not in jsonld.unit(catalog, "buergeramt", catalog.units["buergeramt"], "https://x")

    root = ET.fromstring(xzufi_xml(catalog, "https://x"))
    certificate = leistung(root, "stadt.leistung.meldebescheinigung")
    assert certificate.find("x:modulKosten", NS) is None and certificate.find("x:modulBearbeitungsdauer", NS) is None
    marriage = leistung(root, "stadt.leistung.eheschliessung-anmelden")  # documents: examples in the fixture
    assert "08" not in [module.findtext("x:leikaTextmodul/code", namespaces=NS)
                        for module in marriage.iterfind("x:modulText", NS)]
    office = next(element for element in root.iterfind("x:schreibe/x:organisationseinheit", NS)
                  if element.findtext("x:id", namespaces=NS) == "stadt.organisationseinheit.buergeramt")
    assert office.find("x:kommunikation/x:email", NS) is None
    assert office.find("x:anschrift", NS) is None  # the whole location is an example


def test_an_example_fee_is_not_published_either(content: Path) -> None:
    edit(content / "municipalities/stadt/services/personalausweis-beantragen.yaml", "amount: 40.00",
         "amount: 40.00\n    example: true")
    catalog = resolve(check(content, today=TODAY))["stadt"]
    entry = catalog.services["personalausweis-beantragen"]
    assert "offers" not in jsonld.service(catalog, entry, "https://x/", "https://x")
    edit(content / "services/meldebescheinigung.yaml", "    note: Die Höhe", "    example: true\n    note: Die Höhe")
    root = ET.fromstring(xzufi_xml(resolve(check(content, today=TODAY))["stadt"], "https://x"))
    assert leistung(root, "stadt.leistung.meldebescheinigung").find("x:modulKosten", NS) is None


def test_a_location_without_known_hours_says_where_to_find_them(content: Path, tmp_path: Path) -> None:
    # Hours nobody can source are left out, and "Nur nach Vereinbarung" would then be a false
    # claim too: the editor says where the hours are instead, and the check is satisfied.
    from generator.pipeline import build

    from ..site.readable import visible_text

    location = content / "municipalities/kreis/locations/rathaus-suedort.yaml"
    edit(location, 'opening_hours:\n  - days: [mo, tu, we, th, fr]\n    opens: "08:00"\n    closes: "12:00"\n', "")
    warning = 'location "rathaus-suedort" has no opening hours: its page says "nur nach Vereinbarung"'
    assert any(warning in line for line in warnings_of(content))
    note = "Die Stellen im Rathaus haben eigene Öffnungszeiten; sie stehen auf der Website der Gemeinde."
    append(location, f"opening_hours_note: {note}\n")
    assert not any(warning in line for line in warnings_of(content))
    build(content, tmp_path / "out", today=TODAY, show_progress=False)
    page = visible_text((tmp_path / "out/kreis/standorte/rathaus-suedort/index.html").read_text(encoding="utf-8"))
    assert f"Öffnungszeiten {note}" in page and "Nur nach Vereinbarung" not in page


def test_news_say_whether_they_are_examples_or_where_they_come_from(content: Path, tmp_path: Path) -> None:
    # The fixture's news article is marked "Beispiel: ja"; a second one names its source.
    from generator.pipeline import build

    from ..site.readable import visible_text

    news = content / "municipalities/stadt/news"
    (news / "2026-11-02-quelle.md").write_text(
        "Title: Rathaus am Brückentag geschlossen\nDate: 2026-11-02\nQuelle: https://www.example.org/presse/42\n\n"
        "Am Brückentag ist das Rathaus geschlossen.\n", encoding="utf-8")
    assert not any("news article without a source" in line for line in warnings_of(content))
    out = tmp_path / "out"
    build(content, out, today=TODAY, show_progress=False)
    example_html = (out / "stadt/aktuelles/2026-11-01-neues/index.html").read_text(encoding="utf-8")
    example = visible_text(example_html)
    assert "Beispielmeldung – nicht amtlich: Diese Meldung ist ein erfundenes Beispiel." in example
    assert "NewsArticle" not in example_html  # no structured data that passes it off as the authority's word
    sourced_html = (out / "stadt/aktuelles/2026-11-02-quelle/index.html").read_text(
        encoding="utf-8")
    assert "Quelle: https://www.example.org/presse/42" in visible_text(sourced_html)
    assert '"NewsArticle"' in sourced_html and "Beispielmeldung" not in sourced_html
    listing = visible_text((out / "stadt/aktuelles/index.html").read_text(encoding="utf-8"))
    assert "Neue Öffnungszeiten (Beispielmeldung – nicht amtlich)" in listing
    assert "Rathaus am Brückentag geschlossen (Beispielmeldung" not in listing
    home = visible_text((out / "stadt/index.html").read_text(encoding="utf-8"))
    assert "Neue Öffnungszeiten (Beispielmeldung – nicht amtlich)" in home
    feed = ET.parse(out / "stadt/aktuelles/feed.xml").getroot()
    titles = [t.text for t in feed.iter() if t.tag.endswith("title")]
    assert "Beispielmeldung – nicht amtlich: Neue Öffnungszeiten" in titles
    assert "Rathaus am Brückentag geschlossen" in titles


def test_a_news_article_without_source_or_example_mark_is_a_warning(content: Path) -> None:
    article = content / "municipalities/stadt/news/2026-11-01-neues.md"
    edit(article, "Beispiel: ja\n", "")
    expected = ("content/municipalities/stadt/news/2026-11-01-neues.md:1: news article without a source: name it "
                "in the header (Quelle: https://…) or mark the article as an example (Beispiel: ja)")
    assert expected in warnings_of(content)
    edit(article, "Date: 2026-11-01\n", "Date: 2026-11-01\nBeispiel: vielleicht\n")
    with pytest.raises(ContentError) as raised:
        check(content, today=TODAY)
    assert [str(p) for p in raised.value.problems] == [
        'content/municipalities/stadt/news/2026-11-01-neues.md:3: Beispiel: Beispiel: expected ja or nein, got '
        '"vielleicht"']


def test_an_office_without_a_sourced_address_sends_citizens_to_its_website(content: Path, tmp_path: Path) -> None:
    # No invented address: a responsible office whose building no source names points to the
    # website where the office itself says where it is, on its page and on its services' pages.
    from generator.pipeline import build

    from ..site.readable import visible_text

    unit = content / "municipalities/stadt/units/buergeramt.yaml"
    edit(unit, "locations: [rathaus]\n", "")
    warning = 'unit "buergeramt" is responsible for services but has neither a location nor a website'
    assert any(warning in line for line in warnings_of(content))
    append(unit, "website: https://www.stadt.example.org/buergeramt\n")
    assert not any(warning in line for line in warnings_of(content))
    build(content, tmp_path / "out", today=TODAY, show_progress=False)
    pointer = ("Wo Sie diese Stelle finden und wann sie geöffnet hat, steht auf dieser Website: "
               "https://www.stadt.example.org/buergeramt")
    unit_page = visible_text((tmp_path / "out/stadt/organisation/buergeramt/index.html").read_text(encoding="utf-8"))
    assert f"Standort {pointer}" in unit_page
    service = visible_text(
        (tmp_path / "out/stadt/leistungen/personalausweis-beantragen/index.html").read_text(encoding="utf-8"))
    assert pointer in service
