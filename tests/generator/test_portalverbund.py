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
from .xzufi_reader import deleted as xzufi_deleted
from .xzufi_reader import objects as xzufi_objects
from .xzufi_reader import read

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
    """(office, service, area key) of every Zuständigkeit an office holds."""
    root = ET.fromstring(document)
    return {
        (unit.findtext("x:id", namespaces=NS), z.findtext("x:leistungID", namespaces=NS),
         z.findtext("x:gebietID/code", namespaces=NS))
        for unit in root.findall("x:schreibe/x:organisationseinheit", NS)
        for z in unit.findall("x:zustaendigkeit", NS)
    }


def leistung_ids(document: str) -> list[str]:
    return [e.findtext("x:id", namespaces=NS) or "" for e in ET.fromstring(document).findall("x:schreibe/x:leistung", NS)]


def leistung(root: ET.Element, xzufi_id: str) -> ET.Element:
    return next(e for e in root.findall("x:schreibe/x:leistung", NS) if e.findtext("x:id", namespaces=NS) == xzufi_id)


# --- xzufi.xml in the build ------------------------------------------------------------------


@pytest.mark.parametrize("slug", REAL_SITES)
def test_real_sites_xzufi_reads_as_real_xzufi(real_output: Path, slug: str) -> None:
    document = (real_output / slug / "xzufi.xml").read_text(encoding="utf-8")
    assert read(document) == []
    ids = leistung_ids(document)
    assert f"{slug}.leistung.personalausweis-beantragen" in ids
    # Only services with a LeiKa key that the municipality itself performs.
    services = json.loads((real_output / slug / "katalog.json").read_text(encoding="utf-8"))["services"]
    assert sorted(ids) == sorted(f"{slug}.leistung.{sid}" for sid, s in services.items()
                                 if s["leika"] and s["level"] in ("kommune", "kreis"))
    # The first build has no export before it: its change set writes everything.
    changes = (real_output / slug / "xzufi-aenderungen.xml").read_text(encoding="utf-8")
    assert read(changes) == [] and xzufi_objects(changes) == xzufi_objects(document)


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


