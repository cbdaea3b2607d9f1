"""Which pages a municipality's site has, and what each page shows.

Pure: Catalog in, a list of Page out. Each Page carries exactly the data its template
uses, so that a fingerprint of that data tells whether the page must be rendered again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import holidays as holiday_calendar

from . import jsonld
from .catalog import Catalog, ServiceEntry
from .models import Location
from .text import LEVEL_NAMES, TOPICS, TRUST_NAMES

Crumbs = list[tuple[str, str]]


@dataclass(frozen=True)
class Page:
    path: str                 # output path below the site folder, e.g. "a-z/index.html"
    template: str             # template name without ".html"
    title: str
    context: dict[str, Any]
    source: str               # what produced it, for error messages


@dataclass(frozen=True)
class SiteInfo:
    """Everything every page shows (header, navigation, footer)."""

    slug: str
    base: str                 # "/muenster/"
    base_url: str             # "https://portal.example" (no trailing slash)
    name: str
    short_name: str
    is_district: bool
    logo: str | None
    email: str
    phone: str


def site_info(catalog: Catalog, base_url: str) -> SiteInfo:
    m = catalog.municipality
    logo = f"/{catalog.slug}/{m.branding.logo}" if m.branding.logo else None
    return SiteInfo(slug=catalog.slug, base=f"/{catalog.slug}/", base_url=base_url.rstrip("/"),
                    name=m.name, short_name=m.short_name, is_district=m.kind == "kreis", logo=logo,
                    email=m.email, phone=m.phone)


def public_holidays(today: dt.date, days: int = 366) -> list[tuple[dt.date, str]]:
    calendar = holiday_calendar.country_holidays("DE", subdiv="NW", language="de",
                                                 years=[today.year, today.year + 1])
    end = today + dt.timedelta(days=days)
    return sorted((day, name) for day, name in calendar.items() if today <= day <= end)


def _crumbs(site: SiteInfo, *rest: tuple[str, str]) -> Crumbs:
    return [("Startseite", site.base), *rest]


def _page(site: SiteInfo, path: str, template: str, title: str, crumbs: Crumbs, source: str,
          structured: list[dict[str, Any]], **context: Any) -> Page:
    graph = [*structured, jsonld.breadcrumbs(crumbs, site.base_url)]
    return Page(path=path, template=template, title=title, source=source,
                context={"title": title, "crumbs": crumbs, "jsonld": graph, **context})


def build_pages(catalog: Catalog, base_url: str, today: dt.date) -> list[Page]:
    site = site_info(catalog, base_url)
    holidays = public_holidays(today)
    pages: list[Page] = []
    pages.append(_home(catalog, site))
    pages.append(_a_to_z(catalog, site))
    pages.append(_topics(catalog, site))
    pages.extend(_service(catalog, site, entry) for entry in catalog.services.values())
    pages.append(_life_situation_index(catalog, site))
    pages.extend(_life_situation(catalog, site, lid) for lid in catalog.life_situations)
    pages.append(_unit_index(catalog, site))
    pages.extend(_unit(catalog, site, uid) for uid in catalog.units)
    pages.append(_location_index(catalog, site))
    pages.extend(_location(catalog, site, lid, holidays, today) for lid in catalog.locations)
    pages.append(_contact_index(catalog, site))
    pages.extend(_contact(catalog, site, cid) for cid in catalog.contacts)
    pages.extend(_legal_pages(catalog, site))
    pages.append(_page(site, "404.html", "404", "Seite nicht gefunden", _crumbs(site), "site_templates", []))
    return pages


def _summary(entry: ServiceEntry) -> dict[str, Any]:
    return {"id": entry.id, "name": entry.name, "teaser": entry.service.teaser}


def _home(catalog: Catalog, site: SiteInfo) -> Page:
    bookable = [_summary(e) for e in catalog.services.values() if e.appointment_location_ids]
    forms = [_summary(e) for e in catalog.services.values() if e.form_enabled]
    situations = [{"id": lid, "name": s.name, "teaser": s.teaser} for lid, s in catalog.life_situations.items()]
    towns = [{"id": t.id, "name": t.name, "website": t.website,
              "office": t.offices.get("citizens_office") or t.offices["general"]}
             for t in catalog.municipality.towns]
    org = jsonld.organisation(catalog, site.base_url)
    return _page(site, "index.html", "index", catalog.municipality.name, [], "municipality.yaml", [org],
                 bookable=bookable, forms=forms, situations=situations, towns=towns,
                 unit_names={t["office"]: catalog.units[t["office"]].name for t in towns},
                 service_count=len(catalog.services))


def _a_to_z(catalog: Catalog, site: SiteInfo) -> Page:
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in catalog.services.values():
        letter = _initial(entry.name)
        groups.setdefault(letter, []).append(_summary(entry))
    crumbs = _crumbs(site, ("Leistungen A–Z", f"{site.base}a-z/"))
    return _page(site, "a-z/index.html", "a_z", "Leistungen von A bis Z", crumbs, "content/services", [],
                 groups=sorted(groups.items()))


def _topics(catalog: Catalog, site: SiteInfo) -> Page:
    """All services by topic: the offices' roles, then state and federal services."""
    groups: dict[str, list[dict[str, Any]]] = {topic: [] for topic in TOPICS.values()}
    elsewhere: list[dict[str, Any]] = []
    for entry in catalog.services.values():
        office = entry.service.office
        if entry.service.level in ("land", "bund") or office is None:
            elsewhere.append(_summary(entry))
        else:
            groups[TOPICS[office]].append(_summary(entry))
    topics = [(name, items) for name, items in sorted(groups.items()) if items]
    if elsewhere:
        topics.append(("Leistungen von Land und Bund", elsewhere))
    crumbs = _crumbs(site, ("Leistungen", f"{site.base}leistungen/"))
    return _page(site, "leistungen/index.html", "topics", "Leistungen nach Themen", crumbs, "content/services", [],
                 topics=topics)


