"""\"Meine Daten\": stored data, verified values, prefill, the JSON download and deletion.

Every test runs on SQLite and on PostgreSQL (the `app` fixture). Logins are made directly
(a login session row and its token in the cookie), independent of the login pages."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from dynamic.accounts.profile import Prefill, StoredValue, prefill, save_back, store_identity, stored_values
from dynamic.appointments.claims import add_claims
from dynamic.platform import auth
from dynamic.platform.db import db, session_scope
from dynamic.platform.models import (
    Account,
    Application,
    Appointment,
    Base,
    EmailToken,
    FormDraft,
    LoginSession,
    Message,
    Office,
    OutboxItem,
    ProfileValue,
    SlotClaim,
    utcnow,
)
from tests.dynamic.browserlike import Browser
from tests.dynamic.test_auth import kept_on_server

EMAIL = "anna.beispiel@example.org"
PASSWORD = "Fahrradkeller am Aasee 17"
EID = "Online-Ausweis (eID)"

SAVED = "Ihre Daten wurden gespeichert."
KEPT = "Sie mussten sich neu anmelden. Ihre Eingaben sind noch da – bitte prüfen und speichern Sie sie."
CONFIRMED = "Ihre Angaben aus dem Online-Ausweis sind jetzt als bestätigt gespeichert."
DELETED = "Ihr Konto und alle gespeicherten Daten wurden gelöscht."
BIRTHDATE = "Geben Sie Ihr Geburtsdatum als Tag, Monat und Jahr an, zum Beispiel 27 3 1985."

COMPLETE = {
    "given_name": "Anna Maria", "family_name": "Beispiel", "birth_name": "Muster",
    "birthdate-day": "7", "birthdate-month": "3", "birthdate-year": "1985",
    "place_of_birth": "Münster", "nationality": "deutsch", "street": "Prinzipalmarkt 1",
    "postal_code": "48143", "city": "Münster", "country": "", "phone": "+49 (251) 123-456",
    "preferred_contact": "telefon",
}


def make_account(app: Flask, email: str | None = EMAIL, password: str | None = None, confirmed: bool = True,
                 **columns: Any) -> int:
    with session_scope(app) as session:
        account = Account(email=email, password_hash=PasswordHasher().hash(password) if password else None,
                          email_confirmed_at=utcnow() if confirmed and email else None, **columns)
        session.add(account)
        session.flush()
        return account.id


def log_in(client: FlaskClient, app: Flask, account_id: int, level: str = "basis", means: str = "konto") -> str:
    """Log the client in as a login page would: a login session row and its token in the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with session_scope(app) as session:
        session.add(LoginSession(token_hash=auth.token_hash(token), account_id=account_id, level=level, means=means,
                                 created_at=now, level_since=now, last_seen_at=now))
    with client.session_transaction() as cookie:
        cookie["sid"] = token
    return token


def logged_in_browser(app: Flask, level: str = "basis", **account: Any) -> tuple[Browser, int]:
    browser = Browser(app.test_client())
    account_id = make_account(app, **account)
    log_in(browser.client, app, account_id, level=level, means="eid" if level == "hoch" else "konto")
    return browser, account_id


def identity(app: Flask, account_id: int, values: dict[str, str], verified: bool = True) -> None:
    with app.app_context():
        store_identity(account_id, values, EID, verified)
        db().commit()


def stored(app: Flask, account_id: int) -> dict[str, StoredValue]:
    with app.app_context():
        return stored_values(account_id)


def plain(values: dict[str, StoredValue]) -> dict[str, str]:
    return {name: value.value for name, value in values.items()}


def login_redirect(response: Any) -> tuple[str, dict[str, list[str]]]:
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    return location.path, parse_qs(location.query)


def today_de() -> str:
    return utcnow().strftime("%d.%m.%Y")


# --- Meine Daten: the page and saving ------------------------------------------------------

@pytest.mark.parametrize("path", ["/konto/daten", "/konto/daten/export", "/konto/loeschen"])
def test_pages_with_stored_data_ask_for_a_basis_login(app: Flask, path: str) -> None:
    response = app.test_client().get(path)
    assert login_redirect(response) == ("/konto/anmelden", {"stufe": ["basis"], "weiter": [path]})


