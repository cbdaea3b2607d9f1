"""Attacks on the earliest free times across locations: odd services, another municipality's
service or location, dates at the calendar's edge, and a horizon with nothing free, which
must cost a bounded number of queries, never a scan without end. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from dynamic import create_app
from dynamic.appointments.booking import LOOKAHEAD_DAYS
from tests.dynamic.booking_fixtures import main_text
from tests.dynamic.browserlike import Browser
from tests.dynamic.conftest import make_settings
from tests.dynamic.test_booking_earliest import KREIS, Clock, two_towns
from tests.dynamic.test_booking_earliest import clock as clock  # noqa: F401 - fixture

EARLIEST = KREIS + "frueheste-zeiten/"
HORIZON = 365


def start(app_settings: dict[str, Any], output: Path, clock: Clock) -> Flask:
    application = create_app(make_settings(**{**app_settings, "output_dir": output}))
    application.config.update(TESTING=True, CLOCK=clock)
    return application


@pytest.fixture
def app(app_settings: dict[str, Any], fixture_output: Path, tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    application = start(app_settings, two_towns(fixture_output, tmp_path / "booking-output"), clock)
    yield application
    application.extensions["db_engine"].dispose()


def heading(html: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    return found.group(1).strip() if found else ""


@pytest.mark.parametrize("path", [
    "/kreis/termine/gibt-es-nicht/frueheste-zeiten/",
    "/kreis/termine/kindergeld/frueheste-zeiten/",  # a service, but not bookable
    "/kreis/termine/eheschliessung-anmelden/frueheste-zeiten/",  # bookable in the city only
    "/gibt-es-nicht/termine/personalausweis-beantragen/frueheste-zeiten/",
])
def test_an_unknown_or_foreign_service_is_not_found_in_german(app: Flask, path: str) -> None:
    response = app.test_client().get(path)
    assert response.status_code == 404
    assert heading(response.get_data(as_text=True)) == "Seite nicht gefunden"


@pytest.mark.parametrize("first_day", ["9999-12-31", "99999-01-01", "0001-01-01", "2026-02-30", "morgen",
                                       "2026-12-06", "2027-12-31"])
def test_a_day_outside_the_booking_horizon_is_a_german_400(app: Flask, first_day: str) -> None:
    response = app.test_client().get(f"{EARLIEST}?ab={first_day}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert heading(html) == "Datum nicht möglich"
    assert ("Termine gibt es vom 07.12.2026 bis zum 05.02.2027. Wählen Sie einen Tag in diesem Zeitraum."
            in main_text(html))


def test_a_control_character_in_the_day_is_a_german_400(app: Flask) -> None:
    response = app.test_client().get(f"{EARLIEST}?ab=%00")
    assert response.status_code == 400
    assert heading(response.get_data(as_text=True)) == "Anfrage nicht verständlich"


@pytest.mark.parametrize("choice", [
    "rathaus 2026-12-08T07:00:00+00:00",  # the city's town hall, through the district's page
    "kreishaus 2026-12-08T07:00:00+00:00",  # the district's, but it does not offer the service
    "rathaus-nordort 9999-12-31T23:59:00+00:00",
    "rathaus-nordort 0001-01-01T00:00:00+14:00",
    "rathaus-nordort 2026-12-08T08:00:00",  # no zone
    "rathaus-nordort",
    "",
])
def test_a_choice_that_was_not_offered_is_refused_at_the_field(app: Flask, choice: str) -> None:
    browser = Browser(app.test_client())
    browser.get(EARLIEST)
    browser.submit("fruehestewahl", wahl=choice)
    assert browser.status == 400
    assert "Wählen Sie eine Uhrzeit." in main_text(browser.text)
    assert browser.text.count('name="wahl"') == 6  # the times again, to choose from


def test_a_time_at_the_calendars_edge_on_the_day_page_is_refused(app: Flask) -> None:
    browser = Browser(app.test_client())
    browser.get(KREIS + "rathaus-nordort/2026-12-08/")
    browser.submit("zeitwahl", zeit="9999-12-31T23:59:00+00:00")
    assert browser.status == 400
    assert "Wählen Sie eine Uhrzeit." in main_text(browser.text)


def test_nothing_free_in_a_year_costs_a_bounded_number_of_queries(
        app_settings: dict[str, Any], fixture_output: Path, tmp_path: Path, clock: Clock) -> None:
    """Both towns take bookings a year ahead, but the lead time lies beyond: every day is open
    and nothing is free, the worst case. Claims are read two weeks at a time, so each
    location costs at most HORIZON / LOOKAHEAD_DAYS + 1 queries, whatever the parameters."""
    output = two_towns(fixture_output, tmp_path / "booking-output")
    path = output / "kreis" / "katalog.json"
    katalog = json.loads(path.read_text(encoding="utf-8"))
    for location in ("rathaus-nordort", "rathaus-suedort"):
        katalog["locations"][location]["booking"].update(days_ahead=HORIZON, lead_minutes=(HORIZON + 1) * 24 * 60)
    path.write_text(json.dumps(katalog), encoding="utf-8")
    application = start(app_settings, output, clock)
    statements: list[str] = []
    engine = application.extensions["db_engine"]

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "slot_claims" in statement:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    client = application.test_client()
    for query in ("", "?ab=2027-06-01", "?personen=99999999999999999999", "?ab=2027-12-07"):
        statements.clear()
        response = client.get(EARLIEST + query)
        assert response.status_code == 200
        assert "Zurzeit ist an keinem Standort ein Termin frei." in main_text(response.get_data(as_text=True))
        assert 0 < len(statements) <= 2 * (HORIZON // LOOKAHEAD_DAYS + 1), query
    statements.clear()
    client.get(KREIS)
    assert len(statements) <= 2 * (HORIZON // LOOKAHEAD_DAYS + 1)
    event.remove(engine, "before_cursor_execute", count)
    application.extensions["db_engine"].dispose()