def test_city_exports_services_offices_responsibilities_and_online_services(fixture_site: Path) -> None:
    document = (fixture_site / "stadt" / "xzufi.xml").read_text(encoding="utf-8")
    assert read(document) == []
    root = ET.fromstring(document)
    assert (root.tag, root.get("xzufiVersion"), root.get("produktbezeichnung")) == (
        f"{{{XZUFI_NS}}}transfer", "2.2.0", "Bürgerportal")
    assert leistung_ids(document) == ["stadt.leistung.eheschliessung-anmelden", "stadt.leistung.meldebescheinigung"]
    marriage = leistung(root, "stadt.leistung.eheschliessung-anmelden")
    key = marriage.find("x:referenzLeiKa", NS)
    assert key is not None and key.get("listURI") == "urn:de:fim:leika:leistung" and key.get("listVersionID")
    assert key.findtext("code") == "99059001104000"
    assert marriage.findtext("x:struktur/x:leistungsobjektID", namespaces=NS) == "99059001000000"
    texts = {m.findtext("x:leikaTextmodul/code", namespaces=NS): m.findtext("x:inhalt", namespaces=NS)
             for m in marriage.findall("x:modulText", NS)}
    assert texts == {
        "02": "Eheschließung anmelden",
        "24": "Wer heiraten möchte, meldet die Eheschließung beim Standesamt an.",
        "06": "<p>Beispieltext.</p>",
        "15": '<p><a href="http://127.0.0.1:8000/stadt/leistungen/eheschliessung-anmelden/">Eheschließung anmelden im '
              "Bürgerportal</a></p>",
    }
    assert all(m.find("x:inhalt", NS).get("languageCode") == "de" for m in marriage.findall("x:modulText", NS))
    assert [child.tag.split("}")[1] for child in marriage][-2:] == ["versionsinformation", "sprachversion"]
    assert responsibilities(document) == {
        ("stadt.organisationseinheit.buergeramt", "stadt.leistung.meldebescheinigung", "05515000"),
        ("stadt.organisationseinheit.buergerservice", "stadt.leistung.eheschliessung-anmelden", "05515000"),
    }
    online = {o.findtext("x:id", namespaces=NS): o.findtext("x:link/x:link", namespaces=NS)
              for o in root.findall("x:schreibe/x:onlinedienst", NS)}
    assert online == {
        "stadt.onlinedienst.termin.eheschliessung-anmelden": "http://127.0.0.1:8000/stadt/termine/eheschliessung-anmelden/",
        "stadt.onlinedienst.antrag.meldebescheinigung": "http://127.0.0.1:8000/stadt/antrag/meldebescheinigung/",
    }
    assert root.find(".//x:vertrauensniveau", NS) is None  # our trust-level words are no published code
    # Online services reach their areas through Zuständigkeiten of their own, not from the Leistung.
    ties = {(t.findtext("x:uebergeordnetesObjektID", namespaces=NS),
             t.findtext("x:zustaendigkeit/x:leistungID", namespaces=NS),
             t.findtext("x:zustaendigkeit/x:gebietID/code", namespaces=NS))
            for t in root.findall("x:schreibe/x:zustaendigkeitTransferObjekt", NS)}
    assert ("stadt.onlinedienst.antrag.meldebescheinigung", "stadt.leistung.meldebescheinigung", "05515000") in ties
    assert root.find(".//x:onlinedienstID", NS) is None
    office = root.find("x:schreibe/x:organisationseinheit", NS)
    assert office is not None and office.findtext("x:name/x:name", namespaces=NS) == "Bürgeramt"
    anschrift = root.find("x:schreibe/x:organisationseinheit/x:anschrift", NS)
    assert anschrift is not None
    assert [anschrift.findtext(f"x:{name}", namespaces=NS) for name in ("strasse", "hausnummer", "postleitzahl", "ort")
            ] + [anschrift.findtext("x:verwaltungspolitischeKodierung/x:gemeindeschluessel/code", namespaces=NS)] == [
        "Marktplatz", "1", "48143", "Beispielstadt", "05515000"]
    assert anschrift.findtext("x:typ/code", namespaces=NS) == "001"
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
    passport = leistung(root, "stadt.leistung.personalausweis-beantragen")
    kosten = [(k.findtext("x:beschreibung", namespaces=NS), k.findtext("x:betrag", namespaces=NS),
               k.findtext("x:waehrung/code", namespaces=NS)) for k in passport.findall("x:modulKosten/x:kosten", NS)]
    assert kosten == [("Örtliche Gebühr (Test-Überschreibung)", "40.00", "EUR")]  # the city's own fee
    assert passport.findtext("x:modulKosten/x:beschreibung", namespaces=NS)  # the module says it in words too
    # Durations are a number with a unit code, not ISO strings.
    dauer = passport.find("x:modulBearbeitungsdauer", NS)
    assert dauer is not None and dauer.findtext("x:beschreibung", namespaces=NS)
    assert [(d.findtext("x:wert", namespaces=NS), d.findtext("x:einheit/code", namespaces=NS))
            for d in (dauer.find("x:bearbeitungsdauer/x:von", NS), dauer.find("x:bearbeitungsdauer/x:bis", NS))
            if d is not None] == [("3", "wk"), ("4", "wk")]
    assert "P3W" not in ET.tostring(root, encoding="unicode")
    hints = [m.findtext("x:inhalt", namespaces=NS) for m in passport.findall("x:modulText", NS)
             if m.findtext("x:leikaTextmodul/code", namespaces=NS) == "16"]
    assert hints == ["<p>Bringen Sie bitte ein Passfoto mit, im Rathaus gibt es keinen Fotoautomaten.</p>"]


def test_another_bodys_online_service_is_linked_not_published_as_ours(content: Path) -> None:
    edit(content / "services" / "fahrzeug-zulassen.yaml", "synonyms:", 'leika: "99036020001000"\nsynonyms:')
    document = documents(content)["stadt"]
    assert read(document) == []
    root = ET.fromstring(document)
    vehicle = leistung(root, "stadt.leistung.fahrzeug-zulassen")
    further = [m for m in vehicle.findall("x:modulText", NS) if m.findtext("x:leikaTextmodul/code", namespaces=NS) == "15"]
    assert [(link.findtext("x:uri", namespaces=NS), link.findtext("x:titel", namespaces=NS))
            for link in further[0].findall("x:weiterfuehrenderLink", NS)] == [
        ("https://portal.example.org/stadt/leistungen/fahrzeug-zulassen/", "Fahrzeug zulassen im Bürgerportal"),
        ("https://www.kba.de", "Online zulassen (i-Kfz)"),
    ]
    assert "https://www.kba.de" not in [o.findtext("x:link/x:link", namespaces=NS)
                                        for o in root.findall("x:schreibe/x:onlinedienst", NS)]


