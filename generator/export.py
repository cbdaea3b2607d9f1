"""Machine-readable exports of a Catalog: katalog.json and sitemap.xml."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from katalog import dump
from katalog import models as k
from katalog.models import VERSION as KATALOG_VERSION
from portal.grammar import forms_or_plain
from portal.levels import guests_may_book

from .catalog import Catalog, ServiceEntry
from .models import Grammar, Town

__all__ = ["KATALOG_VERSION", "katalog", "katalog_json", "katalog_model", "sitemap_xml"]


def katalog_model(catalog: Catalog) -> k.Katalog:
    """What the dynamic services read: services, online features, units, locations, forms."""
    m = catalog.municipality
    booked = {lid for entry in catalog.services.values() for lid in entry.appointment_location_ids}
    services = {}
    for sid, entry in catalog.services.items():
        s = entry.service
        services[sid] = k.Service(
            name=s.name,
            teaser=s.teaser,
            leika=s.leika,
            synonyms=list(s.synonyms),
            level=s.level,
            url=f"/{catalog.slug}/leistungen/{sid}/",
            online=k.OnlineService.model_validate(s.online.model_dump()) if s.online else None,
            form_enabled=entry.form_enabled,
            appointment_locations=list(entry.appointment_location_ids),
            booking=_service_booking(entry),
            responsible=[k.Responsibility(unit=r.unit_id, town=r.town.id if r.town else None,
                                          locations=list(r.location_ids))
                         for r in entry.responsibilities],
            contacts=list(entry.contact_ids),
            fees=[k.Fee.model_validate(fee.model_dump()) for fee in entry.fees],
            documents=list(s.documents),  # an addition: what to bring to an appointment
            typisierung=s.typisierung,  # an addition, so the version stays; present only where it is known
            beispiel_felder=sorted(entry.examples),  # examples are marked, never passed off as facts (issue 17)
        )
    return k.Katalog(
        version=KATALOG_VERSION,
        municipality=k.Municipality(
            slug=catalog.slug,
            name=m.name,
            short_name=m.short_name,
            kind=m.kind,
            ags=m.ags,
            url=f"/{catalog.slug}/",
            phone=m.phone,
            email=m.email,
            logo=f"/{catalog.slug}/{m.branding.logo}" if m.branding.logo else None,
            towns=[k.Town(id=t.id, name=t.name, ags=t.ags) for t in m.towns],
            features=k.Features.model_validate(m.features.model_dump()),
            grammar=_declension(m.name, m.grammar),
            beispiel=m.beispiel,
            beispiel_felder=list(m.beispiel_felder),
        ),
        services=services,
        units={
            uid: k.Unit.model_validate({**u.model_dump(exclude={"grammar"}),
                                        "url": f"/{catalog.slug}/organisation/{uid}/",
                                        "grammar": _declension(u.name, u.grammar)})
            for uid, u in catalog.units.items()
        },
        locations={
            lid: k.Location.model_validate({
                **loc.model_dump(exclude={"booking"}),
                "url": f"/{catalog.slug}/standorte/{lid}/",
                "booking": loc.booking_settings.model_dump() if lid in booked else None,
            })
            for lid, loc in catalog.locations.items()
        },
        forms={
            fid: k.Form.model_validate({
                **entry.form.model_dump(),
                "url": f"/{catalog.slug}/antrag/{fid}/",
                "recipients": [
                    k.Recipient(unit=r.unit_id, town=r.town.id if r.town else None,
                                town_name=r.town.name if r.town else None, name=catalog.units[r.unit_id].name,
                                grammar=_declension(catalog.units[r.unit_id].name, catalog.units[r.unit_id].grammar),
                                email=catalog.units[r.unit_id].email, sepa_creditor=_creditor(catalog, r.town))
                    for r in entry.recipients
                ],
                "processing_time": _processing_time(catalog, entry.form.service),  # None where an example
            })
            for fid, entry in catalog.forms.items()
        },
        life_situations={
            lid: k.LifeSituation(name=s.name, url=f"/{catalog.slug}/lebenslagen/{lid}/",
                                 services=list(catalog.services_by_situation.get(lid, ())))
            for lid, s in catalog.life_situations.items()
        },
    )


def katalog(catalog: Catalog, base_url: str) -> dict[str, Any]:
    """katalog.json as plain JSON data."""
    data: dict[str, Any] = katalog_model(catalog).model_dump(mode="json")
    return data


def _declension(name: str, grammar: Grammar | None) -> k.Declension:
    return k.Declension.model_validate(forms_or_plain(name, grammar).as_dict())


def _creditor(catalog: Catalog, town: Town | None) -> k.SepaCreditor | None:
    """Who collects a SEPA direct debit for this recipient (the town in a district), where known."""
    creditor = town.sepa_creditor if town is not None else catalog.municipality.sepa_creditor
    return k.SepaCreditor.model_validate(creditor.model_dump()) if creditor else None


def _processing_time(catalog: Catalog, service_id: str) -> k.Duration | None:
    """How long the form's service usually takes here (for "Wie geht es weiter"), where known and
    not only an example."""
    entry = catalog.services.get(service_id)
    if entry is not None and entry.is_example("processing_time"):
        return None  # an example duration is never told as the usual one
    duration = entry.processing_time if entry is not None else None
    return k.Duration.model_validate(duration.model_dump()) if duration is not None else None


def _service_booking(entry: ServiceEntry) -> k.ServiceBooking | None:
    """How citizens book the service online, or None where the municipality has not switched it on."""
    appointment, switch = entry.appointment, entry.booking
    if appointment is None or switch is None:
        return None
    return k.ServiceBooking(
        duration=appointment.duration,
        max_persons=appointment.max_persons,
        trust_level=appointment.trust_level,
        without_account=guests_may_book(appointment.trust_level, switch.without_account),
        max_open=switch.max_open,
        locations=list(switch.locations),
    )


def katalog_json(catalog: Catalog, base_url: str) -> str:
    return dump(katalog_model(catalog))


def sitemap_xml(base_url: str, pages: dict[str, str]) -> str:
    """The site's sitemap: every page's address (path → the day it last changed, ISO)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for path, changed in sorted(pages.items()):
        lines.append(f"  <url><loc>{escape(base_url.rstrip('/') + path)}</loc><lastmod>{changed}</lastmod></url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"