def test_saving_my_data_stores_every_field_and_shows_them_again(app: Flask) -> None:
    browser, account_id = logged_in_browser(app)
    browser.get("/konto/daten")
    assert browser.status == 200
    assert "<title>Meine Daten – Bürgerportal</title>" in browser.text

    browser.submit("/konto/daten", **COMPLETE)

    assert browser.url == "http://localhost/konto/daten"
    assert f'<div class="notice" role="status"><p>{SAVED}</p></div>' in browser.text
    assert plain(stored(app, account_id)) == {
        "given_name": "Anna Maria", "family_name": "Beispiel", "birth_name": "Muster", "birthdate": "1985-03-07",
        "place_of_birth": "Münster", "nationality": "deutsch", "street": "Prinzipalmarkt 1", "postal_code": "48143",
        "city": "Münster", "phone": "+49 (251) 123-456", "preferred_contact": "telefon",
    }
    assert not any(value.verified for value in stored(app, account_id).values())
    fields = browser.form("/konto/daten").fields
    assert {name: fields.get(name) for name in COMPLETE if name != "country"} == \
        {name: value for name, value in COMPLETE.items() if name != "country"}
    browser.get("/konto/daten")
    assert SAVED not in browser.text  # said once


def test_emptying_a_field_deletes_it_and_spaces_are_tidied(app: Flask) -> None:
    browser, account_id = logged_in_browser(app)
    browser.get("/konto/daten")
    browser.submit("/konto/daten", **COMPLETE)
    browser.submit("/konto/daten", birth_name="", phone="", preferred_contact="", given_name="  Anna   Maria ",
                   postal_code="48 143")
    values = plain(stored(app, account_id))
    assert "birth_name" not in values and "phone" not in values and "preferred_contact" not in values
    assert values["given_name"] == "Anna Maria"
    assert values["postal_code"] == "48143"


def test_a_single_name_and_a_foreign_postal_code_are_accepted(app: Flask) -> None:
    browser, account_id = logged_in_browser(app)
    browser.get("/konto/daten")
    browser.submit("/konto/daten", family_name="Sukarno", postal_code="1012 AB", city="Amsterdam",
                   country="Niederlande")
    assert SAVED in browser.text
    assert plain(stored(app, account_id)) == {"family_name": "Sukarno", "postal_code": "1012 AB",
                                              "city": "Amsterdam", "country": "Niederlande"}


def assert_field_error(text: str, field: str, message: str) -> None:
    assert "<title>Fehler: Meine Daten – Bürgerportal</title>" in text
    assert '<h2 id="fehler-titel">Es gibt ein Problem</h2>' in text
    assert f'<li><a href="#feld-{field}">{message}</a></li>' in text
    assert (f'<p class="error-message" id="fehler-{field}"><span class="visually-hidden">Fehler:</span> '
            f"{message}</p>") in text
    assert re.search(rf'aria-describedby="[^"]*\bfehler-{field}\b', text)
    assert f'id="feld-{field}"' in text


NEXT_YEAR = str(dt.date.today().year + 1)


