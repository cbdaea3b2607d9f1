"""Open data per site (issue 19): vCards of locations and offices, closing days as iCalendar,
the services as CSV and JSON, and the page „Offene Daten“ with the licence. Every file is read
back with a parser of its own (vobject, icalendar, csv, json), as a user of the data would."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import vobject
import yaml
from icalendar import Calendar

from generator.pipeline import build

from ..conftest import REAL_CONTENT, TODAY

BASE = "https://portal.example.org"
DL_DE_BY = "Datenlizenz Deutschland – Namensnennung – Version 2.0"


def card(site: Path, kind: str, ident: str) -> Any:
    text = (site / f"offene-daten/vcard/{kind}/{ident}.vcf").read_text(encoding="utf-8")
    return vobject.readOne(text)


def events(site: Path, lid: str) -> dict[dt.date, Any]:
    calendar = Calendar.from_ical((site / f"offene-daten/schliesstage/{lid}.ics").read_bytes())
    return {event.decoded("dtstart"): event for event in calendar.walk("VEVENT")}


def rows(site: Path) -> dict[str, dict[str, str]]:
    text = (site / "offene-daten/leistungen.csv").read_text(encoding="utf-8")
    return {row["id"]: row for row in csv.DictReader(io.StringIO(text))}


def visible_text(page: str) -> str:
    main = re.search(r"<main.*?</main>", page, re.S)
    assert main is not None
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main.group(0))).split())
    return re.sub(r" ([),.:;])", r"\1", words)  # as read: no space where an inline element ended


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def built(content: Path, tmp_path: Path) -> Path:
    """The fixture content with a phone number at the Rathaus that is only an example."""
    edit(content / "municipalities/stadt/locations/rathaus.yaml", "beispiel_felder: [transport]",
         'phone: "0251 000-4711"\nbeispiel_felder: [transport, phone]')
    out = tmp_path / "out"
    build(content, out, base_url=BASE, today=TODAY, show_progress=False)
    return out


def test_a_location_card_carries_its_address_and_no_example_value(built: Path) -> None:
    rathaus = card(built / "stadt", "standorte", "rathaus")
    assert rathaus.version.value == "4.0" and rathaus.kind.value == "location"
    assert rathaus.fn.value == "Rathaus"
    assert (rathaus.adr.value.street, rathaus.adr.value.code, rathaus.adr.value.city) == (
        "Marktplatz 1", "48143", "Beispielstadt")
    assert rathaus.geo.value == "geo:51.96,7.62"
    assert rathaus.url.value == f"{BASE}/stadt/standorte/rathaus/"
    assert "tel" not in rathaus.contents  # 0251 000-4711 is only an example
    assert "4711" not in (built / "stadt/offene-daten/vcard/standorte/rathaus.vcf").read_text(encoding="utf-8")


def test_an_office_card_names_its_organisation_address_and_phone(built: Path) -> None:
    office = card(built / "stadt", "stellen", "buergeramt")
    assert office.kind.value == "org" and office.fn.value == "Bürgeramt"
    assert office.org.value == ["Stadt Beispielstadt", "Bürgerservice", "Bürgeramt"]
    assert office.adr.value.street == "Marktplatz 1"
    assert office.email.value == "buergeramt@example.org"
    service = card(built / "stadt", "stellen", "buergerservice")
    assert service.tel.value == "tel:+492510000"
    town_office = card(built / "kreis", "stellen", "buergerbuero-nordort")
    assert town_office.org.value[0] == "Nordort"  # in a district, the member town it belongs to
    # a UID stays the same from build to build and differs between cards
    assert office.uid.value.startswith("urn:uuid:") and office.uid.value != service.uid.value


def test_closing_days_are_the_holidays_and_the_closed_exceptions_as_all_day_events(
        built: Path, content: Path, tmp_path: Path) -> None:
    days = events(built / "stadt", "rathaus")
    christmas_eve, christmas = dt.date(2026, 12, 24), dt.date(2026, 12, 25)
    assert "Heiligabend" in str(days[christmas_eve]["summary"])  # the location's own exception
    assert "Weihnachtstag" in str(days[christmas]["summary"])  # a public holiday in NRW
    assert dt.date(2027, 1, 1) in days and dt.date(2027, 10, 3) in days
    for day, event in days.items():
        assert not isinstance(day, dt.datetime) and event.decoded("dtend") == day + dt.timedelta(days=1)
        assert event.get("dtstamp") is not None
    uids = [str(event["uid"]) for event in days.values()]
    assert len(set(uids)) == len(uids)
    # Three days later, from another folder: the same days keep their UIDs.
    later = tmp_path / "later"
    build(content, later, base_url=BASE, today=TODAY + dt.timedelta(days=3), show_progress=False)
    again = events(later / "stadt", "rathaus")
    assert {d: str(e["uid"]) for d, e in again.items()} == {d: str(e["uid"]) for d, e in days.items() if d in again}


def test_example_closing_days_are_not_published(content: Path, tmp_path: Path) -> None:
    edit(content / "municipalities/stadt/locations/rathaus.yaml", "beispiel_felder: [transport]",
         "beispiel_felder: [transport, exceptions]")
    build(content, tmp_path / "a", base_url=BASE, today=TODAY, show_progress=False)
    days = events(tmp_path / "a/stadt", "rathaus")
    assert dt.date(2026, 12, 24) not in days and dt.date(2026, 12, 25) in days
    edit(content / "municipalities/stadt/locations/rathaus.yaml", "beispiel_felder: [transport, exceptions]",
         "beispiel_felder: [transport, exceptions, closed_on_public_holidays]")
    build(content, tmp_path / "b", base_url=BASE, today=TODAY, show_progress=False)
    assert not (tmp_path / "b/stadt/offene-daten/schliesstage/rathaus.ics").exists()
    page = visible_text((tmp_path / "b/stadt/offene-daten/index.html").read_text(encoding="utf-8"))
    assert "Für diesen Standort sind keine Schließtage belegt" in page and "Rathaus" in page


def test_the_services_as_csv_and_json(built: Path) -> None:
    stadt = rows(built / "stadt")
    assert list(next(iter(stadt.values()))) == ["id", "name", "leika", "level", "responsible", "url", "online_form"]
    certificate = stadt["meldebescheinigung"]
    assert certificate["leika"] == "99115003012000" and certificate["level"] == "kommune"
    assert certificate["url"] == f"{BASE}/stadt/leistungen/meldebescheinigung/"
    assert certificate["online_form"] == f"{BASE}/stadt/antrag/meldebescheinigung/"
    assert certificate["responsible"] == "Bürgeramt"
    assert stadt["kindergeld"]["leika"] == "" and stadt["kindergeld"]["online_form"] == ""
    district = rows(built / "kreis")["personalausweis-beantragen"]
    assert district["responsible"] == "Bürgerbüro Nordort (Nordort); Rathaus Südort (Südort)"
    data = json.loads((built / "stadt/offene-daten/leistungen.json").read_text(encoding="utf-8"))
    assert data["licence"] == {"id": "dl-de/by-2-0", "name": DL_DE_BY, "url": "https://www.govdata.de/dl-de/by-2-0"}
    by_id = {service["id"]: service for service in data["services"]}
    assert set(by_id) == set(stadt)
    assert by_id["meldebescheinigung"]["leika"] == "99115003012000"
    assert by_id["meldebescheinigung"]["responsible"] == [
        {"unit": "buergeramt", "name": "Bürgeramt", "town": None, "url": f"{BASE}/stadt/organisation/buergeramt/"}]


def linked_files(site: Path, slug: str) -> set[str]:
    page = (site / "offene-daten/index.html").read_text(encoding="utf-8")
    return set(re.findall(rf'href="/{slug}/(offene-daten/[^"]+\.(?:vcf|ics|csv|json))"', page))


def test_the_page_lists_every_file_with_its_size_and_the_licence(built: Path) -> None:
    site = built / "stadt"
    files = {str(p.relative_to(site)) for p in (site / "offene-daten").rglob("*")
             if p.is_file() and p.suffix != ".html"}
    assert linked_files(site, "stadt") == files
    page = (site / "offene-daten/index.html").read_text(encoding="utf-8")
    text = visible_text(page)
    assert f"gilt die Lizenz {DL_DE_BY} (Kennung: dl-de/by-2-0)" in text
    assert 'href="https://www.govdata.de/dl-de/by-2-0"' in page
    assert "Alle 5 Leistungen" in text and re.search(r"leistungen\.csv: Tabelle .*, \d+ Byte", text)
    assert "Rathaus: 12 Schließtage"  # eleven holidays and Heiligabend in text
    assert re.search(r"<h1>Offene Daten</h1>", page) and page.count("<h2") >= 4
    graph = [item for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
             for item in json.loads(block)["@graph"]]
    catalogue = next(item for item in graph if item["@type"] == "DataCatalog")
    assert catalogue["license"] == "https://www.govdata.de/dl-de/by-2-0"
    downloads = {d["contentUrl"] for s in catalogue["dataset"] for d in s["distribution"]}
    assert downloads == {f"{BASE}/stadt/{path}" for path in files}
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="/stadt/offene-daten/">Offene Daten</a>' in home  # in the footer of every page
    location = (site / "standorte/rathaus/index.html").read_text(encoding="utf-8")
    assert 'href="/stadt/offene-daten/vcard/standorte/rathaus.vcf"' in location
    assert 'href="/stadt/offene-daten/schliesstage/rathaus.ics"' in location
    office = (site / "organisation/buergeramt/index.html").read_text(encoding="utf-8")
    assert 'href="/stadt/offene-daten/vcard/stellen/buergeramt.vcf"' in office


def test_a_municipality_chooses_its_licence(content: Path, tmp_path: Path) -> None:
    with (content / "municipalities/stadt/municipality.yaml").open("a", encoding="utf-8") as file:
        file.write("open_data_licence:\n  id: dl-de/zero-2-0\n  name: Datenlizenz Deutschland – Zero – Version 2.0\n"
                   "  url: https://www.govdata.de/dl-de/zero-2-0\n")
    build(content, tmp_path / "out", base_url=BASE, today=TODAY, show_progress=False)
    text = visible_text((tmp_path / "out/stadt/offene-daten/index.html").read_text(encoding="utf-8"))
    assert "gilt die Lizenz Datenlizenz Deutschland – Zero – Version 2.0 (Kennung: dl-de/zero-2-0)" in text
    data = json.loads((tmp_path / "out/stadt/offene-daten/leistungen.json").read_text(encoding="utf-8"))
    assert data["licence"]["id"] == "dl-de/zero-2-0"
    kreis = visible_text((tmp_path / "out/kreis/offene-daten/index.html").read_text(encoding="utf-8"))
    assert DL_DE_BY in kreis  # the default where a municipality names none


def test_a_rebuild_writes_no_open_data_file_again(built: Path, content: Path) -> None:
    # The edit of the `built` fixture is already in `content`: this build changes nothing.
    results = build(content, built, base_url=BASE, today=TODAY, show_progress=False)
    assert all(result.rendered == 0 for result in results)


def _yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _example(data: dict[str, Any], name: str) -> bool:
    return bool(data.get("beispiel")) or name in data.get("beispiel_felder", [])


@pytest.mark.parametrize("slug", ["muenster", "hamm", "kreis-coesfeld", "kreis-warendorf"])
def test_every_real_site_publishes_its_open_data(real_output: Path, slug: str) -> None:
    site, folder = real_output / slug, REAL_CONTENT / "municipalities" / slug
    text = visible_text((site / "offene-daten/index.html").read_text(encoding="utf-8"))
    assert "Offene Daten" in text and "Lizenz" in text and "dl-de/by-2-0" in text
    files = {str(p.relative_to(site)) for p in (site / "offene-daten").rglob("*")
             if p.is_file() and p.suffix != ".html"}
    assert linked_files(site, slug) == files
    services = rows(site)
    assert services and all(row["url"].endswith(f"/{slug}/leistungen/{sid}/") for sid, row in services.items())
    assert any(re.fullmatch(r"99[0-9]{12}", row["leika"]) for row in services.values())
    data = json.loads((site / "offene-daten/leistungen.json").read_text(encoding="utf-8"))
    assert [s["id"] for s in data["services"]] == list(services)
    for path in sorted((folder / "locations").glob("*.yaml")):
        location, vcard = _yaml(path), card(site, "standorte", path.stem)
        assert vcard.fn.value == location["name"]
        street = location["address"]["street"]
        published = "adr" in vcard.contents and vcard.adr.value.street == street
        assert published != _example(location, "address"), path.name  # an example address is never published
        phone = str(location.get("phone") or "")
        if phone and _example(location, "phone"):
            assert "tel" not in vcard.contents, path.name
        ics = site / f"offene-daten/schliesstage/{path.stem}.ics"
        if _example(location, "closed_on_public_holidays") and _example(location, "exceptions"):
            assert not ics.exists(), path.name
        if ics.exists():
            assert events(site, path.stem)
    for path in sorted((folder / "units").glob("*.yaml")):
        unit, vcard = _yaml(path), card(site, "stellen", path.stem)
        assert vcard.fn.value == unit["name"]
        if unit.get("email") and _example(unit, "email"):
            assert "email" not in vcard.contents, path.name


def test_muenster_publishes_a_known_address_and_the_holidays_of_a_location(real_output: Path) -> None:
    site = real_output / "muenster"
    office = card(site, "standorte", "stadthaus-3-wohnungsamt")
    assert (office.adr.value.street, office.adr.value.code, office.adr.value.city) == (
        "Albersloher Weg 33", "48155", "Münster")
    days = events(site, "stadthaus-3-wohnungsamt")
    assert "Weihnachtstag" in str(days[dt.date(2026, 12, 25)]["summary"])


def test_an_exception_with_hours_opens_a_holiday_and_past_days_are_left_out() -> None:
    from generator.models import Location
    from generator.opendata import closing_days

    location = Location.model_validate({
        "name": "Rathaus", "address": {"street": "Markt 1", "postal_code": "48143", "city": "Beispielstadt"},
        "exceptions": [{"date": "2027-01-01", "opens": "10:00", "closes": "12:00"},
                       {"date": "2026-12-28", "closed": True},
                       {"date": "2026-11-02", "closed": True, "note": "vorbei"}],
    })
    holidays = [(dt.date(2026, 12, 25), "Erster Weihnachtstag"), (dt.date(2027, 1, 1), "Neujahr")]
    assert closing_days(location, TODAY, holidays) == [
        (dt.date(2026, 12, 25), "Geschlossen: Erster Weihnachtstag"), (dt.date(2026, 12, 28), "Geschlossen")]
