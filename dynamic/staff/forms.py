"""What the staff area's forms accept and what a status change may do: pure functions of
their inputs (no request, no database, no clock), with the exact German messages."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..appointments.claims import UNIT
from ..appointments.slots import plausible_day, to_utc

STATUS_LABELS = {
    "held": "vorgemerkt",
    "booked": "gebucht",
    "arrived": "erschienen",
    "done": "erledigt",
    "no_show": "nicht erschienen",
    "cancelled": "abgesagt",
}
MARKS = ("arrived", "done", "no_show", "booked")  # what a clerk may set ("booked": undo)
FORWARD = {("booked", "arrived"), ("booked", "no_show"), ("arrived", "done"), ("arrived", "no_show")}
UNDO = {("arrived", "booked"), ("done", "booked"), ("no_show", "booked")}
ACTIONS = {  # the buttons a row offers, by status
    "booked": (("arrived", "Erschienen"), ("no_show", "Nicht erschienen")),
    "arrived": (("done", "Erledigt"), ("no_show", "Nicht erschienen"), ("booked", "Zurücksetzen")),
    "done": (("booked", "Zurücksetzen"),),
    "no_show": (("booked", "Zurücksetzen"),),
}
REASON_MAX = 200

WEEKDAYS_DE = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
MONTHS_DE = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
             "November", "Dezember")
GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
CLOCK = re.compile(r"^(\d{1,2})[:.](\d{2})$")


def day_text(day: dt.date) -> str:
    """ "Montag, 30. November 2026" """
    return f"{WEEKDAYS_DE[day.weekday()]}, {day.day}. {MONTHS_DE[day.month - 1]} {day.year}"


def parse_day(value: str) -> dt.date | None:
    """A date as a date field sends it (2026-11-30) or as people type it (30.11.2026)."""
    value = value.strip()
    try:
        if match := GERMAN_DATE.match(value):
            day, month, year = (int(part) for part in match.groups())
            found = dt.date(year, month, day)
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            found = dt.date.fromisoformat(value)
        else:
            return None
    except ValueError:
        return None
    return found if plausible_day(found) else None


def parse_clock(value: str) -> dt.time | None:
    match = CLOCK.match(value.strip())
    if not match:
        return None
    hour, minute = (int(part) for part in match.groups())
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def status_change_problem(old: str, new: str, day: dt.date, today: dt.date) -> str | None:
    """Why a clerk may not change an appointment from `old` to `new`; None when they may."""
    if (old, new) in UNDO:
        if day != today:
            return "Eine Markierung können Sie nur am Tag des Termins zurücksetzen."
        return None
    if (old, new) not in FORWARD:
        return (f"Ein Termin mit dem Status „{STATUS_LABELS.get(old, old)}“ kann nicht als "
                f"„{STATUS_LABELS.get(new, new)}“ markiert werden.")
    if day > today:
        return "Einen Termin können Sie erst an seinem Tag markieren."
    return None


@dataclass(frozen=True)
class BlockRequest:
    """A checked block form: local day and times, the counters it closes (None: all)."""

    day: dt.date
    start: dt.time
    end: dt.time
    counter: int | None
    reason: str

    @property
    def starts_at(self) -> dt.datetime:
        return to_utc(self.day, self.start)

    @property
    def ends_at(self) -> dt.datetime:
        return to_utc(self.day, self.end)

    def counters(self, count: int) -> list[int]:
        return list(range(1, count + 1)) if self.counter is None else [self.counter]


def read_block_form(form: Mapping[str, str], counters: int,
                    today: dt.date) -> tuple[BlockRequest | None, dict[str, str]]:
    """The block form's values, or the errors (field → message) to show at the fields."""
    errors: dict[str, str] = {}
    raw_day = form.get("tag", "").strip()
    day = parse_day(raw_day)
    if not raw_day:
        errors["tag"] = "Geben Sie das Datum an, zum Beispiel 30.11.2026."
    elif day is None:
        errors["tag"] = "Geben Sie ein gültiges Datum an, zum Beispiel 30.11.2026."
    elif day < today:
        errors["tag"] = "Geben Sie ein Datum ab heute an. Vergangene Tage können Sie nicht sperren."
    start = _clock_field(form, "von", "ab wann", "08:00", errors)
    end = _clock_field(form, "bis", "bis wann", "12:00", errors)
    if start is not None and end is not None and end <= start:
        errors["bis"] = "Die Uhrzeit „bis“ muss nach der Uhrzeit „von“ liegen."
    raw_counter = form.get("schalter", "alle").strip()
    counter: int | None = None
    if raw_counter != "alle":
        counter = int(raw_counter) if raw_counter.isdigit() else 0
        if not 1 <= counter <= counters:
            errors["schalter"] = "Wählen Sie einen Schalter oder „alle Schalter“ aus."
    reason = " ".join(form.get("grund", "").split())
    if len(reason) > REASON_MAX:
        errors["grund"] = f"Geben Sie einen Grund mit höchstens {REASON_MAX} Zeichen an."
    if errors or day is None or start is None or end is None:
        return None, errors
    return BlockRequest(day, start, end, counter, reason), {}


def _clock_field(form: Mapping[str, str], name: str, what: str, example: str,
                 errors: dict[str, str]) -> dt.time | None:
    raw = form.get(name, "").strip()
    if not raw:
        errors[name] = f"Geben Sie an, {what} gesperrt wird, zum Beispiel {example}."
        return None
    clock = parse_clock(raw)
    if clock is None:
        errors[name] = f"Geben Sie die Uhrzeit in der Form {example} an."
        return None
    if clock.minute % (UNIT.seconds // 60):
        errors[name] = f"Geben Sie eine Uhrzeit in {UNIT.seconds // 60}-Minuten-Schritten an, zum Beispiel {example}."
        return None
    return clock
