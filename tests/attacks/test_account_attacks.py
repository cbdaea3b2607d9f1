"""Attacks on the account, the inbox, /metrics and the local setup (issue 14), over HTTP
against the running app: telling known addresses by the work a request does, guessing the
current password, locking the owner out, flooding an office with replies, reading /metrics
with a forged address, and reading the development database from another user."""

from __future__ import annotations

import os
import re
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy import func, select

from dynamic.platform import passwords
from dynamic.platform.db import db
from dynamic.platform.models import Account, Application, ApplicationMessage, Message, Office, OutboxItem, utcnow
from tests.attacks.conftest import http_browser
from tests.dynamic.browserlike import Browser
from tests.dynamic.conftest import Mailbox
from tests.dynamic.forms_fixtures import office

EMAIL = "erika.probe@example.org"
PASSWORD = "Kirschbaum Fahrrad Leuchtturm"
UNCONFIRMED = "noch.offen@example.org"
STATE_ONLY = "nur.landeskonto@example.org"
UNKNOWN = "niemand.bekannt@example.org"
WRONG = "geraten geraten"


def register(browser: Browser, email: str = EMAIL, password: str = PASSWORD) -> None:
    browser.get("/konto/registrieren")
    browser.submit("/konto/registrieren", email=email, passwort=password, datenschutz="ja")


def registered_and_confirmed(browser: Browser, mailbox: Mailbox, send_mail: Any, email: str = EMAIL) -> None:
    register(browser, email)
    send_mail()
    browser.get(mailbox.link(email, "/konto/bestaetigen/"))  # the browser that registered: no password
    assert "Ihre E-Mail-Adresse ist bestätigt." in browser.text


def log_in(browser: Browser, email: str = EMAIL, password: str = PASSWORD) -> None:
    browser.get("/konto/anmelden")
    browser.submit("/konto/anmelden", email=email, passwort=password)


def log_out(browser: Browser) -> None:
    browser.get("/konto/abmelden")
    browser.submit("/konto/abmelden")


def state_login_only_account(app: Flask, email: str = STATE_ONLY) -> int:
    """An account reached only through the state login: it has no password."""
    with app.app_context():
        account = Account(email=email, email_confirmed_at=utcnow(), bpk2="bpk2-" + email)
        db().add(account)
        db().commit()
        return account.id


def from_address(browser: Browser, address: str) -> Browser:
    """Every request of this browser comes through the proxy for `address`."""
    browser.client.session.headers["X-Forwarded-For"] = address  # type: ignore[attr-defined]
    return browser


# ---------------------------------------------------------------- 1. the work tells known addresses


