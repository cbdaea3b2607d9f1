"""The citizen's way to a booked appointment without detours: each location's next free time,
the earliest times across all locations (in a district, of all its towns), booking without an
account offered where the reservation asks to log in, and the confirmation with what to
bring and what it costs. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask

from dynamic import create_app
from dynamic.platform.db import db
from dynamic.platform.models import Appointment
from tests.dynamic.booking_fixtures import MONDAY_MORNING, Clock, booking_block, main_text, with_booking
from tests.dynamic.browserlike import Browser
from tests.dynamic.conftest import Mailbox, make_settings
from tests.dynamic.test_profile import log_in, make_account

KREIS = "/kreis/termine/personalausweis-beantragen/"
PASSWORD = "Terminkalender Stempelkissen Wartemarke"
EARLIEST = KREIS + "frueheste-zeiten/"
ID_CARD = "/stadt/termine/personalausweis-beantragen/rathaus/"


def two_towns(fixture_output: Path, target: Path) -> Path:
    """The booking sites with the ID card bookable in both towns of the district: Nordort's
    town hall, and Südort's, which is closed on Monday 7 December (a staff outing)."""
    output = with_booking(fixture_output, target)
    path = output / "kreis" / "katalog.json"
    katalog = json.loads(path.read_text(encoding="utf-8"))
    suedort = katalog["locations"]["rathaus-suedort"]
    suedort["booking"] = booking_block(1)
    suedort["exceptions"] = [{"date": "2026-12-07", "closed": True}]
    katalog["services"]["personalausweis-beantragen"]["booking"]["locations"] = ["rathaus-suedort",
                                                                                 "rathaus-nordort"]
    path.write_text(json.dumps(katalog), encoding="utf-8")
    return output


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_MORNING)


