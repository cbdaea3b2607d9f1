"""The portal account over HTTP: register, confirm, log in and out, reset, change, limits."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from dynamic.platform.db import db
from dynamic.platform.models import Account, EmailToken, LoginSession
from tests.dynamic.browserlike import Browser
from tests.dynamic.conftest import REDIS_TEST_URL, Mailbox, need_service, redis_prefix, redis_reachable

EMAIL = "erika.probe@example.org"
PASSWORD = "Kirschbaum Fahrrad Leuchtturm"


def register(browser: Browser, email: str = EMAIL, password: str = PASSWORD) -> None:
    browser.get("/konto/registrieren")
    browser.submit("/konto/registrieren", email=email, passwort=password, datenschutz="ja")


def registered_and_confirmed(browser: Browser, mailbox: Mailbox, send_mail: Any, email: str = EMAIL,
                             password: str = PASSWORD) -> None:
    register(browser, email, password)
    send_mail()
    browser.get(mailbox.link(email, "/konto/bestaetigen/"))  # in the browser that registered: no password


def log_in(browser: Browser, email: str = EMAIL, password: str = PASSWORD, weiter: str | None = None) -> None:
    browser.get("/konto/anmelden" + (f"?weiter={weiter}" if weiter else ""))
    browser.submit("/konto/anmelden", email=email, passwort=password)


def accounts_in(app: Flask) -> list[Account]:
    with app.app_context():
        return list(db().query(Account).all())


def test_register_confirm_and_log_in(browser: Browser, mailbox: Mailbox, send_mail: Any, app: Flask) -> None:
    register(browser)
    assert "Wir haben Ihnen eine E-Mail geschickt." in browser.text
    assert send_mail() == 1
    [message] = mailbox.to(EMAIL)
    assert message["Subject"] == "Bitte bestätigen Sie Ihr Konto im Bürgerportal"

    browser.get(mailbox.link(EMAIL, "/konto/bestaetigen/"))  # the browser that registered: the link is enough
    assert browser.url.endswith("/konto/?hinweis=bestaetigt")
    assert "Ihre E-Mail-Adresse ist bestätigt. Willkommen im Bürgerportal." in browser.text
    assert "Portalkonto mit E-Mail-Adresse und Passwort" in browser.text
    assert re.search(r"<dt>Vertrauensniveau</dt><dd>Konto mit E-Mail-Adresse</dd>", browser.text)

    browser.submit("/konto/abmelden")
    assert "Sie sind abgemeldet." in browser.text
    browser.get("/konto/")
    assert browser.url.startswith("http://localhost/konto/anmelden?stufe=basis")
    log_in(browser)
    assert browser.url == "http://localhost/konto/"
    [account] = accounts_in(app)
    assert account.password_hash is not None and account.password_hash.startswith("$argon2id$")


def test_confirmation_link_in_another_browser_needs_the_chosen_password(
        browser: Browser, mailbox: Mailbox, send_mail: Any, app: Flask) -> None:
    """Someone who registered another person's address cannot have that person confirm it
    (and then log in to their account): elsewhere the link asks for the chosen password."""
    register(browser)
    send_mail()
    other = Browser(app.test_client())
    other.get(mailbox.link(EMAIL, "/konto/bestaetigen/"))
    assert "Sie haben den Link auf einem anderen Gerät oder in einem anderen Browser geöffnet" in other.text
    other.submit(0, passwort="jemand anderes raet")
    assert "Das Passwort ist nicht richtig." in other.text
    assert "<title>Fehler: E-Mail-Adresse bestätigen" in other.text
    assert [a.email_confirmed_at for a in accounts_in(app)] == [None]
    other.submit(0, passwort=PASSWORD)
    assert other.url.endswith("/konto/?hinweis=bestaetigt")
    assert "Ihre E-Mail-Adresse ist bestätigt. Willkommen im Bürgerportal." in other.text


def test_mails_carry_no_personal_data(browser: Browser, mailbox: Mailbox, send_mail: Any) -> None:
    registered_and_confirmed(browser, mailbox, send_mail)
    browser.get("/konto/passwort-vergessen")
    browser.submit("/konto/passwort-vergessen", email=EMAIL)
    send_mail()
    assert len(mailbox.messages) == 2
    for message in mailbox.messages:
        body = message.get_content()
        assert EMAIL not in body and "erika" not in body.lower() and "probe" not in body.lower()


def test_unconfirmed_account_cannot_log_in(browser: Browser) -> None:
    register(browser)
    log_in(browser)
    assert "Bitte bestätigen Sie zuerst Ihre E-Mail-Adresse" in browser.text


@pytest.mark.parametrize("password", ["Fußball2024!", "password123", "Passwort", "aaaaaaaaaaaa"])
def test_common_passwords_are_refused(browser: Browser, password: str, app: Flask) -> None:
    register(browser, password=password)
    assert "<title>Fehler: Konto anlegen" in browser.text
    expected = ("Wählen Sie ein Passwort mit mindestens 10 Zeichen." if len(password) < 10 else
                "Dieses Passwort gehört zu den häufigsten Passwörtern und ist leicht zu erraten.")
    assert expected in browser.text
    assert 'href="#feld-passwort"' in browser.text and 'aria-describedby="hinweis-passwort fehler-passwort"' in browser.text
    assert accounts_in(app) == []


def test_registration_answers_the_same_for_known_and_unknown_addresses(
        browser: Browser, mailbox: Mailbox, send_mail: Any, app: Flask) -> None:
    registered_and_confirmed(browser, mailbox, send_mail)
    browser.submit("/konto/abmelden")
    mailbox.clear()
    register(browser)
    known_page = browser.text
    register(browser, email="noch.niemand@example.org")
    assert browser.text == known_page
    send_mail()
    [to_known] = mailbox.to(EMAIL)
    assert to_known["Subject"] == "Sie haben bereits ein Konto im Bürgerportal"
    # The existing account keeps its password.
    log_in(browser)
    assert browser.url == "http://localhost/konto/"


def test_password_reset_answers_the_same_and_ends_other_logins(
        browser: Browser, mailbox: Mailbox, send_mail: Any, app: Flask) -> None:
    registered_and_confirmed(browser, mailbox, send_mail)
    other_device = Browser(app.test_client())
    log_in(other_device)
    assert other_device.url == "http://localhost/konto/"

    reset = Browser(app.test_client())
    reset.get("/konto/passwort-vergessen")
    reset.submit("/konto/passwort-vergessen", email="unbekannt@example.org")
    unknown_answer = reset.text
    reset.get("/konto/passwort-vergessen")
    reset.submit("/konto/passwort-vergessen", email=EMAIL)
    assert reset.text == unknown_answer
    assert "Wenn zu dieser Adresse ein Konto besteht" in reset.text
    send_mail()
    link = mailbox.link(EMAIL, "/konto/passwort-neu/")
    reset.get(link)
    new_password = "Gartenzaun Regenschirm Tulpe"
    reset.submit(0, passwort=new_password)
    assert "Ihr neues Passwort ist gespeichert." in reset.text

    other_device.get("/konto/")
    assert "/konto/anmelden" in other_device.url
    log_in(other_device)
    assert "E-Mail-Adresse oder Passwort sind nicht richtig." in other_device.text
    log_in(other_device, password=new_password)
    assert other_device.url == "http://localhost/konto/"
    reset.get(link)
    assert "Dieser Link ist abgelaufen oder wurde schon benutzt." in reset.text


def test_log_out_everywhere(browser: Browser, mailbox: Mailbox, send_mail: Any, app: Flask) -> None:
    registered_and_confirmed(browser, mailbox, send_mail)
    phone = Browser(app.test_client())
    log_in(phone)
    phone.get("/konto/")
    browser.get("/konto/")
    browser.submit("/konto/ueberall-abmelden")
    assert "Sie sind jetzt auf allen Geräten abgemeldet." in browser.text
    phone.get("/konto/")
    assert "/konto/anmelden" in phone.url
    with app.app_context():
        assert db().query(LoginSession).count() == 0


def test_change_email_with_confirmation(browser: Browser, mailbox: Mailbox, send_mail: Any, app: Flask) -> None:
    registered_and_confirmed(browser, mailbox, send_mail)
    new = "erika.neu@example.org"
    browser.get("/konto/email")
    browser.submit("/konto/email", email=new, passwort=PASSWORD)
    assert "Wir haben einen Bestätigungslink an die neue Adresse geschickt." in browser.text
    send_mail()
    assert mailbox.to(EMAIL)[-1]["Subject"] == "Ihre E-Mail-Adresse im Bürgerportal soll geändert werden"
    assert [a.email for a in accounts_in(app)] == [EMAIL]  # nothing changes before the link is opened
    browser.get(mailbox.link(new, "/konto/email/bestaetigen/"))
    browser.submit(0)
    assert "Ihre neue E-Mail-Adresse ist bestätigt und gespeichert." in browser.text
    assert [a.email for a in accounts_in(app)] == [new]
    browser.submit("/konto/abmelden")
    log_in(browser, email=new)
    assert browser.url == "http://localhost/konto/"


def test_wrong_password_and_unknown_address_get_the_same_answer(browser: Browser, mailbox: Mailbox,
                                                                send_mail: Any) -> None:
    registered_and_confirmed(browser, mailbox, send_mail)
    browser.submit("/konto/abmelden")
    log_in(browser, password="falsches Passwort hier")
    wrong_password = without_csrf_token(browser.text)
    log_in(browser, email="niemand@example.org")
    assert without_csrf_token(browser.text).replace("niemand@example.org", EMAIL) == wrong_password
    assert "E-Mail-Adresse oder Passwort sind nicht richtig." in wrong_password


def without_csrf_token(html: str) -> str:
    """The form's CSRF token carries the second it was signed in, so two answers differ there."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", html)


