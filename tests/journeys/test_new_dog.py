"""Journey 2, a new dog: search "hund anmelden" → the dog tax service → the online form →
asked to log in → the state account (development identity provider) at the form's level →
the form prefilled → an error shown at the field and in the summary → corrected → sent →
receipt with reference → the office fetches and decrypts it with the clerk client and
answers → the answer in the citizen's inbox. On all four sites, on a phone (axe on every
page) and on a desktop, with and without JavaScript (journey 5), and by keyboard alone with
a visible focus (journey 6)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.journeys.conftest import Portal
from tests.journeys.steps import (
    DESKTOP,
    DESKTOP_WITHOUT_JS,
    PHONE,
    REFERENCE,
    SITES,
    Device,
    Site,
    citizen_tab,
    heading,
    inbox_message,
    log_in_with_state_account,
    search_and_open,
)
from tests.site.keyboard import Keyboard

pytestmark = pytest.mark.browser

SERVICE = "Hund zur Hundesteuer anmelden"
FORM = "hundesteuer"
CHIP = "276098106543210"
CHIP_AS_TYPED = "276 098 106 543 210"  # as the pet passport prints it; kept without the gaps
IBAN_AS_TYPED = "de89 3704 0044 0532 0130 00"
# Who collects the dog tax by direct debit: Hamm's creditor from municipality.yaml (an example
# number, marked so); where none is given the municipality or town by name.
CREDITORS = {"hamm": "Stadt Hamm", "muenster": "Stadt Münster"}
CHIP_ERROR = "Geben Sie die Chipnummer mit genau 15 Ziffern an."


def start_path(site: Site) -> str:
    return f"/{site.slug}/antrag/{FORM}/"


def office_answers(portal: Portal, site: Site, reference: str, dog: str, folder: Path) -> str:
    """The receiving office, with the clerk's command-line client: fetch and decrypt the
    application, then answer into the citizen's inbox. The answer's subject."""
    [recipient] = [r for r in portal.katalog(site.slug)["forms"][FORM]["recipients"]
                   if site.town is None or r["town_name"] == site.town]
    token, key = portal.office(site.slug, recipient["unit"])
    clerk = ["-m", "dynamic.clerk", "--portal", portal.url, "--token", token, "--key", str(key)]
    fetched = portal.run(*clerk, "fetch", reference, "--out", str(folder))
    assert fetched.stdout.startswith(reference)
    text = (folder / reference / "antrag.txt").read_text(encoding="utf-8")
    assert dog in text and site.family_name in text and CHIP in text
    subject = f"Ihre Hundesteuer für {dog}"
    answered = portal.run(*clerk, "answer", reference, "--subject", subject,
                          "--body", "Vielen Dank. Der Steuerbescheid und die Hundemarke kommen per Post.")
    assert answered.stdout.startswith("zugestellt: Nachricht")
    return subject


def begin(tab: Any, site: Site) -> None:
    """On the form's start page: the town (in a district), then begin (afresh, should an
    earlier run of this test person have left a draft)."""
    if site.town:
        tab.get_by_label(site.town, exact=True).check()
    fresh = tab.locator("main button:text-is('Antrag beginnen'), "
                        "main button:text-is('Eingaben verwerfen und neu beginnen')")
    fresh.first.click()
    tab.wait_for_url(f"**{start_path(site)}halter/")


@pytest.mark.parametrize("device", [PHONE, DESKTOP, DESKTOP_WITHOUT_JS], ids=lambda d: d.name)
@pytest.mark.parametrize("slug", list(SITES))
def test_new_dog(browser: Any, portal: Portal, slug: str, device: Device, tmp_path: Path) -> None:
    site = SITES[slug]
    dog = f"Bello {device.name}"
    with citizen_tab(browser, device, axe=device is PHONE) as (tab, check):
        search_and_open(tab, portal, site, "hund anmelden", SERVICE, check)
        tab.click("main a.button:text-is('Antrag online stellen')")
        tab.wait_for_url("**/konto/anmelden**")
        assert heading(tab) == "Anmelden"
        log_in_with_state_account(tab, site, device, check)
        tab.wait_for_url(f"**{start_path(site)}")
        assert heading(tab) == SERVICE
        check("start page")
        begin(tab, site)

        # Prefilled from the state account; the person may correct it (not eID-verified).
        assert heading(tab) == "Halterin oder Halter"
        assert tab.locator("#feld-familienname").input_value() == site.family_name
        assert tab.locator("#feld-anschrift-ort").input_value() != ""
        assert tab.locator("#feld-geburtsdatum-jahr").input_value() != ""
        check("first step, prefilled")
        tab.fill("#feld-email", f"{site.persona}@example.org")  # the state account gives no confirmed address
        tab.click("main button:text-is('Weiter')")

        tab.wait_for_url(f"**{start_path(site)}hund/")
        tab.fill("#feld-hundename", dog)
        tab.fill("#feld-rasse", "Mischling aus Labrador und Pudel")
        for field, (day, month, year) in (("hund-geburtsdatum", ("1", "3", "2024")),
                                          ("aufnahme", ("15", "6", "2026"))):
            tab.fill(f"#feld-{field}", day)
            tab.fill(f"#feld-{field}-monat", month)
            tab.fill(f"#feld-{field}-jahr", year)
        tab.fill("#feld-chipnummer", CHIP[:-1])  # one digit short
        tab.check("#feld-gefaehrlich-nein")
        tab.click("main button:text-is('Weiter')")
        expect(tab).to_have_title(re.compile(r"^Fehler: Ihr Hund"))
        assert CHIP_ERROR in tab.locator(".error-summary").inner_text()
        expect(tab.locator(".error-summary a[href='#feld-chipnummer']")).to_have_count(1)
        assert tab.locator("#fehler-chipnummer").inner_text().endswith(CHIP_ERROR)
        assert tab.locator("#feld-chipnummer").get_attribute("aria-invalid") == "true"
        assert tab.locator("#feld-hundename").input_value() == dog  # nothing else is lost
        check("step with an error")
        if device.javascript:  # the page opens with the focus on the error summary
            assert tab.evaluate("document.activeElement.classList.contains('error-summary')")
        tab.click(".error-summary a[href='#feld-chipnummer']")
        tab.fill("#feld-chipnummer", CHIP_AS_TYPED)
        tab.click("main button:text-is('Weiter')")

        tab.wait_for_url(f"**{start_path(site)}ermaessigung/")
        check("reduction step")
        tab.check("#feld-ermaessigung-nein")
        tab.click("main button:text-is('Weiter')")
        tab.wait_for_url(f"**{start_path(site)}zahlung/")
        assert not tab.locator("#feld-iban").is_visible()  # asked only for a direct debit
        tab.check("#feld-zahlungsart")  # "Per SEPA-Lastschrift von meinem Konto"
        if device.javascript:  # revealed in place below the answer
            expect(tab.locator("#feld-iban")).to_be_visible()
        else:  # on the following page
            tab.click("main button:text-is('Weiter')")
            tab.wait_for_url(f"**{start_path(site)}zahlung/?teil=1")
        tab.fill("#feld-iban", IBAN_AS_TYPED)
        tab.fill("#feld-kontoinhaber", f"Kim {site.family_name}")
        check("payment step")
        tab.click("main button:text-is('Weiter')")

        tab.wait_for_url(f"**{start_path(site)}zusammenfassung/")
        summary = tab.locator("main").inner_text()
        for shown in (dog, CHIP, site.family_name, "Per SEPA-Lastschrift", "01.03.2024", "DE89 3704 0044 0532 0130 00"):
            assert shown in summary
        assert "Stadt oder Gemeinde" not in summary
        # The SEPA mandate names its creditor, never "meine Stadt oder Gemeinde".
        mandate = tab.locator(".mandate")
        creditor = CREDITORS.get(slug, site.town)
        assert mandate.locator("dd").first.inner_text() == creditor
        assert (f"Ich ermächtige den Zahlungsempfänger {creditor}, die Hundesteuer von meinem Konto mittels "
                "Lastschrift einzuziehen.") in mandate.inner_text()
        if slug == "hamm":
            assert "DE98ZZZ09999999999 (Beispielwert, nicht die echte Nummer)" in mandate.inner_text()
        else:
            assert "steht in Ihrem Bescheid" in mandate.inner_text()
        check("summary")
        tab.check("#feld-erklaerung")
        tab.click("main button:text-is('Antrag verbindlich absenden')")
        tab.wait_for_url(re.compile(r".*/eingang/A-.*/$"))
        assert heading(tab) == "Ihr Antrag ist eingegangen"
        reference = tab.locator(".confirmation strong.code").inner_text()
        assert REFERENCE.fullmatch(reference)
        receipt = tab.locator("main").inner_text()
        assert "Wie geht es weiter" in receipt
        assert "Den Steuerbescheid und die Hundemarke erhalten Sie per Post." in receipt
        assert "Die Bearbeitung dauert" not in receipt  # no usual time is known for the dog tax
        assert "Eine Eingangsbestätigung liegt schon in Ihrem Postfach im Bürgerportal." in receipt
        check("receipt")

        subject = office_answers(portal, site, reference, dog, tmp_path)
        text = inbox_message(tab, portal, subject, check)
        assert "Der Steuerbescheid und die Hundemarke kommen per Post." in text
        assert reference in text
    check.assert_clean()


def test_the_district_asks_for_the_town_before_anything_is_typed(browser: Any, portal: Portal) -> None:
    """Sent without a town, the start page says so at the field and keeps the citizen there."""
    site = SITES["kreis-coesfeld"]
    with citizen_tab(browser, DESKTOP, axe=True) as (tab, check):
        tab.goto(portal.url + start_path(site))
        log_in_with_state_account(tab, site, DESKTOP, check)
        tab.wait_for_url(f"**{start_path(site)}")
        tab.locator("main button:text-is('Antrag beginnen'), "
                    "main button:text-is('Eingaben verwerfen und neu beginnen')").first.click()
        expect(tab).to_have_title(re.compile(r"^Fehler: "))
        expect(tab.locator("#fehler-gemeinde")).to_have_count(1)
        expect(tab.locator(".error-summary a[href='#feld-gemeinde']")).to_have_count(1)
        check("start page with an error")
    check.assert_clean()


# ---------------------------------------------------------------- journey 6: by keyboard


def choose_by_keyboard(keys: Keyboard, name: str, label: str) -> None:
    """A radio group: Tab into it, then arrows until the option with this label is checked."""
    keys.to(f"input[name='{name}']")
    for _ in range(40):
        if keys.tab.evaluate("document.activeElement.labels[0].textContent.trim()") == label:
            keys.press("Space")
            return
        keys.press("ArrowDown")
    raise AssertionError(f"option {label} of {name} not reached by keyboard")


def type_date(keys: Keyboard, field: str, day: str, month: str, year: str) -> None:
    keys.type(f"#feld-{field}", day)
    keys.type(f"#feld-{field}-monat", month)
    keys.type(f"#feld-{field}-jahr", year)


@pytest.mark.parametrize("slug", list(SITES))
def test_new_dog_by_keyboard_alone(browser: Any, portal: Portal, slug: str, tmp_path: Path) -> None:
    site = SITES[slug]
    dog = "Tasso Tastatur"
    with citizen_tab(browser, DESKTOP) as (tab, _check):
        keys = Keyboard(tab)
        tab.goto(f"{portal.url}/{site.slug}/")
        keys.to("#kopfsuche")
        tab.keyboard.type("hund anmelden")
        keys.submit()
        assert re.search(r"/suche/\?q=hund(\+|%20)anmelden$", tab.url)
        keys.to("#suchergebnisse a", SERVICE)
        keys.submit()
        assert heading(tab) == SERVICE
        keys.skip_to_content()
        keys.to("a.button", "Antrag online stellen")
        keys.submit()
        assert "/konto/anmelden" in tab.url
        keys.skip_to_content()
        keys.to("button", "Beim Servicekonto anmelden")
        keys.submit()
        assert "/dev-idp/sso" in tab.url
        keys.skip_to_content()
        choose_by_keyboard(keys, "person", site.persona_label)
        keys.to("button", "Anmelden")
        tab.keyboard.press("Enter")
        tab.wait_for_url(f"**{start_path(site)}")

        keys.skip_to_content()
        if site.town:
            choose_by_keyboard(keys, "gemeinde", site.town)
        for _ in range(20):  # begin afresh, should an earlier run of this person have left a draft
            keys.press("Tab")
            if keys.focused("button", "Antrag beginnen") or keys.focused("button", "Eingaben verwerfen und neu beginnen"):
                break
        keys.submit("Space")
        assert tab.url.endswith(f"{start_path(site)}halter/")
        assert tab.locator("#feld-familienname").input_value() == site.family_name
        keys.type("#feld-email", f"{site.persona}@example.org")
        keys.to("button", "Weiter")
        keys.submit()

        assert tab.url.endswith(f"{start_path(site)}hund/")
        keys.skip_to_content()
        keys.type("#feld-hundename", dog)
        keys.type("#feld-rasse", "Dackel")
        type_date(keys, "hund-geburtsdatum", "1", "3", "2024")
        type_date(keys, "aufnahme", "15", "6", "2026")
        keys.type("#feld-chipnummer", CHIP.replace("0", "O", 1))  # a letter O for a zero
        choose_by_keyboard(keys, "gefaehrlich", "Nein")
        keys.to("button", "Weiter")
        keys.submit()
        expect(tab).to_have_title(re.compile(r"^Fehler: "))
        assert CHIP_ERROR in tab.locator(".error-summary").inner_text()
        # The page opens with the focus on the error summary: on to the link, then to the field.
        assert tab.evaluate("document.activeElement.classList.contains('error-summary')")
        keys.to(".error-summary a[href='#feld-chipnummer']")
        tab.keyboard.press("Enter")
        keys.press("Tab")  # the link moved the keyboard to the field: on from there, and back
        keys.to("#feld-chipnummer", backwards=True)
        tab.keyboard.press("Control+A")
        tab.keyboard.type(CHIP)
        keys.submit()
        assert tab.url.endswith(f"{start_path(site)}ermaessigung/")

        keys.skip_to_content()
        choose_by_keyboard(keys, "ermaessigung", "Nein")
        keys.to("button", "Weiter")
        keys.submit()
        assert tab.url.endswith(f"{start_path(site)}zahlung/")
        keys.skip_to_content()
        choose_by_keyboard(keys, "zahlungsart", "Per Überweisung")
        keys.to("button", "Weiter")
        keys.submit()
        assert tab.url.endswith(f"{start_path(site)}zusammenfassung/")

        keys.tour()
        keys.skip_to_content()
        keys.to("#feld-erklaerung")
        keys.press("Space")
        keys.to("button", "Antrag verbindlich absenden")
        keys.submit()
        assert heading(tab) == "Ihr Antrag ist eingegangen"
        reference = tab.locator("strong.code").inner_text()

        subject = office_answers(portal, site, reference, dog, tmp_path)
        tab.goto(portal.url + "/postfach/")
        keys.skip_to_content()
        keys.to("ul.messages a", f"Ungelesen: {subject}")  # the newest comes first
        keys.submit()
        assert heading(tab) == subject
        assert reference in tab.locator("main").inner_text()
    assert keys.problems == []
    assert keys.stops > 40

