"""Booking an appointment over HTTP: hold, confirm, inbox, calendar file, move, cancel, limits."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from icalendar import Calendar
from sqlalchemy import inspect, text

from dynamic import create_app
from dynamic.appointments.reminders import queue_reminders, remove_expired_holds
from dynamic.platform.db import alembic_config, db, make_engine, migrate
from dynamic.platform.models import Appointment, Message, OutboxItem, SlotClaim
from tests.dynamic.booking_fixtures import MONDAY_MORNING, Clock, main_text, with_booking
from tests.dynamic.browserlike import Browser
from tests.dynamic.conftest import (
    REDIS_TEST_URL,
    Mailbox,
    fresh_postgres_database,
    make_settings,
    need_service,
    postgres_reachable,
    redis_prefix,
    redis_reachable,
)
from tests.dynamic.test_profile import log_in, make_account
from tests.site.readable import visible_text

ID_CARD = "/stadt/termine/personalausweis-beantragen/rathaus/"
TUESDAY = "2026-12-08"


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_MORNING)


@pytest.fixture
def app(app_settings: dict[str, Any], fixture_output: Path, tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    output = with_booking(fixture_output, tmp_path / "booking-output")
    application = create_app(make_settings(**{**app_settings, "output_dir": output}))
    application.config.update(TESTING=True, CLOCK=clock)
    yield application
    application.extensions["db_engine"].dispose()


def citizen(app: Flask, email: str = "lena.termin@example.org") -> tuple[Browser, int]:
    browser = Browser(app.test_client())
    account_id = make_account(app, email=email)
    log_in(browser.client, app, account_id)
    return browser, account_id


def choose(browser: Browser, path: str = ID_CARD, day: str = TUESDAY, time: str = "08:00 Uhr") -> None:
    browser.get(f"{path}{day}/")
    value = re.search(r'value="([^"]+)"[^>]*>\s*<label for="[^"]+">' + time, browser.text)
    assert value, f"{time} is not offered"
    browser.submit("zeitwahl", zeit=value.group(1))


def claims(app: Flask) -> int:
    with app.app_context():
        return db().query(SlotClaim).count()


def test_book_with_an_account_and_get_code_calendar_file_inbox_message_and_a_mail(
        app: Flask, mailbox: Mailbox, send_mail: Any) -> None:
    browser, account_id = citizen(app)
    browser.get("/stadt/termine/")
    assert 'href="/stadt/termine/personalausweis-beantragen/"' in browser.text
    browser.get("/stadt/termine/personalausweis-beantragen/")
    assert 'href="/stadt/termine/personalausweis-beantragen/rathaus/"' in browser.text
    browser.get(ID_CARD)
    assert "Dezember 2026" in browser.text
    assert ('<span class="visually-hidden">Dienstag, 8. Dezember 2026: </span><span aria-hidden="true">8</span> '
            '<span class="count">18 frei</span>') in browser.text
    assert '<span class="visually-hidden">Samstag, 12. Dezember 2026: kein Termin frei</span>' in browser.text
    choose(browser)
    assert browser.url.startswith("http://localhost/stadt/termine/reservierung/")
    assert "Wir halten diese Zeit bis 07:10 Uhr für Sie frei." in browser.text
    assert "<dd>08:00 Uhr bis 08:15 Uhr</dd>" in browser.text
    browser.submit("buchen", aktion="buchen")
    assert "Ihr Termin ist gebucht." in browser.text
    code = re.search(r'<strong class="code">([A-Z0-9-]+)</strong>', browser.text).group(1)  # type: ignore[union-attr]
    assert "<dd>gebucht</dd>" in browser.text

    ics = browser.client.get(f"/stadt/termine/termin/{code}/termin.ics")
    event = Calendar.from_ical(ics.data).walk("VEVENT")[0]
    assert event.decoded("dtstart") == dt.datetime(2026, 12, 8, 7, 0, tzinfo=dt.UTC)
    assert str(event["summary"]) == "Termin: Personalausweis beantragen"

    with app.app_context():
        [message] = db().query(Message).filter_by(account_id=account_id).all()
        assert message.subject == "Termin gebucht: Personalausweis beantragen"
        assert code in message.body and "Dienstag, 8. Dezember 2026, 08:00 Uhr" in message.body
    send_mail()
    [mail] = mailbox.to("lena.termin@example.org")
    body = mail.get_content()
    assert mail["Subject"] == "Ihr Termin ist gebucht"
    assert "Personalausweis" not in body and "08:00" not in body and code in body  # only the link
    # The mail's signed link works without any login.
    stranger = Browser(app.test_client())
    stranger.get(mailbox.link("lena.termin@example.org", "/stadt/termine/termin/"))
    assert f'<strong class="code">{code}</strong>' in stranger.text


def test_a_held_time_is_gone_for_others_and_free_again_when_released(app: Flask) -> None:
    first, _ = citizen(app, "eins@example.org")
    choose(first)
    second, _ = citizen(app, "zwei@example.org")
    choose(second)  # the second counter
    third, _ = citizen(app, "drei@example.org")
    third.get(f"{ID_CARD}{TUESDAY}/")
    assert ">08:00 Uhr</label>" not in third.text and ">08:15 Uhr</label>" in third.text
    first.submit("buchen", aktion="freigeben")
    third.get(f"{ID_CARD}{TUESDAY}/")
    assert ">08:00 Uhr</label>" in third.text


def test_a_hold_expires_and_the_time_is_released(app: Flask, clock: Clock) -> None:
    browser, _ = citizen(app)
    choose(browser)
    clock.advance(minutes=11)
    browser.submit("buchen", aktion="buchen")
    assert browser.status == 410
    assert "Ihre Reservierung ist abgelaufen und der Termin wurde wieder freigegeben." in browser.text
    assert claims(app) == 0


def test_holds_nobody_confirmed_neither_block_booking_nor_moving_and_are_cleared(app: Flask, clock: Clock) -> None:
    mover, _ = citizen(app, "umzug@example.org")
    choose(mover, time="09:00 Uhr")
    mover.submit("buchen", aktion="buchen")
    code = re.search(r'<strong class="code">([A-Z0-9-]+)</strong>', mover.text).group(1)  # type: ignore[union-attr]
    for n, time in enumerate(["08:00 Uhr", "08:00 Uhr", "10:00 Uhr", "10:00 Uhr", "11:00 Uhr"]):
        holder, _ = citizen(app, f"halter{n}@example.org")
        choose(holder, time=time)  # both counters at 08:00 and 10:00, one at 11:00: never confirmed
        assert holder.url.startswith("http://localhost/stadt/termine/reservierung/")
    clock.advance(minutes=11)

    late, _ = citizen(app, "spaet@example.org")
    choose(late, time="08:00 Uhr")
    assert late.url.startswith("http://localhost/stadt/termine/reservierung/")
    mover.get(f"{ID_CARD}{TUESDAY}/?personen=1&verschieben={code}")
    value = re.search(r'value="([^"]+)"[^>]*>\s*<label for="[^"]+">10:00 Uhr', mover.text).group(1)  # type: ignore[union-attr]
    mover.submit("zeitwahl", zeit=value)
    assert "Ihr Termin wurde verschoben." in mover.text and "10:00 Uhr" in mover.text

    assert remove_expired_holds(app) == 1  # the hold at 11:00, which nobody stood in the way of
    with app.app_context():
        assert db().query(Appointment).filter_by(status="held").count() == 1  # the late citizen's
        assert claims(app) == 6  # the late hold and the moved booking, 3 units each


def test_the_last_free_counter_is_taken_by_one_only(app: Flask) -> None:
    """Two citizens see 08:00 free; both counters go; a third who still sees it is told."""
    page_of_third, _ = citizen(app, "drei@example.org")
    page_of_third.get(f"{ID_CARD}{TUESDAY}/")  # the page still offers 08:00
    for email in ("eins@example.org", "zwei@example.org"):
        browser, _ = citizen(app, email)
        choose(browser)
    value = re.search(r'value="([^"]+)"[^>]*>\s*<label for="[^"]+">08:00 Uhr', page_of_third.text).group(1)  # type: ignore[union-attr]
    page_of_third.submit("zeitwahl", zeit=value)
    assert page_of_third.status == 409
    assert "Dieser Termin ist leider nicht mehr frei. Bitte wählen Sie eine andere Uhrzeit." in page_of_third.text
    with app.app_context():
        assert db().query(Appointment).count() == 2


def test_without_login_the_citizen_logs_in_and_the_chosen_time_is_kept(app: Flask) -> None:
    browser = Browser(app.test_client())
    browser.get(f"{ID_CARD}{TUESDAY}/")
    value = re.search(r'value="([^"]+)"[^>]*>\s*<label for="[^"]+">09:00 Uhr', browser.text).group(1)  # type: ignore[union-attr]
    response = browser.client.post(f"{ID_CARD}{TUESDAY}/", data={**browser.form("zeitwahl").fields, "zeit": value})
    assert response.status_code == 303
    # The time is held for this browser before the login, and the login leads back to it.
    with app.app_context():
        [held] = db().query(Appointment).all()
        assert held.status == "held" and held.account_id is None
    assert response.headers["Location"] == (f"/konto/anmelden?stufe=basis&weiter=%2Fstadt%2Ftermine%2Freservierung"
                                            f"%2F{held.code}")
    account_id = make_account(app, email="spaet@example.org")
    log_in(browser.client, app, account_id)
    browser.get(f"/stadt/termine/reservierung/{held.code}")
    assert "Termin prüfen und buchen" in browser.text and "09:00 Uhr bis 09:15 Uhr" in browser.text
    with app.app_context():
        assert db().get(Appointment, held.id).account_id == account_id  # type: ignore[union-attr]
    browser.submit("buchen", aktion="buchen")
    assert "Ihr Termin ist gebucht." in browser.text


def test_one_open_appointment_per_service_and_account(app: Flask) -> None:
    browser, _ = citizen(app)
    choose(browser)
    browser.submit("buchen", aktion="buchen")
    choose(browser, time="10:00 Uhr")
    assert browser.status == 429
    assert "Sie haben für diese Leistung schon 1 offenen Termin." in browser.text


def test_move_keeps_the_code_and_frees_the_old_time(app: Flask) -> None:
    browser, _ = citizen(app)
    choose(browser)
    browser.submit("buchen", aktion="buchen")
    code = re.search(r'<strong class="code">([A-Z0-9-]+)</strong>', browser.text).group(1)  # type: ignore[union-attr]
    browser.get(re.search(r'href="([^"]*verschieben=[^"]*)"', browser.text).group(1).replace("&amp;", "&"))  # type: ignore[union-attr]
    assert "Sie verschieben Ihren Termin." in browser.text
    browser.get(f"{ID_CARD}2026-12-09/?personen=1&verschieben={code}")
    value = re.search(r'value="([^"]+)"[^>]*>\s*<label for="[^"]+">11:00 Uhr', browser.text).group(1)  # type: ignore[union-attr]
    browser.submit("zeitwahl", zeit=value)
    assert "Ihr Termin wurde verschoben." in browser.text
    assert "Mittwoch, 9. Dezember 2026" in browser.text and f">{code}<" in browser.text
    with app.app_context():
        [claim] = db().query(SlotClaim).all()[:1]
        assert claim.unit_start == dt.datetime(2026, 12, 9, 10, 0, tzinfo=dt.UTC)
        assert db().query(SlotClaim).count() == 3  # 15 minutes = 3 units, the old ones are gone


def test_cancel_frees_the_time_at_once_and_is_refused_too_late(app: Flask, clock: Clock) -> None:
    browser, _ = citizen(app)
    choose(browser, day="2026-12-09")
    browser.submit("buchen", aktion="buchen")
    appointment_page = browser.url.split("?")[0].replace("http://localhost", "")
    # The appointment's page links to a question first; keeping it changes nothing.
    browser.get(appointment_page + "/absagen")
    assert "<h1>Termin absagen?</h1>" in browser.text
    assert "Das können Sie nicht rückgängig machen" in browser.text
    assert f'<a href="{appointment_page}">Nein, Termin behalten</a>' in browser.text
    assert claims(app) == 3
    browser.submit(appointment_page + "/absagen")
    assert "Ihr Termin ist abgesagt. Die Zeit ist für andere wieder frei." in browser.text
    assert claims(app) == 0
    browser.get(appointment_page + "/absagen")  # cancelled: nothing to ask, back to the appointment
    assert browser.url.endswith(appointment_page) and "abgesagt" in browser.text

    choose(browser, day="2026-12-09")
    browser.submit("buchen", aktion="buchen")
    code_page = browser.url.split("?")[0]
    clock.moment = dt.datetime(2026, 12, 8, 8, 0, tzinfo=dt.UTC)  # 23 hours before
    browser.get(code_page)
    assert "Online verschieben oder absagen ist nicht mehr möglich." in browser.text
    browser.get(code_page.replace("http://localhost", "") + "/absagen")  # too late: no question
    assert browser.url.split("?")[0] == code_page
    browser.get("/konto/")  # a page with a form, for the CSRF token a crafted request needs
    response = browser.client.post(code_page.replace("http://localhost", "") + "/absagen",
                                   data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', browser.text).group(1)})  # type: ignore[union-attr]
    assert response.status_code == 403
    assert "Sie können diesen Termin nur bis 24 Stunden vorher online absagen." in response.get_data(as_text=True)


def test_a_stranger_cannot_open_someone_elses_appointment(app: Flask) -> None:
    browser, _ = citizen(app)
    choose(browser)
    browser.submit("buchen", aktion="buchen")
    path = browser.url.replace("http://localhost", "").split("?")[0]
    other, _ = citizen(app, "fremd@example.org")
    assert other.client.get(path).status_code == 404
    assert other.client.get(path + "?s=gefaelscht").status_code == 404
    assert other.client.get(path.replace("/stadt/", "/kreis/")).status_code == 404


def test_a_long_service_for_two_persons_takes_its_whole_time(app: Flask) -> None:
    browser, _ = citizen(app)
    path = "/stadt/termine/eheschliessung-anmelden/rathaus/"
    browser.get(f"{path}{TUESDAY}/?personen=2")
    assert ">11:45 Uhr</label>" in browser.text and ">12:00 Uhr</label>" not in browser.text  # 12:30 closing
    choose(browser, path=path)
    browser.submit("buchen", aktion="buchen")
    assert "<dd>08:00 Uhr bis 08:45 Uhr</dd>" in browser.text
    assert claims(app) == 9


def test_booking_without_an_account_needs_the_mailed_link(app: Flask, mailbox: Mailbox, send_mail: Any) -> None:
    browser = Browser(app.test_client())
    choose(browser, path="/kreis/termine/personalausweis-beantragen/rathaus-nordort/")
    assert "Ihre E-Mail-Adresse" in browser.text
    browser.submit("buchen", aktion="buchen", email="ohne.konto@example.org")
    assert "Wir haben Ihnen eine E-Mail mit einem Link geschickt." in browser.text
    send_mail()
    link = mailbox.link("ohne.konto@example.org", "/kreis/termine/bestaetigen/")
    other_browser = Browser(app.test_client())  # the link works on another device
    other_browser.get(link)
    other_browser.submit("bestaetigen")
    assert "Ihr Termin ist gebucht." in other_browser.text
    main = main_text(other_browser.text)
    assert ("Ihr Termin ist gebucht. Wir haben Ihnen eine E-Mail mit dem Link zu dieser Seite geschickt. Bitte "
            "bewahren Sie die E-Mail auf: Nur über diesen Link können Sie den Termin ansehen, verschieben oder "
            "absagen.") in main
    assert "Postfach" not in main
    send_mail()
    booked = mailbox.to("ohne.konto@example.org")[-1]
    assert booked["Subject"] == "Ihr Termin ist gebucht"
    assert ("Bitte bewahren Sie diese E-Mail auf: Sie haben ohne Konto gebucht, darum führt nur dieser Link zu "
            "Ihrem Termin.") in booked.get_content()
    assert "Postfach" not in booked.get_content()
    with app.app_context():
        [appointment] = db().query(Appointment).all()
        assert appointment.status == "booked" and appointment.account_id is None


def test_reminder_the_day_before_once_and_without_personal_data(app: Flask, clock: Clock, mailbox: Mailbox,
                                                                 send_mail: Any) -> None:
    browser, _ = citizen(app)
    choose(browser)
    browser.submit("buchen", aktion="buchen")
    send_mail()
    mailbox.clear()
    assert queue_reminders(app, now=MONDAY_MORNING) == 1
    assert queue_reminders(app, now=MONDAY_MORNING) == 0
    send_mail()
    [mail] = mailbox.messages
    assert mail["Subject"] == "Erinnerung an Ihren Termin morgen"
    assert "Personalausweis" not in mail.get_content() and "08:00" not in mail.get_content()
    with app.app_context():
        assert db().query(OutboxItem).filter(OutboxItem.done_at.is_(None)).count() == 0


def test_mein_konto_lists_the_appointment_and_the_inbox_shows_the_message(app: Flask) -> None:
    browser, _ = citizen(app)
    choose(browser)
    browser.submit("buchen", aktion="buchen")
    code = re.search(r'<strong class="code">([A-Z0-9-]+)</strong>', browser.text).group(1)  # type: ignore[union-attr]
    browser.get("/konto/")
    assert f'href="/stadt/termine/termin/{code}"' in browser.text
    assert "08.12.2026, 08:00 Uhr: Personalausweis beantragen" in browser.text
    assert "<strong>1 ungelesen</strong>" in browser.text
    browser.get("/postfach/")
    assert "<span class=\"visually-hidden\">Ungelesen: </span>Termin gebucht: Personalausweis beantragen" in browser.text
    message_link = re.search(r'href="(/postfach/\d+)"', browser.text).group(1)  # type: ignore[union-attr]
    browser.get(message_link)
    assert f"Buchungsnummer: {code}" in browser.text
    other, _ = citizen(app, "neugierig@example.org")
    assert other.client.get(message_link).status_code == 404
    browser.get("/konto/")
    assert "ungelesen" not in browser.text
    export = browser.client.get("/konto/daten/export").get_json()
    assert [(t["buchungsnummer"], t["stand"], t["beginn"]) for t in export["termine"]] == [
        (code, "booked", "2026-12-08T07:00:00Z")]
    assert [m["betreff"] for m in export["postfach"]] == ["Termin gebucht: Personalausweis beantragen"]
    browser.get(message_link)
    browser.submit(message_link + "/loeschen")
    assert "Die Nachricht wurde gelöscht." in browser.text and "Ihr Postfach ist leer." in browser.text


@pytest.fixture
def cached_app(app_settings: dict[str, Any], fixture_output: Path, tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    """The app with Redis: free-time pages are cached and every change of claims bumps them."""
    need_service(redis_reachable(), "Redis")
    output = with_booking(fixture_output, tmp_path / "cached-output")
    with redis_prefix() as prefix:
        application = create_app(make_settings(**{**app_settings, "output_dir": output, "redis_url": REDIS_TEST_URL,
                                                  "redis_prefix": prefix}))
        application.config.update(TESTING=True, CLOCK=clock)
        yield application
        application.extensions["db_engine"].dispose()


def test_cached_free_times_change_at_once_when_a_time_is_taken(cached_app: Flask) -> None:
    first, _ = citizen(cached_app, "eins@example.org")
    first.get(f"{ID_CARD}{TUESDAY}/")
    second, _ = citizen(cached_app, "zwei@example.org")
    second.get(f"{ID_CARD}{TUESDAY}/")
    assert ">08:00 Uhr</label>" in second.text
    tokens = {browser.form("zeitwahl").fields["csrf_token"] for browser in (first, second)}
    assert len(tokens) == 2  # a cached page still carries each browser's own token
    assert len(cached_app.extensions["slot_pages"].pages) == 1  # rendered once for both
    choose(first)
    choose(second)  # the second counter, through a page served from the cache
    assert second.url.startswith("http://localhost/stadt/termine/reservierung/")
    third, _ = citizen(cached_app, "drei@example.org")
    third.get(f"{ID_CARD}{TUESDAY}/")
    assert ">08:00 Uhr</label>" not in third.text and ">08:15 Uhr</label>" in third.text
    first.submit("buchen", aktion="freigeben")
    third.get(f"{ID_CARD}{TUESDAY}/")
    assert ">08:00 Uhr</label>" in third.text


def test_an_address_given_without_an_account_is_forgotten_the_day_after(
        app: Flask, mailbox: Mailbox, send_mail: Any) -> None:
    from dynamic.appointments.reminders import forget_past_addresses

    browser = Browser(app.test_client())
    choose(browser, path="/kreis/termine/personalausweis-beantragen/rathaus-nordort/")
    browser.submit("buchen", aktion="buchen", email="kurz.gespeichert@example.org")
    send_mail()
    browser.get(mailbox.link("kurz.gespeichert@example.org", "/kreis/termine/bestaetigen/"))
    browser.submit("bestaetigen")
    assert forget_past_addresses(app, now=dt.datetime(2026, 12, 9, 6, 0, tzinfo=dt.UTC)) == 0  # not yet
    assert forget_past_addresses(app, now=dt.datetime(2026, 12, 9, 8, 0, tzinfo=dt.UTC)) == 1
    with app.app_context():
        [appointment] = db().query(Appointment).all()
        assert appointment.email is None and appointment.status == "booked"


# ---------------------------------------------------------------- the calendar file


def calendar_link(browser: Browser) -> str:
    """The appointment page's link to its .ics, as the citizen's browser follows it."""
    found = re.search(r'href="([^"]*/termin\.ics[^"]*)"', browser.text)
    assert found, browser.text
    return found.group(1).replace("&amp;", "&")


def only_event(data: bytes) -> Any:
    """The .ics read by an independent reader (the icalendar library), with what RFC 5545
    requires of a calendar and its event."""
    calendar = Calendar.from_ical(data)
    assert (str(calendar["VERSION"]), str(calendar["METHOD"])) == ("2.0", "PUBLISH") and calendar.get("PRODID")
    [event] = calendar.walk("VEVENT")
    for required in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SEQUENCE", "STATUS", "URL"):
        assert required in event, required
    return event


def test_calendar_file_of_a_booking_without_an_account_links_to_a_page_that_opens_from_the_calendar(
        app: Flask, mailbox: Mailbox, send_mail: Any) -> None:
    browser = Browser(app.test_client())
    choose(browser, path="/kreis/termine/personalausweis-beantragen/rathaus-nordort/")
    browser.submit("buchen", aktion="buchen", email="kalender@example.org")
    send_mail()
    guest = Browser(app.test_client())  # the mail opened on a phone, without the holding browser's cookie
    guest.get(mailbox.link("kalender@example.org", "/kreis/termine/bestaetigen/"))
    guest.submit("bestaetigen")
    code = re.search(r'<strong class="code">([A-Z0-9-]+)</strong>', guest.text).group(1)  # type: ignore[union-attr]
    ics = guest.client.get(calendar_link(guest))
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    event = only_event(ics.data)
    link = str(event["URL"])
    assert link.startswith(f"http://localhost/kreis/termine/termin/{code}?s=")
    assert str(event["DESCRIPTION"]).endswith(f"Verschieben oder absagen: {link}")
    calendar_app = Browser(app.test_client())  # the link opened from the calendar: no cookie at all
    calendar_app.get(link)
    assert calendar_app.status == 200 and f'<strong class="code">{code}</strong>' in calendar_app.text


def test_calendar_file_keeps_its_uid_and_counts_each_move_and_the_cancellation(app: Flask) -> None:
    browser, _ = citizen(app)
    choose(browser)
    browser.submit("buchen", aktion="buchen")
    code = re.search(r'<strong class="code">([A-Z0-9-]+)</strong>', browser.text).group(1)  # type: ignore[union-attr]
    appointment_page = browser.url.split("?")[0].replace("http://localhost", "")
    first = only_event(browser.client.get(calendar_link(browser)).data)
    assert (str(first["UID"]), first["SEQUENCE"], str(first["STATUS"])) == (f"{code}@buergerportal", 0, "CONFIRMED")
    for day, time, sequence in (("2026-12-09", "11:00 Uhr", 1), ("2026-12-10", "15:00 Uhr", 2)):
        browser.get(f"{ID_CARD}{day}/?personen=1&verschieben={code}")
        value = re.search(r'value="([^"]+)"[^>]*>\s*<label for="[^"]+">' + time, browser.text).group(1)  # type: ignore[union-attr]
        browser.submit("zeitwahl", zeit=value)
        assert "Ihr Termin wurde verschoben." in browser.text
        moved = only_event(browser.client.get(calendar_link(browser)).data)
        assert (str(moved["UID"]), moved["SEQUENCE"]) == (f"{code}@buergerportal", sequence)
        assert moved.decoded("dtstart").date() == dt.date.fromisoformat(day)
    browser.get(appointment_page + "/absagen")
    browser.submit(appointment_page + "/absagen")
    assert "Ihr Termin ist abgesagt." in browser.text
    assert "Absage in den Kalender übernehmen (iCalendar-Datei)" in browser.text
    cancelled = only_event(browser.client.get(calendar_link(browser)).data)
    assert (str(cancelled["UID"]), cancelled["SEQUENCE"], str(cancelled["STATUS"])) == (
        f"{code}@buergerportal", 3, "CANCELLED")
    assert str(cancelled["SUMMARY"]) == "Abgesagt: Personalausweis beantragen"
    assert str(cancelled["DESCRIPTION"]).startswith(f"Buchungsnummer {code} bei Stadt Beispielstadt. Dieser Termin "
                                                    "ist abgesagt.")


def test_migration_0009_gives_existing_appointments_sequence_0_and_goes_down_and_up_again(tmp_path: Path) -> None:
    from alembic import command

    def check(engine: Any) -> None:
        command.upgrade(alembic_config(engine), "0008")
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO appointments (slug, location_id, service_id, starts_at, ends_at, counter, persons, "
                "status, code, created_at, confirmation_mails) VALUES ('stadt', 'rathaus', 'personalausweis', "
                "'2026-12-08 07:00:00', '2026-12-08 07:15:00', 1, 1, 'booked', 'ALT1-CODE', '2026-12-01 07:00:00', 0)"))
        migrate(engine)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT sequence FROM appointments WHERE code = 'ALT1-CODE'")).scalar() == 0
        command.downgrade(alembic_config(engine), "0008")
        assert "sequence" not in {c["name"] for c in inspect(engine).get_columns("appointments")}
        migrate(engine)
        assert "sequence" in {c["name"] for c in inspect(engine).get_columns("appointments")}
        engine.dispose()

    check(make_engine(f"sqlite:///{tmp_path / 'down-up.sqlite3'}"))
    need_service(postgres_reachable(), "PostgreSQL")
    with fresh_postgres_database("portal_migration") as url:
        check(make_engine(url))


# ---------------------------------------------------------------- examples (issue 17)


@pytest.fixture
def example_app(app_settings: dict[str, Any], fixture_output: Path, tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    """The booking site whose Rathaus has an address and opening hours nobody could source."""
    output = with_booking(fixture_output, tmp_path / "example-output")
    path = output / "stadt" / "katalog.json"
    katalog = json.loads(path.read_text(encoding="utf-8"))
    katalog["locations"]["rathaus"]["beispiel_felder"] = ["address", "opening_hours"]
    katalog["services"]["personalausweis-beantragen"]["beispiel_felder"] = ["documents"]
    path.write_text(json.dumps(katalog), encoding="utf-8")
    application = create_app(make_settings(**{**app_settings, "output_dir": output}))
    application.config.update(TESTING=True, CLOCK=clock)
    yield application
    application.extensions["db_engine"].dispose()


def test_an_example_address_and_example_hours_are_never_shown_as_facts(example_app: Flask) -> None:
    note = "Beispielangabe – nicht amtlich"
    browser, _ = citizen(example_app)
    browser.get("/stadt/termine/personalausweis-beantragen/")
    assert f"Marktplatz 1, 48143 Beispielstadt ({note})" in visible_text(browser.text)
    browser.get(ID_CARD)
    assert f"({note})" in visible_text(browser.text)  # the address next to the calendar
    assert f"{note}: Die Öffnungszeiten dieses Standorts sind nicht amtlich geprüft." in visible_text(browser.text)
    choose(browser)
    assert f"Beispielstadt ({note})" in visible_text(browser.text)  # the reservation names the place
    browser.submit("buchen", aktion="buchen")
    page = visible_text(browser.text)
    assert page.count(f"Beispielstadt ({note})") == 2  # the confirmation and the summary
    assert f"{note}: Diese Liste ist nicht amtlich geprüft." in page  # what to bring
    code = re.search(r'<strong class="code">([A-Z0-9-]+)</strong>', browser.text).group(1)  # type: ignore[union-attr]
    event = Calendar.from_ical(browser.client.get(f"/stadt/termine/termin/{code}/termin.ics").data).walk("VEVENT")[0]
    assert str(event["location"]).endswith(f"Beispielstadt ({note})")


def test_a_sourced_address_carries_no_example_mark(app: Flask) -> None:
    browser, _ = citizen(app)
    browser.get("/stadt/termine/personalausweis-beantragen/")
    assert "Beispielangabe" not in browser.text
    browser.get(ID_CARD)
    assert "Beispielangabe" not in browser.text
