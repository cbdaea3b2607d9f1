"""Registering on the way: a citizen who meets the login prompt in the middle of a booking
or a form registers, confirms the address from the mail and is back at that step, with the
chosen time still held and the password typed once. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask

from dynamic import create_app
from dynamic.platform.db import db
from dynamic.platform.models import Account, Appointment, EmailToken, KeptForm
from tests.dynamic.booking_fixtures import MONDAY_MORNING, Clock, with_booking
from tests.dynamic.browserlike import Browser
from tests.dynamic.conftest import Mailbox, make_settings

ID_CARD = "/stadt/termine/personalausweis-beantragen/rathaus/"
TUESDAY = "2026-12-08"
EMAIL = "nora.neu@example.org"
PASSWORD = "Regenbogen Teekanne Segelboot"


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


def citizen_from(app: Flask, page: str = "/stadt/") -> Browser:
    """A browser that came from the municipality's pages: it sends them as referrer, as a
    browser does under Referrer-Policy same-origin (the account pages wear that look)."""
    browser = Browser(app.test_client())
    browser.client.environ_base["HTTP_REFERER"] = "http://localhost" + page
    return browser


def choose_nine(browser: Browser) -> None:
    browser.get(f"{ID_CARD}{TUESDAY}/")
    value = re.search(r'value="([^"]+)"[^>]*>\s*<label for="[^"]+">09:00 Uhr', browser.text)
    assert value
    browser.submit("zeitwahl", zeit=value.group(1))


def the_hold(app: Flask) -> Appointment:
    with app.app_context():
        [appointment] = db().query(Appointment).all()
        return appointment


def register_from_login(browser: Browser) -> None:
    """On the login page: "Konto anlegen", then the form with the password typed once."""
    link = re.search(r'<a href="([^"]+)">Konto anlegen</a>', browser.text)
    assert link, browser.text
    assert "Danach geht es an derselben Stelle weiter." in browser.text
    browser.get(unescape(link.group(1)))
    assert "<h1>Konto anlegen</h1>" in browser.text
    assert "Nach der Bestätigung Ihrer E-Mail-Adresse kommen Sie an die Stelle zurück, an der Sie waren." in browser.text
    assert "passwort_wiederholen" not in browser.text and browser.text.count('type="password"') == 1
    browser.submit("/konto/registrieren", email=EMAIL, passwort=PASSWORD, datenschutz="ja")


def test_registering_from_a_booking_holds_the_time_and_leads_back_to_it(
        app: Flask, clock: Clock, mailbox: Mailbox, send_mail: Any) -> None:
    browser = citizen_from(app, ID_CARD)
    choose_nine(browser)
    hold = the_hold(app)
    reservation = f"/stadt/termine/reservierung/{hold.code}"
    assert browser.url == "http://localhost/konto/anmelden?stufe=basis&weiter=" + quote(reservation, safe="")
    assert f'href="/konto/registrieren?weiter={quote(reservation, safe="")}"' in browser.text

    register_from_login(browser)
    assert "<h1>Fast geschafft</h1>" in browser.text
    # 07:00 in Münster plus the half hour a guest has for the mail as well.
    assert ("Ihr Termin „Personalausweis beantragen“ am Dienstag, 8. Dezember 2026 um 09:00 Uhr bleibt bis "
            "07:30 Uhr für Sie reserviert.") in browser.text
    assert "dorthin zurück, wo Sie waren." in browser.text
    with app.app_context():
        held = db().get(Appointment, hold.id)
        assert held is not None and held.held_until == hold.created_at + dt.timedelta(minutes=30)
        [token] = db().query(EmailToken).all()
        assert token.return_to is not None and token.return_to.startswith(reservation + "?s=")

    assert send_mail() == 1
    link = mailbox.link(EMAIL, "/konto/bestaetigen/")
    body = mailbox.to(EMAIL)[0].get_content()
    assert "reservierung" not in body and "weiter" not in link and "stadt" not in body  # the target stays on the server
    assert "Öffnen Sie ihn am besten auf dem Gerät, mit dem Sie das Konto angelegt haben" in body

    clock.advance(minutes=25)  # longer than a hold lasts without the mail
    browser.get(link)  # the browser that registered: no password again
    assert browser.url.startswith(f"http://localhost{reservation}")
    assert "<h1>Termin prüfen und buchen</h1>" in browser.text
    assert "Wir halten diese Zeit bis 07:30 Uhr für Sie frei." in browser.text
    assert "Verbindlich buchen" in browser.text and 'name="email"' not in browser.text
    browser.submit("buchen", aktion="buchen")
    assert "Ihr Termin ist gebucht." in browser.text
    with app.app_context():
        [account] = db().query(Account).all()
        assert account.email_confirmed_at is not None
        booked = db().get(Appointment, hold.id)
        assert booked is not None and (booked.status, booked.account_id) == ("booked", account.id)


def test_confirming_in_another_browser_asks_the_password_and_still_leads_back(
        app: Flask, mailbox: Mailbox, send_mail: Any) -> None:
    browser = citizen_from(app, ID_CARD)
    choose_nine(browser)
    hold = the_hold(app)
    register_from_login(browser)
    send_mail()
    phone = Browser(app.test_client())  # the mail opened on another device
    phone.get(mailbox.link(EMAIL, "/konto/bestaetigen/"))
    assert "<h1>E-Mail-Adresse bestätigen</h1>" in phone.text
    phone.submit(0, passwort=PASSWORD)
    assert phone.url.startswith(f"http://localhost/stadt/termine/reservierung/{hold.code}?s=")
    assert "<h1>Termin prüfen und buchen</h1>" in phone.text
    phone.submit("buchen", aktion="buchen")
    assert "Ihr Termin ist gebucht." in phone.text


def test_the_hold_ends_half_an_hour_after_it_began_however_often_one_registers(
        app: Flask, clock: Clock, mailbox: Mailbox, send_mail: Any) -> None:
    browser = citizen_from(app, ID_CARD)
    choose_nine(browser)
    hold = the_hold(app)
    login_page = browser.url
    for _ in range(3):
        browser.get(login_page)
        register_from_login(browser)
        clock.advance(minutes=9)
    with app.app_context():
        held = db().get(Appointment, hold.id)
        assert held is not None and held.held_until == hold.created_at + dt.timedelta(minutes=30)
    clock.advance(minutes=4)  # 31 minutes after the hold began
    send_mail()
    browser.get(mailbox.link(EMAIL, "/konto/bestaetigen/"))
    assert "Reservierung abgelaufen" in browser.text
    assert "Ihre Reservierung ist abgelaufen und der Termin wurde wieder freigegeben." in browser.text


def test_a_hold_made_before_the_login_cannot_be_booked_without_an_account(app: Flask) -> None:
    """Another path to a booking: the held time's page with a guest's e-mail address, for a
    service that needs an account. It sends to the login; nothing is mailed or booked."""
    browser = citizen_from(app, ID_CARD)
    choose_nine(browser)
    hold = the_hold(app)
    page = browser.client.get(f"/stadt/termine/reservierung/{hold.code}")
    assert page.status_code == 303 and page.headers["Location"].startswith("/konto/anmelden?stufe=basis")
    browser.get(ID_CARD + TUESDAY + "/")
    token = browser.form("zeitwahl").fields["csrf_token"]
    response = browser.client.post(f"/stadt/termine/reservierung/{hold.code}",
                                   data={"csrf_token": token, "aktion": "buchen", "email": "gast@example.org"})
    assert response.status_code == 303 and "/konto/anmelden" in response.headers["Location"]
    with app.app_context():
        held = db().get(Appointment, hold.id)
        assert held is not None and (held.status, held.email) == ("held", None)


def test_registering_from_a_form_leads_back_to_it_and_keeps_what_was_sent(
        app: Flask, mailbox: Mailbox, send_mail: Any) -> None:
    step = "/stadt/antrag/meldebescheinigung/person/"
    browser = citizen_from(app, "/stadt/antrag/meldebescheinigung/")
    browser.get("/stadt/antrag/meldebescheinigung/")
    assert "<h1>Anmelden</h1>" in browser.text
    response = browser.client.post(step, data={"csrf_token": browser.form("/konto/anmelden").fields["csrf_token"],
                                               "vorname": "Nora"})
    assert response.status_code == 303  # answers sent without a login wait, encrypted, for the login
    browser.get(response.headers["Location"])
    register_from_login(browser)
    with app.app_context():
        [kept] = db().query(KeptForm).all()
        [token] = db().query(EmailToken).all()
        assert token.return_to == step
    send_mail()
    browser.get(mailbox.link(EMAIL, "/konto/bestaetigen/"))
    assert browser.url.startswith("http://localhost/stadt/antrag/meldebescheinigung/")
    assert "Meldebescheinigung" in browser.text
    with app.app_context():
        assert db().get(KeptForm, kept.token_hash) is not None  # still there for its page
    with browser.client.session_transaction() as cookie:
        assert "kept_form" in cookie


@pytest.mark.parametrize("target", ["/kreis/termine/", "/konto/daten"])
def test_only_targets_of_the_same_municipality_or_the_account_are_carried(
        target: str, app: Flask, mailbox: Mailbox, send_mail: Any) -> None:
    browser = citizen_from(app)
    browser.get("/konto/registrieren?weiter=" + quote(target, safe=""))
    carried = target.startswith("/konto/")
    assert ('name="weiter"' in browser.text) is carried
    browser.submit("/konto/registrieren", email=EMAIL, passwort=PASSWORD, datenschutz="ja")
    send_mail()
    browser.get(mailbox.link(EMAIL, "/konto/bestaetigen/"))
    assert browser.url == ("http://localhost" + target if carried else "http://localhost/konto/?hinweis=bestaetigt")


def test_the_login_prompt_offers_the_way_on_without_an_account(app: Flask) -> None:
    """The reservation of a guest-bookable time sends to the login with `ohne_konto`: the
    login page offers that way back, also after a failed login."""
    browser = citizen_from(app)
    way = "/kreis/termine/reservierung/ABCD-EF23#ohne-konto"
    browser.get("/konto/anmelden?" + f"weiter={quote(way.split('#')[0], safe='')}&ohne_konto={quote(way, safe='')}")
    assert '<h2 id="ohne-konto">Ohne Konto</h2>' in browser.text
    assert f'<a class="button" href="{way}">Ohne Konto weiter mit Ihrer E-Mail-Adresse</a>' in browser.text
    browser.submit("/konto/anmelden", email="niemand@example.org", passwort="falsch falsch falsch")
    assert "E-Mail-Adresse oder Passwort sind nicht richtig." in browser.text
    assert "Ohne Konto weiter mit Ihrer E-Mail-Adresse" in browser.text


def test_without_a_known_municipality_the_targets_own_is_taken(app: Flask, mailbox: Mailbox,
                                                                  send_mail: Any) -> None:
    """A form opened from a search engine: no page of the portal came first. The target's
    municipality is then the registration's, and its look is worn."""
    browser = Browser(app.test_client())
    browser.get("/konto/registrieren?weiter=" + quote("/stadt/antrag/meldebescheinigung/", safe=""))
    assert 'name="weiter" value="/stadt/antrag/meldebescheinigung/"' in browser.text
    assert "Stadt Beispielstadt" in browser.text
    browser.submit("/konto/registrieren", email=EMAIL, passwort=PASSWORD, datenschutz="ja")
    send_mail()
    browser.get(mailbox.link(EMAIL, "/konto/bestaetigen/"))
    assert browser.url == "http://localhost/stadt/antrag/meldebescheinigung/"