@pytest.fixture(params=["memory", "redis"])
def limited_settings(request: pytest.FixtureRequest, app_settings: dict[str, Any]) -> Iterator[dict[str, Any]]:
    app_settings["login_limit_account"] = "3/15 minutes"
    app_settings["login_limit_address"] = "5/15 minutes"
    if request.param == "memory":
        yield app_settings
        return
    need_service(redis_reachable(), "Redis")
    with redis_prefix() as prefix:
        app_settings.update(redis_url=REDIS_TEST_URL, redis_prefix=prefix)  # before `app` reads them
        yield app_settings


def test_login_guessing_is_stopped_per_account_and_per_address(
        limited_settings: dict[str, Any], browser: Browser, mailbox: Mailbox, send_mail: Any, app: Flask) -> None:
    registered_and_confirmed(browser, mailbox, send_mail)
    browser.submit("/konto/abmelden")
    for _ in range(3):
        log_in(browser, password="geraten geraten")
        assert "E-Mail-Adresse oder Passwort sind nicht richtig." in browser.text
    log_in(browser)  # the right password, but the account's limit is reached
    assert browser.status == 429
    assert "Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie 15 Minuten" in browser.text
    assert "/konto/anmelden" in browser.url
    # Guessing other accounts from the same address runs into the address limit.
    for number in range(2):
        log_in(browser, email=f"andere{number}@example.org", password="geraten geraten")
    log_in(browser, email="noch.eine@example.org", password="geraten geraten")
    assert browser.status == 429


