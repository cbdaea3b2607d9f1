"""Free appointment times, computed from a location's schedule and the claims already made.

Pure functions of their inputs (no database, no clock): the schedule comes from
katalog.json, `taken` from the claims table, `now` from the caller. Times are planned in
the location's local time (Europe/Berlin) and returned in UTC, so daylight-saving changes
shift nothing the citizen sees.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from katalog.models import BookingSettings, Location

from .claims import units

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
Span = tuple[dt.time, dt.time]


@dataclass(frozen=True)
class Schedule:
    """When a location takes appointments, as katalog.json describes it."""

    hours: Mapping[str, tuple[Span, ...]]  # weekday → spans (local time)
    exceptions: Mapping[dt.date, tuple[Span, ...]]  # a date → its spans; () = closed
    closed_on_public_holidays: bool
    counters: int
    days_ahead: int
    lead: dt.timedelta
    step: dt.timedelta
    cancel_before: dt.timedelta


def _clock(value: str) -> dt.time:
    return dt.time.fromisoformat(value)


def schedule_of(location: Location) -> Schedule:
    """The Schedule of a katalog.json location (its `booking` block, defaults where absent)."""
    booking = location.booking or BookingSettings()
    hours: dict[str, list[Span]] = {day: [] for day in WEEKDAYS}
    for row in location.booking_hours:
        for day in row.days:
            hours[day].append((_clock(row.opens), _clock(row.closes)))
    exceptions: dict[dt.date, tuple[Span, ...]] = {}
    for exception in location.exceptions:
        exceptions[exception.date] = () if exception.closed else (
            (_clock(str(exception.opens)), _clock(str(exception.closes))),)
    return Schedule(
        hours={day: tuple(sorted(spans)) for day, spans in hours.items()},
        exceptions=exceptions,
        closed_on_public_holidays=location.closed_on_public_holidays,
        counters=booking.counters,
        days_ahead=booking.days_ahead,
        lead=dt.timedelta(minutes=booking.lead_minutes),
        step=dt.timedelta(minutes=booking.step_minutes),
        cancel_before=dt.timedelta(hours=booking.cancel_hours),
    )


@lru_cache(maxsize=8)
def public_holidays(year: int) -> Mapping[dt.date, str]:
    """NRW's public holidays (the `holidays` package, subdivision NW)."""
    return dict(holidays.country_holidays("DE", subdiv="NW", years=year, language="de"))


def holiday_name(day: dt.date) -> str | None:
    return public_holidays(day.year).get(day)


def local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(BERLIN).date()


def to_utc(day: dt.date, clock: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, clock, BERLIN).astimezone(dt.UTC)


def spans_on(schedule: Schedule, day: dt.date) -> tuple[Span, ...]:
    """The local opening spans of a day: exceptions first, then holidays, then the week."""
    if day in schedule.exceptions:
        return schedule.exceptions[day]
    if schedule.closed_on_public_holidays and holiday_name(day):
        return ()
    return schedule.hours[WEEKDAYS[day.weekday()]]


def bookable_days(schedule: Schedule, now: dt.datetime) -> list[dt.date]:
    """Today and the following days up to the booking horizon (local dates)."""
    today = local_day(now)
    return [today + dt.timedelta(days=n) for n in range(schedule.days_ahead + 1)]


def within_horizon(schedule: Schedule, day: dt.date, now: dt.datetime) -> bool:
    today = local_day(now)
    return today <= day <= today + dt.timedelta(days=schedule.days_ahead)


@dataclass(frozen=True)
class Slot:
    start: dt.datetime  # UTC
    end: dt.datetime
    counter: int  # the first counter free for the whole appointment

    @property
    def local_start(self) -> dt.datetime:
        return self.start.astimezone(BERLIN)


def free_slots(schedule: Schedule, day: dt.date, duration: dt.timedelta,
               taken: Iterable[tuple[int, dt.datetime]], now: dt.datetime) -> list[Slot]:
    """Every start time on `day` at which some counter is free for the whole `duration`,
    within an opening span, not before now + lead, within the horizon."""
    if not within_horizon(schedule, day, now):
        return []
    claimed: AbstractSet[tuple[int, dt.datetime]] = taken if isinstance(taken, set | frozenset) else set(taken)
    earliest = now + schedule.lead
    found = []
    for opens, closes in spans_on(schedule, day):
        span_end = to_utc(day, closes)
        start = to_utc(day, opens)
        while start + duration <= span_end:
            if start >= earliest:
                counter = _free_counter(schedule.counters, start, start + duration, claimed)
                if counter is not None:
                    found.append(Slot(start, start + duration, counter))
            start += schedule.step
    return found


def first_free(schedule: Schedule, days: Iterable[dt.date], duration: dt.timedelta,
               taken: Iterable[tuple[int, dt.datetime]], now: dt.datetime, want: int = 1) -> list[Slot]:
    """The first `want` free start times on `days` (in the order given, earliest first),
    looking at no day after the one on which the last of them was found."""
    claimed = set(taken)
    found: list[Slot] = []
    for day in days:
        if not spans_on(schedule, day):
            continue
        found.extend(free_slots(schedule, day, duration, claimed, now)[:want - len(found)])
        if len(found) >= want:
            break
    return found


def _free_counter(counters: int, start: dt.datetime, end: dt.datetime,
                  claimed: AbstractSet[tuple[int, dt.datetime]]) -> int | None:
    needed = list(units(start, end))
    for counter in range(1, counters + 1):
        if all((counter, unit) not in claimed for unit in needed):
            return counter
    return None


FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2999, 12, 31)


def plausible_day(day: dt.date) -> bool:
    """A day the calendar can compute with (9999-12-31 has no day after it): anything outside
    is a typing error or an attack, and answered as not found or as an error at the field."""
    return FIRST_DAY <= day <= LAST_DAY


def day_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants a local day covers (23 or 25 hours on a daylight-saving change)."""
    return to_utc(day, dt.time(0)), to_utc(day + dt.timedelta(days=1), dt.time(0))