@pytest.mark.parametrize(("typed", "field", "message"), [
    ({"birthdate-day": "31", "birthdate-month": "2", "birthdate-year": "1985"}, "birthdate", BIRTHDATE),
    ({"birthdate-day": "", "birthdate-month": "3", "birthdate-year": "1985"}, "birthdate", BIRTHDATE),
    ({"birthdate-day": "7", "birthdate-month": "März", "birthdate-year": "1985"}, "birthdate", BIRTHDATE),
    ({"birthdate-day": "7", "birthdate-month": "3", "birthdate-year": NEXT_YEAR}, "birthdate",
     "Ihr Geburtsdatum muss in der Vergangenheit liegen."),
    ({"birthdate-day": "7", "birthdate-month": "3", "birthdate-year": "85"}, "birthdate",
     "Geben Sie das Jahr Ihres Geburtsdatums mit vier Ziffern an, zum Beispiel 1985."),
    ({"birthdate-day": "7", "birthdate-month": "3", "birthdate-year": "1850"}, "birthdate",
     "Prüfen Sie das Jahr Ihres Geburtsdatums: Es darf nicht vor 1900 liegen."),
    ({"postal_code": "4814"}, "postal_code", "Geben Sie eine Postleitzahl mit 5 Ziffern an, zum Beispiel 48143."),
    ({"postal_code": "48l43", "country": "Deutschland"}, "postal_code",
     "Geben Sie eine Postleitzahl mit 5 Ziffern an, zum Beispiel 48143."),
    ({"phone": "0251 12345 ab 18 Uhr"}, "phone",
     "Geben Sie Ihre Telefonnummer nur mit Ziffern, Leerzeichen und den Zeichen + / - ( ) an, zum Beispiel 0251 123456."),
    ({"phone": "110"}, "phone", "Geben Sie Ihre Telefonnummer mit Vorwahl an, zum Beispiel 0251 123456."),
    ({"given_name": "A" * 201}, "given_name", "Kürzen Sie die Angabe auf höchstens 200 Zeichen."),
    ({"preferred_contact": "fax"}, "preferred_contact", "Wählen Sie einen der angebotenen Kontaktwege."),
    ({"preferred_contact": "telefon"}, "phone",
     "Geben Sie Ihre Telefonnummer an oder wählen Sie einen anderen Kontaktweg."),
    ({"preferred_contact": "brief", "city": "Münster"}, "street",
     "Geben Sie Ihre Anschrift an oder wählen Sie einen anderen Kontaktweg."),
])
def test_a_wrong_value_is_explained_at_the_field_and_nothing_typed_is_lost(
        app: Flask, typed: dict[str, str], field: str, message: str) -> None:
    browser, account_id = logged_in_browser(app)
    browser.get("/konto/daten")
    browser.submit("/konto/daten", **({"given_name": "Anna", "family_name": "Beispiel"} | typed))

    assert browser.status == 400
    assert_field_error(browser.text, field, message)
    fields = browser.form("/konto/daten").fields
    offered = {name: value for name, value in typed.items() if name != "preferred_contact" or value != "fax"}
    assert {name: fields.get(name) for name in offered} == offered
    assert fields["family_name"] == "Beispiel"
    assert stored(app, account_id) == {}


def test_all_errors_are_listed_at_once_in_the_order_of_the_page(app: Flask) -> None:
    browser, _ = logged_in_browser(app)
    browser.get("/konto/daten")
    browser.submit("/konto/daten", phone="x", postal_code="1", **{"birthdate-year": "1985"})
    summary = re.search(r'<div class="error-summary".*?</div>', browser.text, re.S)
    assert summary is not None
    assert re.findall(r'href="#feld-(\w+)"', summary.group(0)) == ["birthdate", "postal_code", "phone"]


def test_contact_by_email_needs_an_email_address(app: Flask) -> None:
    browser, _ = logged_in_browser(app, email=None, bpk2="bpk2-ohne-mail")
    browser.get("/konto/daten")
    assert "Sie haben noch keine E-Mail-Adresse hinterlegt." in browser.text
    assert '<a href="/konto/email">E-Mail-Adresse hinterlegen</a>' in browser.text
    browser.submit("/konto/daten", preferred_contact="email")
    assert_field_error(browser.text, "preferred_contact",
                       "Hinterlegen Sie zuerst eine E-Mail-Adresse oder wählen Sie einen anderen Kontaktweg.")


def test_the_page_shows_the_email_address_read_only_with_a_link_to_change_it(app: Flask) -> None:
    browser, _ = logged_in_browser(app)
    browser.get("/konto/daten")
    assert f"<p class=\"value\"><strong>{EMAIL}</strong></p>" in browser.text
    assert f"Bestätigt am {today_de()}." in browser.text
    assert '<a href="/konto/email">E-Mail-Adresse ändern</a>' in browser.text
    assert 'name="email"' not in browser.text
    assert '<a href="/konto/daten/export" download>Alle meine Daten herunterladen (maschinenlesbare Datei)</a>' in browser.text
    assert '<a href="/konto/loeschen">Konto und alle Daten löschen</a>' in browser.text


def test_every_input_has_a_label_and_groups_have_a_legend(app: Flask) -> None:
    browser, _ = logged_in_browser(app)
    browser.get("/konto/daten")
    text = browser.text
    for input_id in re.findall(r'<input id="([^"]+)"', text):
        assert f'<label for="{input_id}">' in text, input_id
    for radio_id in re.findall(r'<input type="radio" id="([^"]+)"', text):
        assert f'<label for="{radio_id}">' in text, radio_id
    assert "<legend>Geburtsdatum <span class=\"optional\">(freiwillig)</span></legend>" in text
    assert "<legend>Bevorzugter Kontaktweg <span class=\"optional\">(freiwillig)</span></legend>" in text
    assert 'autocomplete="bday-day"' in text and 'autocomplete="bday-year"' in text
    assert re.search(r'name="phone" type="tel" value="" autocomplete="tel"', text)


