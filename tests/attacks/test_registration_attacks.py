"""Attacks on registering on the way: return addresses that lead off the portal or to another
municipality, someone else's held time, and floods of registrations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask

from dynamic import create_app
from dynamic.platform.auth import safe_target
from dynamic.platform.db import db
from dynamic.platform.models import Account, Appointment, EmailToken, OutboxItem
from tests.dynamic.booking_fixtures import MONDAY_MORNING, Clock, with_booking
from tests.dynamic.browserlike import Browser
from tests.dynamic.conftest import Mailbox, make_settings

PASSWORD = "Regenbogen Teekanne Segelboot"
ID_CARD = "/stadt/termine/personalausweis-beantragen/rathaus/"

# Each would lead off the portal, to another municipality, or somewhere a browser resolves
# differently from what the check saw.
HOSTILE = [
    "//boese.example/",
    "https://boese.example/",
    "http:/boese.example",
    "javascript:alert(1)",
    "/\\boese.example/",
    "\\\\boese.example",
    "/%5Cboese.example/",
    "/stadt/%5C%5Cboese.example",
    "/\tboese.example/",
    "/stadt/\r\nLocation: https://boese.example/",
    "/stadt/%0d%0aLocation:%20https://boese.example/",
    "/stadt/\u202etxt.exe",
    "/stadt/%E2%80%AEtxt.exe",
    "/stadt/../kreis/termine/",
    "/stadt/%2e%2e/kreis/termine/",
    "/stadt/.%2E/kreis/termine/",
    "/stadt//boese.example/",
    "/kreis/termine/",
    "/gibt-es-nicht/",
    "stadt/termine/",
    "/stadt/" + "x" * 2100,
]


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_targets_are_not_carried(target: str) -> None:
    assert safe_target(target, "stadt") is None


@pytest.mark.parametrize("target", ["/stadt/termine/reservierung/ABCD-EF23", "/stadt/antrag/hundesteuer/halter/?x=1",
                                    "/konto/daten", "/postfach/"])
def test_targets_of_the_municipality_and_the_account_are_carried(target: str) -> None:
    assert safe_target(target, "stadt") == target
    assert safe_target(target, "kreis") == (target if not target.startswith("/stadt/") else None)


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_MORNING)


@pytest.fixture
def app(app_settings: dict[str, Any], fixture_output: Path, tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    output = with_booking(fixture_output, tmp_path / "booking-output")
    application = create_app(make_settings(**{**app_settings, "output_dir": output,
                                               "request_limit_address": "3/hour"}))
    application.config.update(TESTING=True, CLOCK=clock)
    yield application
    application.extensions["db_engine"].dispose()


def from_stadt(app: Flask, address: str = "127.0.0.1") -> Browser:
    browser = Browser(app.test_client())
    browser.client.environ_base.update(HTTP_REFERER="http://localhost/stadt/", REMOTE_ADDR=address)
    return browser


@pytest.mark.parametrize("target", ["//boese.example/", "/\\boese.example/", "/stadt/%2e%2e/kreis/termine/",
                                    "/kreis/termine/", "/stadt/%0d%0aLocation:%20https://boese.example/"])
def test_a_crafted_target_never_becomes_the_way_back(target: str, app: Flask, mailbox: Mailbox,
                                                     send_mail: Any) -> None:
    """Whether in the registration link or sent by a crafted form, a hostile target is
    dropped: the confirmed citizen lands in their account, and the mail carries nothing."""
    browser = from_stadt(app)
    browser.get("/konto/registrieren?weiter=" + quote(target, safe=""))
    assert 'name="weiter"' not in browser.text and "boese" not in browser.text
    browser.submit("/konto/registrieren", email="ziel@example.org", passwort=PASSWORD, datenschutz="ja",
                   weiter=target)
    assert "<h1>Fast geschafft</h1>" in browser.text
    with app.app_context():
        assert [t.return_to for t in db().query(EmailToken).all()] == [None]
    send_mail()
    link = mailbox.link("ziel@example.org", "/konto/bestaetigen/")
    assert "boese" not in mailbox.to("ziel@example.org")[0].get_content()
    response = browser.client.get(link)
    assert response.status_code == 302 and response.headers["Location"] == "/konto/?hinweis=bestaetigt"


def test_someone_elses_held_time_is_neither_kept_nor_shown(app: Flask, clock: Clock) -> None:
    """A stranger who knows a booking code registers with that reservation as target: the
    hold is not prolonged, and the page says nothing about the appointment."""
    owner = from_stadt(app)
    owner.get(f"{ID_CARD}2026-12-08/")
    value = re.search(r'value="([^"]+)"[^>]*>\s*<label for="[^"]+">09:00 Uhr', owner.text)
    assert value
    owner.submit("zeitwahl", zeit=value.group(1))
    with app.app_context():
        [hold] = db().query(Appointment).all()
    stranger = from_stadt(app, "192.0.2.7")
    stranger.get("/konto/registrieren?weiter=" + quote(f"/stadt/termine/reservierung/{hold.code}", safe=""))
    stranger.submit("/konto/registrieren", email="fremd@example.org", passwort=PASSWORD, datenschutz="ja")
    assert "<h1>Fast geschafft</h1>" in stranger.text
    assert "reserviert" not in stranger.text and "09:00" not in stranger.text
    with app.app_context():
        again = db().get(Appointment, hold.id)
        assert again is not None and again.held_until == hold.held_until


def test_a_registration_flood_from_one_address_is_stopped(app: Flask, mailbox: Mailbox, send_mail: Any) -> None:
    browser = from_stadt(app)
    for number in range(3):
        browser.get("/konto/registrieren")
        browser.submit("/konto/registrieren", email=f"flut{number}@example.org", passwort=PASSWORD, datenschutz="ja")
        assert "<h1>Fast geschafft</h1>" in browser.text
    browser.get("/konto/registrieren")
    browser.submit("/konto/registrieren", email="flut9@example.org", passwort=PASSWORD, datenschutz="ja")
    assert browser.status == 429
    assert "Von Ihrem Anschluss kamen in kurzer Zeit zu viele Anfragen." in browser.text
    assert send_mail() == 3
    with app.app_context():
        assert db().query(Account).count() == 3


def test_a_registration_flood_against_one_mailbox_sends_five_mails_and_answers_the_same(
        app: Flask, mailbox: Mailbox, send_mail: Any) -> None:
    """From many addresses at once, each under its own limit: one mailbox gets at most five
    registration mails an hour, and the answer does not tell when the limit is reached."""
    answers = set()
    for number in range(8):
        browser = from_stadt(app, f"198.51.100.{number + 1}")
        browser.get("/konto/registrieren")
        browser.submit("/konto/registrieren", email="opfer@example.org", passwort=PASSWORD, datenschutz="ja")
        answers.add(re.sub(r'name="csrf_token" value="[^"]*"', "", browser.text))
    assert len(answers) == 1 and "<h1>Fast geschafft</h1>" in answers.pop()
    assert send_mail() == 5
    assert len(mailbox.to("opfer@example.org")) == 5
    with app.app_context():
        assert db().query(OutboxItem).count() == 5


@pytest.mark.parametrize("way", ["//boese.example/", "https://boese.example/", "/\\boese.example", "javascript:alert(1)"])
def test_the_way_without_an_account_never_leaves_the_portal(way: str, app: Flask) -> None:
    page = Browser(app.test_client()).get("/konto/anmelden?ohne_konto=" + quote(way, safe="")).get_data(as_text=True)
    assert "Ohne Konto weiter" not in page and "boese" not in page and "javascript:" not in page