def test_post_without_csrf_token_is_refused_and_stores_nothing(app: Flask) -> None:
    client = app.test_client()
    response = client.post("/konto/registrieren", data={"email": EMAIL, "passwort": PASSWORD, "datenschutz": "ja"})
    assert response.status_code == 400
    assert "Das Formular war veraltet oder unvollständig" in response.get_data(as_text=True)
    assert accounts_in(app) == []


def test_login_issues_a_new_session_no_fixation(browser: Browser, mailbox: Mailbox, send_mail: Any,
                                                app: Flask) -> None:
    registered_and_confirmed(browser, mailbox, send_mail)
    browser.submit("/konto/abmelden")
    browser.get("/konto/anmelden")
    planted = browser.client.get_cookie("sitzung")
    assert planted is not None
    attacker = app.test_client()
    attacker.set_cookie("sitzung", planted.value)
    browser.submit("/konto/anmelden", email=EMAIL, passwort=PASSWORD)
    after = browser.client.get_cookie("sitzung")
    assert after is not None and after.value != planted.value
    response = attacker.get("/konto/")
    assert response.status_code == 302 and "/konto/anmelden" in response.headers["Location"]


@pytest.mark.parametrize("target", ["https://boese.example/", "//boese.example/", "/\\boese.example/",
                                    "javascript:alert(1)", "http:/boese.example"])