# --- Verified values -------------------------------------------------------------------------

EID_VALUES = {"given_name": "Erika", "family_name": "Mustermann", "birthdate": "1964-08-12",
              "street": "Heidestraße 17", "postal_code": "51147", "city": "Köln", "country": "DE"}


def test_verified_values_show_source_and_date_and_offer_no_input(app: Flask) -> None:
    browser, account_id = logged_in_browser(app)
    identity(app, account_id, EID_VALUES)
    browser.get("/konto/daten")
    note = f"Bestätigt durch {EID} am {today_de()}. Diese Angabe können Sie nicht von Hand ändern."
    assert browser.text.count(note) == len(EID_VALUES)
    assert "<p class=\"value\"><strong>12.08.1964</strong></p>" in browser.text
    assert "<p class=\"value\"><strong>Heidestraße 17</strong></p>" in browser.text
    fields = browser.form("/konto/daten").fields
    assert not set(fields) & (set(EID_VALUES) | {"birthdate-day", "birthdate-month", "birthdate-year"})
    assert "birth_name" in fields and "phone" in fields


def test_a_request_cannot_change_a_verified_value_but_saves_the_rest(app: Flask) -> None:
    browser, account_id = logged_in_browser(app)
    identity(app, account_id, EID_VALUES)
    browser.get("/konto/daten")
    browser.submit("/konto/daten", given_name="Mallory", street="Falsche Straße 1",
                   **{"birthdate-day": "1", "birthdate-month": "1", "birthdate-year": "1990"}, phone="0251 123456")

    assert SAVED in browser.text
    assert ("Bestätigte Angaben können Sie nicht von Hand ändern. Unverändert geblieben: "
            "Vorname(n), Geburtsdatum, Straße und Hausnummer.") in browser.text
    values = stored(app, account_id)
    assert {name: values[name].value for name in EID_VALUES} == EID_VALUES
    assert all(values[name].verified and values[name].source == EID for name in EID_VALUES)
    assert values["phone"] == StoredValue("0251 123456", False, None, None)


def test_an_unverified_login_does_not_overwrite_a_typed_value(app: Flask) -> None:
    _, account_id = logged_in_browser(app)
    with app.app_context():
        from dynamic.accounts.profile import set_values
        set_values(account_id, {"city": "Telgte"})
        db().commit()
    identity(app, account_id, {"city": "Münster", "street": "Domplatz 1"}, verified=False)
    assert plain(stored(app, account_id)) == {"city": "Telgte", "street": "Domplatz 1"}


# --- What they had typed is kept across a new login -----------------------------------------

def test_a_post_after_the_login_ended_is_kept_and_offered_after_logging_in_again(app: Flask) -> None:
    browser, account_id = logged_in_browser(app)
    browser.get("/konto/daten")
    form = browser.form("/konto/daten")
    with session_scope(app) as session:  # the login times out while the citizen types
        session.query(LoginSession).filter_by(account_id=account_id).delete()

    typed = {"given_name": "Anna", "family_name": "Beispiel", "phone": "0251 98765", "preferred_contact": "telefon",
             "birthdate-day": "7", "birthdate-month": "3", "birthdate-year": "1985"}
    response = browser.client.post("/konto/daten", data=form.fields | typed)
    assert login_redirect(response) == ("/konto/anmelden", {"stufe": ["basis"], "weiter": ["/konto/daten"]})
    assert stored(app, account_id) == {}

    log_in(browser.client, app, account_id)
    browser.get("/konto/daten")
    assert f'<div class="notice" role="status"><p>{KEPT}</p></div>' in browser.text
    fields = browser.form("/konto/daten").fields
    assert {name: fields.get(name) for name in typed} == typed
    assert stored(app, account_id) == {}  # not saved until the citizen saves

    browser.get("/konto/daten")  # offered once
    assert KEPT not in browser.text
    assert browser.form("/konto/daten").fields.get("given_name") == ""


