"""iCalendar files (RFC 5545) for a booked appointment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from icalendar import Calendar, Event

from ..models import Appointment, utcnow


def ics_for(appointment: Appointment, service: Mapping[str, Any], location: Mapping[str, Any],
            organiser: str, link: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Buergerportal//Termine//DE")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{appointment.code}@buergerportal")
    event.add("dtstamp", utcnow())
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    event.add("summary", f"Termin: {service.get('name', appointment.service_id)}")
    address = location.get("address") or {}
    place = ", ".join(part for part in (location.get("name"), address.get("street"),
                                        f"{address.get('postal_code', '')} {address.get('city', '')}".strip()) if part)
    event.add("location", place)
    event.add("description", f"Buchungsnummer {appointment.code} bei {organiser}. Verschieben oder absagen: {link}")
    event.add("url", link)
    calendar.add_component(event)
    return bytes(calendar.to_ical())
