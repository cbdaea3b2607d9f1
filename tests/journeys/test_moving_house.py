"""Journey 1, moving house: search "umzug" → Wohnsitz anmelden → book an appointment at an
office (in a district: the town first) → the confirmation in the inbox → move it → cancel
it. On all four sites, on a phone (with axe on every page) and on a desktop, with and
without JavaScript."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.journeys.conftest import Portal
from tests.journeys.steps import (
    DESKTOP,
    DESKTOP_WITHOUT_JS,
    PHONE,
    SITES,
    Check,
    Device,
    Site,
    citizen_tab,
    heading,
    inbox_message,
    log_in_with_password,
    search_and_open,
)

pytestmark = pytest.mark.browser

SERVICE = "Wohnsitz anmelden"


def choose_a_time(tab: Any, check: Check, label: str, day: int, again: bool = False) -> str:
    """In the calendar: the `day`-th free day from now (on into the next month where this
    one has fewer), then its first free time; the time's label. Appointments can be moved or
    cancelled online until 24 hours before, so the journey books a few days ahead."""
    expect(tab.locator("table.calendar caption")).to_have_count(1)  # waits for the calendar page
    check(f"{label}: calendar", again)
    free = tab.locator("table.calendar td.free a")
    while free.count() <= day:
        day -= free.count()
        shown = tab.locator("table.calendar caption").inner_text()
        tab.click("main a:text-is('Nächster Monat')")
        expect(tab.locator("table.calendar caption")).not_to_have_text(shown)  # the next month is there
    free.nth(day).click()
    assert tab.locator("legend").inner_text() == "Uhrzeit wählen"
    check(f"{label}: times", again)
    first = tab.locator("input[name=zeit]").first
    first.check()
    return str(tab.locator(f"label[for='{first.get_attribute('id')}']").inner_text()).strip()


def appointment_facts(tab: Any) -> dict[str, str]:
    terms = tab.locator("dl.summary dt").all_inner_texts()
    values = tab.locator("dl.summary dd").all_inner_texts()
    return dict(zip(terms, values, strict=True))


def book(tab: Any, portal: Portal, site: Site, address: str, check: Check) -> None:
    """From the service page to a booked appointment (the appointment's page is open)."""
    tab.locator("main a.button", has_text="Termin online buchen").first.click()
    assert heading(tab) == f"{SERVICE}: Termin buchen"
    assert tab.locator("main h2").first.inner_text() == (
        "Stadt oder Gemeinde und Standort wählen" if site.town else "Standort wählen")
    check("choice of office")
    tab.locator("ul.places a", has_text=re.compile(rf"^{re.escape(site.booking_place)}$")).click()
    time = choose_a_time(tab, check, "booking", day=2)
    tab.click("main button:text-is('Uhrzeit reservieren')")
    if not site.guest_booking:
        # Asked to log in, with the chosen time held meanwhile; back at that time.
        tab.wait_for_url("**/konto/anmelden**")
        log_in_with_password(tab, address, check)
        tab.wait_for_url(re.compile(r".*/termine/reservierung/[A-Z0-9-]+$"))
    assert heading(tab) == "Termin prüfen und buchen"
    check("hold")
    if site.guest_booking:
        tab.fill("#feld-email", address)
        tab.click("main button:text-is('Bestätigungslink anfordern')")
        assert heading(tab) == "Bitte bestätigen Sie Ihre E-Mail-Adresse"
        check("asked to confirm by mail")
        mail = portal.mail(address, "Bitte bestätigen Sie Ihre Terminbuchung")
        link = re.search(r"(/hamm/termine/bestaetigen/\S+)", mail.get_content())
        assert link, mail.get_content()
        tab.goto(portal.url + link.group(1))
        assert heading(tab) == "Termin verbindlich buchen"
        check("confirmation link")
        tab.click("main button:text-is('Termin verbindlich buchen')")
    else:
        tab.click("main button:text-is('Verbindlich buchen')")
    assert heading(tab) == "Ihr Termin"
    assert tab.locator(".notice").inner_text().startswith("Ihr Termin ist gebucht.")
    facts = appointment_facts(tab)
    assert facts["Stand"] == "gebucht" and facts["Leistung"] == SERVICE
    assert time.split()[0] in facts["Uhrzeit"]
    check("booked")


@pytest.mark.parametrize("device", [PHONE, DESKTOP, DESKTOP_WITHOUT_JS], ids=lambda d: d.name)
@pytest.mark.parametrize("slug", list(SITES))
def test_moving_house(browser: Any, portal: Portal, slug: str, device: Device) -> None:
    site = SITES[slug]
    address = f"umzug.{slug}.{device.name}@example.org"
    if not site.guest_booking:
        portal.citizen(address)
    with citizen_tab(browser, device, axe=device is PHONE) as (tab, check):
        search_and_open(tab, portal, site, "umzug", SERVICE, check)
        book(tab, portal, site, address, check)
        code = appointment_facts(tab)["Buchungsnummer"]
        booked_on = appointment_facts(tab)["Datum"]

        # The confirmation: in the portal's inbox, and a mail that only links to it (no date,
        # no place: mails carry no personal data). A guest's inbox is the mail itself.
        body = portal.mail(address, "Ihr Termin ist gebucht").get_content()
        assert booked_on not in body and site.booking_place.split(": ")[-1] not in body
        if site.guest_booking:
            link = re.search(r"(/hamm/termine/termin/\S+)", body)
            assert link, body
            tab.goto(portal.url + link.group(1))  # the link works on a browser without a login
        else:
            text = inbox_message(tab, portal, f"Termin gebucht: {SERVICE}", check)
            assert f"Buchungsnummer: {code}" in text
            tab.click("main a.button:text-is('Zum Vorgang')")
        assert heading(tab) == "Ihr Termin" and appointment_facts(tab)["Buchungsnummer"] == code

        # Move it to another day.
        tab.click("main a.button:text-is('Termin verschieben')")
        choose_a_time(tab, check, "moving", day=3, again=True)
        tab.click("main button:text-is('Termin verschieben')")
        assert tab.locator(".notice").inner_text() == "Ihr Termin wurde verschoben."
        moved = appointment_facts(tab)
        assert moved["Buchungsnummer"] == code and moved["Stand"] == "gebucht"
        assert moved["Datum"] != booked_on
        check("moved")

        # Cancel it, after one question.
        tab.click("main a:text-is('Termin absagen')")
        assert heading(tab) == "Termin absagen?"
        check("asked before cancelling")
        tab.click("main button:text-is('Ja, Termin absagen')")
        tab.wait_for_load_state()
        assert tab.locator(".notice").inner_text() == "Ihr Termin ist abgesagt. Die Zeit ist für andere wieder frei."
        assert appointment_facts(tab)["Stand"] == "abgesagt"
        assert tab.locator("main a.button:text-is('Termin verschieben')").count() == 0
        check("cancelled")
        if not site.guest_booking:
            assert f"Buchungsnummer: {code}" in inbox_message(tab, portal, f"Termin abgesagt: {SERVICE}", check, again=True)
    check.assert_clean()
