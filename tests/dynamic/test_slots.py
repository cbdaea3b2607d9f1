"""Free times: opening hours, exceptions, NRW holidays, daylight saving, counters, lead time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from dynamic.appointments.claims import units
from dynamic.appointments.slots import free_slots, schedule_of
from tests.katalog_builder import location

UTC = dt.UTC
LOCATION: dict[str, Any] = {
    "opening_hours": [{"days": ["mo", "tu", "we", "fr"], "opens": "08:00", "closes": "12:00"},
                      {"days": ["th"], "opens": "14:00", "closes": "18:00"}],
    "closed_on_public_holidays": True,
    "exceptions": [{"date": "2026-12-24", "closed": True, "note": "Heiligabend"},
                   {"date": "2026-12-31", "closed": False, "opens": "08:00", "closes": "10:00"}],
    "booking": {"counters": 2, "days_ahead": 400, "lead_minutes": 60, "cancel_hours": 24, "step_minutes": 15},
}
SCHEDULE = schedule_of(location(**LOCATION))
NOW = dt.datetime(2026, 1, 5, 6, 0, tzinfo=UTC)  # a Monday, 07:00 in Münster
MIN15, MIN45 = dt.timedelta(minutes=15), dt.timedelta(minutes=45)


def local_times(day: dt.date, duration: dt.timedelta = MIN15, taken: Any = (), now: dt.datetime = NOW) -> list[str]:
    return [s.local_start.strftime("%H:%M") for s in free_slots(SCHEDULE, day, duration, taken, now)]


def test_a_normal_day_offers_every_step_within_the_hours() -> None:
    times = local_times(dt.date(2026, 1, 6))
    assert times[0] == "08:00" and times[-1] == "11:45" and len(times) == 16


def test_a_service_longer_than_the_remaining_time_is_not_offered_at_the_end() -> None:
    times = local_times(dt.date(2026, 1, 6), MIN45)
    assert times[-1] == "11:15"  # 11:15 + 45 min = 12:00; 11:30 would run past closing


@pytest.mark.parametrize(("day", "expected_utc"), [
    (dt.date(2026, 3, 27), "07:00"),  # Friday before the change: 08:00 CET = 07:00 UTC
    (dt.date(2026, 3, 30), "06:00"),  # Monday after: 08:00 CEST = 06:00 UTC
    (dt.date(2026, 10, 23), "06:00"),  # Friday before going back
    (dt.date(2026, 10, 26), "07:00"),  # Monday after: CET again
])
def test_daylight_saving_changes_keep_local_opening_times(day: dt.date, expected_utc: str) -> None:
    slots = free_slots(SCHEDULE, day, MIN15, (), NOW)
    assert slots[0].local_start.strftime("%H:%M") == "08:00"
    assert slots[0].start.strftime("%H:%M") == expected_utc
    assert len(slots) == 16  # the same number of slots on both sides of a change


def test_the_daylight_saving_night_itself_has_no_phantom_slots() -> None:
    night = {**LOCATION, "opening_hours": [{"days": ["su"], "opens": "01:00", "closes": "04:00"}],
             "closed_on_public_holidays": False}
    spring = free_slots(schedule_of(location(**night)), dt.date(2026, 3, 29), dt.timedelta(minutes=60), (), NOW)
    autumn = free_slots(schedule_of(location(**night)), dt.date(2026, 10, 25), dt.timedelta(minutes=60), (), NOW)
    # 01:00-04:00 local is two real hours in March and four in October.
    assert all(s.end - s.start == dt.timedelta(minutes=60) for s in spring + autumn)
    assert spring[-1].end <= dt.datetime(2026, 3, 29, 2, 0, tzinfo=UTC)  # 04:00 CEST
    assert autumn[-1].end <= dt.datetime(2026, 10, 25, 3, 0, tzinfo=UTC)  # 04:00 CET


@pytest.mark.parametrize(("day", "why"), [
    (dt.date(2026, 12, 25), "Erster Weihnachtstag"),
    (dt.date(2026, 6, 4), "Fronleichnam, a holiday in NRW"),
    (dt.date(2026, 12, 24), "closed by exception"),
    (dt.date(2026, 1, 10), "Saturday, no hours"),
])
def test_closed_days_have_no_slots(day: dt.date, why: str) -> None:
    assert local_times(day) == [], why


def test_an_exception_with_short_hours_replaces_the_week() -> None:
    assert local_times(dt.date(2026, 12, 31)) == ["08:00", "08:15", "08:30", "08:45", "09:00", "09:15", "09:30",
                                                  "09:45"]


def test_a_slot_is_free_while_one_counter_is_free() -> None:
    day = dt.date(2026, 1, 6)
    first = free_slots(SCHEDULE, day, MIN15, (), NOW)[0]
    one_counter = {(1, u) for u in units(first.start, first.end)}
    assert free_slots(SCHEDULE, day, MIN15, one_counter, NOW)[0].counter == 2
    both = one_counter | {(2, u) for u in units(first.start, first.end)}
    assert local_times(day, taken=both)[0] == "08:15"


def test_a_long_service_needs_one_counter_free_for_its_whole_time() -> None:
    day = dt.date(2026, 1, 6)
    start = dt.datetime(2026, 1, 6, 7, 30, tzinfo=UTC)  # 08:30 local
    # Counter 1 busy at 08:30, counter 2 busy at 08:15: nobody is free from 08:00 to 08:45.
    taken = {(1, start), (2, start - dt.timedelta(minutes=15))}
    assert "08:00" not in local_times(day, MIN45, taken)
    assert "08:45" in local_times(day, MIN45, taken)


def test_booking_closes_lead_minutes_before_and_opens_days_ahead() -> None:
    now = dt.datetime(2026, 1, 6, 8, 10, tzinfo=UTC)  # 09:10 local
    assert local_times(dt.date(2026, 1, 6), now=now)[0] == "10:15"
    short = schedule_of(location(**{**LOCATION, "booking": {**LOCATION["booking"], "days_ahead": 7}}))
    assert free_slots(short, dt.date(2026, 1, 12), MIN15, (), NOW) != []  # today + 7
    assert free_slots(short, dt.date(2026, 1, 13), MIN15, (), NOW) == []
    assert free_slots(short, dt.date(2026, 1, 2), MIN15, (), NOW) == []  # the past


def test_defaults_apply_without_a_booking_block() -> None:
    schedule = schedule_of(location(**{k: v for k, v in LOCATION.items() if k != "booking"}))
    assert (schedule.counters, schedule.days_ahead, schedule.step) == (1, 42, dt.timedelta(minutes=15))
