"""Resolve validated content into one Catalog per municipality.

Shared descriptions meet local parts here: a local file may replace fees, processing
time, the responsible unit and locations, and add contacts and notes. In a district, a
service of level "kommune" is done by every member town, so it gets one Responsibility
per town; a service of level "kreis" is done by the district itself, except in the member
towns that take it over (Town.takes_over): then each town gets its own Responsibility, with
the town's unit where it does the service and the district's unit elsewhere.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from pydantic import BaseModel

from portal.grammar import NameForms, forms_or_plain, name_the_city

from .catalog import Catalog, FormEntry, Responsibility, ServiceEntry, source_of
from .models import PROVENANCE_FIELDS, LocalService, Service
from .validate import MunicipalityContent, ValidContent
from .validation.responsibility import responsibilities as _responsibilities


def resolve(valid: ValidContent) -> dict[str, Catalog]:
    return {slug: resolve_municipality(content, valid) for slug, content in sorted(valid.municipalities.items())}


def _sorted_by_name(items: dict) -> dict:  # type: ignore[type-arg]
    return dict(sorted(items.items(), key=lambda pair: (pair[1].name.casefold(), pair[0])))


def _named_for(city: NameForms | None, value: Any) -> Any:
    """A shared text (string, list or model) with „Ihre(r) Stadt oder Gemeinde“ replaced by the
    city's name; unchanged values are returned as they are."""
    if city is None:
        return value
    if isinstance(value, str):
        return name_the_city(value, city)
    if isinstance(value, list):
        changed = [_named_for(city, item) for item in value]
        return changed if any(a is not b for a, b in zip(changed, value, strict=True)) else value
    if isinstance(value, BaseModel):
        update = {}
        for name in type(value).model_fields:
            old = getattr(value, name)
            new = _named_for(city, old)
            if new is not old and new != old:
                update[name] = new
        return value.model_copy(update=update) if update else value
    return value


