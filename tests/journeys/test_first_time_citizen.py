"""Issue 15, "done when": a first-time citizen on a phone (390 px, the common size today) goes
from the home page to what they came for, registering on the way, without choosing or typing
anything twice. In Münster: "Termin buchen" on the home page → the Personalausweis → a place
and a time → "Anmelden oder Konto anlegen" → the registration (address and password once) →
the link from the real mail → back at the held time → booked, with what to bring. In Hamm:
"Hund anmelden" on the home page → the dog-tax form → the same registration → back at the
form → sent, with what happens next. What the citizen reads is asserted at every step (and
the journeys' check reads every page for markup, placeholders and English)."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest

from tests.journeys.conftest import Portal
from tests.journeys.steps import REFERENCE, Device, citizen_tab, heading
from tests.journeys.test_moving_house import appointment_facts, choose_a_time
from tests.journeys.test_registering_on_the_way import (
    cancel_from_the_account,
    main_text,
    open_confirmation_link,
    register_once,
)

pytestmark = pytest.mark.browser

PHONE_390 = Device("phone-390", {"width": 390, "height": 844}, True)


def top_task(tab: Any, portal: Portal, slug: str, label: str) -> None:
    """On the home page: the top task with this label is on the first screen; open it."""
    tab.goto(f"{portal.url}/{slug}/")
    task = tab.locator("main .top-task-list a", has_text=re.compile(rf"^{re.escape(label)}$"))
    box = task.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE_390.viewport["height"], box
    task.click()


def test_a_first_time_citizen_books_a_personalausweis_appointment_in_muenster(browser: Any, portal: Portal) -> None:
    service = "Personalausweis beantragen"
    address = f"erstmals.termin.{secrets.token_hex(3)}@example.org"
    with citizen_tab(browser, PHONE_390, axe=True) as (tab, check):
        top_task(tab, portal, "muenster", "Termin buchen")
        assert heading(tab) == "Termin buchen"
        check("booking: services")
        tab.locator("main a", has_text=re.compile(rf"^{service}$")).click()
        assert heading(tab) == f"{service}: Termin buchen"
        places = main_text(tab)
        assert "Nächster freier Termin:" in places  # every place says when it has time
        check("booking: places")
        tab.locator("ul.places a", has_text=re.compile(r"^Stadthaus 1$")).click()
        time = choose_a_time(tab, check, "booking", day=2)
        day = str(tab.locator("main p.lead").inner_text()).split(" – ")[0]
        tab.click("main button:text-is('Uhrzeit reservieren')")

        assert heading(tab) == "Termin prüfen und buchen"
        offer = main_text(tab)
        assert "Ohne Konto weiter mit Ihrer E-Mail-Adresse" in offer and "Oder mit Ihrem Konto im Bürgerportal" in offer
        check("reservation: with or without an account")
        tab.click("main button:text-is('Anmelden oder Konto anlegen')")
        tab.wait_for_url("**/konto/anmelden**")
        assert "Ohne Konto weiter mit Ihrer E-Mail-Adresse" in main_text(tab)  # the way back stays offered
        register_once(tab, address, PHONE_390, check)
        assert f"Ihr Termin „{service}“ am {day} um {time} bleibt bis " in main_text(tab)

        open_confirmation_link(tab, portal, address)
        tab.wait_for_url(re.compile(r".*/muenster/termine/reservierung/[A-Z0-9-]+\?s=.*"))
        assert heading(tab) == "Termin prüfen und buchen"
        facts = appointment_facts(tab)
        assert facts["Leistung"] == service and facts["Datum"] == day and facts["Uhrzeit"].startswith(time)
        assert tab.locator("main input:not([type=hidden])").count() == 0  # nothing to choose or type again
        check("back at the held time")
        tab.click("main button:text-is('Verbindlich buchen')")

        booked = main_text(tab)
        assert booked.startswith(f"Termin gebucht {day}"), booked[:200]
        assert "Bitte mitbringen" in booked and "Kosten" in booked
        assert "Personalausweis" in booked
        check("booked")

        cancel_from_the_account(tab, portal, service)  # the account holds it; free the time for other runs
    check.assert_clean()


def test_a_first_time_citizen_registers_a_dog_in_hamm(browser: Any, portal: Portal) -> None:
    address = f"erstmals.hund.{secrets.token_hex(3)}@example.org"
    with citizen_tab(browser, PHONE_390, axe=True) as (tab, check):
        top_task(tab, portal, "hamm", "Hund anmelden")
        assert heading(tab) == "Hund zur Hundesteuer anmelden"
        assert "Stadt Hamm" in main_text(tab)
        check("service page")
        tab.click("main a.button:text-is('Antrag online stellen')")
        tab.wait_for_url("**/konto/anmelden**")
        register_once(tab, address, PHONE_390, check)
        assert "dorthin zurück, wo Sie waren." in main_text(tab)
        open_confirmation_link(tab, portal, address)
        tab.wait_for_url("**/hamm/antrag/hundesteuer/")
        assert heading(tab) == "Hund zur Hundesteuer anmelden"
        check("back at the form")
        tab.click("main button:text-is('Antrag beginnen')")

        tab.wait_for_url("**/hamm/antrag/hundesteuer/halter/")
        assert address in main_text(tab)  # the confirmed address: typed once, at the registration
        tab.fill("#feld-vorname", "Ayşe")
        tab.fill("#feld-familienname", "Yılmaz")
        for part, value in (("", "14"), ("-monat", "2"), ("-jahr", "1988")):
            tab.fill(f"#feld-geburtsdatum{part}", value)
        tab.fill("#feld-anschrift", "Beispielweg 3")
        tab.fill("#feld-anschrift-plz", "59065")
        tab.fill("#feld-anschrift-ort", "Hamm")
        check("holder")
        tab.click("main button:text-is('Weiter')")

        tab.wait_for_url("**/hamm/antrag/hundesteuer/hund/")
        tab.fill("#feld-hundename", "Frieda")
        tab.fill("#feld-rasse", "Beagle")
        for field, (day, month, year) in (("hund-geburtsdatum", ("2", "5", "2025")), ("aufnahme", ("1", "11", "2026"))):
            tab.fill(f"#feld-{field}", day)
            tab.fill(f"#feld-{field}-monat", month)
            tab.fill(f"#feld-{field}-jahr", year)
        tab.fill("#feld-chipnummer", "276 0981 0654 3211")  # as printed on the pet passport
        tab.check("#feld-gefaehrlich-nein")
        check("dog")
        tab.click("main button:text-is('Weiter')")
        tab.wait_for_url("**/hamm/antrag/hundesteuer/ermaessigung/")
        tab.check("#feld-ermaessigung-nein")
        tab.click("main button:text-is('Weiter')")
        tab.wait_for_url("**/hamm/antrag/hundesteuer/zahlung/")
        tab.locator("input[name=zahlungsart]").last.check()  # by transfer: no IBAN asked
        assert not tab.locator("#feld-iban").is_visible()
        check("payment")
        tab.click("main button:text-is('Weiter')")

        tab.wait_for_url("**/hamm/antrag/hundesteuer/zusammenfassung/")
        summary = main_text(tab)
        for shown in ("Ayşe", "Yılmaz", "Frieda", "276098106543211", address):
            assert shown in summary, shown
        check("summary")
        tab.check("#feld-erklaerung")
        tab.click("main button:text-is('Antrag verbindlich absenden')")
        tab.wait_for_url(re.compile(r".*/eingang/A-.*/$"))
        assert heading(tab) == "Ihr Antrag ist eingegangen"
        assert REFERENCE.fullmatch(tab.locator(".confirmation strong.code").inner_text())
        receipt = main_text(tab)
        assert "Wie geht es weiter" in receipt
        assert "Den Steuerbescheid und die Hundemarke erhalten Sie per Post." in receipt
        check("receipt")
    check.assert_clean()
