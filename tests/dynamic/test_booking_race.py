"""200 citizens race for 5 free slots through HTTP (gunicorn, several workers): exactly 5
get one, every other gets a clear "no longer free", on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from flask import session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, select

from dynamic import create_app
from dynamic.appointments.slots import to_utc
from dynamic.platform.auth import token_hash
from dynamic.platform.config import settings_from_env
from dynamic.platform.db import make_engine, migrate, session_scope
from dynamic.platform.models import Account, Appointment, LoginSession, SlotClaim, utcnow
from tests.dynamic.conftest import fresh_postgres_database
from tests.dynamic.gunicorn_server import gunicorn
from tests.katalog_builder import booking_site, write

CITIZENS = 200
SECRET = "race-secret-" + "r" * 32
PATH = "/stadt/termine/personalausweis-beantragen/rathaus/{day}/"
GONE = "Dieser Termin ist leider nicht mehr frei. Bitte wählen Sie eine andere Uhrzeit."
TRY_AGAIN = "Bitte versuchen Sie es in einer Minute erneut."


@pytest.fixture(params=["sqlite", "postgresql"])
def race_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'race.sqlite3'}"
        return
    with fresh_postgres_database("portal_race") as url:
        yield url


def five_slot_day(output: Path) -> dt.date:
    """One counter, and a day a week ahead that opens 08:00-09:15: five 15-minute slots."""
    day = dt.date.today() + dt.timedelta(days=7)
    path = output / "stadt" / "katalog.json"
    katalog = json.loads(path.read_text(encoding="utf-8"))
    location = katalog["locations"]["rathaus"]
    location["booking"]["counters"] = 1
    location["exceptions"] = [{"date": day.isoformat(), "closed": False, "opens": "08:00", "closes": "09:15"}]
    path.write_text(json.dumps(katalog), encoding="utf-8")
    return day


def test_200_concurrent_bookings_for_5_free_slots_give_exactly_5(
        race_database: str, tmp_path: Path) -> None:
    output = write(tmp_path / "output", booking_site())  # no Pelican: the app needs only katalog.json
    day = five_slot_day(output)
    env = {"DATABASE_URL": race_database, "PORTAL_OUTPUT_DIR": str(output), "PORTAL_VAR_DIR": str(tmp_path / "var"),
           "SECRET_KEY": SECRET, "BOOKING_LIMIT_ADDRESS": "100000/hour", "DEV_IDP": "0"}
    engine = make_engine(race_database)
    migrate(engine)
    engine.dispose()
    app = create_app(settings_from_env(env))
    cookies, csrf_tokens = [], []
    with session_scope(app) as db_session:
        for number in range(CITIZENS):
            account = Account(email=f"buerger{number}@example.org", email_confirmed_at=utcnow())
            db_session.add(account)
            db_session.flush()
            token = secrets.token_urlsafe(16)
            db_session.add(LoginSession(token_hash=token_hash(token), account_id=account.id, level="basis",
                                        means="konto"))
            with app.test_request_context("/"):
                session["sid"] = token
                csrf_tokens.append(generate_csrf())
                cookies.append(app.session_interface.get_signing_serializer(app).dumps(dict(session)))  # type: ignore[attr-defined]
    slots = [to_utc(day, dt.time(8, 0)) + dt.timedelta(minutes=15 * n) for n in range(5)]
    path = PATH.format(day=day.isoformat())

    with gunicorn(env, workers=4, threads=8) as url:
        start = threading.Barrier(CITIZENS)

        def book(number: int) -> tuple[int, str]:
            client = requests.Session()
            client.cookies.set("sitzung", cookies[number])
            data = {"csrf_token": csrf_tokens[number], "personen": "1",
                    "zeit": slots[number % 5].isoformat()}
            start.wait()
            response = client.post(url + path, data=data, allow_redirects=False, timeout=120)
            return response.status_code, response.headers.get("Location", "") or response.text

        with ThreadPoolExecutor(max_workers=CITIZENS) as pool:
            results = list(pool.map(book, range(CITIZENS)))

    won = [location for status, location in results if status == 303]
    lost = [(status, body) for status, body in results if status != 303]
    assert len(won) == 5 and all("/stadt/termine/reservierung/" in location for location in won)
    assert len(lost) == CITIZENS - 5
    # Each loser is told the time is gone; on a loaded machine SQLite may keep a few waiting
    # past its busy timeout, and they are asked to try again in a minute. Never an error page.
    assert all((status == 409 and GONE in body) or (status == 503 and TRY_AGAIN in body)
               for status, body in lost), {status for status, _ in results}
    with session_scope(app) as db_session:
        assert db_session.scalar(select(func.count()).select_from(Appointment)) == 5
        starts = db_session.scalars(select(Appointment.starts_at)).all()
        assert sorted(starts) == slots
        assert db_session.scalar(select(func.count()).select_from(SlotClaim)) == 15
    app.extensions["db_engine"].dispose()