def resolve_municipality(content: MunicipalityContent, valid: ValidContent) -> Catalog:
    m = content.municipality
    # Shared texts speak to every town; a city's own site names the city instead.
    city = forms_or_plain(m.name, m.grammar) if m.kind == "kreisfreie_stadt" else None
    entries: dict[str, ServiceEntry] = {}
    contacts_for: dict[str, list[str]] = defaultdict(list)
    for cid, contact in sorted(content.contacts.items()):
        for sid in contact.services:
            contacts_for[sid].append(cid)
    # Validation allows one switch per service; its locations without repeats.
    switches = {
        switch.service: switch.model_copy(update={"locations": list(dict.fromkeys(switch.locations))})
        for switch in m.features.appointments
        if switch.service in valid.services
    }

    no_local = LocalService()
    # Most services have no local part: their offices depend only on level and role, so
    # those responsibilities (and their digests) are worked out once per role.
    # (Member towns that take a district service over make the key depend on the service too.)
    SharedKey = tuple[str, str | None, tuple[tuple[str, str], ...]]
    shared: dict[SharedKey, tuple[tuple[Responsibility, ...], tuple[str, ...]]] = {}
    for sid, service in valid.services.items():
        local = content.local_services.get(sid, no_local)
        contact_ids = list(dict.fromkeys([*local.contacts, *contacts_for.get(sid, [])]))
        online = service.online
        takeovers = tuple(
            (t.id, taken.unit) for t in m.towns if (taken := t.takeover_for(sid, service.office)) is not None)
        key = (service.level, service.office, takeovers)
        if local is no_local and key in shared:
            responsibilities, office_sources = shared[key]
        else:
            responsibilities = _responsibilities(sid, service, local, content)
            office_sources = (
                *(source_of(content.units[r.unit_id]) for r in responsibilities),
                *(source_of(content.locations[lid]) for r in responsibilities for lid in r.location_ids),
            )
            if local is no_local:
                shared[key] = (responsibilities, office_sources)
        switch = switches.get(sid)
        booking_ids = tuple(switch.locations) if switch else ()
        sources = [
            source_of(service),
            source_of(local),
            *office_sources,
            *(source_of(content.locations[lid]) for lid in booking_ids),
            *(source_of(content.contacts[cid]) for cid in contact_ids),
            *(source_of(valid.life_situations[lid]) for lid in service.life_situations),
            *(source_of(valid.services[rid]) for rid in service.related if rid in valid.services),
        ]
        entries[sid] = ServiceEntry(
            id=sid,
            service=_named_for(city, service),
            fees=tuple(local.fees if local.fees is not None else _named_for(city, service.fees)),
            processing_time=local.processing_time or service.processing_time,
            notes=local.notes,
            responsibilities=responsibilities,
            contact_ids=tuple(contact_ids),
            form_enabled=bool(online and online.form and sid in m.features.online_forms),
            appointment_location_ids=booking_ids,
            booking=switch,
            sources=tuple(sources),
            examples=_examples(service, None if local is no_local else local),
            checked_on=_checked_on(service, None if local is no_local else local),
        )
    entries = _sorted_by_name(entries)

    by_unit: dict[str, dict[str, None]] = defaultdict(dict)
    for sid, entry in entries.items():
        for resp in entry.responsibilities:
            by_unit[resp.unit_id][sid] = None
    by_situation: dict[str, list[str]] = defaultdict(list)
    for sid, entry in entries.items():
        for lid in entry.service.life_situations:
            by_situation[lid].append(sid)
    units_at: dict[str, list[str]] = defaultdict(list)
    for uid, unit in sorted(content.units.items()):
        for lid in unit.locations:
            units_at[lid].append(uid)
    contacts_of: dict[str, list[str]] = defaultdict(list)
    for cid, contact in sorted(content.contacts.items()):
        contacts_of[contact.unit].append(cid)

    folder = content.doc.path.parent
    return Catalog(
        slug=content.slug,
        municipality=m,
        services=entries,
        life_situations=_sorted_by_name({lid: _named_for(city, s) for lid, s in valid.life_situations.items()}),
        units=_sorted_by_name(dict(content.units)),
        locations=_sorted_by_name(dict(content.locations)),
        contacts=dict(sorted(content.contacts.items(), key=lambda p: (p[1].name.split()[-1], p[1].name))),
        folder=folder,
        warnings=tuple(problem.message for problem in content.warnings),
        everyday_words=tuple(valid.everyday_words.groups),
        best_bets=valid.best_bets,
        services_by_unit={k: tuple(v) for k, v in by_unit.items()},
        services_by_situation={k: tuple(v) for k, v in by_situation.items()},
        units_by_location={k: tuple(v) for k, v in units_at.items()},
        contacts_by_unit={k: tuple(v) for k, v in contacts_of.items()},
        forms=_forms(entries, content, valid),
    )


_SERVICE_FIELDS = tuple(name for name in Service.model_fields if name not in PROVENANCE_FIELDS)
_LOCAL_FACTS = ("fees", "processing_time", "notes")


def _examples(service: Service, local: LocalService | None) -> frozenset[str]:
    """The fields of a service entry whose values are only examples: marked in the service's
    file, unless the local part gives the value itself, or marked in the local part."""
    marks = set(_SERVICE_FIELDS if service.beispiel else service.beispiel_felder)
    if local is not None:
        marks -= {name for name in _LOCAL_FACTS if getattr(local, name) is not None}
        if local.beispiel:
            marks |= {name for name in _LOCAL_FACTS if getattr(local, name) is not None}
        marks |= set(local.beispiel_felder)
    return frozenset(marks)


def _checked_on(service: Service, local: LocalService | None) -> dt.date | None:
    """When the facts of the entry were last checked: the older date of its files, None when
    one of them was never checked (a page never shows a date nobody checked)."""
    dates = [service.geprueft_am] + ([local.geprueft_am] if local is not None else [])
    known = [day for day in dates if day is not None]
    return min(known) if len(known) == len(dates) else None


def _forms(entries: dict[str, ServiceEntry], content: MunicipalityContent, valid: ValidContent) -> dict[str, FormEntry]:
    """The forms switched on here; a form's own recipient role overrides the service's office."""
    found = {}
    for sid, entry in entries.items():
        online = entry.service.online
        if not entry.form_enabled or online is None or online.form not in valid.forms:
            continue
        form = valid.forms[online.form]
        recipients = entry.responsibilities
        if form.recipient is not None:
            recipients = _responsibilities(sid, entry.service.model_copy(update={"office": form.recipient}),
                                           content.local_services.get(sid, LocalService()), content)
        found[online.form] = FormEntry(online.form, form, recipients)
    return found