def _initial(name: str) -> str:
    first = name[:1].upper()
    return {"Ä": "A", "Ö": "O", "Ü": "U"}.get(first, first if first.isalpha() else "#")


def _service(catalog: Catalog, site: SiteInfo, entry: ServiceEntry) -> Page:
    s = entry.service
    url = f"{site.base}leistungen/{entry.id}/"
    crumbs = _crumbs(site, ("Leistungen", f"{site.base}leistungen/"), (s.name, url))
    responsible = []
    for resp in entry.responsibilities:
        unit = catalog.units[resp.unit_id]
        responsible.append({
            "town": resp.town.name if resp.town else None,
            "unit_id": resp.unit_id, "unit": unit,
            "locations": [(lid, catalog.locations[lid]) for lid in resp.location_ids],
        })
    appointments = [(lid, catalog.locations[lid]) for lid in entry.appointment_location_ids]
    return _page(
        site, f"leistungen/{entry.id}/index.html", "service", s.name, crumbs, f"content/services/{entry.id}.yaml",
        [jsonld.service(catalog, entry, site.base_url + url, site.base_url)],
        entry=entry, service=s, level_name=LEVEL_NAMES[s.level],
        trust_name=TRUST_NAMES[s.online.trust_level] if s.online else None,
        responsible=responsible, appointments=appointments,
        contacts=[(cid, catalog.contacts[cid]) for cid in entry.contact_ids],
        situations=[(lid, catalog.life_situations[lid].name) for lid in s.life_situations],
        related=[(rid, catalog.services[rid].name) for rid in s.related if rid in catalog.services],
    )


def _life_situation_index(catalog: Catalog, site: SiteInfo) -> Page:
    crumbs = _crumbs(site, ("Lebenslagen", f"{site.base}lebenslagen/"))
    items = [{"id": lid, "name": s.name, "teaser": s.teaser,
              "count": len(catalog.services_by_situation.get(lid, ()))} for lid, s in catalog.life_situations.items()]
    return _page(site, "lebenslagen/index.html", "life_situations", "Lebenslagen", crumbs,
                 "content/life-situations", [], items=items)


def _life_situation(catalog: Catalog, site: SiteInfo, lid: str) -> Page:
    situation = catalog.life_situations[lid]
    crumbs = _crumbs(site, ("Lebenslagen", f"{site.base}lebenslagen/"),
                     (situation.name, f"{site.base}lebenslagen/{lid}/"))
    services = [_summary(catalog.services[sid]) for sid in catalog.services_by_situation.get(lid, ())]
    related = [(rid, catalog.life_situations[rid].name) for rid in situation.related]
    return _page(site, f"lebenslagen/{lid}/index.html", "life_situation", situation.name, crumbs,
                 f"content/life-situations/{lid}.yaml", [], situation=situation, services=services, related=related)


def _unit_groups(catalog: Catalog) -> list[tuple[str, list[tuple[str, str]]]]:
    """Units grouped: the municipality's own first, then each member town's."""
    own = [(uid, u.name) for uid, u in catalog.units.items() if u.town is None]
    groups = [(catalog.municipality.name, own)] if own else []
    for town in catalog.municipality.towns:
        items = [(uid, u.name) for uid, u in catalog.units.items() if u.town == town.id]
        if items:
            groups.append((town.name, items))
    return groups


def _unit_index(catalog: Catalog, site: SiteInfo) -> Page:
    crumbs = _crumbs(site, ("Organisation", f"{site.base}organisation/"))
    return _page(site, "organisation/index.html", "units", "Ämter und Einrichtungen", crumbs,
                 "units/", [], groups=_unit_groups(catalog))