def test_a_password_is_never_kept_in_the_cookie(app: Flask) -> None:
    browser, account_id = logged_in_browser(app, password=PASSWORD)
    browser.get("/konto/loeschen")
    form = browser.form("/konto/loeschen")
    with session_scope(app) as session:
        session.query(LoginSession).filter_by(account_id=account_id).delete()
    response = browser.client.post("/konto/loeschen",
                                   data=form.fields | {"bestaetigung": "ja", "passwort": PASSWORD})
    assert login_redirect(response)[0] == "/konto/anmelden"
    with browser.client.session_transaction() as cookie:
        assert PASSWORD not in str(dict(cookie))
        kept = kept_on_server(app, cookie["kept_form"])
    assert kept["data"] == {"bestaetigung": ["ja"]} and PASSWORD not in str(kept)
    assert account_exists(app, account_id)


# --- Identität bestätigen (step-up to hoch) ---------------------------------------------------

def test_confirming_the_identity_asks_a_basis_login_for_the_eid(app: Flask) -> None:
    browser, _ = logged_in_browser(app)
    browser.get("/konto/daten")
    assert '<a class="button" href="/konto/daten/nachweis">Mit dem Online-Ausweis bestätigen</a>' in browser.text
    response = browser.client.get("/konto/daten/nachweis")
    assert login_redirect(response) == ("/konto/anmelden",
                                        {"stufe": ["hoch"], "weiter": ["/konto/daten/nachweis"]})


def test_after_the_eid_login_the_page_says_the_values_are_confirmed(app: Flask) -> None:
    browser, account_id = logged_in_browser(app, level="hoch")
    identity(app, account_id, EID_VALUES)
    browser.get("/konto/daten/nachweis")
    assert browser.url == "http://localhost/konto/daten"
    assert f'<div class="notice" role="status"><p>{CONFIRMED}</p></div>' in browser.text


def test_an_eid_login_without_values_does_not_claim_them_confirmed(app: Flask) -> None:
    browser, _ = logged_in_browser(app, level="hoch")
    browser.get("/konto/daten/nachweis")
    assert CONFIRMED not in browser.text
    assert ("Sie sind mit dem Online-Ausweis angemeldet, aber er hat keine Angaben übermittelt. "
            "Ihre gespeicherten Daten sind unverändert.") in browser.text


# --- Prefill and saving back for other forms --------------------------------------------------

def test_prefill_gives_each_mapped_field_with_its_verified_marker(app: Flask) -> None:
    account_id = make_account(app)
    identity(app, account_id, {"family_name": "Mustermann", "birthdate": "1964-08-12"})
    with app.app_context():
        from dynamic.accounts.profile import set_values
        set_values(account_id, {"phone": "0251 123456", "given_name": "Erika"})
        db().commit()
        confirmed_at = db().get(Account, account_id).email_confirmed_at  # type: ignore[union-attr]
        verified_at = stored_values(account_id)["family_name"].verified_at
        filled = prefill(account_id, {"nachname": "family_name", "vorname": "given_name", "geboren": "birthdate",
                                      "telefon": "phone", "mail": "email", "ort": "city"})
    assert filled == {
        "nachname": Prefill("Mustermann", True, EID, verified_at),
        "vorname": Prefill("Erika", False, None, None),
        "geboren": Prefill("1964-08-12", True, EID, verified_at),
        "telefon": Prefill("0251 123456", False, None, None),
        "mail": Prefill(EMAIL, True, "Bestätigungs-E-Mail", confirmed_at),
    }
    assert verified_at is not None and confirmed_at is not None


def test_prefill_offers_an_unconfirmed_email_address_as_unverified(app: Flask) -> None:
    account_id = make_account(app, confirmed=False)
    no_mail = make_account(app, email=None, bpk2="nur-servicekonto")
    with app.app_context():
        assert prefill(account_id, {"mail": "email"}) == {"mail": Prefill(EMAIL, False, None, None)}
        assert prefill(no_mail, {"mail": "email"}) == {}


def test_save_back_changes_only_typed_unverified_values(app: Flask) -> None:
    account_id = make_account(app)
    identity(app, account_id, {"family_name": "Mustermann"})
    with app.app_context():
        from dynamic.accounts.profile import set_values
        set_values(account_id, {"city": "Münster", "phone": "0251 1"})
        db().commit()
        changed = save_back(account_id, {"family_name": "Gabler", "city": "Münster", "phone": "", "street": "Domplatz 1",
                                         "email": "neu@example.org", "unknown": "x"})
        db().commit()
        email = db().get(Account, account_id).email  # type: ignore[union-attr]
    assert changed == ["street"]
    values = stored(app, account_id)
    assert plain(values) == {"family_name": "Mustermann", "city": "Münster", "phone": "0251 1", "street": "Domplatz 1"}
    assert values["family_name"].verified
    assert email == EMAIL