class CountingHasher(PasswordHasher):
    """The portal's argon2 hasher, counting every hash and verification it does."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.calls += 1
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> Any:  # noqa: A002 - argon2's name
        self.calls += 1
        return super().verify(hash, password)


@pytest.fixture
def argon2_work(live: str, monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    """Counts the argon2 operations of the running app (installed after the app started)."""
    counting = CountingHasher()
    monkeypatch.setattr(passwords, "hasher", counting)
    return counting


def argon2_operations(argon2_work: CountingHasher, action: Any) -> int:
    argon2_work.calls = 0
    action()
    return argon2_work.calls


def test_every_login_does_the_same_argon2_work_known_or_not(
        argon2_work: CountingHasher, visitor: Browser, mailbox: Mailbox, send_mail: Any, app: Flask) -> None:
    registered_and_confirmed(visitor, mailbox, send_mail)
    log_out(visitor)
    register(visitor, UNCONFIRMED)
    state_login_only_account(app)
    work = {
        "unknown address": argon2_operations(argon2_work, lambda: log_in(visitor, UNKNOWN, WRONG)),
        "known address, wrong password": argon2_operations(argon2_work, lambda: log_in(visitor, EMAIL, WRONG)),
        "not yet confirmed": argon2_operations(argon2_work, lambda: log_in(visitor, UNCONFIRMED)),
        "state login only": argon2_operations(argon2_work, lambda: log_in(visitor, STATE_ONLY, WRONG)),
        "known address, right password": argon2_operations(argon2_work, lambda: log_in(visitor)),
    }
    assert visitor.url.endswith("/konto/")
    assert work == dict.fromkeys(work, 1)


def test_every_registration_does_the_same_argon2_work_known_or_not(
        argon2_work: CountingHasher, visitor: Browser, mailbox: Mailbox, send_mail: Any) -> None:
    registered_and_confirmed(visitor, mailbox, send_mail)
    log_out(visitor)
    register(visitor, UNCONFIRMED)
    work = {
        "new address": argon2_operations(argon2_work, lambda: register(visitor, "ganz.neu@example.org")),
        "known, not yet confirmed": argon2_operations(argon2_work, lambda: register(visitor, UNCONFIRMED)),
        "known and confirmed": argon2_operations(argon2_work, lambda: register(visitor, EMAIL)),
    }
    assert "Wir haben Ihnen eine E-Mail geschickt." in visitor.text
    assert work == dict.fromkeys(work, 1)


def test_reset_and_address_change_requests_do_the_same_argon2_work(
        argon2_work: CountingHasher, visitor: Browser, mailbox: Mailbox, send_mail: Any, app: Flask) -> None:
    registered_and_confirmed(visitor, mailbox, send_mail)
    other = http_browser(visitor.url.split("/konto")[0])
    registered_and_confirmed(other, mailbox, send_mail, email="schon.vergeben@example.org")

    def reset(email: str) -> None:
        visitor.get("/konto/passwort-vergessen")
        visitor.submit("/konto/passwort-vergessen", email=email)
        assert "Wenn zu dieser Adresse ein Konto besteht" in visitor.text

    def change_address(email: str, password: str = PASSWORD) -> None:
        visitor.get("/konto/email")
        visitor.submit("/konto/email", email=email, passwort=password)
        assert "Wir haben einen Bestätigungslink an die neue Adresse geschickt." in visitor.text

    work = {
        "reset, known address": argon2_operations(argon2_work, lambda: reset(EMAIL)),
        "reset, unknown address": argon2_operations(argon2_work, lambda: reset(UNKNOWN)),
        "address change, free address": argon2_operations(argon2_work, lambda: change_address("frei@example.org")),
        "address change, taken address": argon2_operations(
            argon2_work, lambda: change_address("schon.vergeben@example.org")),
    }
    with app.app_context():  # the account now reaches the portal by the state login only
        account = db().scalar(select(Account).where(Account.email == EMAIL))
        assert account is not None
        account.password_hash = None
        db().commit()
    work["address change, no password"] = argon2_operations(argon2_work, lambda: change_address("x@example.org", ""))
    assert work == dict.fromkeys(work, 1)


# ---------------------------------------------------------------- 2. guessing the current password


@pytest.fixture
def three_failures(app_settings: dict[str, Any]) -> dict[str, Any]:
    app_settings["login_limit_account"] = "3/15 minutes"
    return app_settings


@pytest.mark.parametrize("page, field, others", [
    ("/konto/passwort", "aktuelles_passwort",
     {"passwort": "Gartenzaun Regenschirm Tulpe"}),
    ("/konto/email", "passwort", {"email": "erika.neu@example.org"}),
])
def test_the_current_password_cannot_be_guessed_without_limit(
        three_failures: dict[str, Any], page: str, field: str, others: dict[str, str], visitor: Browser,
        mailbox: Mailbox, send_mail: Any, app: Flask) -> None:
    registered_and_confirmed(visitor, mailbox, send_mail)  # someone else sits at the logged-in browser
    for guess in range(3):
        visitor.get(page)
        visitor.submit(page, **others, **{field: f"geraten {guess} geraten"})
        assert visitor.status == 200 and "Passwort ist nicht richtig." in visitor.text
    visitor.get(page)
    visitor.submit(page, **others, **{field: PASSWORD})  # even the right one is refused now
    assert visitor.status == 429
    assert ("Sie haben zu oft ein falsches Passwort eingegeben. Bitte warten Sie 15 Minuten "
            "und versuchen Sie es dann erneut.") in visitor.text
    with app.app_context():
        [account] = db().scalars(select(Account)).all()
        assert account.email == EMAIL and passwords.verify_password(account.password_hash, PASSWORD)
        assert db().scalar(select(func.count()).select_from(OutboxItem)) == 1  # only the confirmation mail


# ---------------------------------------------------------------- 3. locking the owner out


@pytest.fixture
def behind_proxy(app_settings: dict[str, Any]) -> dict[str, Any]:
    app_settings["trusted_proxies"] = 1
    return app_settings


def test_wrong_passwords_from_elsewhere_do_not_lock_the_owner_out(
        behind_proxy: dict[str, Any], live: str, mailbox: Mailbox, send_mail: Any) -> None:
    owner = from_address(http_browser(live), "203.0.113.20")
    registered_and_confirmed(owner, mailbox, send_mail)
    log_out(owner)
    attacker = from_address(http_browser(live), "198.51.100.66")
    for _ in range(5):
        log_in(attacker, password=WRONG)
        assert "E-Mail-Adresse oder Passwort sind nicht richtig." in attacker.text

    log_in(owner)  # from the owner's own address
    assert owner.status == 200 and owner.url.endswith("/konto/")
    assert "Mein Konto" in owner.text

    log_in(attacker, password=WRONG)
    assert attacker.status == 429
    assert "Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie 15 Minuten" in attacker.text
    assert "„Passwort vergessen?“" in attacker.text  # the owner's way in by mail
    log_in(attacker)  # the attacker stays limited, even with the right password
    assert attacker.status == 429 and "/konto/anmelden" in attacker.url


def test_guesses_from_one_ipv6_network_count_together(behind_proxy: dict[str, Any], live: str) -> None:
    attacker = http_browser(live)
    for number in range(5):  # one connection holds a whole /64: a new address for every guess
        from_address(attacker, f"2001:db8:1:2::{number + 1:x}")
        log_in(attacker, password=WRONG)
        assert "E-Mail-Adresse oder Passwort sind nicht richtig." in attacker.text
    from_address(attacker, "2001:db8:1:2:ffff::9")
    log_in(attacker, password=WRONG)
    assert attacker.status == 429 and "Zu viele fehlgeschlagene Anmeldeversuche." in attacker.text
    from_address(attacker, "2001:db8:1:3::1")  # another network
    log_in(attacker, password=WRONG)
    assert "E-Mail-Adresse oder Passwort sind nicht richtig." in attacker.text


# ---------------------------------------------------------------- 4. flooding an office with replies


@pytest.fixture
def two_replies_an_hour(app_settings: dict[str, Any]) -> dict[str, Any]:
    app_settings["reply_limit_account"] = "2/hour"
    return app_settings


def office_message(app: Flask, email: str) -> int:
    """An application of the account's and the office's message about it in the inbox."""
    amt = office(app)
    with app.app_context():
        account = db().scalar(select(Account).where(Account.email == email))
        assert account is not None
        office_row = db().scalar(select(Office).where(Office.slug == amt.slug, Office.unit_id == amt.unit))
        assert office_row is not None
        application = Application(reference="A-2026-TEST-0001", slug="stadt", form_id="meldebescheinigung",
                                  office_id=office_row.id, account_id=account.id, submission_token="t" * 40,
                                  jwe="verschluesselt", citizen_copy="verschluesselt")
        db().add(application)
        db().flush()
        message = Message(account_id=account.id, slug="stadt", sender="Bürgeramt", subject="Rückfrage",
                          body="Bitte schicken Sie uns noch einen Nachweis.", application_id=application.id)
        db().add(message)
        db().commit()
        return message.id


def test_replies_to_an_office_are_limited_and_the_text_is_kept(
        two_replies_an_hour: dict[str, Any], visitor: Browser, mailbox: Mailbox, send_mail: Any,
        app: Flask) -> None:
    registered_and_confirmed(visitor, mailbox, send_mail)
    message_id = office_message(app, EMAIL)
    for number in range(2):
        visitor.get(f"/postfach/{message_id}")
        visitor.submit(f"/postfach/{message_id}/antworten", antwort=f"Antwort Nummer {number}")
        assert visitor.status == 200 and "Ihre Antwort wurde verschlüsselt" in visitor.text
    visitor.get(f"/postfach/{message_id}")
    visitor.submit(f"/postfach/{message_id}/antworten", antwort="Noch eine Antwort, die nicht verloren geht")
    assert visitor.status == 429
    assert ("Sie haben in kurzer Zeit zu viele Antworten geschickt. Bitte warten Sie eine Stunde und senden Sie "
            "Ihre Antwort dann erneut.") in visitor.text
    assert re.search(r"<textarea[^>]*>Noch eine Antwort, die nicht verloren geht</textarea>", visitor.text)
    mailbox.clear()
    send_mail()
    assert len(mailbox.to("buergeramt@example.org")) == 2
    with app.app_context():
        assert db().scalar(select(func.count()).select_from(ApplicationMessage)) == 2


# ---------------------------------------------------------------- 5. /metrics with a forged address


def test_metrics_are_not_read_with_a_forged_forwarded_address(behind_proxy: dict[str, Any], live: str) -> None:
    assert requests.get(live + "/metrics", timeout=10).status_code == 200  # the machine itself
    forged = requests.get(live + "/metrics", headers={"X-Forwarded-For": "127.0.0.1"}, timeout=10)
    assert forged.status_code == 404
    assert "buergerportal_http_requests_total" not in forged.text
    # The proxy on this machine forwards a stranger's request: not local either.
    proxied = requests.get(live + "/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10)
    assert proxied.status_code == 404


# ---------------------------------------------------------------- 6. the local files


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.parametrize("already_there", [False, True])
def test_local_database_and_mail_are_readable_by_their_owner_only(
        already_there: bool, loose_umask: None, fixture_output: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from werkzeug.serving import make_server

    from dynamic import create_app
    from dynamic.platform.config import settings_from_env
    from dynamic.platform.outbox import process_outbox
    from dynamic.serve import migrate_database
    from tests.conftest import _free_port

    var = tmp_path / "var"
    if already_there:  # an older checkout made them readable by everyone
        (var / "mail").mkdir(parents=True)
        for folder in (var, var / "mail"):
            folder.chmod(0o755)
        (var / "portal.sqlite3").touch(mode=0o644)
    for variable in ("DATABASE_URL", "MAIL_URL", "PORTAL_ENV", "REDIS_URL", "TRUSTED_PROXIES"):
        monkeypatch.delenv(variable, raising=False)
    # What `build.py serve` does before it serves: migrate, then the app.
    migrate_database(output_dir=fixture_output, var_dir=var)
    app = create_app(settings_from_env({}, output_dir=fixture_output, var_dir=var))
    server = make_server("127.0.0.1", _free_port(), app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        visitor = http_browser(f"http://127.0.0.1:{server.server_port}")
        register(visitor)
        assert "Wir haben Ihnen eine E-Mail geschickt." in visitor.text
        assert process_outbox(app) == 1
    finally:
        server.shutdown()
        app.extensions["db_engine"].dispose()
    [mail] = list((var / "mail").glob("*.eml"))
    modes = {"var/": mode(var), "var/mail/": mode(var / "mail"), "portal.sqlite3": mode(var / "portal.sqlite3"),
             "the mail": mode(mail)}
    assert modes == {"var/": 0o700, "var/mail/": 0o700, "portal.sqlite3": 0o600, "the mail": 0o600}
    for extra in var.glob("portal.sqlite3-*"):  # SQLite's WAL and shared-memory files
        assert mode(extra) & 0o077 == 0, extra.name
