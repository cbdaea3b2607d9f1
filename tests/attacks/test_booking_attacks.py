"""Attacks on the appointment booking, through HTTP against the running app, on SQLite and
PostgreSQL: moving through another location's page, racing the open-appointment limit (under
gunicorn), a logged-in booking blocking every guest, and a guest's hold kept alive and used to
mail strangers."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dynamic import create_app
from dynamic.appointments.slots import to_utc
from dynamic.platform.config import settings_from_env
from dynamic.platform.db import make_engine, migrate, session_scope
from dynamic.platform.models import Account, Appointment, SlotClaim, utcnow
from tests.attacks.conftest import http_browser, signed_in_cookie, signed_in_visitor
from tests.dynamic.booking_fixtures import MONDAY_MORNING, Clock, with_booking
from tests.dynamic.browserlike import Browser
from tests.dynamic.conftest import Mailbox, make_settings
from tests.dynamic.gunicorn_server import gunicorn
from tests.dynamic.test_booking_race import race_database  # noqa: F401 - fixture
from tests.dynamic.test_profile import make_account

SERVICE = "/stadt/termine/personalausweis-beantragen/"
TUESDAY = "2026-12-08"
SATURDAY = "2026-12-12"
GUEST_PATH = "/kreis/termine/personalausweis-beantragen/rathaus-nordort/"


def two_locations(fixture_output: Path, target: Path) -> Path:
    """The booking sites with a second location in the city, the Bürgerbüro, which (unlike the
    town hall) opens on Saturdays; one counter each, so a second booking of a time is a
    double booking."""
    output = with_booking(fixture_output, target)
    path = output / "stadt" / "katalog.json"
    katalog = json.loads(path.read_text(encoding="utf-8"))
    rathaus = katalog["locations"]["rathaus"]
    rathaus["booking"]["counters"] = 1
    katalog["locations"]["buergerbuero"] = {
        **rathaus, "name": "Bürgerbüro Nord",
        "booking": {**rathaus["booking"], "hours": [{"days": ["mo", "tu", "we", "th", "fr", "sa"],
                                                     "opens": "08:00", "closes": "12:00"}]}}
    katalog["services"]["personalausweis-beantragen"]["booking"]["locations"] = ["rathaus", "buergerbuero"]
    path.write_text(json.dumps(katalog), encoding="utf-8")
    return output


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_MORNING)


@pytest.fixture
def app(app_settings: dict[str, Any], fixture_output: Path, tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    output = two_locations(fixture_output, tmp_path / "booking-output")
    application = create_app(make_settings(**{**app_settings, "output_dir": output}))
    application.config.update(TESTING=True, CLOCK=clock)
    yield application
    application.extensions["db_engine"].dispose()


def time_value(browser: Browser, clock_text: str) -> str:
    found = re.search(r'value="([^"]+)"[^>]*>\s*<label for="[^"]+">' + clock_text, browser.text)
    assert found, f"{clock_text} is not offered on {browser.url}"
    return found.group(1)


def book(browser: Browser, path: str, day: str, clock_text: str, **form: str) -> str:
    """Choose a time and book it; returns the booking code."""
    browser.get(f"{path}{day}/")
    browser.submit("zeitwahl", zeit=time_value(browser, clock_text))
    browser.submit("buchen", aktion="buchen", **form)
    found = re.search(r'<strong class="code">([A-Z0-9-]+)</strong>', browser.text)
    assert found, browser.text
    return found.group(1)


def appointments(app: Flask) -> list[Appointment]:
    with session_scope(app) as db_session:
        return list(db_session.scalars(select(Appointment).order_by(Appointment.id)))


def claim_places(app: Flask) -> set[tuple[str, int]]:
    with session_scope(app) as db_session:
        return {(c.location_id, c.counter) for c in db_session.scalars(select(SlotClaim))}


# ---------------------------------------------------------------- 1 moving through another page


def test_moving_through_another_locations_page_is_refused_and_nobody_double_books(app: Flask, live: str) -> None:
    first = signed_in_visitor(app, live, make_account(app, email="erste@example.org"))
    code = book(first, SERVICE + "rathaus/", TUESDAY, "08:00 Uhr")
    first.get(f"{SERVICE}buergerbuero/{TUESDAY}/?personen=1&verschieben={code}")
    assert first.status == 404
    # The attack as the review made it: a POST to the other location's day page with the code.
    page = http_browser(live)
    page.get(f"{SERVICE}buergerbuero/{TUESDAY}/")
    eight_fifteen = time_value(page, "08:15 Uhr")
    first.get(f"{SERVICE}rathaus/{TUESDAY}/")  # any page with a form gives the session's CSRF token
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', first.text)
    assert csrf
    first.post(f"{SERVICE}buergerbuero/{TUESDAY}/", {"csrf_token": csrf.group(1), "zeit": eight_fifteen,
                                                       "personen": "1", "verschieben": code})
    assert first.status == 404
    [appointment] = appointments(app)
    assert (appointment.location_id, appointment.starts_at) == ("rathaus", dt.datetime(2026, 12, 8, 7, 0,
                                                                                       tzinfo=dt.UTC))
    assert claim_places(app) == {("rathaus", 1)}
    # A second citizen finds the town hall's 08:00 taken: no double booking.
    second = signed_in_visitor(app, live, make_account(app, email="zweite@example.org"))
    second.get(f"{SERVICE}rathaus/{TUESDAY}/")
    assert not re.search(r'<label for="[^"]+">08:00 Uhr', second.text)
    assert re.search(r'<label for="[^"]+">08:15 Uhr', second.text)


def test_moving_to_a_day_the_own_location_is_closed_through_another_page_is_refused(app: Flask, live: str) -> None:
    citizen = signed_in_visitor(app, live, make_account(app))
    code = book(citizen, SERVICE + "rathaus/", TUESDAY, "09:00 Uhr")
    citizen.get(f"{SERVICE}buergerbuero/{SATURDAY}/?personen=1&verschieben={code}")
    assert citizen.status == 404
    assert "Seite nicht gefunden" in citizen.text
    citizen.get(f"{SERVICE}rathaus/{SATURDAY}/?personen=1&verschieben={code}")
    assert citizen.status == 200 and "An diesem Tag ist kein Termin mehr frei." in citizen.text
    assert not re.search(r'<label for="[^"]+">\d\d:\d\d Uhr', citizen.text)  # the town hall is closed
    [appointment] = appointments(app)
    assert appointment.starts_at == dt.datetime(2026, 12, 8, 8, 0, tzinfo=dt.UTC)


def test_the_database_refuses_claims_that_disagree_with_their_appointment(app: Flask) -> None:
    """Even code that forgets the check cannot store an appointment at A with claims at B."""
    account_id = make_account(app)
    start = to_utc(dt.date(2026, 12, 8), dt.time(8, 0))
    with session_scope(app) as db_session:
        appointment = Appointment(slug="stadt", location_id="rathaus", service_id="personalausweis-beantragen",
                                  starts_at=start, ends_at=start + dt.timedelta(minutes=15), counter=1,
                                  status="booked", code="TEST-0001", account_id=account_id)
        db_session.add(appointment)
        db_session.flush()
        appointment_id = appointment.id
    for place in [("buergerbuero", 1), ("rathaus", 2)]:
        with pytest.raises(IntegrityError), session_scope(app) as db_session:
            db_session.add(SlotClaim(slug="stadt", location_id=place[0], counter=place[1], unit_start=start,
                                     appointment_id=appointment_id))
    with pytest.raises(IntegrityError), session_scope(app) as db_session:
        db_session.add(SlotClaim(slug="stadt", location_id="rathaus", counter=1, unit_start=start,
                                 appointment_id=appointment_id))
        db_session.flush()
        db_session.get(Appointment, appointment_id).location_id = "buergerbuero"  # type: ignore[union-attr]
    with session_scope(app) as db_session:
        db_session.add(SlotClaim(slug="stadt", location_id="rathaus", counter=1, unit_start=start,
                                 appointment_id=appointment_id))
    assert claim_places(app) == {("rathaus", 1)}


# ---------------------------------------------------------------- 3 a booking with an account blocks guests


def test_a_booking_with_an_account_does_not_block_guests(app: Flask, live: str, mailbox: Mailbox,
                                                         send_mail: Any) -> None:
    account = signed_in_visitor(app, live, make_account(app, email="mit.konto@example.org"))
    book(account, GUEST_PATH, TUESDAY, "08:00 Uhr")
    guest = http_browser(live)
    guest.get(f"{GUEST_PATH}{TUESDAY}/")
    guest.submit("zeitwahl", zeit=time_value(guest, "09:00 Uhr"))
    assert guest.status == 200 and "Termin prüfen und buchen" in guest.text
    guest.submit("buchen", aktion="buchen", email="Ohne.Konto@Example.org ")
    assert "Wir haben Ihnen eine E-Mail mit einem Link geschickt." in guest.text
    send_mail()
    assert mailbox.to("ohne.konto@example.org")
    # The guest's own limit still holds, counted by the address in any spelling.
    other = http_browser(live)
    other.get(f"{GUEST_PATH}{TUESDAY}/")
    other.submit("zeitwahl", zeit=time_value(other, "10:00 Uhr"))
    other.submit("buchen", aktion="buchen", email="OHNE.KONTO@example.org")
    assert "Für diese E-Mail-Adresse gibt es schon einen offenen Termin für diese Leistung." in other.text


# ---------------------------------------------------------------- 4 a guest's hold kept alive, mailing anyone


def test_a_guests_hold_keeps_its_first_expiry_and_mails_a_bounded_number_of_times(
        app: Flask, live: str, clock: Clock, mailbox: Mailbox, send_mail: Any) -> None:
    guest = http_browser(live)
    guest.get(f"{GUEST_PATH}{TUESDAY}/")
    guest.submit("zeitwahl", zeit=time_value(guest, "08:00 Uhr"))
    held_page = guest.url
    [held] = appointments(app)
    first_expiry = held.created_at + dt.timedelta(minutes=30)
    answers = []
    for number in range(4):
        clock.moment += dt.timedelta(minutes=5)
        guest.get(held_page)
        guest.submit("buchen", aktion="buchen", email=f"fremd{number}@example.org")
        answers.append(guest.text)
        [held] = appointments(app)
        assert held.held_until == first_expiry  # never pushed on
    assert all("Wir haben Ihnen eine E-Mail" in text for text in answers[:3])
    assert "Für diese Reservierung haben wir schon mehrere E-Mails verschickt." in answers[3]
    send_mail()
    assert [len(mailbox.to(f"fremd{n}@example.org")) for n in range(4)] == [1, 1, 1, 0]
    clock.moment = first_expiry + dt.timedelta(seconds=1)
    guest.get(held_page)
    assert guest.status == 410 and "Ihre Reservierung ist abgelaufen" in guest.text


def test_one_address_gets_a_bounded_number_of_confirmations_across_holds(
        app: Flask, live: str, mailbox: Mailbox, send_mail: Any) -> None:
    """Where a guest may hold many appointments, a stranger still cannot mail one address
    again and again by holding one time after the other."""
    katalog_path = Path(app.config["OUTPUT_DIR"]) / "kreis" / "katalog.json"
    katalog = json.loads(katalog_path.read_text(encoding="utf-8"))
    katalog["services"]["personalausweis-beantragen"]["booking"]["max_open"] = 20
    katalog_path.write_text(json.dumps(katalog), encoding="utf-8")
    texts = []
    for number in range(7):
        guest = http_browser(live)
        guest.get(f"{GUEST_PATH}{TUESDAY}/")
        guest.submit("zeitwahl", zeit=time_value(guest, f"{8 + number // 4:02d}:{15 * (number % 4):02d} Uhr"))
        guest.submit("buchen", aktion="buchen", email="opfer@example.org")
        texts.append(guest.text)
    send_mail()
    assert len(mailbox.to("opfer@example.org")) == 5
    assert all("Wir haben Ihnen eine E-Mail" in text for text in texts[:5])
    assert all("zu viele Bestätigungen verschickt" in text for text in texts[5:])


# ---------------------------------------------------------------- 2 racing the open-appointment limit


def open_day(output: Path, slug: str, location: str, day: dt.date, service: str, max_open: int) -> None:
    path = output / slug / "katalog.json"
    katalog = json.loads(path.read_text(encoding="utf-8"))
    katalog["locations"][location]["booking"]["counters"] = 1
    katalog["locations"][location]["exceptions"] = [
        {"date": day.isoformat(), "closed": False, "opens": "08:00", "closes": "11:00"}]
    katalog["services"][service]["booking"]["max_open"] = max_open
    path.write_text(json.dumps(katalog), encoding="utf-8")


@pytest.fixture
def race_env(race_database: str, fixture_output: Path, tmp_path: Path) -> tuple[dict[str, str], Path, dt.date]:  # noqa: F811
    output = with_booking(fixture_output, tmp_path / "output")
    day = dt.date.today() + dt.timedelta(days=7)
    open_day(output, "stadt", "rathaus", day, "personalausweis-beantragen", 2)
    open_day(output, "kreis", "rathaus-nordort", day, "personalausweis-beantragen", 1)
    env = {"DATABASE_URL": race_database, "PORTAL_OUTPUT_DIR": str(output), "PORTAL_VAR_DIR": str(tmp_path / "var"),
           "SECRET_KEY": "race-secret-" + "r" * 32, "BOOKING_LIMIT_ADDRESS": "100000/hour", "DEV_IDP": "0"}
    engine = make_engine(race_database)
    migrate(engine)
    engine.dispose()
    return env, output, day


def test_twelve_simultaneous_holds_of_one_person_respect_the_limit_of_two(
        race_env: tuple[dict[str, str], Path, dt.date]) -> None:
    env, _output, day = race_env
    app = create_app(settings_from_env(env))
    with session_scope(app) as db_session:
        account = Account(email="eilig@example.org", email_confirmed_at=utcnow())
        db_session.add(account)
        db_session.flush()
        account_id = account.id
    cookie, csrf = signed_in_cookie(app, account_id)
    times = [to_utc(day, dt.time(8, 0)) + dt.timedelta(minutes=15 * n) for n in range(12)]
    path = f"/stadt/termine/personalausweis-beantragen/rathaus/{day.isoformat()}/"
    with gunicorn(env, workers=4, threads=4) as url:
        start = threading.Barrier(12)

        def hold(number: int) -> int:
            client = requests.Session()
            client.cookies.set("sitzung", cookie)
            start.wait()
            return client.post(url + path, data={"csrf_token": csrf, "personen": "1",
                                                 "zeit": times[number].isoformat()},
                               allow_redirects=False, timeout=120).status_code

        with ThreadPoolExecutor(max_workers=12) as pool:
            statuses = list(pool.map(hold, range(12)))
    assert sorted(statuses).count(303) == 2, statuses
    assert set(statuses) <= {303, 429, 503}, statuses
    with session_scope(app) as db_session:
        held = db_session.scalars(select(Appointment).where(Appointment.account_id == account_id)).all()
        assert len(held) == 2
    app.extensions["db_engine"].dispose()


def test_twelve_simultaneous_guest_confirmations_of_one_address_give_one(
        race_env: tuple[dict[str, str], Path, dt.date]) -> None:
    env, _output, day = race_env
    app = create_app(settings_from_env(env))
    path = f"/kreis/termine/personalausweis-beantragen/rathaus-nordort/{day.isoformat()}/"
    times = [to_utc(day, dt.time(8, 0)) + dt.timedelta(minutes=15 * n) for n in range(12)]
    with gunicorn(env, workers=4, threads=4) as url:
        guests = []
        for moment in times:
            guest = http_browser(url)
            guest.get(path)
            guest.submit("zeitwahl", zeit=moment.isoformat())
            assert "Termin prüfen und buchen" in guest.text, guest.text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', guest.text)
            assert csrf
            guests.append((guest, guest.url, csrf.group(1)))
        start = threading.Barrier(12)

        def confirm(entry: tuple[Browser, str, str]) -> str:
            guest, held_url, csrf = entry
            start.wait()
            response = guest.client.session.post(  # type: ignore[attr-defined]
                held_url, data={"csrf_token": csrf, "aktion": "buchen", "email": "einer@example.org"},
                allow_redirects=False, timeout=120)
            return str(response.text)

        with ThreadPoolExecutor(max_workers=12) as pool:
            answers = list(pool.map(confirm, guests))
    sent = [a for a in answers if "Wir haben Ihnen eine E-Mail" in a]
    assert len(sent) == 1, [re.findall(r"<title>([^<]*)", a) for a in answers]
    with session_scope(app) as db_session:
        addressed = db_session.scalars(select(Appointment).where(Appointment.email == "einer@example.org")).all()
        assert len(addressed) == 1
    app.extensions["db_engine"].dispose()


def test_cancelling_and_moving_one_appointment_at_once_leaves_no_orphaned_claims(
        race_env: tuple[dict[str, str], Path, dt.date]) -> None:
    """Another path to the same state: a cancel and a move of the same booking at the same
    moment. Whatever wins, a cancelled appointment holds no time and a booked one holds
    exactly its own."""
    from dynamic.appointments.claims import add_claims, units

    env, output, day = race_env
    path = output / "stadt" / "katalog.json"
    katalog = json.loads(path.read_text(encoding="utf-8"))
    katalog["locations"]["rathaus"]["booking"]["counters"] = 2
    path.write_text(json.dumps(katalog), encoding="utf-8")
    app = create_app(settings_from_env(env))
    codes = [f"RACE-{n:04d}" for n in range(8)]
    with session_scope(app) as db_session:
        account = Account(email="hin.und.her@example.org", email_confirmed_at=utcnow())
        db_session.add(account)
        db_session.flush()
        account_id = account.id
        for number, code in enumerate(codes):
            start = to_utc(day, dt.time(8, 0)) + dt.timedelta(minutes=15 * (number // 2))
            appointment = Appointment(slug="stadt", location_id="rathaus", service_id="personalausweis-beantragen",
                                      starts_at=start, ends_at=start + dt.timedelta(minutes=15),
                                      counter=1 + number % 2, status="booked", code=code, account_id=account_id)
            db_session.add(appointment)
            db_session.flush()
            add_claims(db_session, "stadt", "rathaus", appointment.counter, start, appointment.ends_at,
                       appointment_id=appointment.id)
    cookie, csrf = signed_in_cookie(app, account_id)
    day_path = f"/stadt/termine/personalausweis-beantragen/rathaus/{day.isoformat()}/"
    later = [to_utc(day, dt.time(10, 0)) + dt.timedelta(minutes=15 * n) for n in range(4)]
    with gunicorn(env, workers=4, threads=4) as url:
        start_together = threading.Barrier(16)

        def act(task: tuple[str, int]) -> int:
            what, number = task
            client = requests.Session()
            client.cookies.set("sitzung", cookie)
            code = codes[number]
            start_together.wait()
            if what == "cancel":
                return client.post(f"{url}/stadt/termine/termin/{code}/absagen", data={"csrf_token": csrf},
                                   allow_redirects=False, timeout=120).status_code
            return client.post(url + day_path, data={"csrf_token": csrf, "personen": "1", "verschieben": code,
                                                     "zeit": later[number % 4].isoformat()},
                               allow_redirects=False, timeout=120).status_code

        tasks = [(what, number) for number in range(8) for what in ("cancel", "move")]
        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(act, tasks))
    assert 500 not in statuses, statuses
    with session_scope(app) as db_session:
        for appointment in db_session.scalars(select(Appointment)):
            claimed = {(c.counter, c.unit_start) for c in db_session.scalars(
                select(SlotClaim).where(SlotClaim.appointment_id == appointment.id))}
            if appointment.status == "cancelled":
                assert claimed == set(), appointment.code
            else:
                assert appointment.status == "booked"
                assert claimed == {(appointment.counter, unit)
                                   for unit in units(appointment.starts_at, appointment.ends_at)}, appointment.code
    app.extensions["db_engine"].dispose()
