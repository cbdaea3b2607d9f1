"""Machine-readable exports of a Catalog: katalog.json and sitemap.xml."""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape

from portal.grammar import forms_or_plain
from portal.levels import guests_may_book

from .catalog import Catalog, ServiceEntry
from .models import Town

KATALOG_VERSION = 1


def katalog(catalog: Catalog, base_url: str) -> dict[str, Any]:
    """What the dynamic services read: services, online features, units, locations."""
    m = catalog.municipality
    booked = {lid for entry in catalog.services.values() for lid in entry.appointment_location_ids}
    services = {}
    for sid, entry in catalog.services.items():
        s = entry.service
        services[sid] = {
            "name": s.name,
            "teaser": s.teaser,
            "leika": s.leika,
            "synonyms": list(s.synonyms),
            "level": s.level,
            "url": f"/{catalog.slug}/leistungen/{sid}/",
            "online": s.online.model_dump(mode="json", exclude_none=True) if s.online else None,
            "form_enabled": entry.form_enabled,
            "appointment_locations": list(entry.appointment_location_ids),
            "booking": _service_booking(entry),
            "responsible": [
                {"unit": r.unit_id, "town": r.town.id if r.town else None, "locations": list(r.location_ids)}
                for r in entry.responsibilities
            ],
            "contacts": list(entry.contact_ids),
            "fees": [f.model_dump(mode="json", exclude_none=True) for f in entry.fees],
            "documents": list(s.documents),  # an addition: what to bring to an appointment
        }
        if s.typisierung:  # an addition, so the version stays; present only where it is known
            services[sid]["typisierung"] = s.typisierung
    return {
        "version": KATALOG_VERSION,
        "municipality": {
            "slug": catalog.slug,
            "name": m.name,
            "short_name": m.short_name,
            "kind": m.kind,
            "ags": m.ags,
            "url": f"/{catalog.slug}/",
            "phone": m.phone,
            "email": m.email,
            "logo": f"/{catalog.slug}/{m.branding.logo}" if m.branding.logo else None,
            "towns": [{"id": t.id, "name": t.name, "ags": t.ags} for t in m.towns],
            "features": m.features.model_dump(mode="json"),
            "grammar": forms_or_plain(m.name, m.grammar).as_dict(),
        },
        "services": services,
        "units": {
            uid: {**u.model_dump(mode="json", exclude_none=True), "url": f"/{catalog.slug}/organisation/{uid}/",
                  "grammar": forms_or_plain(u.name, u.grammar).as_dict()}
            for uid, u in catalog.units.items()
        },
        "locations": {
            lid: {
                **loc.model_dump(mode="json", exclude_none=True, exclude={"booking"}),
                "url": f"/{catalog.slug}/standorte/{lid}/",
                "booking": loc.booking_settings.model_dump(mode="json") if lid in booked else None,
            }
            for lid, loc in catalog.locations.items()
        },
        "forms": {
            fid: {
                **entry.form.model_dump(mode="json", exclude_none=True),
                "url": f"/{catalog.slug}/antrag/{fid}/",
                "recipients": [
                    {"unit": r.unit_id, "town": r.town.id if r.town else None,
                     "town_name": r.town.name if r.town else None, "name": catalog.units[r.unit_id].name,
                     "grammar": forms_or_plain(catalog.units[r.unit_id].name,
                                               catalog.units[r.unit_id].grammar).as_dict(),
                     "email": catalog.units[r.unit_id].email, **_creditor(catalog, r.town)}
                    for r in entry.recipients
                ],
                **_processing_time(catalog, entry.form.service),
            }
            for fid, entry in catalog.forms.items()
        },
        "life_situations": {
            lid: {
                "name": s.name,
                "url": f"/{catalog.slug}/lebenslagen/{lid}/",
                "services": list(catalog.services_by_situation.get(lid, ())),
            }
            for lid, s in catalog.life_situations.items()
        },
    }


def _creditor(catalog: Catalog, town: Town | None) -> dict[str, Any]:
    """Who collects a SEPA direct debit for this recipient (the town in a district), where known."""
    creditor = town.sepa_creditor if town is not None else catalog.municipality.sepa_creditor
    return {"sepa_creditor": creditor.model_dump(mode="json", exclude_none=True)} if creditor else {}


def _processing_time(catalog: Catalog, service_id: str) -> dict[str, Any]:
    """How long the form's service usually takes here (for "Wie geht es weiter"), where known."""
    entry = catalog.services.get(service_id)
    if entry is None or entry.processing_time is None:
        return {}
    return {"processing_time": entry.processing_time.model_dump(mode="json", exclude_none=True)}


def _service_booking(entry: ServiceEntry) -> dict[str, Any] | None:
    """How citizens book the service online, or None where the municipality has not switched it on."""
    appointment, switch = entry.appointment, entry.booking
    if appointment is None or switch is None:
        return None
    return {
        "duration": appointment.duration,
        "max_persons": appointment.max_persons,
        "trust_level": appointment.trust_level,
        "without_account": guests_may_book(appointment.trust_level, switch.without_account),
        "max_open": switch.max_open,
        "locations": list(switch.locations),
    }


def katalog_json(catalog: Catalog, base_url: str) -> str:
    return json.dumps(katalog(catalog, base_url), ensure_ascii=False, separators=(",", ":")) + "\n"


def sitemap_xml(base_url: str, paths: list[str]) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for path in sorted(paths):
        lines.append(f"  <url><loc>{escape(base_url.rstrip('/') + path)}</loc></url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"
