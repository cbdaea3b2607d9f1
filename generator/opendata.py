"""Open data of a site (issue 19), made on every build from the same Catalog as the pages:
a vCard per location and office (generator/vcard.py), the closing days of each location as
iCalendar, the service catalogue as CSV and JSON, and the page „Offene Daten“ that lists them
with the licence (municipality.yaml `open_data_licence`).

Pure: every file is made in memory, so the page can tell its size and the writer fingerprints
it by its bytes (an unchanged file is linked, not written). Values marked as examples are left
out, as in JSON-LD. The export stage writes the files (`write_open_data`); the page is one of
the site's pages (`open_data_page`, listed by generator/pages.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from icalendar import Calendar, Event

from .catalog import Catalog, ServiceEntry
from .models import Location
from .vcard import PRODID, location_card, unit_card
from .write import SiteWriter

if TYPE_CHECKING:
    from .pages import Page, SiteBuilder

FOLDER = "offene-daten"
CSV_COLUMNS = ("id", "name", "leika", "level", "responsible", "url", "online_form")


@dataclass(frozen=True)
class OpenFile:
    path: str  # below the site folder
    label: str  # what the page calls it
    data: bytes
    count: int | None = None  # entries the page tells (closing days, services)
    # The calendar again with the day it last changed as DTSTAMP (written by the export stage);
    # `data` has a placeholder day of the same length, so its size and fingerprint hold.
    restamp: Callable[[dt.date], bytes] | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def size(self) -> str:
        return file_size(len(self.data))


@dataclass(frozen=True)
class OpenData:
    locations: tuple[OpenFile, ...]  # vCards
    units: tuple[OpenFile, ...]  # vCards
    closing_days: tuple[OpenFile, ...]  # iCalendar, one per location that has closing days to tell
    without_closing_days: tuple[str, ...]  # names of the locations without such days
    services_csv: OpenFile
    services_json: OpenFile

    def files(self) -> list[OpenFile]:
        return [*self.locations, *self.units, *self.closing_days, self.services_csv, self.services_json]


def file_size(size: int) -> str:
    """A file's size as a German reader reads it: 850 Byte, 2,4 kB, 1,2 MB."""
    if size < 1000:
        return f"{size} Byte"
    if size < 1_000_000:
        return f"{size / 1000:.1f} kB".replace(".", ",")
    return f"{size / 1_000_000:.1f} MB".replace(".", ",")


def open_data(catalog: Catalog, base_url: str, today: dt.date, holidays: list[tuple[dt.date, str]]) -> OpenData:
    """Every open-data file of a site. holidays: the public holidays of the coming year, as the
    location pages show them."""
    locations = tuple(
        OpenFile(f"{FOLDER}/vcard/standorte/{lid}.vcf", loc.name, location_card(catalog, lid, loc, base_url))
        for lid, loc in sorted(catalog.locations.items())
    )
    units = tuple(
        OpenFile(f"{FOLDER}/vcard/stellen/{uid}.vcf", unit.name, unit_card(catalog, uid, unit, base_url))
        for uid, unit in sorted(catalog.units.items())
    )
    calendars, without = [], []
    for lid, loc in sorted(catalog.locations.items()):
        days = closing_days(loc, today, holidays)
        if not days:
            without.append(loc.name)
            continue
        make = partial(closing_days_ics, catalog, lid, loc, days, base_url)
        calendars.append(OpenFile(f"{FOLDER}/schliesstage/{lid}.ics", loc.name, make(dt.date(2000, 1, 1)),
                                  len(days), make))
    rows = service_rows(catalog, base_url)
    return OpenData(
        locations, units, tuple(calendars), tuple(sorted(without)),
        OpenFile(f"{FOLDER}/leistungen.csv", "Leistungen (CSV)", services_csv(rows), len(rows)),
        OpenFile(f"{FOLDER}/leistungen.json", "Leistungen (JSON)", services_json(catalog, rows, base_url), len(rows)),
    )


# --- closing days (iCalendar) -----------------------------------------------------------