def test_migration_0010_keeps_waiting_tokens_and_goes_down_and_up_again(tmp_path: Path) -> None:
    """A confirmation link mailed before the upgrade still works after it (no target kept)."""
    from alembic import command
    from sqlalchemy import inspect, text

    from dynamic.platform.db import alembic_config, make_engine, migrate
    from tests.dynamic.conftest import fresh_postgres_database, need_service, postgres_reachable

    def check(engine: Any) -> None:
        command.upgrade(alembic_config(engine), "0009")
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO accounts (id, email, password_hash, created_at) "
                "VALUES (1, 'alt@example.org', 'x', '2026-12-01 07:00:00')"))
            connection.execute(text(
                "INSERT INTO email_tokens (token_hash, purpose, account_id, created_at, expires_at) "
                "VALUES ('" + "a" * 64 + "', 'confirm', 1, '2026-12-01 07:00:00', '2026-12-02 07:00:00')"))
        migrate(engine)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT purpose, return_to FROM email_tokens")).one() == ("confirm", None)
        command.downgrade(alembic_config(engine), "0009")
        assert "return_to" not in {c["name"] for c in inspect(engine).get_columns("email_tokens")}
        migrate(engine)
        assert "return_to" in {c["name"] for c in inspect(engine).get_columns("email_tokens")}
        engine.dispose()

    check(make_engine(f"sqlite:///{tmp_path / 'down-up.sqlite3'}"))
    need_service(postgres_reachable(), "PostgreSQL")
    with fresh_postgres_database("portal_migration_0010") as url:
        check(make_engine(url))
