"""Journey: a first-time citizen registers on the way, on a phone without JavaScript. In
Münster: a Personalausweis appointment → the login prompt → "Konto anlegen" (the password
typed once) → the confirmation link from the real mail → back at the chosen time, still held
→ booked. The steps are shared with the journeys from the home page
(test_first_time_citizen.py); what the citizen reads is asserted at every step."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest

from tests.journeys.conftest import Portal
from tests.journeys.steps import PHONE_WITHOUT_JS, Check, Device, citizen_tab, heading
from tests.journeys.test_moving_house import appointment_facts, choose_a_time

pytestmark = pytest.mark.browser

PASSWORD = "Kastanienbaum Wolkenkratzer Igel"
SERVICE = "Personalausweis beantragen"


def main_text(tab: Any) -> str:
    return " ".join(str(tab.locator("main").inner_text()).split())


def register_once(tab: Any, address: str, device: Device, check: Check) -> None:
    """From the login prompt: "Konto anlegen", the address and the password, typed once."""
    assert heading(tab) == "Anmelden"
    assert "Noch kein Konto? Konto anlegen. Danach geht es an derselben Stelle weiter." in main_text(tab)
    check("login prompt")
    tab.click("main a:text-is('Konto anlegen')")
    tab.wait_for_url("**/konto/registrieren?weiter=**")
    assert heading(tab) == "Konto anlegen"
    assert ("Nach der Bestätigung Ihrer E-Mail-Adresse kommen Sie an die Stelle zurück, an der Sie waren."
            in main_text(tab))
    assert tab.locator("main input[type=password]").count() == 1
    check("registration")
    tab.fill("#feld-email", address)
    tab.fill("#feld-passwort", PASSWORD)
    switch = tab.locator("main button.reveal-button")
    if device.javascript:
        assert switch.inner_text() == "Passwort anzeigen" and switch.get_attribute("aria-pressed") == "false"
        switch.click()  # the citizen checks what they typed instead of typing it twice
        assert switch.get_attribute("aria-pressed") == "true"
        assert tab.locator("#feld-passwort").get_attribute("type") == "text"
        assert tab.locator("#feld-passwort").input_value() == PASSWORD
        check("password shown")
        switch.click()
        assert tab.locator("#feld-passwort").get_attribute("type") == "password"
    else:
        assert switch.count() == 0  # without JavaScript: a plain password field
    tab.check("#feld-datenschutz")
    tab.click("main button:text-is('Konto anlegen')")
    tab.wait_for_url("**/konto/registriert")
    assert heading(tab) == "Fast geschafft"
    assert "Wir haben Ihnen eine E-Mail geschickt." in main_text(tab)


def open_confirmation_link(tab: Any, portal: Portal, address: str) -> None:
    mail = portal.mail(address, "Bitte bestätigen Sie Ihr Konto im Bürgerportal")
    body = mail.get_content()
    link = re.search(r"(/konto/bestaetigen/\S+)", body)
    assert link, body
    assert "Öffnen Sie ihn am besten auf dem Gerät, mit dem Sie das Konto angelegt haben" in body
    tab.goto(portal.url + link.group(1))


def cancel_from_the_account(tab: Any, portal: Portal, service: str) -> None:
    """Mein Konto → the appointment → cancel it: it reads "abgesagt"."""
    tab.goto(portal.url + "/konto/")
    tab.locator("main a", has_text=service).first.click()
    tab.click("main a:text-is('Termin absagen')")
    tab.click("main button:text-is('Ja, Termin absagen')")
    tab.wait_for_load_state()
    assert appointment_facts(tab)["Stand"] == "abgesagt"


# With JavaScript, on a 390 px phone from the home page and for the dog-tax form too:
# tests/journeys/test_first_time_citizen.py.
@pytest.mark.parametrize("device", [PHONE_WITHOUT_JS], ids=lambda d: d.name)
def test_registering_while_booking_keeps_the_time(browser: Any, portal: Portal, device: Device) -> None:
    address = f"neu.termin.{device.name}.{secrets.token_hex(3)}@example.org"
    with citizen_tab(browser, device) as (tab, check):
        tab.goto(f"{portal.url}/muenster/leistungen/personalausweis-beantragen/")
        assert heading(tab) == SERVICE
        tab.locator("main a.button", has_text="Termin online buchen").first.click()
        tab.locator("ul.places a", has_text=re.compile(r"^Stadthaus 1$")).click()
        time = choose_a_time(tab, check, "booking", day=2)
        day = str(tab.locator("main p.lead").inner_text()).split(" – ")[0]
        tab.click("main button:text-is('Uhrzeit reservieren')")
        # Counter services are bookable without an account; the citizen chooses the account.
        assert heading(tab) == "Termin prüfen und buchen"
        tab.click("main button:text-is('Anmelden oder Konto anlegen')")
        tab.wait_for_url("**/konto/anmelden**")

        register_once(tab, address, device, check)
        kept = main_text(tab)
        assert f"Ihr Termin „{SERVICE}“ am {day} um {time} bleibt bis " in kept
        assert "für Sie reserviert. Bestätigen Sie Ihre E-Mail-Adresse bis dahin" in kept
        assert "dorthin zurück, wo Sie waren." in kept
        check("registered, time held")

        open_confirmation_link(tab, portal, address)
        tab.wait_for_url(re.compile(r".*/muenster/termine/reservierung/[A-Z0-9-]+\?s=.*"))
        assert heading(tab) == "Termin prüfen und buchen"  # back at the step, signed in, nothing to retype
        assert "Wir halten diese Zeit bis" in main_text(tab)
        facts = appointment_facts(tab)
        assert facts["Leistung"] == SERVICE and facts["Datum"] == day and facts["Uhrzeit"].startswith(time)
        assert tab.locator("main input:not([type=hidden])").count() == 0  # nothing to type again
        check("back at the held time")
        tab.click("main button:text-is('Verbindlich buchen')")
        assert heading(tab) == "Termin gebucht"  # the confirmation panel
        assert main_text(tab).startswith(f"Termin gebucht {day}")
        assert "Bitte mitbringen" in main_text(tab)
        check("booked")

        # The account exists, is confirmed and holds the appointment.
        tab.goto(portal.url + "/konto/")
        assert heading(tab) == "Mein Konto"
        assert address in main_text(tab) and SERVICE in main_text(tab)

        cancel_from_the_account(tab, portal, SERVICE)  # free the time again for other runs
    check.assert_clean()