# --- The download of everything stored ------------------------------------------------------

def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, 30, tzinfo=dt.UTC)


def test_the_download_holds_everything_stored_about_the_citizen(app: Flask) -> None:
    account_id = make_account(app, password=PASSWORD, bpk2="bpk2:abc123", created_at=at(1),
                              last_login_at=at(20))
    other = make_account(app, email="bert@example.org", password=PASSWORD)
    with session_scope(app) as session:
        session.get(Account, account_id).email_confirmed_at = at(2)  # type: ignore[union-attr]
        session.add_all([
            ProfileValue(account_id=account_id, field="family_name", value="Mustermann", verified=True,
                         source=EID, verified_at=at(3), updated_at=at(3)),
            ProfileValue(account_id=account_id, field="phone", value="0251 123456", verified=False,
                         updated_at=at(4)),
            ProfileValue(account_id=other, field="family_name", value="Bertram", verified=False, updated_at=at(4)),
            LoginSession(token_hash="a" * 64, account_id=account_id, level="substantiell", means="zertifikat",
                         fallback_level="basis", fallback_means="konto", created_at=at(20),
                         level_since=at(20, 11), last_seen_at=at(20, 12)),
            LoginSession(token_hash="b" * 64, account_id=other, level="basis", means="konto", created_at=at(20),
                         level_since=at(20), last_seen_at=at(20)),
            EmailToken(token_hash="c" * 64, purpose="email_change", account_id=account_id,
                       new_email="anna.neu@example.org", created_at=at(5), expires_at=at(6)),
            OutboxItem(kind="mail", account_id=account_id, payload={"to": "anna.neu@example.org"},
                       created_at=at(5), not_before=at(5)),
            OutboxItem(kind="mail", account_id=other, payload={"to": "bert@example.org"}, created_at=at(5),
                       not_before=at(5)),
        ])
    client = app.test_client()
    token = log_in(client, app, account_id)

    response = client.get("/konto/daten/export")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="buergerportal-daten-{utcnow():%Y-%m-%d}.json"'
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_json()
    assert data["format"] == "buergerportal-datenauskunft/1"
    assert data["konto"] == {
        "e_mail": EMAIL, "e_mail_bestaetigt_am": "2026-11-02T10:30:00Z", "angelegt_am": "2026-11-01T10:30:00Z",
        "letzte_anmeldung_am": "2026-11-20T10:30:00Z", "passwort_gesetzt": True,
        "servicekonto_verknuepft": True, "servicekonto_pseudonym": "bpk2:abc123",
    }
    assert data["meine_daten"] == [
        {"feld": "family_name", "bezeichnung": "Familienname", "wert": "Mustermann", "bestaetigt": True,
         "quelle": EID, "bestaetigt_am": "2026-11-03T10:30:00Z", "geaendert_am": "2026-11-03T10:30:00Z"},
        {"feld": "phone", "bezeichnung": "Telefon", "wert": "0251 123456", "bestaetigt": False, "quelle": None,
         "bestaetigt_am": None, "geaendert_am": "2026-11-04T10:30:00Z"},
    ]
    sessions = sorted(data["anmeldungen"], key=lambda s: s["vertrauensniveau"])
    assert sessions[0]["vertrauensniveau"] == "basis"  # this download's own login
    assert sessions[0]["anmeldeweg"] == "Portalkonto mit E-Mail-Adresse und Passwort"
    assert sessions[1] == {
        "angemeldet_am": "2026-11-20T10:30:00Z", "zuletzt_aktiv_am": "2026-11-20T12:30:00Z",
        "vertrauensniveau": "substantiell", "vertrauensniveau_seit": "2026-11-20T11:30:00Z",
        "anmeldeweg": "Servicekonto mit Softwarezertifikat (ELSTER)", "rueckfall_vertrauensniveau": "basis",
    }
    assert data["e_mail_links"] == [{
        "zweck": "email_change", "neue_e_mail": "anna.neu@example.org", "erstellt_am": "2026-11-05T10:30:00Z",
        "gueltig_bis": "2026-11-06T10:30:00Z", "benutzt_am": None,
    }]
    assert data["e_mails"] == [{"art": "mail", "erstellt_am": "2026-11-05T10:30:00Z", "versendet_am": None}]
    body = response.get_data(as_text=True)
    for secret in ("a" * 64, "c" * 64, auth.token_hash(token), token, "$argon2id$"):
        assert secret not in body
    assert "bert" not in body.lower() and "Bertram" not in body