def test_district_towns_without_an_area_key_get_no_responsibility(content: Path) -> None:
    # The fixture's towns have no AGS: their registry offices cannot be tied to an area.
    assert leistung_ids(documents(content)["kreis"]) == []
    municipality = content / "municipalities" / "kreis" / "municipality.yaml"
    edit(municipality, "    name: Nordort\n", '    name: Nordort\n    ags: "05558901"\n')
    edit(municipality, "    name: Südort\n", '    name: Südort\n    ags: "05558902"\n')
    document = documents(content)["kreis"]
    assert read(document) == []
    assert responsibilities(document) == {
        ("kreis.organisationseinheit.rathaus-nordort", "kreis.leistung.eheschliessung-anmelden", "05558901"),
        ("kreis.organisationseinheit.rathaus-suedort", "kreis.leistung.eheschliessung-anmelden", "05558902"),
        ("kreis.organisationseinheit.buergerbuero-nordort", "kreis.leistung.meldebescheinigung", "05558901"),
        ("kreis.organisationseinheit.rathaus-suedort", "kreis.leistung.meldebescheinigung", "05558902"),
    }


def test_a_change_set_after_editing_one_service_holds_just_that_service(content: Path, tmp_path: Path) -> None:
    out = tmp_path / "output"
    build(content, out, today=TODAY, show_progress=False)
    edit(content / "services" / "eheschliessung-anmelden.yaml", "Wer heiraten möchte, meldet",
         "Wer heiraten möchte, meldet rechtzeitig")
    build(content, out, today=TODAY, show_progress=False)
    changes = (out / "stadt" / "xzufi-aenderungen.xml").read_text(encoding="utf-8")
    assert read(changes) == []
    assert xzufi_objects(changes) == [("leistung", "stadt.leistung.eheschliessung-anmelden")]
    assert xzufi_deleted(changes) == []
    # A rebuild without changes keeps the last change set; the full export holds everything.
    build(content, out, today=TODAY, show_progress=False)
    assert (out / "stadt" / "xzufi-aenderungen.xml").read_text(encoding="utf-8") == changes
    assert len(xzufi_objects((out / "stadt" / "xzufi.xml").read_text(encoding="utf-8"))) > 2
    # A service that disappears from the export is deleted in the next change set.
    edit(content / "services" / "eheschliessung-anmelden.yaml", 'leika: "99059001104000"\n', "")
    build(content, out, today=TODAY, show_progress=False)
    changes = (out / "stadt" / "xzufi-aenderungen.xml").read_text(encoding="utf-8")
    assert read(changes) == []
    assert ("Leistung", "stadt.leistung.eheschliessung-anmelden") in xzufi_deleted(changes)


def test_changed_form_title_reaches_xzufi_on_rebuild(content: Path, tmp_path: Path) -> None:
    out = tmp_path / "output"
    build(content, out, today=TODAY, show_progress=False)
    edit(content / "forms" / "meldebescheinigung.yaml", "title: Meldebescheinigung beantragen",
         "title: Meldebescheinigung online beantragen")
    build(content, out, today=TODAY, show_progress=False)
    document = (out / "stadt" / "xzufi.xml").read_text(encoding="utf-8")
    assert '<xzufi:bezeichnung languageCode="de">Meldebescheinigung online beantragen</xzufi:bezeichnung>' in document


# --- the independent reader finds what real readers refuse -------------------------------------


@pytest.fixture(scope="module")
def city_document() -> str:
    return documents(FIXTURE_CONTENT)["stadt"]


