"""The pages of a site's places and people: the offices (units), the locations with their
opening hours, and the contact persons, each with an index. A part of SiteBuilder
(generator/pages.py), which makes every page of a site."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from . import jsonld
from .catalog import Catalog, ServiceEntry, source_of
from .models import Location
from .opendata import closing_days

if TYPE_CHECKING:
    from portal.theme import SiteInfo

    from .pages import Context, Crumbs, Page


class _Builder(Protocol):
    """What these pages use of SiteBuilder."""

    catalog: Catalog
    site: SiteInfo
    today: dt.date
    holidays: list[tuple[dt.date, str]]

    def crumbs(self, *rest: tuple[str, str]) -> Crumbs: ...

    def page(self, path: str, template: str, title: str, crumbs: Crumbs, source: str, deps: tuple[str, ...],
             content: Callable[[], Context], structured: Callable[[], list[dict[str, Any]]] | None = None) -> Page: ...

    def summaries(self, ids: Any) -> list[dict[str, Any]]: ...

    def summary_deps(self, ids: Any = None, teaser: bool = False) -> tuple[str, ...]: ...

    def appointment_summary(self, entry: ServiceEntry) -> Context: ...


class PlacePages:
    """The unit, location and contact pages of SiteBuilder."""

    def unit_index(self: _Builder) -> Page:
        c = self.catalog

        def content() -> Context:
            own = [(uid, u.name) for uid, u in c.units.items() if u.town is None]
            groups = [(c.municipality.name, own)] if own else []
            for town in c.municipality.towns:
                items = [(uid, u.name) for uid, u in c.units.items() if u.town == town.id]
                if items:
                    groups.append((town.name, items))
            return {"groups": groups}

        crumbs = self.crumbs(("Organisation", f"{self.site.base}organisation/"))
        return self.page(
            "organisation/index.html",
            "units",
            "Ämter und Einrichtungen",
            crumbs,
            "units/",
            (*c.units, *c.digests("units", c.units)),
            content,
        )

    def unit(self: _Builder, uid: str) -> Page:
        c = self.catalog
        unit = c.units[uid]
        children = [cid for cid, u in c.units.items() if u.parent == uid]
        service_ids = c.services_by_unit.get(uid, ())
        contact_ids = c.contacts_by_unit.get(uid, ())

        def content() -> Context:
            return {
                "unit_id": uid,
                "unit": unit,
                "parent": (unit.parent, c.units[unit.parent].name) if unit.parent else None,
                "children": [(cid, c.units[cid].name) for cid in children],
                "town": c.town_name(unit.town),
                "locations": [(lid, c.locations[lid]) for lid in unit.locations],
                "services": self.summaries(service_ids),
                "contacts": [(cid, c.contacts[cid]) for cid in contact_ids],
            }

        crumbs = self.crumbs(
            ("Organisation", f"{self.site.base}organisation/"), (unit.name, f"{self.site.base}organisation/{uid}/")
        )
        deps = (
            source_of(unit),
            *c.digests("units", [unit.parent] if unit.parent else []),
            *children,
            *c.digests("units", children),
            *c.digests("locations", unit.locations),
            *self.summary_deps(service_ids),
            *contact_ids,
            *c.digests("contacts", contact_ids),
        )
        return self.page(
            f"organisation/{uid}/index.html",
            "unit",
            unit.name,
            crumbs,
            f"units/{uid}.yaml",
            deps,
            content,
            lambda: [jsonld.unit(c, uid, unit, self.site.base_url)],
        )

    def location_index(self: _Builder) -> Page:
        c = self.catalog

        def content() -> Context:
            return {"items": [(lid, loc, c.town_name(loc.town)) for lid, loc in c.locations.items()]}

        crumbs = self.crumbs(("Standorte", f"{self.site.base}standorte/"))
        return self.page(
            "standorte/index.html",
            "locations",
            "Standorte und Öffnungszeiten",
            crumbs,
            "locations/",
            (*c.locations, *c.digests("locations", c.locations)),
            content,
        )

    def location(self: _Builder, lid: str) -> Page:
        c, today = self.catalog, self.today
        location = c.locations[lid]
        url = f"{self.site.base}standorte/{lid}/"
        closures = self.holidays if location.closed_on_public_holidays else []
        unit_ids = c.units_by_location.get(lid, ())
        bookable = [sid for sid, e in c.services.items() if lid in e.appointment_location_ids]
        by_phone = [
            sid
            for sid, e in c.services.items()
            if e.appointment and sid not in bookable and any(lid in r.location_ids for r in e.responsibilities)
        ]
        unit_phones = (c.units[uid].phone for uid in unit_ids)
        phone = location.phone or next((number for number in unit_phones if number), None)

        def content() -> Context:
            return {
                "location_id": lid,
                "location": location,
                "town": c.town_name(location.town),
                "hours": _weekly_hours(location),
                "exceptions": [e for e in location.exceptions if e.date >= today],
                "holidays": closures[:12],
                "units": [(uid, c.units[uid].name) for uid in unit_ids],
                "bookable": [self.appointment_summary(c.services[sid]) for sid in bookable],
                "by_phone": [(sid, c.services[sid].name) for sid in by_phone],
                "phone": phone,
                "closing_calendar": bool(closing_days(location, today, self.holidays)),  # offene-daten/schliesstage/
            }

        crumbs = self.crumbs(("Standorte", f"{self.site.base}standorte/"), (location.name, url))
        deps = (
            source_of(location),
            today.isoformat(),
            *unit_ids,
            *c.digests("units", unit_ids),
            *(source for sid in (*bookable, *by_phone) for source in c.services[sid].sources),
        )
        return self.page(
            f"standorte/{lid}/index.html",
            "location",
            location.name,
            crumbs,
            f"locations/{lid}.yaml",
            deps,
            content,
            lambda: [jsonld.place(location, self.site.base_url + url, closures)],
        )

    def contact_index(self: _Builder) -> Page:
        c = self.catalog

        def content() -> Context:
            return {"items": [(cid, person, c.units[person.unit].name) for cid, person in c.contacts.items()]}

        crumbs = self.crumbs(("Ansprechpersonen", f"{self.site.base}ansprechpersonen/"))
        return self.page(
            "ansprechpersonen/index.html",
            "contacts",
            "Ansprechpersonen",
            crumbs,
            "contacts/",
            (*c.contacts, *c.digests("contacts", c.contacts), *c.digests("units", c.units)),
            content,
        )

    def contact(self: _Builder, cid: str) -> Page:
        c = self.catalog
        person = c.contacts[cid]
        url = f"{self.site.base}ansprechpersonen/{cid}/"

        def content() -> Context:
            location = (person.location, c.locations[person.location]) if person.location else None
            return {
                "contact": person,
                "unit": (person.unit, c.units[person.unit].name),
                "location": location,
                "services": [(sid, c.services[sid].name) for sid in person.services],
            }

        crumbs = self.crumbs(("Ansprechpersonen", f"{self.site.base}ansprechpersonen/"), (person.name, url))
        deps = (
            source_of(person),
            *c.digests("units", [person.unit]),
            *c.digests("locations", [person.location] if person.location else []),
            *self.summary_deps(person.services),
        )
        return self.page(
            f"ansprechpersonen/{cid}/index.html",
            "contact",
            person.name,
            crumbs,
            f"contacts/{cid}.yaml",
            deps,
            content,
            lambda: [jsonld.contact(c, person, self.site.base_url + url, self.site.base_url)],
        )


def _weekly_hours(location: Location) -> list[tuple[str, list[tuple[str, str]]]]:
    result = []
    for day in ("mo", "tu", "we", "th", "fr", "sa", "su"):
        spans = sorted((h.opens, h.closes) for h in location.opening_hours if day in h.days)
        result.append((day, spans))
    return result