# --- Deleting the account -------------------------------------------------------------------

def account_exists(app: Flask, account_id: int) -> bool:
    with app.app_context():
        return db().get(Account, account_id) is not None


def test_the_deletion_page_explains_what_goes_and_asks_for_both_confirmations(app: Flask) -> None:
    browser, account_id = logged_in_browser(app, password=PASSWORD)
    browser.get("/konto/loeschen")
    assert "<title>Konto löschen – Bürgerportal</title>" in browser.text
    assert "<strong>Das können Sie nicht rückgängig machen.</strong>" in browser.text
    assert ('<label for="feld-bestaetigung">Ja, ich möchte mein Konto und alle gespeicherten Daten löschen.</label>'
            in browser.text)
    assert 'autocomplete="current-password"' in browser.text

    browser.submit("/konto/loeschen")
    assert browser.status == 400
    assert "<title>Fehler: Konto löschen – Bürgerportal</title>" in browser.text
    assert ('<li><a href="#feld-bestaetigung">Bestätigen Sie, dass Sie Ihr Konto und alle gespeicherten Daten '
            "löschen möchten.</a></li>") in browser.text
    assert '<li><a href="#feld-passwort">Geben Sie Ihr aktuelles Passwort ein.</a></li>' in browser.text
    assert 'aria-describedby="fehler-bestaetigung"' in browser.text
    assert re.search(r'aria-describedby="[^"]*fehler-passwort"', browser.text)

    browser.submit("/konto/loeschen", bestaetigung="ja", passwort="falsch geraten")
    assert browser.status == 400
    assert ('<li><a href="#feld-passwort">Das Passwort ist nicht richtig. Geben Sie Ihr aktuelles Passwort ein.'
            "</a></li>") in browser.text
    assert "falsch geraten" not in browser.text  # a password is never shown again
    assert browser.form("/konto/loeschen").fields["bestaetigung"] == "ja"
    assert account_exists(app, account_id)


def test_guessing_the_password_on_the_deletion_page_is_limited(app: Flask) -> None:
    browser, account_id = logged_in_browser(app, password=PASSWORD)
    browser.get("/konto/loeschen")
    for _ in range(5):
        browser.submit("/konto/loeschen", bestaetigung="ja", passwort="falsch geraten")
    browser.submit("/konto/loeschen", bestaetigung="ja", passwort=PASSWORD)
    assert ("Sie haben zu oft ein falsches Passwort eingegeben. Versuchen Sie es in 15 Minuten noch einmal."
            in browser.text)
    assert account_exists(app, account_id)


def rows_mentioning(app: Flask, needle: str) -> list[str]:
    found = []
    with app.app_context():
        for table in Base.metadata.sorted_tables:
            for row in db().execute(select(table)):
                if needle.lower() in json.dumps([str(value) for value in row], ensure_ascii=False).lower():
                    found.append(table.name)
    return found


def rows_referencing(app: Flask, account_id: int) -> dict[str, int]:
    counts = {}
    with app.app_context():
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if any(key.column.table.name == "accounts" for key in column.foreign_keys) or \
                        (table.name == "accounts" and column.name == "id"):
                    counts[f"{table.name}.{column.name}"] = db().scalar(
                        select(func.count()).select_from(table).where(column == account_id))
    return counts


