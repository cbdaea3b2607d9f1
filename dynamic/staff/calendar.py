"""The iCalendar feed of a location for its counter staff: one event per booked or arrived
appointment and one per block. No personal data of citizens: the booking code, the service,
the counter and the number of persons only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from icalendar import Calendar, Event

from ..platform.models import Appointment, Block

PRODID = "-//Buergerportal//Verwaltung Terminkalender//DE"


def counter_text(counter: int | None) -> str:
    return "alle Schalter" if counter is None else f"Schalter {counter}"


def location_feed(name: str, appointments: Iterable[Appointment], blocks: Iterable[Block],
                  service_names: Mapping[str, str], host: str, now: dt.datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"Termine {name}")
    calendar.add("x-wr-timezone", "Europe/Berlin")
    calendar.add("refresh-interval", dt.timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    for appointment in appointments:
        service = service_names.get(appointment.service_id, appointment.service_id)
        event = Event()
        event.add("uid", f"{appointment.code}@{host}")
        event.add("dtstamp", appointment.booked_at or now)
        event.add("dtstart", appointment.starts_at.astimezone(dt.UTC))
        event.add("dtend", appointment.ends_at.astimezone(dt.UTC))
        event.add("summary", f"{service} – {counter_text(appointment.counter)}")
        persons = "1 Person" if appointment.persons == 1 else f"{appointment.persons} Personen"
        event.add("description", f"Buchungscode {appointment.code}, {persons}")
        event.add("location", name)
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    for block in blocks:
        event = Event()
        event.add("uid", f"sperre-{block.id}@{host}")
        event.add("dtstamp", block.created_at or now)
        event.add("dtstart", block.starts_at.astimezone(dt.UTC))
        event.add("dtend", block.ends_at.astimezone(dt.UTC))
        reason = f": {block.reason}" if block.reason else ""
        event.add("summary", f"Gesperrt – {counter_text(block.counter)}{reason}")
        event.add("location", name)
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    return calendar.to_ical()
