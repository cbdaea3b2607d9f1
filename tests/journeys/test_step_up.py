"""Journey 3, step-up: a citizen logged in with the portal account (level basis) has begun
the dog tax form, then opens a form that needs level hoch → logs in with the online ID
(development identity provider) → is back at that form, still in the same account: the
begun application is still there, and the new form is prefilled with eID-confirmed values
that cannot be changed by hand. On all four sites, on a phone (axe) and on a desktop."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.journeys.conftest import PASSWORD, Portal
from tests.journeys.steps import (
    DESKTOP,
    PHONE,
    SITES,
    Device,
    citizen_tab,
    heading,
    log_in_with_password,
    log_in_with_state_account,
)

pytestmark = pytest.mark.browser

# A test person that no other journey uses: the step-up links their state account to the
# citizen's portal account, and each run ends by deleting that account again.
PERSON = "Ayşe Demir-Testfeld, Steinfurt"


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=lambda d: d.name)
@pytest.mark.parametrize("slug", list(SITES))
def test_step_up_keeps_everything(browser: Any, portal: Portal, slug: str, device: Device) -> None:
    site = SITES[slug]
    address = portal.citizen(f"stufe.{slug}.{device.name}@example.org")
    dog_tax, certificate = f"/{slug}/antrag/hundesteuer/", f"/{slug}/antrag/meldebescheinigung/"
    with citizen_tab(browser, device, axe=device is PHONE) as (tab, check):
        # At level basis: the dog tax form, its first page filled in and saved.
        tab.goto(portal.url + dog_tax)
        log_in_with_password(tab, address, check)
        tab.wait_for_url(f"**{dog_tax}")
        if site.town:
            tab.get_by_label(site.town, exact=True).check()
        tab.click("main button:text-is('Antrag beginnen')")
        assert tab.locator("#feld-vorname").input_value() == ""  # a portal account knows no name
        check("empty form")
        tab.fill("#feld-vorname", "Mia")
        tab.fill("#feld-familienname", "Stufenweise")
        tab.fill("#feld-geburtsdatum", "9")
        tab.fill("#feld-geburtsdatum-monat", "9")
        tab.fill("#feld-geburtsdatum-jahr", "1999")
        tab.fill("#feld-anschrift", "Lindenweg 4")
        tab.fill("#feld-anschrift-plz", "48143")
        tab.fill("#feld-anschrift-ort", "Beispielort")
        assert address in tab.locator("main").inner_text()  # confirmed with the account, shown as such
        tab.click("main button:text-is('Weiter')")
        tab.wait_for_url(f"**{dog_tax}hund/")

        # A form that needs level hoch: the portal asks for the online ID, says that nothing
        # is lost, and comes back to the form.
        tab.goto(portal.url + certificate)
        tab.wait_for_url(re.compile(r".*/konto/anmelden\?.*stufe=hoch.*"))
        lead = tab.locator("main").inner_text()
        assert "brauchen Sie eine Anmeldung mit „Online-Ausweis“" in lead and "Was Sie bisher eingegeben haben, bleibt erhalten." in lead
        log_in_with_state_account(tab, site, device, check, person=PERSON)
        tab.wait_for_url(f"**{certificate}")
        assert heading(tab) == "Meldebescheinigung beantragen"
        check("form at level hoch")
        if site.town:
            tab.get_by_label(site.town, exact=True).check()
        tab.click("main button:text-is('Antrag beginnen')")
        tab.wait_for_url(f"**{certificate}person/")
        main = tab.locator("main").inner_text()
        assert "Demir-Testfeld" in main and "Bestätigt durch Online-Ausweis (eID)" in main
        assert tab.locator("input#feld-familienname").count() == 0  # shown, not editable
        check("prefilled with eID values")

        # The same account: its address, now linked and at level hoch; the begun form is there.
        tab.goto(portal.url + "/konto/")
        account = tab.locator("main").inner_text()
        assert address in account and "Vertrauensniveau\nOnline-Ausweis\n" in account and "nicht verknüpft" not in account
        tab.goto(portal.url + dog_tax)
        assert "Sie haben diesen Antrag schon begonnen." in tab.locator("main").inner_text()
        tab.goto(f"{portal.url}{dog_tax}halter/")
        assert tab.locator("#feld-vorname").input_value() == "Mia"
        assert tab.locator("#feld-anschrift").input_value() == "Lindenweg 4"

        # The citizen deletes the account: the state account is free to link again.
        tab.goto(portal.url + "/konto/loeschen")
        tab.check("#feld-bestaetigung")
        tab.fill("#feld-passwort", PASSWORD)
        tab.click("main button:text-is('Konto endgültig löschen')")
        assert "gelöscht" in heading(tab)
    check.assert_clean()
