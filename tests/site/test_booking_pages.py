"""The booking pages in Debian's chromium: axe in every state, without JavaScript, on a
phone, and by keyboard."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from generator.pipeline import build
from tests.conftest import FIXTURE_CONTENT, TODAY, _free_port
from tests.dynamic.test_booking_earliest import two_towns
from tests.site.test_browser import axe_violations

pytestmark = pytest.mark.browser

KREIS = "/kreis/termine/personalausweis-beantragen/rathaus-nordort/"


@pytest.fixture(scope="module")
def booking_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Flask]]:
    """The booking sites served on a free port; in the district the ID card is bookable in
    both towns (two_towns)."""
    from werkzeug.serving import make_server

    from dynamic import create_app
    from dynamic.platform.config import settings_from_env
    from dynamic.serve import migrate_database

    root = tmp_path_factory.mktemp("booking-site")
    build(FIXTURE_CONTENT, root / "built", today=TODAY, show_progress=False)
    output = two_towns(root / "built", root / "output")
    port = _free_port()
    settings = {"output_dir": output, "var_dir": root / "var", "base_url": f"http://127.0.0.1:{port}"}
    migrate_database(**settings)
    app = create_app(settings_from_env({}, **settings))
    httpd = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}", app
    httpd.shutdown()


@pytest.fixture(scope="module")
def booking_server(booking_app: tuple[str, Flask]) -> str:
    return booking_app[0]


@pytest.mark.parametrize("javascript", [False, True], ids=["without-js", "with-js-and-axe"])
def test_booking_on_a_phone_works_without_javascript_and_has_no_axe_violations(
        browser: Any, booking_server: str, javascript: bool) -> None:
    """The pages run no script of their own, so the same walk is made twice: without
    JavaScript (it must work) and with it (so that axe can run in the page)."""
    context = browser.new_context(bypass_csp=True, java_script_enabled=javascript, locale="de-DE",
                                  viewport={"width": 320, "height": 640})
    tab = context.new_page()
    found: dict[str, list[str]] = {}

    def check(label: str) -> None:
        if not javascript:
            return
        if violations := axe_violations(tab):
            found[label] = violations
        assert tab.evaluate("document.documentElement.scrollWidth") <= 320, label

    for path in ["/kreis/termine/", "/kreis/termine/personalausweis-beantragen/", KREIS]:
        tab.goto(booking_server + path)
        check(path)
    tab.click("table.calendar td.free a >> nth=0")
    assert tab.locator("legend").inner_text() == "Uhrzeit wählen"
    check("times")
    tab.click("button:has-text('Uhrzeit reservieren')")
    expect(tab).to_have_title(re.compile(r"^Fehler: "))
    assert "Wählen Sie eine Uhrzeit." in tab.locator(".error-summary").inner_text()
    check("times with error")
    tab.check("input[name=zeit] >> nth=0")
    tab.click("button:has-text('Uhrzeit reservieren')")
    assert tab.locator("h1").inner_text() == "Termin prüfen und buchen"
    check("hold")
    tab.click("button:has-text('Bestätigungslink anfordern')")
    assert tab.locator("#feld-email").get_attribute("aria-invalid") == "true"
    check("hold with error")
    tab.fill("#feld-email", f"handy.{javascript}@example.org")
    tab.click("button:has-text('Bestätigungslink anfordern')")
    assert tab.locator("h1").inner_text() == "Bitte bestätigen Sie Ihre E-Mail-Adresse"
    check("mail sent")
    assert found == {}
    context.close()


def test_the_calendar_and_times_work_by_keyboard(browser: Any, booking_server: str) -> None:
    context = browser.new_context(locale="de-DE")
    tab = context.new_page()
    tab.goto(booking_server + KREIS)
    first_free = tab.locator("table.calendar td.free a").first
    first_free.focus()
    tab.keyboard.press("Enter")
    tab.wait_for_selector("legend")
    tab.locator("input[name=zeit]").first.focus()
    tab.keyboard.press("Space")
    assert tab.locator("input[name=zeit]").first.is_checked()
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.textContent.trim()") == "Uhrzeit reservieren"
    tab.keyboard.press("Enter")
    tab.wait_for_selector("h1:has-text('Termin prüfen und buchen')")
    context.close()


MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
          "November", "Dezember")


def moment(text: str) -> tuple[int, int, int, str]:
    """"Dienstag, 8. Dezember 2026, 08:00 Uhr" → (2026, 12, 8, "08:00"), to compare in order."""
    found = re.search(r"(\d+)\. (\w+) (\d{4}), (\d\d:\d\d) Uhr", text)
    assert found, text
    return int(found.group(3)), MONTHS.index(found.group(2)) + 1, int(found.group(1)), found.group(4)


@pytest.mark.parametrize("javascript", [False, True], ids=["without-js", "with-js-and-axe"])
def test_the_earliest_time_across_towns_booked_without_an_account_on_a_phone(
        browser: Any, booking_app: tuple[str, Flask], javascript: bool) -> None:
    """Each town's next free time on the choice of location; the earliest times across both
    towns, the earliest first, chosen directly; the reservation offers booking without an
    account beside the login; the confirmation shows what to bring and the fees."""
    from dynamic.platform.db import db
    from dynamic.platform.models import OutboxItem

    url, app = booking_app
    context = browser.new_context(bypass_csp=True, java_script_enabled=javascript, locale="de-DE",
                                  viewport={"width": 390, "height": 844})
    tab = context.new_page()
    found: dict[str, list[str]] = {}

    def check(label: str) -> None:
        if javascript and (violations := axe_violations(tab)):
            found[label] = violations
        assert tab.evaluate("document.documentElement.scrollWidth") <= 390, label

    tab.goto(url + "/kreis/termine/personalausweis-beantragen/")
    places = tab.locator("ul.places li")
    assert places.count() == 2
    next_free = {}
    for item in places.all():
        town = item.locator("a").first.inner_text().split(":")[0]
        line = item.locator(".next-free").inner_text()
        assert line.startswith("Nächster freier Termin: "), line
        next_free[town] = moment(line)
    assert set(next_free) == {"Nordort", "Südort"}
    check("locations with their next free time")

    tab.click("main a.button:text-is('Früheste freie Zeit an allen Standorten')")
    assert tab.locator("h1").inner_text() == "Personalausweis beantragen: früheste freie Zeit an allen Standorten"
    labels = tab.locator("#fruehestewahl label").all_inner_texts()
    times = [moment(label) for label in labels]
    assert times == sorted(times) and times[0] == min(next_free.values())
    assert {label.split("\n")[1].split(":")[0] for label in labels} == {"Nordort", "Südort"}
    check("earliest times")

    tab.check("input[name=wahl] >> nth=0")
    tab.click("main button:text-is('Uhrzeit reservieren')")
    assert tab.locator("h1").inner_text() == "Termin prüfen und buchen"
    assert tab.locator("main h2#ohne-konto").inner_text() == "Ohne Konto weiter mit Ihrer E-Mail-Adresse"
    assert tab.locator("main button:text-is('Anmelden oder Konto anlegen')").count() == 1
    check("hold: without an account or log in")
    address = f"frueh.{'js' if javascript else 'ohne-js'}@example.org"
    tab.fill("#feld-email", address)
    tab.click("main button:text-is('Bestätigungslink anfordern')")
    assert tab.locator("h1").inner_text() == "Bitte bestätigen Sie Ihre E-Mail-Adresse"
    with app.app_context():
        everything = [item.payload for item in db().query(OutboxItem).all()]
        mails = [payload for payload in everything if payload.get("to") == address]
    assert mails, everything
    link = re.search(r"http://127\.0\.0\.1:\d+(/kreis/termine/bestaetigen/\S+)", mails[-1]["body"])
    assert link, mails
    tab.goto(url + link.group(1))
    tab.click("main button:text-is('Termin verbindlich buchen')")
    assert tab.locator("h1").inner_text() == "Termin gebucht"
    main = tab.locator("main").inner_text()
    assert "Postfach" not in main and "Bitte bewahren Sie die E-Mail auf" in main
    assert tab.locator("section[aria-labelledby=mitbringen] li").all_inner_texts() == [
        "Ihr bisheriger Personalausweis oder Reisepass", "Ein biometrisches Lichtbild"]
    assert tab.locator("section[aria-labelledby=kosten] td").first.inner_text() != ""
    check("booked")
    assert found == {}
    context.close()