def test_deleting_the_account_removes_everything_personal_and_ends_the_login(app: Flask) -> None:
    browser, account_id = logged_in_browser(app, password=PASSWORD, bpk2="bpk2:xyz")
    other = make_account(app, email="bert@example.org", password=PASSWORD)
    identity(app, account_id, EID_VALUES)
    with session_scope(app) as session:
        session.add_all([
            ProfileValue(account_id=account_id, field="phone", value="0251 123456", verified=False),
            LoginSession(token_hash="d" * 64, account_id=account_id, level="basis", means="konto"),
            EmailToken(token_hash="e" * 64, purpose="confirm", account_id=account_id,
                       expires_at=utcnow() + dt.timedelta(days=1)),
            OutboxItem(kind="mail", account_id=account_id, payload={"to": EMAIL}),
            OutboxItem(kind="mail", account_id=None, payload={"to": EMAIL}),  # e.g. "already registered"
            OutboxItem(kind="mail", account_id=other, payload={"to": "bert@example.org"}),
            Message(account_id=account_id, slug="stadt", sender="Stadt Beispielstadt", subject="Termin gebucht",
                    body="Ihr Termin für Anna Mustermann"),
        ])
        appointment = Appointment(slug="stadt", location_id="rathaus", service_id="personalausweis-beantragen",
                                  starts_at=utcnow() + dt.timedelta(days=2), ends_at=utcnow() + dt.timedelta(days=2, minutes=15),
                                  counter=1, status="booked", code="TEST-CODE", account_id=account_id)
        session.add(appointment)
        session.flush()
        add_claims(session, "stadt", "rathaus", 1, appointment.starts_at.replace(second=0, microsecond=0, minute=0),
                   appointment.starts_at.replace(second=0, microsecond=0, minute=15), appointment_id=appointment.id)
        office = Office(slug="stadt", unit_id="buergeramt", public_jwk={}, token_hash="f" * 64)
        session.add(office)
        session.flush()
        session.add_all([
            FormDraft(account_id=account_id, slug="stadt", form_id="meldebescheinigung", token="t1", data="sealed"),
            Application(reference="A-2026-TEST-0001", slug="stadt", form_id="meldebescheinigung", office_id=office.id,
                        account_id=account_id, submission_token="t0", jwe="for the office", citizen_copy="sealed"),
        ])
    assert set(rows_mentioning(app, EMAIL)) == {"accounts", "outbox"}
    assert all(rows_referencing(app, account_id).values())
    old_cookie = browser.client.get_cookie("sitzung")
    assert old_cookie is not None

    browser.get("/konto/loeschen")
    browser.submit("/konto/loeschen", bestaetigung="ja", passwort=PASSWORD)

    assert browser.url == "http://localhost/konto/geloescht"
    assert f'<div class="notice" role="status"><p>{DELETED}</p></div>' in browser.text
    assert "<title>Konto gelöscht – Bürgerportal</title>" in browser.text
    assert rows_referencing(app, account_id) == {
        "accounts.id": 0, "appointments.account_id": 0, "email_tokens.account_id": 0, "login_sessions.account_id": 0,
        "messages.account_id": 0, "outbox.account_id": 0, "profile_values.account_id": 0,
        "applications.account_id": 0, "form_drafts.account_id": 0,
    }
    with session_scope(app) as session:  # a sent application stays with the office, without the account
        assert session.query(Application).count() == 1
    with session_scope(app) as session:
        assert session.query(SlotClaim).count() == 0  # the appointment's time is free again
    assert rows_mentioning(app, EMAIL) == []
    for value in ("Mustermann", "Heidestraße", "bpk2:xyz", "0251 123456"):
        assert rows_mentioning(app, value) == [], value
    assert account_exists(app, other)
    assert rows_mentioning(app, "bert@example.org") == ["accounts", "outbox"]

    response = browser.client.get("/konto/daten")
    assert login_redirect(response)[0] == "/konto/anmelden"
    browser.client.set_cookie("sitzung", old_cookie.value)
    response = browser.client.get("/konto/daten")
    assert login_redirect(response)[0] == "/konto/anmelden"
    browser.get("/konto/geloescht")  # said once, not a page to bookmark
    assert DELETED not in browser.text


def test_an_account_without_password_is_deleted_with_the_checkbox_alone(app: Flask) -> None:
    browser, account_id = logged_in_browser(app, email=None, bpk2="bpk2:nur-servicekonto")
    identity(app, account_id, EID_VALUES)
    browser.get("/konto/loeschen")
    assert 'name="passwort"' not in browser.text
    assert "die Verknüpfung mit Ihrem Servicekonto (das Servicekonto selbst bleibt bestehen)" in browser.text
    browser.submit("/konto/loeschen", bestaetigung="ja")
    assert DELETED in browser.text
    assert not account_exists(app, account_id)
    assert rows_mentioning(app, "Mustermann") == []


def test_the_deleted_page_without_a_deletion_leads_to_the_account_page(app: Flask) -> None:
    response = app.test_client().get("/konto/geloescht")
    assert response.status_code == 303
    assert response.headers["Location"] == "/konto/"
