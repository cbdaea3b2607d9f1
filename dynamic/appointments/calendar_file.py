"""iCalendar files (RFC 5545) for a booked appointment."""

from __future__ import annotations

from icalendar import Calendar, Event

from katalog.models import EXAMPLE_NOTE, Location, Service

from ..platform.models import Appointment, utcnow


def ics_for(appointment: Appointment, service: Service | None, location: Location | None,
            organiser: str, link: str) -> bytes:
    """The appointment as one event. Its UID stays the same through moves and the
    cancellation; SEQUENCE and STATUS tell a calendar that imports the file again to replace
    the event (a cancelled one shows as cancelled). `link` is the appointment's page as it
    opens from a calendar, without any login or cookie (the signed link of the mail)."""
    cancelled = appointment.status == "cancelled"
    name = service.name if service is not None else appointment.service_id
    calendar = Calendar()
    calendar.add("prodid", "-//Buergerportal//Termine//DE")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{appointment.code}@buergerportal")
    event.add("sequence", appointment.sequence or 0)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("dtstamp", utcnow())
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    event.add("summary", f"Abgesagt: {name}" if cancelled else f"Termin: {name}")
    address = location.address if location is not None else None
    place = ", ".join(part for part in (location.name if location is not None else None,
                                        address.street if address else None,
                                        f"{address.postal_code} {address.city}" if address else "") if part)
    if address and location is not None and location.is_example("address"):
        place += f" ({EXAMPLE_NOTE})"  # an address nobody could source is no fact, in the calendar too
    event.add("location", place)
    what_now = "Dieser Termin ist abgesagt." if cancelled else "Verschieben oder absagen:"
    event.add("description", f"Buchungsnummer {appointment.code} bei {organiser}. {what_now} {link}")
    event.add("url", link)
    calendar.add_component(event)
    return bytes(calendar.to_ical())
