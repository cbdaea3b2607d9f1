"""axe-core and the 320 px reflow check over the dynamic pages and states that the journeys
do not pass: the booking's start page, a search without results, a page that does not
exist, the login with an error, an empty inbox, the development identity provider's start
page, and the staff area's login error, calendar feed, wrong date and block form with
errors. The journeys check every page they pass."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.journeys.conftest import STAFF_PASSWORD, Portal
from tests.journeys.steps import LOCATIONS, PHONE, citizen_tab, heading, log_in_with_password

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("slug", ["muenster", "kreis-warendorf"])  # a city and a district: the same templates
def test_citizen_pages_in_every_other_state(browser: Any, portal: Portal, slug: str) -> None:
    address = portal.citizen(f"zustaende.{slug}@example.org")
    with citizen_tab(browser, PHONE, axe=True) as (tab, check):
        tab.goto(f"{portal.url}/{slug}/termine/")
        assert heading(tab) == "Termin buchen"
        check("booking: the services")
        tab.goto(f"{portal.url}/{slug}/suche/?q=xqzvw")
        assert tab.locator("#suchstatus").inner_text().startswith("Keine Ergebnisse für „xqzvw“.")
        check("search without results")
        for path in (f"/{slug}/termine/gibt-es-nicht/", f"/{slug}/antrag/gibt-es-nicht/"):
            tab.goto(portal.url + path)
            assert heading(tab) == "Seite nicht gefunden"
            check(f"not found: {path}")
        tab.goto(f"{portal.url}/konto/anmelden?kommune={slug}")
        tab.fill("#feld-email", address)
        tab.fill("#feld-passwort", "nicht das Passwort")
        tab.click("main button:text-is('Anmelden')")
        expect(tab).to_have_title(re.compile(r"^Fehler: "))
        check("login with an error")
        log_in_with_password(tab, address, check)
        tab.wait_for_url("**/konto/")
        check("Mein Konto")
        tab.goto(portal.url + "/postfach/")
        assert "Ihr Postfach ist leer." in tab.locator("main").inner_text()
        check("empty inbox")
        tab.goto(f"{portal.url}/dev-idp/")  # the address `build.py serve` names when it starts
        assert heading(tab) == "Entwicklungs-Identitätsanbieter"
        check("the development identity provider's start page")
    check.assert_clean()


@pytest.mark.parametrize("slug", ["hamm", "kreis-coesfeld"])
def test_staff_pages_in_every_other_state(browser: Any, portal: Portal, clerks: dict[str, str], slug: str) -> None:
    location = LOCATIONS[slug]
    with citizen_tab(browser, PHONE, axe=True) as (tab, check):
        tab.goto(f"{portal.url}/{slug}/verwaltung/anmelden")
        tab.fill("#feld-benutzername", clerks[slug])
        tab.fill("#feld-passwort", "falsch falsch falsch")
        tab.click("main button:text-is('Anmelden')")
        assert "Benutzername oder Passwort sind nicht richtig." in tab.locator(".error-summary").inner_text()
        check("staff login with an error")
        tab.fill("#feld-passwort", STAFF_PASSWORD)
        tab.click("main button:text-is('Anmelden')")
        tab.goto(f"{portal.url}/{slug}/verwaltung/termine/{location}/?tag=31.02.2026")
        assert "Geben Sie ein gültiges Datum an" in tab.locator(".error-summary").inner_text()
        check("the day: a wrong date")
        tab.goto(f"{portal.url}/{slug}/verwaltung/termine/{location}/")
        tab.click("main button:text-is('Zeit sperren')")
        expect(tab.locator(".error-summary")).to_have_count(1)
        check("block form with errors")
        tab.goto(f"{portal.url}/{slug}/verwaltung/kalender/{location}")
        assert heading(tab) != ""
        check("calendar feed")
    check.assert_clean()