def _unit(catalog: Catalog, site: SiteInfo, uid: str) -> Page:
    unit = catalog.units[uid]
    crumbs = _crumbs(site, ("Organisation", f"{site.base}organisation/"), (unit.name, f"{site.base}organisation/{uid}/"))
    parent = (unit.parent, catalog.units[unit.parent].name) if unit.parent else None
    children = [(cid, u.name) for cid, u in catalog.units.items() if u.parent == uid]
    return _page(site, f"organisation/{uid}/index.html", "unit", unit.name, crumbs, f"units/{uid}.yaml",
                 [jsonld.unit(catalog, uid, unit, site.base_url)],
                 unit=unit, parent=parent, children=children, town=catalog.town_name(unit.town),
                 locations=[(lid, catalog.locations[lid]) for lid in unit.locations],
                 services=[_summary(catalog.services[sid]) for sid in catalog.services_by_unit.get(uid, ())],
                 contacts=[(cid, catalog.contacts[cid]) for cid in catalog.contacts_by_unit.get(uid, ())])


def _location_index(catalog: Catalog, site: SiteInfo) -> Page:
    crumbs = _crumbs(site, ("Standorte", f"{site.base}standorte/"))
    items = [(lid, loc, catalog.town_name(loc.town)) for lid, loc in catalog.locations.items()]
    return _page(site, "standorte/index.html", "locations", "Standorte und Öffnungszeiten", crumbs,
                 "locations/", [], items=items)


def _location(catalog: Catalog, site: SiteInfo, lid: str, holidays: list[tuple[dt.date, str]],
              today: dt.date) -> Page:
    location = catalog.locations[lid]
    url = f"{site.base}standorte/{lid}/"
    crumbs = _crumbs(site, ("Standorte", f"{site.base}standorte/"), (location.name, url))
    closures = holidays if location.closed_on_public_holidays else []
    upcoming = [e for e in location.exceptions if e.date >= today]
    bookable = [_summary(e) for e in catalog.services.values() if lid in e.appointment_location_ids]
    return _page(site, f"standorte/{lid}/index.html", "location", location.name, crumbs, f"locations/{lid}.yaml",
                 [jsonld.place(location, site.base_url + url, closures)],
                 location=location, town=catalog.town_name(location.town), hours=_weekly_hours(location),
                 exceptions=upcoming, holidays=closures[:12],
                 units=[(uid, catalog.units[uid].name) for uid in catalog.units_by_location.get(lid, ())],
                 bookable=bookable)


def _weekly_hours(location: Location) -> list[tuple[str, list[tuple[str, str]]]]:
    days = ["mo", "tu", "we", "th", "fr", "sa", "su"]
    result = []
    for day in days:
        spans = sorted((h.opens, h.closes) for h in location.opening_hours if day in h.days)
        result.append((day, spans))
    return result


def _contact_index(catalog: Catalog, site: SiteInfo) -> Page:
    crumbs = _crumbs(site, ("Ansprechpersonen", f"{site.base}ansprechpersonen/"))
    items = [(cid, c, catalog.units[c.unit].name) for cid, c in catalog.contacts.items()]
    return _page(site, "ansprechpersonen/index.html", "contacts", "Ansprechpersonen", crumbs, "contacts/", [],
                 items=items)


def _contact(catalog: Catalog, site: SiteInfo, cid: str) -> Page:
    contact = catalog.contacts[cid]
    url = f"{site.base}ansprechpersonen/{cid}/"
    crumbs = _crumbs(site, ("Ansprechpersonen", f"{site.base}ansprechpersonen/"), (contact.name, url))
    location = (contact.location, catalog.locations[contact.location]) if contact.location else None
    return _page(site, f"ansprechpersonen/{cid}/index.html", "contact", contact.name, crumbs, f"contacts/{cid}.yaml",
                 [jsonld.contact(catalog, contact, site.base_url + url, site.base_url)],
                 contact=contact, unit=(contact.unit, catalog.units[contact.unit].name), location=location,
                 services=[(sid, catalog.services[sid].name) for sid in contact.services])


def _legal_pages(catalog: Catalog, site: SiteInfo) -> list[Page]:
    m = catalog.municipality
    contact_unit = m.accessibility.contact.unit
    return [
        _page(site, "impressum/index.html", "imprint", "Impressum", _crumbs(site, ("Impressum", f"{site.base}impressum/")),
              "municipality.yaml", [], municipality=m),
        _page(site, "datenschutz/index.html", "privacy", "Datenschutzerklärung",
              _crumbs(site, ("Datenschutz", f"{site.base}datenschutz/")), "municipality.yaml", [], municipality=m),
        _page(site, "barrierefreiheit/index.html", "accessibility", "Erklärung zur Barrierefreiheit",
              _crumbs(site, ("Barrierefreiheit", f"{site.base}barrierefreiheit/")), "municipality.yaml", [],
              municipality=m, statement=m.accessibility,
              contact_unit=(contact_unit, catalog.units[contact_unit].name) if contact_unit else None),
    ]