def closing_days(location: Location, today: dt.date, holidays: list[tuple[dt.date, str]]) -> list[tuple[dt.date, str]]:
    """The days a location is closed, from today on: the public holidays it closes on and its
    exceptions with `closed: true` (an exception's note wins on a holiday; an exception with hours
    opens the day), each with its title. Values marked as examples are left out."""
    days: dict[dt.date, str] = {}
    if location.closed_on_public_holidays and not location.is_example("closed_on_public_holidays"):
        days.update((day, f"Geschlossen: {name}") for day, name in holidays)
    if not location.is_example("exceptions"):
        for exception in location.exceptions:
            if exception.date < today:
                continue
            if not exception.closed:
                days.pop(exception.date, None)
            else:
                days[exception.date] = f"Geschlossen: {exception.note}" if exception.note else "Geschlossen"
    return sorted(days.items())


def closing_days_ics(catalog: Catalog, lid: str, location: Location, days: list[tuple[dt.date, str]],
                     base_url: str, stamp: dt.date) -> bytes:
    """One calendar of all-day events; a day's UID stays the same from build to build."""
    host = urlsplit(base_url).hostname or "buergerportal"
    page = f"{base_url}/{catalog.slug}/standorte/{lid}/"
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", f"Schließtage: {location.name}")
    calendar.add("x-wr-calname", f"Schließtage: {location.name}")
    calendar.add("url", page)
    calendar.add("refresh-interval", dt.timedelta(days=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "P1D")
    where = None if location.is_example("address") else (
        f"{location.name}, {location.address.street}, {location.address.postal_code} {location.address.city}")
    for day, title in days:
        event = Event()
        event.add("uid", f"{day:%Y%m%d}-{lid}-{catalog.slug}@{host}")
        event.add("dtstamp", dt.datetime(stamp.year, stamp.month, stamp.day, tzinfo=dt.UTC))
        event.add("dtstart", day)
        event.add("dtend", day + dt.timedelta(days=1))
        event.add("summary", f"{title} ({location.name})")
        event.add("transp", "TRANSPARENT")
        if where:
            event.add("location", where)
        event.add("url", page)
        calendar.add_component(event)
    return bytes(calendar.to_ical())


# --- the service catalogue (CSV, JSON) --------------------------------------------------


def _responsible(catalog: Catalog, entry: ServiceEntry, base_url: str) -> list[dict[str, Any]]:
    return [
        {
            "unit": r.unit_id,
            "name": catalog.units[r.unit_id].name,
            "town": r.town.name if r.town else None,
            "url": f"{base_url}/{catalog.slug}/organisation/{r.unit_id}/",
        }
        for r in entry.responsibilities
    ]


def _online_form(catalog: Catalog, entry: ServiceEntry, base_url: str) -> str | None:
    """Where the service is applied for online: our own form where it is switched on, else the
    external online service."""
    online = entry.service.online
    if online is None or entry.is_example("online"):
        return None
    if entry.form_enabled and online.form:
        return f"{base_url}/{catalog.slug}/antrag/{online.form}/"
    return online.url


def service_rows(catalog: Catalog, base_url: str) -> list[dict[str, Any]]:
    """One row per service offered on the site, by id."""
    return [
        {
            "id": sid,
            "name": entry.name,
            "leika": None if entry.is_example("leika") else entry.service.leika,
            "level": entry.service.level,
            "responsible": _responsible(catalog, entry, base_url),
            "url": f"{base_url}/{catalog.slug}/leistungen/{sid}/",
            "online_form": _online_form(catalog, entry, base_url),
        }
        for sid, entry in sorted(catalog.services.items())
    ]


def services_csv(rows: list[dict[str, Any]]) -> bytes:
    """Comma-separated, quoted where needed, UTF-8 with a header row; the responsible offices in
    one cell, separated by semicolons (in a district with the town in brackets)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        offices = "; ".join(f"{r['name']} ({r['town']})" if r["town"] else r["name"] for r in row["responsible"])
        writer.writerow([row["id"], row["name"], row["leika"] or "", row["level"], offices, row["url"],
                         row["online_form"] or ""])
    return out.getvalue().encode("utf-8")


def services_json(catalog: Catalog, rows: list[dict[str, Any]], base_url: str) -> bytes:
    m = catalog.municipality
    data = {
        "publisher": {"name": m.name, "url": f"{base_url}/{catalog.slug}/"},
        "licence": m.open_data_licence.model_dump(mode="json"),
        "services": rows,
    }
    return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


# --- the export stage and the page ----------------------------------------------------------


def write_open_data(catalog: Catalog, writer: SiteWriter, base_url: str, today: dt.date) -> None:
    """Write every open-data file through the site's writer, fingerprinted by its bytes; a
    calendar carries the day it last changed as DTSTAMP."""
    from .pages import public_holidays

    for item in open_data(catalog, base_url, today, public_holidays(today)).files():
        print_ = hashlib.sha1(item.data).hexdigest()
        restamp = item.restamp
        if restamp is None:
            writer.write(item.path, "open data", print_, partial(bytes, item.data))
            continue
        writer.write(item.path, "open data", print_,
                     partial(_stamped, restamp, writer, item.path, today))
        writer.changed_on(item.path, today)  # recorded also where the file was reused


def _stamped(restamp: Callable[[dt.date], bytes], writer: SiteWriter, path: str, today: dt.date) -> bytes:
    return restamp(dt.date.fromisoformat(writer.changed_on(path, today)))


def open_data_page(builder: SiteBuilder) -> Page:
    """The page „Offene Daten“: every file with what it holds, its size or count, and the licence."""
    catalog, base = builder.catalog, builder.site.base
    data = open_data(catalog, builder.site.base_url, builder.today, builder.holidays)
    prints = tuple(f"{item.path}\x1e{hashlib.sha1(item.data).hexdigest()}" for item in data.files())

    def content() -> dict[str, Any]:
        return {"data": data, "licence": catalog.municipality.open_data_licence, "folder": f"{base}{FOLDER}/"}

    crumbs = builder.crumbs(("Offene Daten", f"{base}{FOLDER}/"))
    return builder.page(f"{FOLDER}/index.html", "open_data", "Offene Daten", crumbs, "municipality.yaml", prints,
                        content, lambda: [data_catalog(catalog, data, builder.site.base_url)])


def data_catalog(catalog: Catalog, data: OpenData, base_url: str) -> dict[str, Any]:
    """The page's schema.org DataCatalog: three datasets with their files and the licence."""
    m, site = catalog.municipality, f"{base_url}/{catalog.slug}/"
    publisher = {"@type": "GovernmentOrganization", "name": m.name, "url": site}

    def dataset(name: str, about: str, files: list[tuple[OpenFile, str]]) -> dict[str, Any]:
        return {
            "@type": "Dataset",
            "name": f"{name}: {m.name}",
            "description": about,
            "license": m.open_data_licence.url,
            "publisher": publisher,
            "inLanguage": "de",
            "distribution": [{"@type": "DataDownload", "name": item.label, "contentUrl": site + item.path,
                              "encodingFormat": kind} for item, kind in files],
        }

    return {
        "@type": "DataCatalog",
        "name": f"Offene Daten: {m.name}",
        "url": f"{site}{FOLDER}/",
        "license": m.open_data_licence.url,
        "publisher": publisher,
        "dataset": [
            dataset("Leistungen", "Alle Leistungen der Website mit LeiKa-Schlüssel, Ebene, zuständigen Stellen und "
                    "Adressen", [(data.services_csv, "text/csv"), (data.services_json, "application/json")]),
            dataset("Schließtage der Standorte", "Feiertage und einzelne Schließtage je Standort als Kalender",
                    [(item, "text/calendar") for item in data.closing_days]),
            dataset("Visitenkarten", "Anschriften und Kontaktdaten der Standorte und Stellen als vCard",
                    [(item, "text/vcard") for item in data.locations + data.units]),
        ],
    }
