"""Which pages a municipality's site has, what each shows, and what each depends on.

Pure: Catalog in, a list of Page out. A Page names its inputs as digests of the content
files it is made from (`deps`), so the build decides whether to render it again without
building its context; the context itself is built lazily, only for pages that render.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from holidays.countries.germany import Germany

from portal.grammar import forms_or_plain
from portal.levels import TrustLevel, booking_access
from portal.text import LEVEL_NAMES, TOPICS, german_list
from portal.theme import SiteInfo

from . import jsonld
from .catalog import Catalog, Responsibility, ServiceEntry, source_of
from .models import LifeSituationStep, TopTask
from .opendata import open_data_page
from .place_pages import PlacePages
from .xzufi import portal_links

Crumbs = list[tuple[str, str]]
Context = dict[str, Any]


@dataclass(frozen=True)
class Page:
    path: str  # output path below the site folder, e.g. "a-z/index.html"
    template: str  # template name without ".html"
    source: str  # what produced it, for error messages
    deps: tuple[str, ...]  # digests of every input besides the site itself
    build: Callable[[], Context]  # the template context, with "title", "crumbs", "jsonld"


def site_info(catalog: Catalog, base_url: str) -> SiteInfo:
    m = catalog.municipality
    logo = f"/{catalog.slug}/{m.branding.logo}" if m.branding.logo else None
    return SiteInfo.of(
        slug=catalog.slug,
        base_url=base_url,
        name=m.name,
        short_name=m.short_name,
        kind=m.kind,
        logo=logo,
        email=m.email,
        phone=m.phone,
        booking=any(entry.booking is not None for entry in catalog.services.values()),
        grammar=forms_or_plain(m.name, m.grammar),
    )


def public_holidays(today: dt.date, days: int = 366) -> list[tuple[dt.date, str]]:
    # The same as holidays.country_holidays("DE", subdiv="NW", language="de"), without
    # importing every country's calendar.
    calendar = Germany(subdiv="NW", language="de", years=[today.year, today.year + 1])
    end = today + dt.timedelta(days=days)
    return sorted((day, name) for day, name in calendar.items() if today <= day <= end)


class SiteBuilder(PlacePages):
    """Makes the pages of one site; every page also depends on the municipality file.
    The pages of units, locations and contacts are in generator/place_pages.py."""

    def __init__(self, catalog: Catalog, base_url: str, today: dt.date):
        self.catalog = catalog
        self.site = site_info(catalog, base_url)
        self.today = today
        self.holidays = public_holidays(today)

    # --- helpers ----------------------------------------------------------------------

    def crumbs(self, *rest: tuple[str, str]) -> Crumbs:
        return [("Startseite", self.site.base), *rest]

    def page(
        self,
        path: str,
        template: str,
        title: str,
        crumbs: Crumbs,
        source: str,
        deps: tuple[str, ...],
        content: Callable[[], Context],
        structured: Callable[[], list[dict[str, Any]]] | None = None,
    ) -> Page:
        base_url = self.site.base_url

        def build() -> Context:
            graph = [*(structured() if structured else []), jsonld.breadcrumbs(crumbs, base_url)]
            return {"title": title, "crumbs": crumbs, "jsonld": graph, **content()}

        return Page(path, template, source, (title, *deps), build)

    def summary_deps(self, ids: Any = None, teaser: bool = False) -> tuple[str, ...]:
        """What a list of services shows: id and name, the teaser where it is shown, and
        what places a service in a group (office role, level)."""
        services = self.catalog.services
        chosen = services.values() if ids is None else (services[sid] for sid in ids)
        return tuple(
            f"{e.id}\x1e{e.name}\x1e{e.service.teaser if teaser else ''}\x1e{e.service.office}\x1e{e.service.level}"
            for e in chosen
        )

    def summaries(self, ids: Any) -> list[dict[str, Any]]:
        return [_summary(self.catalog.services[sid]) for sid in ids]

    # --- pages ------------------------------------------------------------------------

    def pages(self) -> list[Page]:
        c = self.catalog
        pages = [self.home(), self.a_to_z(), self.topics(), self.search()]
        pages += [self.service(entry) for entry in c.services.values()]
        pages.append(self.life_situation_index())
        pages += [self.life_situation(lid) for lid in c.life_situations]
        pages.append(self.unit_index())
        pages += [self.unit(uid) for uid in c.units]
        pages.append(self.location_index())
        pages += [self.location(lid) for lid in c.locations]
        pages.append(self.contact_index())
        pages += [self.contact(cid) for cid in c.contacts]
        pages += self.legal_pages()
        pages.append(open_data_page(self))
        pages.append(self.page("404.html", "404", "Seite nicht gefunden", self.crumbs(), "site_templates", (), dict))
        return pages

    def featured(self) -> list[str]:
        """ "Häufig gesucht": the services of the top tasks in their order, then the other services
        the municipality took online (form or booking), by name."""
        top = [task.service for task in self.catalog.municipality.top_tasks if task.service]
        online = [sid for sid, e in self.catalog.services.items() if e.form_enabled or e.appointment_location_ids]
        return list(dict.fromkeys([*top, *online]))

    def top_tasks(self) -> list[dict[str, Any]]:
        """What the home page starts with: the municipality's top tasks in order of demand
        (municipality.yaml top_tasks); without them, booking and the services with an online offer."""
        c, base = self.catalog, self.site.base
        tasks = list(c.municipality.top_tasks)
        if not tasks:
            online = [sid for sid, e in c.services.items() if e.form_enabled or e.appointment_location_ids]
            tasks = [TopTask(page="termine")] if self.site.booking else []
            tasks += [TopTask(service=sid) for sid in online]
        found: list[dict[str, Any]] = []
        for task in tasks:
            if task.service:
                found.append({"label": task.label or c.services[task.service].name,
                              "url": f"{base}leistungen/{task.service}/", "booking": False})
            else:
                found.append({"label": task.label or "Termin buchen", "url": f"{base}termine/", "booking": True})
        return found

    def situation_links(self) -> list[dict[str, str]]:
        return [{"id": lid, "name": s.name} for lid, s in self.catalog.life_situations.items()]

    def home(self) -> Page:
        c = self.catalog
        featured = self.featured()

        def content() -> Context:
            towns = [
                {"id": t.id, "name": t.name, "office": t.offices.get("citizens_office") or t.offices["general"]}
                for t in c.municipality.towns
            ]
            return {
                "top_tasks": self.top_tasks(),
                "featured": self.summaries(featured),
                "situations": self.situation_links(),
                "towns": towns,
                "unit_names": {t["office"]: c.units[t["office"]].name for t in towns},
                "service_count": len(c.services),
            }

        deps = (
            *self.summary_deps(),
            *self.summary_deps(featured, teaser=True),
            *c.digests("life_situations", c.life_situations),
            *c.digests("units", c.units),
        )
        return self.page(
            "index.html",
            "index",
            c.municipality.name,
            [],
            "municipality.yaml",
            deps,
            content,
            lambda: [jsonld.organisation(c, self.site.base_url)],
        )

    def search(self) -> Page:
        """The search page: the form, the results (written by its script or by the app), and
        one line of ways without searching; not the home page's lists again."""
        towns = self.catalog.municipality.towns  # municipality.yaml is in every page's print
        crumbs = self.crumbs(("Suche", f"{self.site.base}suche/"))
        return self.page("suche/index.html", "search", "Suche", crumbs, "site_templates", (),
                         lambda: {"example_town": towns[0].name if towns else None})

    def a_to_z(self) -> Page:
        def content() -> Context:
            groups: dict[str, list[dict[str, Any]]] = {}
            for entry in self.catalog.services.values():
                groups.setdefault(_initial(entry.name), []).append(_summary(entry))
            return {"groups": sorted(groups.items())}

        crumbs = self.crumbs(("Leistungen A–Z", f"{self.site.base}a-z/"))
        return self.page(
            "a-z/index.html", "a_z", "Leistungen von A bis Z", crumbs, "content/services", self.summary_deps(), content
        )

    def topics(self) -> Page:
        """All services by topic: the offices' roles, then state and federal services."""

        def content() -> Context:
            groups: dict[str, list[dict[str, Any]]] = {topic: [] for topic in TOPICS.values()}
            elsewhere: list[dict[str, Any]] = []
            for entry in self.catalog.services.values():
                office = entry.service.office
                if entry.service.level in ("land", "bund") or office is None:
                    elsewhere.append(_summary(entry))
                else:
                    groups[TOPICS[office]].append(_summary(entry))
            topics = [(name, items) for name, items in sorted(groups.items()) if items]
            if elsewhere:
                topics.append(("Leistungen von Land und Bund", elsewhere))
            return {"topics": topics}

        crumbs = self.crumbs(("Leistungen", f"{self.site.base}leistungen/"))
        return self.page(
            "leistungen/index.html",
            "topics",
            "Leistungen nach Themen",
            crumbs,
            "content/services",
            self.summary_deps(),
            content,
        )

    def service(self, entry: ServiceEntry) -> Page:
        c, s, base = self.catalog, entry.service, self.site.base
        url = f"{base}leistungen/{entry.id}/"

        def content() -> Context:
            responsible = [self.responsibility(entry, r) for r in entry.responsibilities]
            return {
                "entry": entry,
                "service": s,
                "level_name": LEVEL_NAMES[s.level],
                "trust_name": TrustLevel(s.online.trust_level).row.needs if s.online else None,
                "responsible": responsible,
                "appointment": entry.appointment,
                "booking": self.booking_box(entry, responsible),
                "contacts": [(cid, c.contacts[cid]) for cid in entry.contact_ids],
                "situations": [(lid, c.life_situations[lid].name) for lid in s.life_situations],
                "related": [(rid, c.services[rid].name) for rid in s.related if rid in c.services],
                "portal_links": portal_links(s),
            }

        crumbs = self.crumbs(("Leistungen", f"{base}leistungen/"), (s.name, url))
        return self.page(
            f"leistungen/{entry.id}/index.html",
            "service",
            s.name,
            crumbs,
            f"content/services/{entry.id}.yaml",
            entry.sources,
            content,
            lambda: [jsonld.service(c, entry, self.site.base_url + url, self.site.base_url)],
        )

    def responsibility(self, entry: ServiceEntry, r: Responsibility) -> Context:
        """Who does a service where, and where its appointments are booked online."""
        c = self.catalog
        unit = c.units[r.unit_id]
        locations = [(lid, c.locations[lid]) for lid in r.location_ids]
        bookable = [
            lid
            for lid in entry.appointment_location_ids
            if lid in r.location_ids or (r.town is not None and c.locations[lid].town == r.town.id)
        ]
        return {
            "town": r.town.name if r.town else None,
            "unit_id": r.unit_id,
            "unit": unit,
            "locations": locations,
            "bookable": [(lid, c.locations[lid]) for lid in bookable],
            "bookable_ids": bookable,
            # Where to call for an appointment: the office's place first, then the office.
            "phone": next((loc.phone for _, loc in locations if loc.phone), None) or unit.phone,
        }

    def booking_box(self, entry: ServiceEntry, responsible: list[Context]) -> Context | None:
        """The box at the top of a service page that has appointments: book online, or call."""
        appointment, switch = entry.appointment, entry.booking
        if appointment is None:
            return None
        if switch is None:
            phone = responsible[0]["phone"] if len(responsible) == 1 else None
            return {"online": False, "phone": phone}
        if entry.per_town:
            places = [r["town"] for r in responsible if r["bookable"]]
            others = any(not r["bookable"] for r in responsible)
        else:
            places = [self.catalog.locations[lid].name for lid in entry.appointment_location_ids]
            others = any(lid not in r["bookable_ids"] for r in responsible for lid, _ in r["locations"])
        return {
            "online": True,
            "url": f"{self.site.base}termine/{entry.id}/",
            "places": german_list(places),
            "place_count": len(places),
            "others": others,
            "access": booking_access(appointment.trust_level, switch.without_account),
            "duration": appointment.duration,
            "max_persons": appointment.max_persons,
        }

    def life_situation_index(self) -> Page:
        c = self.catalog

        def content() -> Context:
            return {
                "items": [
                    {"id": lid, "name": s.name, "teaser": s.teaser, "count": len(c.services_by_situation.get(lid, ()))}
                    for lid, s in c.life_situations.items()
                ]
            }

        crumbs = self.crumbs(("Lebenslagen", f"{self.site.base}lebenslagen/"))
        return self.page(
            "lebenslagen/index.html",
            "life_situations",
            "Lebenslagen",
            crumbs,
            "content/life-situations",
            (
                *c.digests("life_situations", c.life_situations),
                *(f"{k}:{len(v)}" for k, v in c.services_by_situation.items()),
            ),
            content,
        )

    def life_situation(self, lid: str) -> Page:
        c = self.catalog
        situation = c.life_situations[lid]
        service_ids = c.services_by_situation.get(lid, ())

        in_steps = [sid for step in situation.steps for sid in (*step.required, *step.optional)]

        def content() -> Context:
            return {
                "situation": situation,
                "steps": [self.step(step) for step in situation.steps],
                "services": self.summaries(sid for sid in service_ids if sid not in in_steps),
                "related": [(rid, c.life_situations[rid].name) for rid in situation.related],
            }

        crumbs = self.crumbs(
            ("Lebenslagen", f"{self.site.base}lebenslagen/"), (situation.name, f"{self.site.base}lebenslagen/{lid}/")
        )
        deps = (
            source_of(situation),
            *self.summary_deps(service_ids, teaser=True),
            *c.digests("services", in_steps),  # the steps show the services' deadlines
            *c.digests("life_situations", situation.related),
        )
        return self.page(
            f"lebenslagen/{lid}/index.html",
            "life_situation",
            situation.name,
            crumbs,
            f"content/life-situations/{lid}.yaml",
            deps,
            content,
        )

    def step(self, step: LifeSituationStep) -> Context:
        """One step of a life situation: its duties and what may apply, each with its deadlines."""

        def shown(sid: str) -> dict[str, Any]:
            entry = self.catalog.services[sid]
            return {**_summary(entry), "deadlines": [d.description for d in entry.service.deadlines]}

        return {
            "title": step.title,
            "note": step.note,
            "required": [shown(sid) for sid in step.required],
            "optional": [shown(sid) for sid in step.optional],
        }

    def appointment_summary(self, entry: ServiceEntry) -> Context:
        appointment, switch = entry.appointment, entry.booking
        assert appointment is not None and switch is not None
        return {
            **_summary(entry),
            "duration": appointment.duration,
            "max_persons": appointment.max_persons,
            "access": booking_access(appointment.trust_level, switch.without_account),
        }

    def legal_pages(self) -> list[Page]:
        c = self.catalog
        m = c.municipality
        contact_unit = m.accessibility.contact.unit
        unit_deps = c.digests("units", [contact_unit] if contact_unit else [])
        base = self.site.base
        return [
            self.page(
                "impressum/index.html",
                "imprint",
                "Impressum",
                self.crumbs(("Impressum", f"{base}impressum/")),
                "municipality.yaml",
                (),
                lambda: {"municipality": m},
            ),
            self.page(
                "datenschutz/index.html",
                "privacy",
                "Datenschutzerklärung",
                self.crumbs(("Datenschutz", f"{base}datenschutz/")),
                "municipality.yaml",
                (),
                lambda: {"municipality": m},
            ),
            self.page(
                "barrierefreiheit/index.html",
                "accessibility",
                "Erklärung zur Barrierefreiheit",
                self.crumbs(("Barrierefreiheit", f"{base}barrierefreiheit/")),
                "municipality.yaml",
                unit_deps,
                lambda: {
                    "municipality": m,
                    "statement": m.accessibility,
                    "contact_unit": (contact_unit, c.units[contact_unit].name) if contact_unit else None,
                },
            ),
        ]


def build_pages(catalog: Catalog, base_url: str, today: dt.date) -> list[Page]:
    return SiteBuilder(catalog, base_url, today).pages()


def _summary(entry: ServiceEntry) -> dict[str, Any]:
    return {"id": entry.id, "name": entry.name, "teaser": entry.service.teaser}


def _initial(name: str) -> str:
    first = name[:1].upper()
    return {"Ä": "A", "Ö": "O", "Ü": "U"}.get(first, first if first.isalpha() else "#")
