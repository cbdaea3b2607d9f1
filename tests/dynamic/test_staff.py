"""The staff area under /<slug>/verwaltung/: login, the day per counter, marking, blocked
times, the counter staff's calendar feed, and that one municipality's staff never reach
another's rows."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from icalendar import Calendar
from sqlalchemy import func, select

from dynamic.appointments.claims import add_claims
from dynamic.appointments.slots import local_day, to_utc
from dynamic.platform.db import db
from dynamic.platform.models import Appointment, Block, CalendarFeed, SlotClaim, StaffSession, StaffUser, utcnow
from dynamic.platform.passwords import hash_password
from dynamic.staff.forms import day_text
from tests.dynamic.browserlike import Browser, forms

PASSWORD = "Kirschbaum Fahrrad Leuchtturm"
SERVICE = "personalausweis-beantragen"
WRONG = "Benutzername oder Passwort sind nicht richtig."


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="session")
def staff_output(fixture_output: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture build with booking switched on: stadt's Rathaus with two counters,
    kreis's Rathaus Nordort with one (as katalog.json describes booking)."""
    out = tmp_path_factory.mktemp("staff") / "output"
    shutil.copytree(fixture_output, out)
    for slug, location, counters in (("stadt", "rathaus", 2), ("kreis", "rathaus-nordort", 1)):
        path = out / slug / "katalog.json"
        katalog = json.loads(path.read_text(encoding="utf-8"))
        katalog["locations"][location]["booking"] = {"counters": counters, "days_ahead": 28, "lead_minutes": 60,
                                                     "cancel_hours": 24, "step_minutes": 15, "hours": None}
        path.write_text(json.dumps(katalog, ensure_ascii=False), encoding="utf-8")
    return out


@pytest.fixture(autouse=True)
def _booking_switched_on(app_settings: dict[str, Any], staff_output: Path) -> None:
    app_settings["output_dir"] = staff_output


@pytest.fixture
def clerks(app: Flask) -> dict[str, int]:
    """A clerk in each municipality, same username in both."""
    with app.app_context():
        found = {}
        for slug, name in (("stadt", "Erika Schalter"), ("kreis", "Max Kreis")):
            user = StaffUser(slug=slug, username="schalter1", display_name=name, password_hash=hash_password(PASSWORD))
            db().add(user)
            db().commit()
            found[slug] = user.id
        return found


def today() -> dt.date:
    return local_day(utcnow())


def add_appointment(app: Flask, code: str, day: dt.date, at: str, counter: int = 1, status: str = "booked",
                    slug: str = "stadt", location: str = "rathaus", minutes: int = 15, persons: int = 1) -> int:
    """An appointment with its claims, as the booking would store it."""
    start = to_utc(day, dt.time.fromisoformat(at))
    end = start + dt.timedelta(minutes=minutes)
    with app.app_context():
        appointment = Appointment(slug=slug, location_id=location, service_id=SERVICE, starts_at=start, ends_at=end,
                                  counter=counter, persons=persons, status=status, code=code,
                                  email="erika@example.org", booked_at=utcnow())
        db().add(appointment)
        db().flush()
        if status != "cancelled":
            add_claims(db(), slug, location, counter, start, end, appointment_id=appointment.id)
        db().commit()
        return appointment.id


def status_of(app: Flask, appointment_id: int) -> str:
    with app.app_context():
        appointment = db().get(Appointment, appointment_id)
        assert appointment is not None
        return appointment.status


def count(app: Flask, what: Any, *where: Any) -> int:
    with app.app_context():
        return int(db().scalar(select(func.count()).select_from(what).where(*where)) or 0)


def log_in(browser: Browser, slug: str = "stadt", username: str = "schalter1", password: str = PASSWORD) -> None:
    browser.get(f"/{slug}/verwaltung/anmelden")
    browser.submit(f"/{slug}/verwaltung/anmelden", benutzername=username, passwort=password)


def day_path(day: dt.date, slug: str = "stadt", location: str = "rathaus") -> str:
    return f"/{slug}/verwaltung/termine/{location}/?tag={day.isoformat()}"


def csrf_token(browser: Browser) -> str:
    return next(form.fields["csrf_token"] for form in forms(browser.response) if "csrf_token" in form.fields)