BROKEN = [
    pytest.param('xzufiVersion="2.2.0"', 'version="2.2.0"', ["document: xzufiVersion is None, expected 2.2.0"],
                 id="version-attribute"),
    pytest.param(' produkthersteller="Bürgerportal – Open-Source-Projekt"', "",
                 ["document: the root has no produkthersteller"], id="no-maker"),
    pytest.param("</xzufi:leistung>\n  </xzufi:schreibe>\n  <xzufi:schreibe>\n    <xzufi:leistung>",
                 "</xzufi:leistung>\n    <xzufi:leistung>",
                 ["schreibe 1: expected one of leistung, onlinedienst, organisationseinheit, spezialisierung, "
                  "zustaendigkeitTransferObjekt, got ['leistung', 'leistung']"], id="two-objects-in-one-schreibe"),
    pytest.param('<xzufi:inhalt languageCode="de">Eheschließung anmelden</xzufi:inhalt>',
                 "<xzufi:inhalt>Eheschließung anmelden</xzufi:inhalt>",
                 ["inhalt 'Eheschließung anmelden': languageCode None"], id="text-without-language"),
    pytest.param('<xzufi:id schemeAgencyID="buergerportal:stadt" schemeID="urn:de:buergerportal:xzufi:id">'
                 "stadt.leistung.eheschliessung-anmelden</xzufi:id>",
                 "<xzufi:id>stadt.leistung.eheschliessung-anmelden</xzufi:id>",
                 ["id 'stadt.leistung.eheschliessung-anmelden': no schemeAgencyID and schemeID"], id="bare-id"),
    pytest.param('<xzufi:leikaTextmodul listURI="urn:de:xzufi:codeliste:leistungstextmodulleika" listVersionID="20240216">',
                 "<xzufi:leikaTextmodul>",
                 ["leikaTextmodul code '02': no listURI and listVersionID"], id="code-without-list"),
    pytest.param("<code>99059001104000</code>", "<code>9905900110400</code>",
                 ["schreibe 1 (leistung): referenzLeiKa '9905900110400' is no LeiKa key"], id="short-leika-key"),
    pytest.param('onlinedienstlinktyp" listVersionID="1.0">\n          <code>01</code>',
                 'onlinedienstlinktyp" listVersionID="1.0">\n          <code>02</code>',
                 ["schreibe 5 (onlinedienst): link typ 'urn:xoev-de:fim:codeliste:onlinedienstlinktyp:02', expected "
                  "urn:xoev-de:fim:codeliste:onlinedienstlinktyp:01"], id="other-link-type"),
    pytest.param("&lt;p&gt;Beispieltext.&lt;/p&gt;",
                 "&lt;table&gt;&lt;tr&gt;&lt;td&gt;Beispieltext.&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;",
                 ["inhalt: the PVOG takes no <table>", "inhalt: the PVOG takes no <tr>", "inhalt: the PVOG takes no <td>",
                  "inhalt: the PVOG takes no <td>", "inhalt: the PVOG takes no <tr>", "inhalt: the PVOG takes no <table>"],
                 id="html-the-pvog-refuses"),
    pytest.param('xmlns:xzufi="http://xoev.de/schemata/xzufi/2_2_0"', 'xmlns:xzufi="http://xoev.de/schemata/xzufi/2_1_0"',
                 None, id="other-version-namespace"),
    pytest.param("</xzufi:transfer>", "", None, id="not-well-formed"),
]


@pytest.mark.parametrize(("old", "new", "expected"), BROKEN)
def test_the_reader_refuses_what_real_readers_refuse(city_document: str, old: str, new: str,
                                                      expected: list[str] | None) -> None:
    assert read(city_document) == []
    assert old in city_document, old
    problems = read(city_document.replace(old, new, 1))
    if expected is None:
        assert problems and problems[0].startswith("document: ")
    else:
        assert problems == expected


def test_the_reader_refuses_the_shape_of_our_earlier_export() -> None:
    # What we wrote before this reader existed: version attribute, objects under the root,
    # names without language, ISO durations. A real reader stopped at the first element.
    earlier = (f'<xzufi:transfer xmlns:xzufi="{XZUFI_NS}" version="2.2.0"><xzufi:nachrichtenkopf/>'
               "<xzufi:leistung><xzufi:id>a</xzufi:id><xzufi:referenzLeiKa listURI=\"urn:de:fim:leika:leistung\">"
               "<code>99059001104000</code></xzufi:referenzLeiKa></xzufi:leistung></xzufi:transfer>")
    assert read(earlier) == [
        "document: xzufiVersion is None, expected 2.2.0", "document: the root has no produktbezeichnung",
        "document: the root has no produkthersteller", "document: unexpected leistung under the root",
        "id 'a': no schemeAgencyID and schemeID", "referenzLeiKa code '99059001104000': no listURI and listVersionID"]


def test_entity_declarations_are_refused(city_document: str) -> None:
    document = city_document.replace("<xzufi:transfer", '<!DOCTYPE x [<!ENTITY a "b">]>\n<xzufi:transfer', 1)
    assert read(document) == ["document: a DOCTYPE or ENTITY declaration is not allowed"]


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
             for e in root.findall("x:schreibe/x:leistung", NS)}
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
    monkeypatch.setattr(xzufi.portals, "PORTALS", EXAMPLE_PORTALS)
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