@pytest.fixture
def app(app_settings: dict[str, Any], fixture_output: Path, tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    output = two_towns(fixture_output, tmp_path / "booking-output")
    application = create_app(make_settings(**{**app_settings, "output_dir": output}))
    application.config.update(TESTING=True, CLOCK=clock)
    yield application
    application.extensions["db_engine"].dispose()


def test_every_location_shows_its_next_free_time_and_it_moves_on_when_taken(app: Flask) -> None:
    browser = Browser(app.test_client())
    browser.get(KREIS)
    text = main_text(browser.text)
    assert ("Nordort: Rathaus Nordort Hauptstraße 1, 48653 Nordort "
            "Nächster freier Termin: Montag, 7. Dezember 2026, 08:00 Uhr") in text
    assert ("Südort: Rathaus Südort Hauptstraße 1, 48653 Südort "
            "Nächster freier Termin: Dienstag, 8. Dezember 2026, 08:00 Uhr") in text
    assert (f'<a href="{KREIS}rathaus-nordort/2026-12-07/">Montag, 7. Dezember 2026, 08:00 Uhr</a>'
            in browser.text)
    browser.get(f"{KREIS}rathaus-nordort/2026-12-07/")
    browser.submit("zeitwahl", zeit=re.search(r'name="zeit" value="([^"]+)"', browser.text).group(1))  # type: ignore[union-attr]
    assert "Termin prüfen und buchen" in browser.text
    browser.get(KREIS)
    assert "Nächster freier Termin: Montag, 7. Dezember 2026, 08:15 Uhr" in main_text(browser.text)


def test_a_location_without_free_time_says_so(app_settings: dict[str, Any], fixture_output: Path, tmp_path: Path,
                                              clock: Clock) -> None:
    output = two_towns(fixture_output, tmp_path / "booking-output")
    path = output / "kreis" / "katalog.json"
    katalog = json.loads(path.read_text(encoding="utf-8"))
    katalog["locations"]["rathaus-suedort"]["booking"]["lead_minutes"] = 61 * 24 * 60  # past the 60-day horizon
    path.write_text(json.dumps(katalog), encoding="utf-8")
    application = create_app(make_settings(**{**app_settings, "output_dir": output}))
    application.config.update(TESTING=True, CLOCK=clock)
    browser = Browser(application.test_client())
    browser.get(KREIS)
    assert "Südort: Rathaus Südort Hauptstraße 1, 48653 Südort Zurzeit ist hier kein Termin frei." in main_text(
        browser.text)
    application.extensions["db_engine"].dispose()


def test_the_earliest_times_across_the_towns_come_first_with_their_town_and_can_be_chosen(
        app: Flask) -> None:
    browser = Browser(app.test_client())
    browser.get(KREIS)
    assert f'<a class="button" href="{EARLIEST}">Früheste freie Zeit an allen Standorten</a>' in browser.text
    browser.get(EARLIEST)
    text = main_text(browser.text)
    assert text.startswith("Personalausweis beantragen: früheste freie Zeit an allen Standorten Die nächsten "
                           "freien Termine in allen Städten und Gemeinden des Kreises, die früheste zuerst.")
    labels = re.findall(r'<label for="[^"]+"><strong>([^<]+)</strong><br>([^<]+)</label>', browser.text)
    assert labels == [
        ("Montag, 7. Dezember 2026, 08:00 Uhr", "Nordort: Rathaus Nordort, Hauptstraße 1"),
        ("Montag, 7. Dezember 2026, 08:15 Uhr", "Nordort: Rathaus Nordort, Hauptstraße 1"),
        ("Montag, 7. Dezember 2026, 08:30 Uhr", "Nordort: Rathaus Nordort, Hauptstraße 1"),
        ("Dienstag, 8. Dezember 2026, 08:00 Uhr", "Südort: Rathaus Südort, Hauptstraße 1"),
        ("Dienstag, 8. Dezember 2026, 08:15 Uhr", "Südort: Rathaus Südort, Hauptstraße 1"),
        ("Dienstag, 8. Dezember 2026, 08:30 Uhr", "Südort: Rathaus Südort, Hauptstraße 1"),
    ]
    suedort = re.search(r'name="wahl" value="(rathaus-suedort [^"]+)"', browser.text)
    assert suedort
    browser.submit("fruehestewahl", wahl=suedort.group(1))
    assert "Termin prüfen und buchen" in browser.text
    text = main_text(browser.text)
    assert "Datum Dienstag, 8. Dezember 2026 Uhrzeit 08:00 Uhr bis 08:15 Uhr Ort Rathaus Südort" in text
    with app.app_context():
        [held] = db().query(Appointment).all()
        assert (held.location_id, held.status) == ("rathaus-suedort", "held")


def test_the_earliest_times_from_a_chosen_day(app: Flask) -> None:
    browser = Browser(app.test_client())
    browser.get(EARLIEST + "?ab=2026-12-10")
    labels = re.findall(r"<strong>([^<]+)</strong><br>([^<]+)</label>", browser.text)
    assert labels[0] == ("Donnerstag, 10. Dezember 2026, 14:00 Uhr", "Nordort: Rathaus Nordort, Hauptstraße 1")
    assert "ab Donnerstag, 10. Dezember 2026, die früheste zuerst" in main_text(browser.text)


def test_a_time_taken_meanwhile_is_said_at_the_field(app: Flask) -> None:
    first, second = Browser(app.test_client()), Browser(app.test_client())
    first.get(EARLIEST)
    second.get(EARLIEST)
    earliest = re.search(r'name="wahl" value="([^"]+)"', first.text).group(1)  # type: ignore[union-attr]
    first.submit("fruehestewahl", wahl=earliest)
    second.submit("fruehestewahl", wahl=earliest)
    assert second.status == 409
    assert "Dieser Termin ist leider nicht mehr frei. Bitte wählen Sie eine andere Uhrzeit." in main_text(
        second.text)
    assert 'aria-describedby="fehler-wahl"' in second.text


def test_the_reservation_offers_booking_without_an_account_and_the_login_on_the_way(
        app: Flask, mailbox: Mailbox, send_mail: Any) -> None:
    """A guest's hold asks "Ohne Konto weiter mit Ihrer E-Mail-Adresse" or to log in; who logs
    in comes back to the same held time, now theirs, and books it without a mailed link."""
    browser = Browser(app.test_client())
    browser.get(EARLIEST)
    browser.submit("fruehestewahl", wahl=re.search(r'name="wahl" value="([^"]+)"', browser.text).group(1))  # type: ignore[union-attr]
    text = main_text(browser.text)
    assert "Ohne Konto weiter mit Ihrer E-Mail-Adresse Ihre E-Mail-Adresse" in text
    assert ("Oder mit Ihrem Konto im Bürgerportal Angemeldet buchen Sie ohne Bestätigungslink, und Ihre Termine "
            "finden Sie in Ihrem Konto. Solange Sie sich anmelden oder ein Konto anlegen, halten wir die Zeit bis "
            "07:30 Uhr für Sie frei. Anmelden oder Konto anlegen") in text
    with app.app_context():
        [held] = db().query(Appointment).all()
        assert held.held_until == MONDAY_MORNING + dt.timedelta(minutes=10)
    here = f"/kreis/termine/reservierung/{held.code}"
    response = browser.client.post(here, data={**dict(browser.form("anmelden").fields), "aktion": "anmelden"})
    assert response.status_code == 303
    target = urlsplit(response.headers["Location"])
    assert target.path == "/konto/anmelden"
    query = parse_qs(target.query)
    back = query["weiter"][0]
    assert back.startswith(here + "?s=")  # signed: logging in starts a new session, without this browser's holds
    assert query == {"stufe": ["basis"], "weiter": [back], "ohne_konto": [back + "#ohne-konto"]}
    with app.app_context():
        [held] = db().query(Appointment).all()
        assert held.held_until == MONDAY_MORNING + dt.timedelta(minutes=30)  # as while a mail is on its way

    account_id = make_account(app, email="mit.konto@example.org", password=PASSWORD)
    browser.get(response.headers["Location"])
    browser.submit("/konto/anmelden", email="mit.konto@example.org", passwort=PASSWORD)
    assert urlsplit(browser.url).path == here
    assert "Termin prüfen und buchen" in browser.text
    assert "Ihre E-Mail-Adresse" not in browser.text and "Anmelden oder Konto anlegen" not in browser.text
    browser.submit("buchen", aktion="buchen")
    assert "Termin gebucht" in main_text(browser.text)
    with app.app_context():
        [booked] = db().query(Appointment).all()
        assert (booked.status, booked.account_id, booked.email) == ("booked", account_id, None)


def test_the_account_cannot_take_over_a_hold_past_its_limit(app: Flask) -> None:
    account_id = make_account(app, email="hamster@example.org")
    with_account = Browser(app.test_client())
    log_in(with_account.client, app, account_id)
    with_account.get(EARLIEST)
    with_account.submit("fruehestewahl", wahl=re.search(r'name="wahl" value="([^"]+)"', with_account.text).group(1))  # type: ignore[union-attr]
    with_account.submit("buchen", aktion="buchen")  # the account's one open appointment (max_open 1)
    guest = Browser(app.test_client())
    guest.get(EARLIEST)
    guest.submit("fruehestewahl", wahl=re.search(r'name="wahl" value="([^"]+)"', guest.text).group(1))  # type: ignore[union-attr]
    with app.app_context():
        held = db().query(Appointment).filter_by(status="held").one()
    log_in(guest.client, app, account_id)
    guest.get(f"/kreis/termine/reservierung/{held.code}")
    assert guest.status == 429
    assert ("Sie haben für diese Leistung schon 1 offenen Termin. Sagen Sie einen ab oder verschieben Sie ihn, "
            "bevor Sie neu buchen.") in main_text(guest.text)


def test_the_confirmation_shows_a_panel_what_to_bring_and_the_fees(app: Flask) -> None:
    browser = Browser(app.test_client())
    account_id = make_account(app, email="lena.termin@example.org")
    log_in(browser.client, app, account_id)
    browser.get(f"{ID_CARD}2026-12-08/")
    browser.submit("zeitwahl", zeit=re.search(r'name="zeit" value="([^"]+)"', browser.text).group(1))  # type: ignore[union-attr]
    browser.submit("buchen", aktion="buchen")
    with app.app_context():
        [booked] = db().query(Appointment).all()
    text = main_text(browser.text)
    assert text.startswith("Termin gebucht Dienstag, 8. Dezember 2026, 08:00 Uhr Rathaus, Marktplatz 1, 48143 "
                           f"Beispielstadt Ihre Buchungsnummer: {booked.code} Ihr Termin ist gebucht. Eine "
                           "Bestätigung liegt in Ihrem Postfach")
    assert ("Bitte mitbringen Ihr bisheriger Personalausweis oder Reisepass Ein biometrisches Lichtbild "
            "Kosten Gebühren Wofür Betrag Örtliche Gebühr (Test-Überschreibung) 40,00 € "  # the city's own fee
            "Welche Zahlungsarten am Schalter möglich sind, erfahren Sie beim Standort.") in text
    browser.get(f"/stadt/termine/termin/{booked.code}")  # later, without the notice: no panel
    assert main_text(browser.text).startswith("Ihr Termin Buchungsnummer")
    assert "Bitte mitbringen Ihr bisheriger Personalausweis oder Reisepass" in main_text(browser.text)


def test_a_guest_is_never_sent_to_an_inbox(app: Flask, mailbox: Mailbox, send_mail: Any) -> None:
    browser = Browser(app.test_client())
    browser.get(EARLIEST)
    browser.submit("fruehestewahl", wahl=re.search(r'name="wahl" value="([^"]+)"', browser.text).group(1))  # type: ignore[union-attr]
    browser.submit("buchen", aktion="buchen", email="gast@example.org")
    send_mail()
    confirm = mailbox.to("gast@example.org")[-1]
    assert "Postfach" not in confirm.get_content()
    browser.get(mailbox.link("gast@example.org", "/kreis/termine/bestaetigen/"))
    browser.submit("bestaetigen")
    text = main_text(browser.text)
    assert text.startswith("Termin gebucht Montag, 7. Dezember 2026, 08:00 Uhr Rathaus Nordort")
    assert "Bitte bewahren Sie die E-Mail auf: Nur über diesen Link können Sie den Termin ansehen" in text
    assert "Bitte mitbringen" in text and "Postfach" not in text
    send_mail()
    booked = mailbox.to("gast@example.org")[-1]
    assert booked["Subject"] == "Ihr Termin ist gebucht" and "Postfach" not in booked.get_content()


def test_where_an_account_is_needed_the_earliest_time_is_kept_through_the_login(app: Flask) -> None:
    """The city switched booking without an account off: choosing from the earliest times holds
    the time and asks to log in (with no way round it); after the login the held time waits
    for the account, ready to book."""
    earliest = "/stadt/termine/personalausweis-beantragen/frueheste-zeiten/"
    client = app.test_client()
    browser = Browser(client)
    browser.get(earliest)
    first = re.search(r'name="wahl" value="([^"]+)"', browser.text).group(1)  # type: ignore[union-attr]
    form = browser.form("fruehestewahl")
    response = client.post(earliest, data={**dict(form.fields), "wahl": first})
    assert response.status_code == 303
    target = urlsplit(response.headers["Location"])
    assert target.path == "/konto/anmelden"
    query = parse_qs(target.query)
    assert set(query) == {"stufe", "weiter"} and query["stufe"] == ["basis"]  # no "ohne_konto"
    reservation = query["weiter"][0]
    assert reservation.startswith("/stadt/termine/reservierung/")
    log_in(client, app, make_account(app, email="nur.mit.konto@example.org"))
    browser.get(reservation)
    assert "Termin prüfen und buchen" in browser.text and "Ihre E-Mail-Adresse" not in browser.text
    assert first == "rathaus 2026-12-07T07:00:00+00:00"  # the earliest: Monday 8:00 in Berlin
    assert "Datum Montag, 7. Dezember 2026 Uhrzeit 08:00 Uhr bis 08:15 Uhr Ort Rathaus" in main_text(browser.text)