class _Tables(HTMLParser):
    """caption → rows of cell texts (hidden helper text for screen readers included)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._caption: str | None = None
        self._rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._caption, self._rows = "", []
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr":
            self._rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table" and self._caption is not None:
            self.tables[" ".join(self._caption.split())] = self._rows[1:]  # without the head row

    def handle_data(self, data: str) -> None:
        if self._in_caption and self._caption is not None:
            self._caption += data
        elif self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def notices(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", text) for text in re.findall(r'<div class="notice[^"]*"[^>]*><p>(.*?)</p>', html, re.S)]


# ---------------------------------------------------------------- login


def test_login_opens_the_overview_and_logout_ends_it(browser: Browser, clerks: dict[str, int]) -> None:
    browser.get("/stadt/verwaltung/")
    assert browser.url == "http://localhost/stadt/verwaltung/anmelden?weiter=/stadt/verwaltung/"
    assert "<h1>Anmelden für die Verwaltung</h1>" in browser.text
    browser.submit("/stadt/verwaltung/anmelden", benutzername="schalter1", passwort=PASSWORD)
    assert browser.url == "http://localhost/stadt/verwaltung/"
    assert "angemeldet als <strong>Erika Schalter</strong>" in browser.text
    assert tables(browser.text)["Standorte mit Terminbuchung"] == [
        ["Rathaus", "Termine heute: Rathaus", "Kalender-Feed: Rathaus"]]
    assert f'href="/stadt/verwaltung/termine/rathaus/?tag={today().isoformat()}"' in browser.text

    browser.submit("/stadt/verwaltung/abmelden")
    assert browser.url == "http://localhost/stadt/verwaltung/anmelden?abgemeldet=1"
    assert notices(browser.text) == ["Sie sind abgemeldet."]
    browser.get("/stadt/verwaltung/")
    assert "/stadt/verwaltung/anmelden" in browser.url


def test_login_returns_to_the_page_asked_for(browser: Browser, clerks: dict[str, int]) -> None:
    browser.get(day_path(today()))
    browser.submit("/stadt/verwaltung/anmelden", benutzername="schalter1", passwort=PASSWORD)
    assert browser.url == "http://localhost" + day_path(today())


def test_an_idle_staff_login_ends(browser: Browser, app: Flask, clerks: dict[str, int]) -> None:
    log_in(browser)
    with app.app_context():
        db().execute(StaffSession.__table__.update().values(last_seen_at=utcnow() - dt.timedelta(minutes=61)))
        db().commit()
    browser.get("/stadt/verwaltung/")
    assert "/stadt/verwaltung/anmelden" in browser.url
    assert count(app, StaffSession) == 0


@pytest.mark.parametrize(("username", "password"), [("schalter1", "falsches Passwort 123"),
                                                    ("niemand", PASSWORD)])
def test_unknown_user_and_wrong_password_get_the_same_answer(browser: Browser, clerks: dict[str, int],
                                                             username: str, password: str) -> None:
    log_in(browser, username=username, password=password)
    assert browser.status == 200
    assert "<title>Fehler: Anmelden für die Verwaltung" in browser.text
    assert f'<a href="#feld-benutzername">{WRONG}</a>' in browser.text
    assert "angemeldet als" not in browser.text


def test_a_clerk_of_one_municipality_cannot_log_in_at_another(browser: Browser, clerks: dict[str, int]) -> None:
    with browser.client.application.app_context():
        db().execute(StaffUser.__table__.delete().where(StaffUser.slug == "kreis"))
        db().commit()
    log_in(browser, slug="kreis")
    assert WRONG in browser.text


@pytest.fixture
def tight_limits(app_settings: dict[str, Any]) -> None:
    app_settings["login_limit_account"] = "3/15 minutes"


def test_failed_logins_are_limited_per_username(tight_limits: None, browser: Browser, clerks: dict[str, int]) -> None:
    for _ in range(3):
        log_in(browser, password="falsches Passwort 123")
        assert browser.status == 200
    log_in(browser)
    assert browser.status == 429
    assert ("Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie 15 Minuten und versuchen Sie es dann "
            "erneut.") in browser.text
    log_in(browser, slug="kreis")  # another municipality's clerk of the same name is not locked out
    assert browser.url == "http://localhost/kreis/verwaltung/"


# ---------------------------------------------------------------- the day


def test_the_day_lists_appointments_per_counter_with_german_status(browser: Browser, app: Flask,
                                                                   clerks: dict[str, int]) -> None:
    day = today()
    add_appointment(app, "STA0900", day, "09:00")
    add_appointment(app, "STA0830", day, "08:30", status="arrived", persons=2)
    add_appointment(app, "STB0900", day, "09:00", counter=2, status="done")
    add_appointment(app, "STB1000", day, "10:00", counter=2, status="no_show", minutes=45)
    add_appointment(app, "STX1100", day, "11:00", status="cancelled")
    add_appointment(app, "STH1130", day, "11:30", status="held")
    add_appointment(app, "STM0900", day + dt.timedelta(days=1), "09:00")
    add_appointment(app, "KRS0900", day, "09:00", slug="kreis", location="rathaus")  # same location id, kreis
    log_in(browser)
    browser.get(day_path(day))

    assert f"<h1>Rathaus: Termine am {day_text(day)}</h1>" in browser.text
    found = {caption: [row[:5] for row in rows] for caption, rows in tables(browser.text).items()}
    assert found[f"Schalter 1 am {day_text(day)}: 2 Termine"] == [
        ["08:30–08:45", "STA0830", "Personalausweis beantragen", "2", "erschienen"],
        ["09:00–09:15", "STA0900", "Personalausweis beantragen", "1", "gebucht"],
    ]
    assert found[f"Schalter 2 am {day_text(day)}: 2 Termine"] == [
        ["09:00–09:15", "STB0900", "Personalausweis beantragen", "1", "erledigt"],
        ["10:00–10:45", "STB1000", "Personalausweis beantragen", "1", "nicht erschienen"],
    ]
    assert found[f"Abgesagte Termine am {day_text(day)}"] == [
        ["11:00–11:15", "1", "STX1100", "Personalausweis beantragen", "abgesagt"]]
    for absent in ("STH1130", "STM0900", "KRS0900"):
        assert absent not in browser.text
    assert '<th scope="col">Buchungscode</th>' in browser.text
    assert "erika@example.org" not in browser.text

    browser.get(day_path(day + dt.timedelta(days=1)))
    assert "STM0900" in browser.text and "STA0900" not in browser.text


def test_a_wrong_date_is_explained(browser: Browser, clerks: dict[str, int]) -> None:
    log_in(browser)
    browser.get("/stadt/verwaltung/termine/rathaus/?tag=31.02.2026")
    assert browser.status == 400
    assert '<a href="#feld-datum">Geben Sie ein gültiges Datum an, zum Beispiel 30.11.2026.</a>' in browser.text
    browser.get("/stadt/verwaltung/termine/rathaus/?tag=1.12.2026")
    assert f"<h1>Rathaus: Termine am {day_text(dt.date(2026, 12, 1))}</h1>" in browser.text


def test_an_unknown_location_is_not_found(browser: Browser, clerks: dict[str, int]) -> None:
    log_in(browser)
    assert browser.get("/stadt/verwaltung/termine/gibtsnicht/").status_code == 404


def test_the_print_stylesheet_hides_forms_of_the_staff_day(fixture_output: Path) -> None:
    css = (fixture_output / "stadt" / "theme" / "css" / "print.css").read_text(encoding="utf-8")
    assert ".verwaltung .no-print, .verwaltung form, .verwaltung button" in css


# ---------------------------------------------------------------- marking


def mark(browser: Browser, appointment_id: int, status: str) -> None:
    browser.post(f"/stadt/verwaltung/termine/{appointment_id}/status",
                 {"status": status, "csrf_token": csrf_token(browser)})


def test_marking_arrived_then_done_and_undo(browser: Browser, app: Flask, clerks: dict[str, int]) -> None:
    day = today()
    first = add_appointment(app, "MRK0900", day, "09:00")
    log_in(browser)
    browser.get(day_path(day))
    browser.submit(f"/stadt/verwaltung/termine/{first}/status")  # the row's first button: "Erschienen"
    assert browser.url == f"http://localhost{day_path(day)}#schalter-1"
    assert notices(browser.text) == ["Termin MRK0900 um 09:00 Uhr ist als „erschienen“ markiert."]
    assert status_of(app, first) == "arrived"

    mark(browser, first, "done")
    assert notices(browser.text) == ["Termin MRK0900 um 09:00 Uhr ist als „erledigt“ markiert."]
    assert tables(browser.text)[f"Schalter 1 am {day_text(day)}: 1 Termin"][0][4] == "erledigt"

    mark(browser, first, "no_show")
    assert notices(browser.text) == [
        "Ein Termin mit dem Status „erledigt“ kann nicht als „nicht erschienen“ markiert werden."]
    assert status_of(app, first) == "done"

    mark(browser, first, "booked")
    assert notices(browser.text) == [
        "Die Markierung von Termin MRK0900 ist zurückgesetzt. Er gilt wieder als „gebucht“."]
    mark(browser, first, "no_show")
    assert status_of(app, first) == "no_show"


@pytest.mark.parametrize(("status", "days", "wanted", "message"), [
    ("booked", 0, "done", "Ein Termin mit dem Status „gebucht“ kann nicht als „erledigt“ markiert werden."),
    ("cancelled", 0, "arrived", "Ein Termin mit dem Status „abgesagt“ kann nicht als „erschienen“ markiert werden."),
    ("booked", 1, "arrived", "Einen Termin können Sie erst an seinem Tag markieren."),
    ("done", -1, "booked", "Eine Markierung können Sie nur am Tag des Termins zurücksetzen."),
])
def test_refused_status_changes_say_why(browser: Browser, app: Flask, clerks: dict[str, int], status: str,
                                        days: int, wanted: str, message: str) -> None:
    appointment = add_appointment(app, "REF0900", today() + dt.timedelta(days=days), "09:00", status=status)
    log_in(browser)
    mark(browser, appointment, wanted)
    assert notices(browser.text) == [message]
    assert '<div class="notice notice-error" role="alert">' in browser.text
    assert status_of(app, appointment) == status


# ---------------------------------------------------------------- blocked times


def test_a_block_claims_only_free_units_reports_bookings_and_frees_them_when_lifted(
        browser: Browser, app: Flask, clerks: dict[str, int]) -> None:
    day = today()
    add_appointment(app, "BLK0900", day, "09:00")
    add_appointment(app, "BLK0930", day, "09:30", counter=2)  # after the block: not reported
    log_in(browser)
    browser.get(day_path(day))
    browser.submit("/stadt/verwaltung/termine/rathaus/sperren", von="08:30", bis="09:30", grund="Schulung")

    assert browser.url == f"http://localhost{day_path(day)}#sperren"
    assert notices(browser.text) == [
        f"Die Zeit von 08:30 bis 09:30 Uhr am {day_text(day)} ist für alle Schalter gesperrt.",
        "1 Termin liegt in dieser Zeit und bleibt bestehen: 09:00 Uhr, Schalter 1, Buchungscode BLK0900.",
    ]
    assert tables(browser.text)[f"Gesperrte Zeiten am {day_text(day)}"][0][:3] == [
        "08:30–09:30", "alle Schalter", "Schulung"]
    assert tables(browser.text)[f"Schalter 2 am {day_text(day)}: 1 Termin"][0][:2] == \
        ["08:30–09:30", "Gesperrt (alle Schalter): Schulung"]
    with app.app_context():
        [block] = db().scalars(select(Block)).all()
        claims = db().execute(select(SlotClaim.counter, SlotClaim.unit_start)
                              .where(SlotClaim.block_id == block.id)).all()
    assert block.counter is None and block.reason == "Schulung"
    by_counter = {c: sorted(u for k, u in claims if k == c) for c in (1, 2)}
    assert len(by_counter[2]) == 12  # 08:30–09:30, all free
    assert len(by_counter[1]) == 9  # 09:00–09:15 belongs to BLK0900
    assert to_utc(day, dt.time(9, 0)) not in by_counter[1]

    browser.submit(f"/stadt/verwaltung/sperren/{block.id}/aufheben")
    assert notices(browser.text) == ["Die Sperre von 08:30 bis 09:30 Uhr ist aufgehoben. Die Zeiten sind wieder frei."]
    assert count(app, Block) == 0
    assert count(app, SlotClaim, SlotClaim.block_id.is_not(None)) == 0
    assert count(app, SlotClaim) == 6  # the two appointments' claims stay


def test_a_block_of_one_counter(browser: Browser, app: Flask, clerks: dict[str, int]) -> None:
    day = today()
    add_appointment(app, "ONE0900", day, "09:00", counter=1)
    log_in(browser)
    browser.get(day_path(day))
    browser.submit("/stadt/verwaltung/termine/rathaus/sperren", von="09:00", bis="09:15", schalter="2")
    assert notices(browser.text) == [
        f"Die Zeit von 09:00 bis 09:15 Uhr am {day_text(day)} ist für Schalter 2 gesperrt."]
    assert count(app, SlotClaim, SlotClaim.block_id.is_not(None), SlotClaim.counter == 2) == 3
    assert count(app, SlotClaim, SlotClaim.block_id.is_not(None), SlotClaim.counter == 1) == 0


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"von": "", "bis": "10:00"}, "von", "Geben Sie an, ab wann gesperrt wird, zum Beispiel 08:00."),
    ({"von": "08:00", "bis": ""}, "bis", "Geben Sie an, bis wann gesperrt wird, zum Beispiel 12:00."),
    ({"von": "acht", "bis": "10:00"}, "von", "Geben Sie die Uhrzeit in der Form 08:00 an."),
    ({"von": "08:03", "bis": "10:00"}, "von", "Geben Sie eine Uhrzeit in 5-Minuten-Schritten an, zum Beispiel 08:00."),
    ({"von": "10:00", "bis": "09:00"}, "bis", "Die Uhrzeit „bis“ muss nach der Uhrzeit „von“ liegen."),
    ({"von": "08:00", "bis": "09:00", "schalter": "3"}, "schalter", "Wählen Sie einen Schalter oder „alle Schalter“ aus."),
    ({"von": "08:00", "bis": "09:00", "tag": ""}, "tag", "Geben Sie das Datum an, zum Beispiel 30.11.2026."),
    ({"von": "08:00", "bis": "09:00", "tag": "gestern"}, "tag", "Geben Sie ein gültiges Datum an, zum Beispiel 30.11.2026."),
    ({"von": "08:00", "bis": "09:00", "tag": "2020-01-01"}, "tag",
     "Geben Sie ein Datum ab heute an. Vergangene Tage können Sie nicht sperren."),
    ({"von": "08:00", "bis": "09:00", "grund": "x" * 201}, "grund", "Geben Sie einen Grund mit höchstens 200 Zeichen an."),
])
def test_block_form_errors(browser: Browser, app: Flask, clerks: dict[str, int], values: dict[str, str], field: str,
                           message: str) -> None:
    log_in(browser)
    browser.get(day_path(today()))
    browser.submit("/stadt/verwaltung/termine/rathaus/sperren", **values)
    assert browser.status == 400
    assert "<title>Fehler: Termine Rathaus" in browser.text
    assert f'<a href="#feld-{field}">{message}</a>' in browser.text
    assert f'<p class="error-message" id="fehler-{field}"><span class="visually-hidden">Fehler:</span> {message}</p>' \
        in browser.text
    assert count(app, Block) == 0


# ---------------------------------------------------------------- calendar feed


def new_feed_url(browser: Browser) -> str:
    browser.get("/stadt/verwaltung/kalender/rathaus")
    browser.submit("feed-neu")
    assert "<h2>Ihre neue Feed-Adresse</h2>" in browser.text
    found = re.search(r'<code id="feed-adresse">http://localhost(/stadt/verwaltung/kalender/rathaus/[^<]+\.ics)</code>',
                      browser.text)
    assert found, browser.text
    return found.group(1)


def test_the_feed_lists_coming_appointments_without_personal_data(browser: Browser, app: Flask,
                                                                   clerks: dict[str, int]) -> None:
    day = today()
    add_appointment(app, "ICS0900", day, "09:00")
    add_appointment(app, "ICS1000", day + dt.timedelta(days=2), "10:00", counter=2, status="arrived", persons=3)
    add_appointment(app, "ICSDONE", day, "10:00", status="done")
    add_appointment(app, "ICSCANC", day, "11:00", status="cancelled")
    add_appointment(app, "ICSPAST", day - dt.timedelta(days=1), "09:00")
    add_appointment(app, "ICSFAR", day + dt.timedelta(days=40), "09:00")
    add_appointment(app, "ICSKRS", day, "09:00", slug="kreis", location="rathaus")
    with app.app_context():
        db().add(Block(slug="stadt", location_id="rathaus", counter=None, starts_at=to_utc(day, dt.time(12)),
                       ends_at=to_utc(day, dt.time(12, 30)), reason="Schulung"))
        db().commit()
    log_in(browser)
    path = new_feed_url(browser)

    response = browser.client.application.test_client().get(path)  # no login: the secret is the key
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.data)
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    blocks = {uid: events.pop(uid) for uid in list(events) if uid.startswith("sperre-")}
    assert set(events) == {"ICS0900@localhost", "ICS1000@localhost"}
    assert [str(e["SUMMARY"]) for e in blocks.values()] == ["Gesperrt – alle Schalter: Schulung"]
    event = events["ICS1000@localhost"]
    assert str(event["SUMMARY"]) == "Personalausweis beantragen – Schalter 2"
    assert event.decoded("DTSTART") == to_utc(day + dt.timedelta(days=2), dt.time(10, 0))
    assert event.decoded("DTEND") == to_utc(day + dt.timedelta(days=2), dt.time(10, 15))
    assert "Z" in event["DTSTART"].to_ical().decode()  # in UTC
    assert str(event["DESCRIPTION"]) == "Buchungscode ICS1000, 3 Personen"
    assert b"erika@example.org" not in response.data
    with app.app_context():
        [feed] = db().scalars(select(CalendarFeed)).all()
    assert path.rsplit("/", 1)[1].removesuffix(".ics") not in feed.secret_hash  # only the hash is kept
    assert len(feed.secret_hash) == 64


def test_a_new_feed_address_ends_the_old_one(browser: Browser, app: Flask, clerks: dict[str, int]) -> None:
    log_in(browser)
    old = new_feed_url(browser)
    client = browser.client.application.test_client()
    assert client.get(old).status_code == 200
    browser.get("/stadt/verwaltung/kalender/rathaus")
    assert "Eine Feed-Adresse besteht seit" in browser.text and old not in browser.text
    new = new_feed_url(browser)
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert client.get(new.replace("/stadt/", "/kreis/").replace("/rathaus/", "/rathaus-nordort/")).status_code == 404
    assert client.get("/stadt/verwaltung/kalender/rathaus/falsch.ics").status_code == 404

    browser.get("/stadt/verwaltung/kalender/rathaus")
    browser.submit("feed-abschalten")
    assert notices(browser.text) == [
        "Die Feed-Adresse ist abgeschaltet. Kalender, die sie abonniert hatten, erhalten keine Termine mehr."]
    assert client.get(new).status_code == 404


# ---------------------------------------------------------------- one municipality never sees another's


def test_staff_of_one_municipality_never_reach_anothers_rows(browser: Browser, app: Flask,
                                                             clerks: dict[str, int]) -> None:
    day = today()
    theirs = add_appointment(app, "KRS0900", day, "09:00", slug="kreis", location="rathaus-nordort")
    with app.app_context():
        block = Block(slug="kreis", location_id="rathaus-nordort", counter=None, starts_at=to_utc(day, dt.time(11)),
                      ends_at=to_utc(day, dt.time(12)), reason="Kreis")
        db().add(block)
        db().commit()
        block_id = block.id
    log_in(browser)  # a clerk of stadt
    browser.get(day_path(day))
    token = csrf_token(browser)

    browser.get(day_path(day, slug="kreis", location="rathaus-nordort"))
    assert browser.url.startswith("http://localhost/kreis/verwaltung/anmelden?weiter=")
    assert ("Sie sind bei der Verwaltung der Stadt Beispielstadt angemeldet. Für den Kreis Beispiel melden Sie sich "
            "hier mit einem Zugang dieser Verwaltung an.") in notices(browser.text)
    assert "KRS0900" not in browser.text
    assert browser.get(day_path(day, location="rathaus-nordort")).status_code == 404  # not a stadt location

    for path, data in (
        (f"/stadt/verwaltung/termine/{theirs}/status", {"status": "arrived"}),
        (f"/stadt/verwaltung/sperren/{block_id}/aufheben", {}),
    ):
        assert browser.client.post(path, data={**data, "csrf_token": token}).status_code == 404
    for path, data in (
        (f"/kreis/verwaltung/termine/{theirs}/status", {"status": "arrived"}),
        ("/kreis/verwaltung/termine/rathaus-nordort/sperren", {"tag": day.isoformat(), "von": "08:00", "bis": "09:00"}),
        (f"/kreis/verwaltung/sperren/{block_id}/aufheben", {}),
        ("/kreis/verwaltung/kalender/rathaus-nordort", {"aktion": "neu"}),
    ):
        response = browser.client.post(path, data={**data, "csrf_token": token})
        assert response.status_code == 303
        assert response.headers["Location"].startswith("/kreis/verwaltung/anmelden")
    browser.get("/kreis/verwaltung/kalender/rathaus-nordort")
    assert "/kreis/verwaltung/anmelden" in browser.url

    assert status_of(app, theirs) == "booked"
    assert count(app, Block) == 1
    assert count(app, SlotClaim, SlotClaim.block_id == block_id) == 0  # made directly: none were claimed
    assert count(app, CalendarFeed) == 0

    log_in(browser, slug="kreis")  # the kreis clerk on the same browser sees kreis only
    browser.get(day_path(day, slug="kreis", location="rathaus-nordort"))
    assert "KRS0900" in browser.text and "angemeldet als <strong>Max Kreis</strong>" in browser.text
    assert browser.get(day_path(day)).request.path == "/stadt/verwaltung/anmelden"


# ---------------------------------------------------------------- the operator's command


def test_build_staff_creates_a_clerk_and_sets_a_new_password(
        app: Flask, browser: Browser, database_url: str, staff_output: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import build

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PORTAL_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("PORTAL_BASE_URL", "http://localhost")
    monkeypatch.setenv("STAFF_PASSWORD", PASSWORD)
    assert build.main(["staff", "stadt", "neu", "--name", "Nina Neu", "--out", str(staff_output)]) == 0
    assert capsys.readouterr().out == ("Zugang „neu“ für Stadt Beispielstadt angelegt. "
                                       "Anmeldung unter http://localhost/stadt/verwaltung/anmelden\n")
    log_in(browser, username="neu")
    assert "angemeldet als <strong>Nina Neu</strong>" in browser.text

    monkeypatch.setenv("STAFF_PASSWORD", "Apfelbaum Segelboot Wolke")
    assert build.main(["staff", "stadt", "neu", "--out", str(staff_output)]) == 0
    assert capsys.readouterr().out == ("Neues Passwort für „neu“ (Stadt Beispielstadt) gespeichert; "
                                       "bisherige Anmeldungen sind beendet.\n")
    browser.get("/stadt/verwaltung/")
    assert "/stadt/verwaltung/anmelden" in browser.url  # the old login ended
    log_in(browser, username="neu", password="Apfelbaum Segelboot Wolke")
    assert "angemeldet als <strong>Nina Neu</strong>" in browser.text

    monkeypatch.setenv("STAFF_PASSWORD", "passwort")
    assert build.main(["staff", "stadt", "kurz", "--out", str(staff_output)]) == 1
    assert capsys.readouterr().err == "Fehler: Wählen Sie ein Passwort mit mindestens 10 Zeichen.\n"
    monkeypatch.setenv("STAFF_PASSWORD", PASSWORD)
    assert build.main(["staff", "gibtsnicht", "neu", "--out", str(staff_output)]) == 1
    assert capsys.readouterr().err == ("Fehler: Eine Kommune „gibtsnicht“ gibt es in der Ausgabe nicht. Bauen Sie "
                                       "die Seiten zuerst (python build.py) oder prüfen Sie die Kurzbezeichnung.\n")
    assert count(app, StaffUser, StaffUser.username == "kurz") == 0