def test_return_address_never_leaves_the_portal(target: str, browser: Browser, mailbox: Mailbox,
                                                send_mail: Any) -> None:
    registered_and_confirmed(browser, mailbox, send_mail)
    browser.submit("/konto/abmelden")
    response = browser.client.get("/konto/anmelden", query_string={"weiter": target})
    page_text = response.get_data(as_text=True)
    assert "boese.example" not in page_text and "javascript:" not in page_text
    browser.response = response
    browser.url = "http://localhost/konto/anmelden"
    form = browser.form("/konto/anmelden")
    form.fields["weiter"] = target  # also when a crafted form sends it
    response = browser.client.post("/konto/anmelden", data={**form.fields, "email": EMAIL, "passwort": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/konto/"


def test_return_address_within_the_portal_is_followed(browser: Browser, mailbox: Mailbox, send_mail: Any) -> None:
    registered_and_confirmed(browser, mailbox, send_mail)
    browser.submit("/konto/abmelden")
    log_in(browser, weiter="/konto/daten")
    assert browser.url == "http://localhost/konto/daten"


def test_logs_carry_no_personal_data(caplog: pytest.LogCaptureFixture, browser: Browser, mailbox: Mailbox,
                                     send_mail: Any) -> None:
    with caplog.at_level(logging.DEBUG):
        registered_and_confirmed(browser, mailbox, send_mail)
        browser.submit("/konto/abmelden")
        log_in(browser, password="falsch falsch falsch")
        log_in(browser)
    # Everything the portal logs; "mail.log" is the test's SMTP server, which stands for the mail provider.
    text = "\n".join(record.getMessage() for record in caplog.records if not record.name.startswith("mail.log"))
    assert "POST /konto/anmelden 302" in text  # requests are logged ...
    token = mailbox.link(EMAIL, "/konto/bestaetigen/").rsplit("/", 1)[1]
    for secret in (EMAIL, "erika", PASSWORD, "127.0.0.1", token):
        assert secret not in text  # ... but without who, from where, or which link
    with browser.client.application.app_context():
        tokens = db().query(EmailToken).all()
    assert all(len(t.token_hash) == 64 for t in tokens)


def test_cookies_are_http_only_and_same_site(browser: Browser) -> None:
    browser.get("/konto/anmelden")
    header = browser.response.headers["Set-Cookie"] if browser.response else ""
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header


def test_behind_tls_cookies_are_secure_host_only_and_hsts_is_sent(app_settings: dict[str, Any]) -> None:
    from dynamic import create_app
    from tests.dynamic.conftest import make_settings

    app = create_app(make_settings(**{**app_settings, "base_url": "https://portal.example"}))
    response = app.test_client().get("/konto/anmelden", base_url="https://portal.example")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-sitzung=") and "Secure" in cookie and "HttpOnly" in cookie
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    app.extensions["db_engine"].dispose()
