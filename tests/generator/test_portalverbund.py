"""The Portalverbund: xzufi.xml for the state's search engine, the Typisierung of services, and
links to the same service in the state and federal portals."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, get_args
from xml.etree import ElementTree as ET

import pytest

from generator import xzufi
from generator.catalog import Catalog
from generator.errors import ContentError
from generator.export import katalog
from generator.models import TYPISIERUNG, TYPISIERUNG_LEVELS, Typisierung
from generator.pipeline import build, check
from generator.resolve import resolve
from generator.xzufi import XZUFI_NS, Portal, portal_links, xzufi_xml

from ..conftest import FIXTURE_CONTENT, REAL_CONTENT, TODAY
from .xzufi_rules import xzufi_problems

BASE = "https://portal.example.org"
NS = {"x": XZUFI_NS}
REAL_SITES = ("hamm", "kreis-coesfeld", "kreis-warendorf", "muenster")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def documents(content: Path, base_url: str = BASE) -> dict[str, str]:
    return {slug: xzufi_xml(catalog, base_url) for slug, catalog in resolve(check(content)).items()}


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("portalverbund") / "output"
    build(FIXTURE_CONTENT, out, today=TODAY, show_progress=False)
    return out


def responsibilities(document: str) -> set[tuple[str, str, str]]:
    """(office, service, area key) of every Zuständigkeit."""
    root = ET.fromstring(document)
    return {
        (unit.findtext("x:id", namespaces=NS), z.findtext("x:leistungID", namespaces=NS),
         z.findtext("x:gebietID", namespaces=NS))
        for unit in root.findall("x:organisationseinheit", NS)
        for z in unit.findall("x:zustaendigkeit", NS)
    }


def leistung_ids(document: str) -> list[str]:
    return [e.findtext("x:id", namespaces=NS) or "" for e in ET.fromstring(document).findall("x:leistung", NS)]


# --- xzufi.xml in the build ------------------------------------------------------------------


@pytest.mark.parametrize("slug", REAL_SITES)
def test_real_sites_xzufi_keeps_every_rule(real_output: Path, slug: str) -> None:
    document = (real_output / slug / "xzufi.xml").read_text(encoding="utf-8")
    assert xzufi_problems(document) == []
    ids = leistung_ids(document)
    assert f"{slug}.leistung.personalausweis-beantragen" in ids
    # Only services with a LeiKa key that the municipality itself performs.
    services = json.loads((real_output / slug / "katalog.json").read_text(encoding="utf-8"))["services"]
    assert sorted(ids) == sorted(f"{slug}.leistung.{sid}" for sid, s in services.items()
                                 if s["leika"] and s["level"] in ("kommune", "kreis"))


def test_district_names_the_office_of_every_member_town(real_output: Path) -> None:
    document = (real_output / "kreis-coesfeld" / "xzufi.xml").read_text(encoding="utf-8")
    passport = {(unit, area) for unit, sid, area in responsibilities(document)
                if sid == "kreis-coesfeld.leistung.personalausweis-beantragen"}
    assert len(passport) == 11  # the eleven towns of the Kreis Coesfeld, each with its AGS
    assert ("kreis-coesfeld.organisationseinheit.buergerbuero-ascheberg", "05558004") in passport
    # Vehicle registration is the district's own task: one office for the whole district.
    registration = {(unit, area) for unit, sid, area in responsibilities(document)
                    if sid == "kreis-coesfeld.leistung.fahrzeug-neu-zulassen"}
    assert registration == {("kreis-coesfeld.organisationseinheit.strassenverkehrsamt", "05558000")}


def test_fixture_sites_xzufi_keeps_every_rule(fixture_site: Path) -> None:
    for slug in ("stadt", "kreis"):
        assert xzufi_problems((fixture_site / slug / "xzufi.xml").read_text(encoding="utf-8")) == []
    manifest = json.loads((fixture_site / "stadt" / ".build-manifest.json").read_text(encoding="utf-8"))
    assert "xzufi.xml" in manifest


def test_city_exports_services_offices_responsibilities_and_online_services(fixture_site: Path) -> None:
    document = (fixture_site / "stadt" / "xzufi.xml").read_text(encoding="utf-8")
    root = ET.fromstring(document)
    assert root.tag == f"{{{XZUFI_NS}}}transfer" and root.get("version") == "2.2.0"
    assert leistung_ids(document) == ["stadt.leistung.eheschliessung-anmelden", "stadt.leistung.meldebescheinigung"]
    leistung = root.find("x:leistung", NS)
    assert leistung is not None
    assert leistung.find("x:referenzLeiKa[@listURI='urn:de:fim:leika:leistung']", NS) is not None
    assert leistung.findtext("x:referenzLeiKa/code", namespaces=NS) == "99059001104000"
    texts = {m.findtext("x:leikaTextmodul/code", namespaces=NS): m.findtext("x:inhalt", namespaces=NS)
             for m in leistung.findall("x:modulText", NS)}
    assert texts == {
        "02": "Eheschließung anmelden",
        "24": "Wer heiraten möchte, meldet die Eheschließung beim Standesamt an.",
        "06": "<p>Beispieltext.</p>",
        "15": '<p><a href="http://127.0.0.1:8000/stadt/leistungen/eheschliessung-anmelden/">Eheschließung anmelden im '
              "Bürgerportal</a></p>",
    }
    assert responsibilities(document) == {
        ("stadt.organisationseinheit.buergeramt", "stadt.leistung.meldebescheinigung", "05515000"),
        ("stadt.organisationseinheit.buergerservice", "stadt.leistung.eheschliessung-anmelden", "05515000"),
    }
    online = {o.findtext("x:id", namespaces=NS): (o.findtext("x:link/x:uri", namespaces=NS),
                                                   o.findtext("x:vertrauensniveau/code", namespaces=NS))
              for o in root.findall("x:onlinedienst", NS)}
    assert online == {
        "stadt.onlinedienst.termin.eheschliessung-anmelden": (
            "http://127.0.0.1:8000/stadt/termine/eheschliessung-anmelden/", "basis"),
        "stadt.onlinedienst.antrag.meldebescheinigung": ("http://127.0.0.1:8000/stadt/antrag/meldebescheinigung/",
                                                         "basis"),
    }
    anschrift = root.find("x:organisationseinheit/x:anschrift", NS)
    assert anschrift is not None
    assert [anschrift.findtext(f"x:{name}", namespaces=NS) for name in
            ("strasse", "hausnummer", "postleitzahl", "ort", "gemeindeschluessel")] == [
        "Marktplatz", "1", "48143", "Beispielstadt", "05515000"]
    hours = anschrift.find("x:oeffnungszeiten", NS)
    assert hours is not None
    assert [(z.findtext("x:wochentag/code", namespaces=NS), z.findtext("x:beginn", namespaces=NS),
             z.findtext("x:ende", namespaces=NS)) for z in hours.findall("x:zeitraum", NS)] == [
        ("1", "08:00:00", "12:30:00"), ("2", "08:00:00", "12:30:00"), ("3", "08:00:00", "12:30:00"),
        ("4", "14:00:00", "18:00:00"), ("5", "08:00:00", "12:30:00")]
    assert hours.findtext("x:sondertag/x:datum", namespaces=NS) == "2026-12-24"


def test_fees_and_processing_time_stay_structured(content: Path) -> None:
    edit(content / "services" / "personalausweis-beantragen.yaml", "synonyms:", 'leika: "99008001000000"\nsynonyms:')
    root = ET.fromstring(documents(content)["stadt"])
    passport = next(e for e in root.findall("x:leistung", NS)
                    if e.findtext("x:id", namespaces=NS) == "stadt.leistung.personalausweis-beantragen")
    kosten = [(k.findtext("x:beschreibung", namespaces=NS), k.findtext("x:betrag", namespaces=NS),
               k.findtext("x:waehrung", namespaces=NS)) for k in passport.findall("x:modulKosten/x:kosten", NS)]
    assert kosten == [("Örtliche Gebühr (Test-Überschreibung)", "40.00", "EUR")]  # the city's own fee
    assert passport.findtext("x:modulBearbeitungsdauer/x:bearbeitungsdauer/x:von", namespaces=NS) == "P3W"
    assert passport.findtext("x:modulBearbeitungsdauer/x:bearbeitungsdauer/x:bis", namespaces=NS) == "P4W"
    hints = [m.findtext("x:inhalt", namespaces=NS) for m in passport.findall("x:modulText", NS)
             if m.findtext("x:leikaTextmodul/code", namespaces=NS) == "16"]
    assert hints == ["<p>Bringen Sie bitte ein Passfoto mit, im Rathaus gibt es keinen Fotoautomaten.</p>"]


def test_another_bodys_online_service_is_linked_not_published_as_ours(content: Path) -> None:
    edit(content / "services" / "fahrzeug-zulassen.yaml", "synonyms:", 'leika: "99036020001000"\nsynonyms:')
    document = documents(content)["stadt"]
    assert xzufi_problems(document) == []
    root = ET.fromstring(document)
    vehicle = next(e for e in root.findall("x:leistung", NS)
                   if e.findtext("x:id", namespaces=NS) == "stadt.leistung.fahrzeug-zulassen")
    further = [m for m in vehicle.findall("x:modulText", NS) if m.findtext("x:leikaTextmodul/code", namespaces=NS) == "15"]
    assert [(link.findtext("x:uri", namespaces=NS), link.findtext("x:titel", namespaces=NS))
            for link in further[0].findall("x:weiterfuehrenderLink", NS)] == [
        ("https://portal.example.org/stadt/leistungen/fahrzeug-zulassen/", "Fahrzeug zulassen im Bürgerportal"),
        ("https://www.kba.de", "Online zulassen (i-Kfz)"),
    ]
    assert vehicle.find("x:onlinedienstID", NS) is None
    assert "https://www.kba.de" not in [o.findtext("x:link/x:uri", namespaces=NS)
                                        for o in root.findall("x:onlinedienst", NS)]


def test_district_towns_without_an_area_key_get_no_responsibility(content: Path) -> None:
    # The fixture's towns have no AGS: their registry offices cannot be tied to an area.
    assert leistung_ids(documents(content)["kreis"]) == []
    municipality = content / "municipalities" / "kreis" / "municipality.yaml"
    edit(municipality, "    name: Nordort\n", '    name: Nordort\n    ags: "05558901"\n')
    edit(municipality, "    name: Südort\n", '    name: Südort\n    ags: "05558902"\n')
    document = documents(content)["kreis"]
    assert xzufi_problems(document) == []
    assert responsibilities(document) == {
        ("kreis.organisationseinheit.rathaus-nordort", "kreis.leistung.eheschliessung-anmelden", "05558901"),
        ("kreis.organisationseinheit.rathaus-suedort", "kreis.leistung.eheschliessung-anmelden", "05558902"),
        ("kreis.organisationseinheit.buergerbuero-nordort", "kreis.leistung.meldebescheinigung", "05558901"),
        ("kreis.organisationseinheit.rathaus-suedort", "kreis.leistung.meldebescheinigung", "05558902"),
    }


def test_changed_form_title_reaches_xzufi_on_rebuild(content: Path, tmp_path: Path) -> None:
    out = tmp_path / "output"
    build(content, out, today=TODAY, show_progress=False)
    edit(content / "forms" / "meldebescheinigung.yaml", "title: Meldebescheinigung beantragen",
         "title: Meldebescheinigung online beantragen")
    build(content, out, today=TODAY, show_progress=False)
    document = (out / "stadt" / "xzufi.xml").read_text(encoding="utf-8")
    assert "<xzufi:bezeichnung>Meldebescheinigung online beantragen</xzufi:bezeichnung>" in document


# --- the validator finds broken documents ------------------------------------------------------


@pytest.fixture(scope="module")
def city_document() -> str:
    return documents(FIXTURE_CONTENT)["stadt"]


LEIKA = '<xzufi:referenzLeiKa listURI="urn:de:fim:leika:leistung">\n      <code>99059001104000</code>\n    </xzufi:referenzLeiKa>'
BROKEN = [
    pytest.param(LEIKA, "", ['leistung "stadt.leistung.eheschliessung-anmelden": referenzLeiKa (the LeiKa key) is missing'],
                 id="missing-leika-key"),
    pytest.param("<code>99059001104000</code>", "<code>9905900110400</code>",
                 ['leistung "stadt.leistung.eheschliessung-anmelden": referenzLeiKa: "9905900110400" is not a LeiKa key '
                  "(14 digits starting with 99)"], id="short-leika-key"),
    pytest.param("<xzufi:leistungID>stadt.leistung.meldebescheinigung</xzufi:leistungID>",
                 "<xzufi:leistungID>stadt.leistung.gibt-es-nicht</xzufi:leistungID>",
                 ['organisationseinheit "stadt.organisationseinheit.buergeramt", zustaendigkeit: leistungID '
                  '"stadt.leistung.gibt-es-nicht" names no leistung in this document',
                  'leistung "stadt.leistung.meldebescheinigung": no organisationseinheit has a zustaendigkeit for it'],
                 id="dangling-leistung-reference"),
    pytest.param("<xzufi:onlinedienstID>stadt.onlinedienst.antrag.meldebescheinigung</xzufi:onlinedienstID>",
                 "<xzufi:onlinedienstID>stadt.onlinedienst.antrag.fehlt</xzufi:onlinedienstID>",
                 ['leistung "stadt.leistung.meldebescheinigung": onlinedienstID "stadt.onlinedienst.antrag.fehlt" '
                  "names no onlinedienst in this document"], id="dangling-onlinedienst-reference"),
    pytest.param("<xzufi:uebergeordneteOrganisationseinheitID>stadt.organisationseinheit.buergerservice<",
                 "<xzufi:uebergeordneteOrganisationseinheitID>stadt.organisationseinheit.rathaus<",
                 ['organisationseinheit "stadt.organisationseinheit.buergeramt": uebergeordneteOrganisationseinheitID '
                  '"stadt.organisationseinheit.rathaus" names no organisationseinheit'], id="dangling-parent"),
    pytest.param("<xzufi:id>stadt.organisationseinheit.buergerservice</xzufi:id>",
                 "<xzufi:id>stadt.organisationseinheit.buergeramt</xzufi:id>",
                 ['id "stadt.organisationseinheit.buergeramt": is used 2 times (by organisationseinheit); ids must be '
                  "unique",
                  'organisationseinheit "stadt.organisationseinheit.buergeramt": uebergeordneteOrganisationseinheitID '
                  '"stadt.organisationseinheit.buergerservice" names no organisationseinheit'], id="duplicate-id"),
    pytest.param("<code>02</code>", "<code>99</code>",
                 ['leistung "stadt.leistung.eheschliessung-anmelden": leikaTextmodul: "99" is not one of 02, 03, 05, '
                  "06, 07, 08, 09, 11, 14, 15, 16, 22, 23, 24, 25",
                  'leistung "stadt.leistung.eheschliessung-anmelden": the text module 02 (Leistungsbezeichnung) is '
                  "missing"], id="unknown-text-module"),
    pytest.param("<code>basis</code>", "<code>mittel</code>",
                 ['onlinedienst "stadt.onlinedienst.termin.eheschliessung-anmelden": vertrauensniveau: "mittel" is not '
                  "one of basis, niedrig, substantiell, hoch"], id="unknown-trust-level"),
    pytest.param("<xzufi:gebietID>05515000</xzufi:gebietID>\n      <xzufi:rolle>",
                 "<xzufi:gebietID>5515</xzufi:gebietID>\n      <xzufi:rolle>",
                 ['organisationseinheit "stadt.organisationseinheit.buergeramt", zustaendigkeit: gebietID: "5515" is not '
                  "an area key (AGS 8 or ARS 12 digits)"], id="short-area-key"),
    pytest.param("<xzufi:datum>2026-12-24</xzufi:datum>", "<xzufi:datum>24.12.2026</xzufi:datum>",
                 ['organisationseinheit "stadt.organisationseinheit.buergeramt", anschrift, sondertag: datum '
                  '"24.12.2026" is not an ISO date (YYYY-MM-DD)'], id="german-date"),
    pytest.param("<xzufi:uri>https://portal.example.org/stadt/antrag/meldebescheinigung/</xzufi:uri>",
                 "<xzufi:uri>http://portal.example.org/stadt/antrag/meldebescheinigung/</xzufi:uri>",
                 ['leistung "stadt.leistung.meldebescheinigung", text module 14: weiterfuehrenderLink/uri: '
                  '"http://portal.example.org/stadt/antrag/meldebescheinigung/" is not an absolute https address'],
                 id="plain-http"),
    pytest.param('href="https://portal.example.org/stadt/leistungen/eheschliessung-anmelden/"',
                 'href="/stadt/leistungen/eheschliessung-anmelden/"',
                 ['leistung "stadt.leistung.eheschliessung-anmelden", text module 15: a link in inhalt: '
                  '"/stadt/leistungen/eheschliessung-anmelden/" is not an absolute https address'], id="site-path-link"),
    pytest.param("<xzufi:beginn>14:00:00</xzufi:beginn>", "<xzufi:beginn>19:00:00</xzufi:beginn>",
                 ['organisationseinheit "stadt.organisationseinheit.buergeramt", anschrift, zeitraum: beginn 19:00:00 '
                  "is not before ende 18:00:00"], id="closes-before-it-opens"),
    pytest.param("<xzufi:name>Bürgeramt</xzufi:name>", "<xzufi:name> </xzufi:name>",
                 ['organisationseinheit "stadt.organisationseinheit.buergeramt": name is missing or empty'],
                 id="empty-name"),
    pytest.param('xmlns:xzufi="http://xoev.de/schemata/xzufi/2_2_0"', 'xmlns:xzufi="http://xoev.de/schemata/xzufi/2_1_0"',
                 ["document: the root element is {http://xoev.de/schemata/xzufi/2_1_0}transfer, expected "
                  "{http://xoev.de/schemata/xzufi/2_2_0}transfer"], id="other-version-namespace"),
    pytest.param("</xzufi:transfer>", "", None, id="not-well-formed"),
]


@pytest.mark.parametrize(("old", "new", "expected"), BROKEN)
def test_broken_document_is_reported(city_document: str, old: str, new: str, expected: list[str] | None) -> None:
    assert xzufi_problems(city_document) == []
    assert old in city_document
    problems = xzufi_problems(city_document.replace(old, new, 1))
    if expected is None:
        assert len(problems) == 1 and problems[0].startswith("document: not well-formed XML: ")
    else:
        assert problems == expected


def test_entity_declarations_are_refused(city_document: str) -> None:
    document = city_document.replace("<xzufi:transfer", '<!DOCTYPE x [<!ENTITY a "b">]>\n<xzufi:transfer', 1)
    assert xzufi_problems(document) == ["document: a DOCTYPE or ENTITY declaration is not allowed"]


def test_typisierung_must_come_from_the_code_list(city_document: str) -> None:
    document = city_document.replace(LEIKA, LEIKA + "\n    <xzufi:typisierung><code>9</code></xzufi:typisierung>", 1)
    assert xzufi_problems(document) == [
        'leistung "stadt.leistung.eheschliessung-anmelden": typisierung: "9" is not one of '
        + ", ".join(TYPISIERUNG)]


# --- Typisierung ------------------------------------------------------------------------------


def test_typisierung_codes_are_listed_once_with_their_meaning() -> None:
    assert list(get_args(Typisierung)) == list(TYPISIERUNG)
    assert set(TYPISIERUNG_LEVELS) <= set(TYPISIERUNG)


def test_typisierung_is_checked_against_codes_and_level(content: Path) -> None:
    edit(content / "services" / "kindergeld.yaml", "level: bund", 'level: bund\ntypisierung: "9"')
    edit(content / "services" / "personalausweis-beantragen.yaml", "level: kommune", "level: kommune\ntypisierung: 1")
    with pytest.raises(ContentError) as caught:
        check(content)
    assert [str(p) for p in caught.value.problems] == [
        'content/services/kindergeld.yaml:5: typisierung: expected one of 1, 2, 2a, 2b, 3, 3a, 3b, 4, 4a, 4b, 5, 6, 7, '
        '10, 11, 12; got "9"',
        'content/services/personalausweis-beantragen.yaml:1: typisierung "1" (Bund regelt, Bund vollzieht) does not '
        "fit level kommune: that type fits bund",
    ]


def test_typisierung_reaches_katalog_and_xzufi(content: Path) -> None:
    edit(content / "services" / "kindergeld.yaml", "level: bund", "level: bund\ntypisierung: 1")  # a number in YAML
    edit(content / "services" / "eheschliessung-anmelden.yaml", "level: kommune", 'level: kommune\ntypisierung: "2"')
    catalogs = resolve(check(content))
    services = katalog(catalogs["stadt"], BASE)["services"]
    assert services["kindergeld"]["typisierung"] == "1"
    assert services["eheschliessung-anmelden"]["typisierung"] == "2"
    assert "typisierung" not in services["personalausweis-beantragen"]  # only where it is known
    root = ET.fromstring(xzufi_xml(catalogs["stadt"], BASE))
    codes = {e.findtext("x:id", namespaces=NS): e.findtext("x:typisierung/code", namespaces=NS)
             for e in root.findall("x:leistung", NS)}
    assert codes == {"stadt.leistung.eheschliessung-anmelden": "2", "stadt.leistung.meldebescheinigung": None}


def test_real_katalog_carries_typisierung_beside_every_earlier_key(real_output: Path) -> None:
    services = json.loads((real_output / "muenster" / "katalog.json").read_text(encoding="utf-8"))["services"]
    earlier = {"name", "teaser", "leika", "synonyms", "level", "url", "online", "form_enabled",
               "appointment_locations", "responsible", "contacts", "fees", "booking"}
    assert all(earlier <= set(s) <= earlier | {"typisierung", "documents", "beispiel_felder"} for s in services.values())
    assert services["kindergeld"]["typisierung"] == "1"  # Familienkasse: the federation regulates and performs
    assert services["bafoeg"]["typisierung"] == "2"  # federal law, performed by the state's student unions


# --- links to the state and federal portals ----------------------------------------------------

EXAMPLE_PORTALS = (
    Portal("Serviceportal NRW", "im Serviceportal NRW", leistung_url="https://land.example.org/leistung/{leika}",
           home_url="https://land.example.org/"),
    Portal("Verwaltungsportal des Bundes", "im Verwaltungsportal des Bundes", home_url="https://bund.example.org/"),
)
BAFOEG = """name: BAföG beantragen
leika: "99022001012000"
teaser: Ausbildungsförderung beantragen Sie beim Amt für Ausbildungsförderung.
description: Beispieltext.
level: land
typisierung: "2"
authority: {name: Amt für Ausbildungsförderung, url: "https://www.bafög.de"}
"""


def test_configured_portal_addresses_are_https_and_take_the_leika_key() -> None:
    for portal in xzufi.PORTALS:
        if portal.leistung_url:
            assert portal.leistung_url.startswith("https://") and "{leika}" in portal.leistung_url
        if portal.home_url:
            assert portal.home_url.startswith("https://")


def test_portal_links_only_for_state_and_federal_services_with_a_leika_key() -> None:
    services = check(FIXTURE_CONTENT).services
    assert portal_links(services["personalausweis-beantragen"], EXAMPLE_PORTALS) == []  # the town does it
    assert portal_links(services["kindergeld"], EXAMPLE_PORTALS) == []  # no LeiKa key to find it by
    kindergeld = services["kindergeld"].model_copy(update={"leika": "99022001012000"})
    assert [(link.url, link.text, link.to_service) for link in portal_links(kindergeld, EXAMPLE_PORTALS)] == [
        ("https://land.example.org/leistung/99022001012000", "„Kindergeld beantragen“ im Serviceportal NRW", True),
        ("https://bund.example.org/", "Verwaltungsportal des Bundes: Startseite", False),
    ]
    # A key that names only the subject (no action, digits 9–11 "000") has no page of its own.
    subject = kindergeld.model_copy(update={"leika": "99022001000000"})
    assert [(link.url, link.to_service) for link in portal_links(subject, EXAMPLE_PORTALS)] == [
        ("https://land.example.org/", False), ("https://bund.example.org/", False)]


def test_state_service_page_links_to_the_portals(content: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (content / "services" / "bafoeg.yaml").write_text(BAFOEG, encoding="utf-8")
    monkeypatch.setattr(xzufi, "PORTALS", EXAMPLE_PORTALS)
    out = tmp_path / "output"
    build(content, out, only="stadt", today=TODAY, show_progress=False, workers=1)
    html = (out / "stadt" / "leistungen" / "bafoeg" / "index.html").read_text(encoding="utf-8")
    assert '<h2 id="portale">In anderen Verwaltungsportalen</h2>' in html
    assert ('<li><a href="https://land.example.org/leistung/99022001012000">„BAföG beantragen“ im Serviceportal NRW'
            '<span class="visually-hidden"> (externe Seite)</span></a></li>') in html
    assert ('<li><a href="https://bund.example.org/">Verwaltungsportal des Bundes: Startseite<span '
            'class="visually-hidden"> (externe Seite)</span></a>: Suchen Sie dort nach dem Leistungsschlüssel '
            "99022001012000.</li>") in html
    service = service_jsonld(html)
    assert service["sameAs"] == ["https://land.example.org/leistung/99022001012000"]
    assert service["provider"] == {"@type": "GovernmentOrganization", "name": "Amt für Ausbildungsförderung",
                                   "url": "https://www.bafög.de"}
    town_service = (out / "stadt" / "leistungen" / "personalausweis-beantragen" / "index.html").read_text("utf-8")
    assert 'id="portale"' not in town_service and "sameAs" not in service_jsonld(town_service)


# --- JSON-LD of every service page -------------------------------------------------------------


def service_jsonld(html: str) -> dict[str, Any]:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    graph = [item for block in blocks for item in json.loads(block)["@graph"]]
    services = [item for item in graph if item["@type"] == "GovernmentService"]
    assert len(services) == 1
    return services[0]


@pytest.fixture(scope="module")
def real_catalogs() -> dict[str, Catalog]:
    return resolve(check(REAL_CONTENT))


@pytest.mark.parametrize("slug", REAL_SITES)
def test_every_service_page_names_service_provider_and_area(real_output: Path, real_catalogs: dict[str, Catalog],
                                                            slug: str) -> None:
    site = json.loads((real_output / slug / "katalog.json").read_text(encoding="utf-8"))
    catalog = real_catalogs[slug]
    for sid, entry in site["services"].items():
        data = service_jsonld((real_output / slug / "leistungen" / sid / "index.html").read_text(encoding="utf-8"))
        authority = catalog.services[sid].service.authority
        provider = authority.name if entry["level"] in ("land", "bund") and authority else site["municipality"]["name"]
        assert (data["name"], data["provider"]["name"], data["areaServed"]["name"]) == (
            entry["name"], provider, catalog.municipality.short_name), sid


def test_a_state_or_federal_service_page_leads_to_the_state_and_federal_portals(real_output: Path) -> None:
    page = (real_output / "muenster" / "leistungen" / "bafoeg" / "index.html").read_text(encoding="utf-8")
    assert '<h2 id="portale">In anderen Verwaltungsportalen</h2>' in page
    # The federal directory has a page per LeiKa key that names the action; BAföG's key names
    # only the subject, so both portals' start pages with the key to search for.
    assert ('<a href="https://verwaltung.bund.de">Verwaltungsportal des Bundes: Startseite<span class="visually-hidden">'
            ' (externe Seite)</span></a>: Suchen Sie dort nach dem Leistungsschlüssel 99022001000000.') in page
    assert ('<a href="https://service.nrw.de">Serviceportal NRW: Startseite<span class="visually-hidden"> (externe '
            'Seite)</span></a>: Suchen Sie dort nach dem Leistungsschlüssel 99022001000000.') in page
    tax_id = (real_output / "muenster" / "leistungen" / "steuer-id-mitteilen" / "index.html").read_text(encoding="utf-8")
    assert ('<a href="https://verwaltung.bund.de/leistungsverzeichnis/DE/leistung/99102044101000">„Steuer-Identifikationsnummer erneut '
            'mitteilen lassen“ im Verwaltungsportal des Bundes<span class="visually-hidden"> (externe Seite)</span></a>'
            '</li>') in tax_id
    assert service_jsonld(tax_id)["sameAs"] == [
        "https://verwaltung.bund.de/leistungsverzeichnis/DE/leistung/99102044101000"]
    local = (real_output / "muenster" / "leistungen" / "hundesteuer-anmelden" / "index.html").read_text(encoding="utf-8")
    assert 'id="portale"' not in local  # the town's own service is ours to describe
