"""Online applications in Debian's chromium: the fixture form from the start page to the
receipt on a phone without JavaScript and with axe in every state, the office's answer and
the citizen's reply in the inbox, and the whole way by keyboard with a visible focus."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from generator.pipeline import build
from tests.conftest import FIXTURE_CONTENT, TODAY, _free_port
from tests.dynamic.forms_fixtures import PDF, VALID_IBAN
from tests.dynamic.test_profile import make_account
from tests.site.keyboard import Keyboard
from tests.site.test_browser import axe_violations

pytestmark = pytest.mark.browser

START = "/stadt/antrag/meldebescheinigung/"
PASSWORD = "Wanderweg Kompass Brotzeit"
REFERENCE = re.compile(r"A-[0-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}")
PHONE = {"width": 320, "height": 640}
# The elements that stick out of a phone's screen, or whose content does (a long word).
WIDER_THAN_THE_SCREEN = """() => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > innerWidth || e.scrollWidth > e.clientWidth + 1)
    .map(e => `${e.tagName.toLowerCase()}.${e.className} ${e.textContent.trim().slice(0, 40)}`)"""


@dataclass
class Portal:
    url: str
    app: Any
    office_token: str
    folder: Path

    def citizen(self, email: str) -> str:
        """A confirmed account with a password; its e-mail address."""
        make_account(self.app, email=email, password=PASSWORD)
        return email


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """The fixture sites with the Bürgeramt of `stadt` registered as receiving office."""
    from werkzeug.serving import make_server

    from dynamic import create_app
    from dynamic.forms.delivery import register_office
    from dynamic.platform.config import settings_from_env
    from dynamic.platform.crypto import new_office_key
    from dynamic.platform.db import session_scope
    from dynamic.serve import migrate_database

    root = tmp_path_factory.mktemp("form-site")
    build(FIXTURE_CONTENT, root / "output", today=TODAY, show_progress=False)
    port = _free_port()
    settings = {"output_dir": root / "output", "var_dir": root / "var", "base_url": f"http://127.0.0.1:{port}"}
    migrate_database(**settings)
    app = create_app(settings_from_env({}, **settings))
    _private, public = new_office_key()
    with session_scope(app) as session:
        _office, token = register_office(session, "stadt", "buergeramt", public)
    httpd = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield Portal(f"http://127.0.0.1:{port}", app, token, root)
    httpd.shutdown()
    thread.join(5)
    app.extensions["db_engine"].dispose()


def log_in_on_the_way(tab: Any, portal: Portal, email: str) -> None:
    """Open the form's start page: the portal asks for a login and comes back."""
    tab.goto(portal.url + START)
    assert "/konto/anmelden" in tab.url
    tab.fill("#feld-email", email)
    tab.fill("#feld-passwort", PASSWORD)
    tab.click("button:text-is('Anmelden')")
    tab.wait_for_url(f"**{START}")


def office_answers(portal: Portal, reference: str) -> None:
    """The Bürgeramt answers through the clerk API, with the certificate attached."""
    from clerk import Client

    decision = portal.folder / "bescheinigung.pdf"
    decision.write_bytes(PDF)
    Client(portal.url, portal.office_token).answer(reference, "Ihre Meldebescheinigung",
                                                   "Die Bescheinigung liegt bei.\n\nBitte prüfen Sie sie.",
                                                   [decision], True)


# ---------------------------------------------------------------- the walk on a phone


@pytest.mark.parametrize("javascript", [False, True], ids=["without-js", "with-js-and-axe"])
def test_the_form_on_a_phone_from_start_to_receipt_and_reply(browser: Any, portal: Portal, javascript: bool) -> None:
    """The same walk is made twice: without JavaScript (it must work) and with it (the pages'
    own scripts only enhance; axe runs in the page). Nothing may scroll sideways on a 320 px
    wide screen, in any state."""
    email = portal.citizen(f"handy.{'js' if javascript else 'ohne-js'}@example.org")
    context = browser.new_context(bypass_csp=True, java_script_enabled=javascript, locale="de-DE",
                                  viewport=PHONE, accept_downloads=True)
    tab = context.new_page()
    found: dict[str, list[str]] = {}
    too_wide: dict[str, list[str]] = {}

    def check(label: str) -> None:
        if tab.evaluate("document.documentElement.scrollWidth") > PHONE["width"]:
            too_wide[label] = tab.evaluate(WIDER_THAN_THE_SCREEN)
        if javascript and (violations := axe_violations(tab)):
            found[label] = violations

    def weiter() -> None:
        tab.click("main button:text-is('Weiter')")

    log_in_on_the_way(tab, portal, email)
    assert tab.locator("h1").inner_text() == "Meldebescheinigung beantragen"
    assert tab.locator("ol.steps-overview li").count() == 4
    check("start page")
    tab.click("button:text-is('Antrag beginnen')")
    tab.wait_for_url(f"**{START}person/")
    assert tab.locator("h1").inner_text() == "Angaben zu Ihrer Person"
    assert tab.locator("#feld-vorname").input_value() == ""
    # The citizen's own data can be filled in by the browser (WCAG 1.3.5).
    for field, purpose in [("vorname", "given-name"), ("nachname", "family-name"), ("geburtsdatum", "bday-day"),
                           ("geburtsdatum-jahr", "bday-year"), ("anschrift-plz", "postal-code"), ("telefon", "tel")]:
        assert tab.locator(f"#feld-{field}").get_attribute("autocomplete") == purpose
    check("empty step")

    # Sent empty: the error summary at the top, every error again at its field.
    weiter()
    expect(tab).to_have_title(re.compile(r"^Fehler: Angaben zu Ihrer Person"))
    summary = tab.locator(".error-summary")
    assert summary.locator("h2").inner_text() == "Es gibt ein Problem"
    assert "Füllen Sie das Feld »Vorname« aus." in summary.inner_text()
    assert summary.locator("a[href='#feld-geburtsdatum']").count() == 1
    assert tab.locator("#fehler-vorname").inner_text().endswith("Füllen Sie das Feld »Vorname« aus.")
    assert tab.locator("#feld-vorname").get_attribute("aria-invalid") == "true"
    assert "fehler-vorname" in (tab.locator("#feld-vorname").get_attribute("aria-describedby") or "")
    check("step with errors")

    tab.fill("#feld-vorname", "Lena")
    tab.fill("#feld-nachname", "Beispiel")
    tab.fill("#feld-geburtsdatum", "3")
    tab.fill("#feld-geburtsdatum-monat", "4")
    tab.fill("#feld-geburtsdatum-jahr", "1990")
    tab.fill("#feld-anschrift", "Musterweg 5")
    tab.fill("#feld-anschrift-plz", "48143")
    tab.fill("#feld-anschrift-ort", "Beispielstadt")
    weiter()
    tab.wait_for_url(f"**{START}bescheinigung/")
    check("second step")
    tab.check("#feld-art-erweitert")
    tab.fill("#feld-anzahl", "2")
    tab.check("#feld-weitere-nein")
    weiter()
    tab.wait_for_url(f"**{START}zahlung/")
    assert tab.locator("h1").inner_text() == "Bezahlung"
    tab.fill("#feld-iban", VALID_IBAN)
    tab.set_input_files("#feld-vollmacht", files=[{"name": "nachweis.pdf", "mimeType": "application/pdf",
                                                   "buffer": PDF}])
    check("step with a file")
    weiter()
    tab.wait_for_url(f"**{START}zusammenfassung/")

    main = tab.locator("main")
    assert tab.locator("h1").inner_text() == "Meldebescheinigung beantragen: Angaben prüfen"
    for shown in ("Musterweg 5, 48143 Beispielstadt", "03.04.1990", "Erweiterte Meldebescheinigung",
                  "DE89 3704 0044 0532 0130 00", "nachweis.pdf"):
        assert shown in main.inner_text()
    change = tab.locator("dd.summary-change a")
    assert change.count() == 12 and change.first.inner_text().startswith("Ändern")
    # The e-mail address was confirmed by a link: it cannot be changed here, so no "Ändern".
    assert tab.locator(".summary-row:has(dt:text-is('E-Mail-Adresse')) .summary-change").count() == 0
    check("summary")
    # "Ändern" leads to the step and straight back to the summary.
    tab.click("dd.summary-change a:has-text('Anzahl der Ausfertigungen')")
    assert tab.locator("#feld-anzahl").input_value() == "2"
    tab.fill("#feld-anzahl", "3")
    tab.click("button:text-is('Zurück zur Zusammenfassung')")
    tab.wait_for_url(f"**{START}zusammenfassung/")
    assert tab.locator(".summary-row:has(dt:text-is('Anzahl der Ausfertigungen')) dd").first.inner_text() == "3"

    tab.click("button:text-is('Antrag verbindlich absenden')")
    expect(tab).to_have_title(re.compile(r"^Fehler: "))
    assert "Bestätigen Sie, dass Ihre Angaben richtig" in tab.locator(".error-summary").inner_text()
    assert tab.locator("#feld-erklaerung").get_attribute("aria-invalid") == "true"
    check("summary with the declaration error")
    tab.check("#feld-erklaerung")
    tab.click("button:text-is('Antrag verbindlich absenden')")
    tab.wait_for_url(re.compile(r".*/eingang/A-.*/$"))
    assert tab.locator("h1").inner_text() == "Ihr Antrag ist eingegangen"
    reference = tab.locator(".confirmation strong.code").inner_text()
    assert REFERENCE.fullmatch(reference) and reference in tab.url
    check("receipt")

    with tab.expect_download() as waiting:
        tab.click("a:has-text('Eingangsbestätigung als PDF herunterladen')")
    download = waiting.value
    assert download.failure() is None
    assert reference in download.suggested_filename
    assert Path(download.path()).read_bytes().startswith(b"%PDF")

    # The office answers; the citizen reads it in the inbox and replies.
    office_answers(portal, reference)
    tab.goto(portal.url + "/postfach/")
    check("inbox")
    tab.click("a:has-text('Ihre Meldebescheinigung')")
    assert tab.locator("h1").inner_text() == "Bescheid: Ihre Meldebescheinigung"  # sent as a decision
    expect(tab.locator("a[download]:has-text('bescheinigung.pdf')")).to_have_count(1)
    check("message with the reply form")
    tab.click("button:text-is('Antwort senden')")
    expect(tab).to_have_title(re.compile(r"^Fehler: "))
    assert "Schreiben Sie Ihre Antwort in das Feld." in tab.locator(".error-summary").inner_text()
    assert tab.locator("#feld-antwort").get_attribute("aria-invalid") == "true"
    check("reply form with an error")
    tab.fill("#feld-antwort", "Vielen Dank, erhalten.")
    tab.click("button:text-is('Antwort senden')")
    assert "Ihre Antwort wurde verschlüsselt an das Bürgeramt übermittelt." in tab.locator("#antworten").inner_text()
    check("reply sent")
    context.close()
    assert too_wide == {}
    assert found == {}


# ---------------------------------------------------------------- the walk by keyboard

def open_file_chooser_by_keyboard(tab: Any) -> Any:
    """Space on the focused file field opens the chooser. On a busy machine the chooser can
    come late, or the first key can be lost: the listener catches a late one, and Enter
    (which opens it too) is tried once after ten seconds; one chooser is all that can open."""
    choosers: list[Any] = []

    def listener(chooser: Any) -> None:
        choosers.append(chooser)

    tab.on("filechooser", listener)
    try:
        for key, seconds in (("Space", 10), ("Enter", 20)):
            tab.keyboard.press(key)
            for _ in range(seconds * 10):
                if choosers:
                    return choosers[0]
                tab.wait_for_timeout(100)
        raise AssertionError("the file field did not open a chooser by keyboard")
    finally:
        tab.remove_listener("filechooser", listener)


def test_the_form_by_keyboard_alone_with_a_visible_focus(browser: Any, portal: Portal) -> None:
    email = portal.citizen("tastatur@example.org")
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 800}, accept_downloads=True)
    tab = context.new_page()
    keys = Keyboard(tab)
    tab.goto(portal.url + START)
    assert "/konto/anmelden" in tab.url
    keys.skip_to_content()
    keys.type("#feld-email", email)
    keys.type("#feld-passwort", PASSWORD)
    keys.submit()
    tab.wait_for_url(f"**{START}")

    keys.tour()
    keys.skip_to_content()
    keys.to("button", "Antrag beginnen")
    keys.submit("Space")
    assert tab.url.endswith(f"{START}person/")

    keys.skip_to_content()
    keys.type("#feld-vorname", "Kai")
    keys.type("#feld-nachname", "Tastatur")
    keys.type("#feld-geburtsdatum", "1")
    keys.type("#feld-geburtsdatum-monat", "2")
    keys.type("#feld-geburtsdatum-jahr", "1980")
    keys.type("#feld-anschrift", "Dorfstraße 1")
    keys.type("#feld-anschrift-plz", "4899")  # one digit short
    keys.type("#feld-anschrift-ort", "Beispielstadt")
    keys.to("button", "Weiter")
    keys.submit()
    expect(tab).to_have_title(re.compile(r"^Fehler: "))
    assert "Postleitzahl mit fünf Ziffern" in tab.locator(".error-summary").inner_text()
    # The page opens with the focus on the error summary: the tour starts at its first link.
    assert tab.evaluate("document.activeElement.classList.contains('error-summary')")
    keys.tour(first=".error-summary a")
    # From the error summary to the field, then correct it (back with Shift+Tab).
    keys.skip_to_content()
    keys.to(".error-summary a")
    tab.keyboard.press("Enter")
    # Following an in-page link changes the address a moment after the key: wait for it.
    expect(tab).to_have_url(re.compile(r"#feld-anschrift$"))
    keys.press("Tab")  # the link moved the keyboard to the field: on from there
    assert keys.focused("#feld-anschrift, #feld-anschrift-plz", None)
    keys.to("#feld-anschrift-ort")
    keys.to("#feld-anschrift-plz", backwards=True)
    tab.keyboard.press("Control+A")
    tab.keyboard.type("48999")
    keys.submit()
    assert tab.url.endswith(f"{START}bescheinigung/")

    keys.skip_to_content()
    keys.to("input[name=art]")
    keys.press("ArrowDown")
    assert tab.locator("#feld-art-erweitert").is_checked()
    keys.type("#feld-zweck", "Für den Vermieter")
    keys.type("#feld-anzahl", "2")
    keys.to("input[name=weitere]")
    keys.press("Space")
    keys.press("ArrowRight")
    assert tab.locator("#feld-weitere-nein").is_checked()
    keys.to("button", "Weiter")
    keys.submit()
    assert tab.url.endswith(f"{START}zahlung/")

    keys.skip_to_content()
    keys.type("#feld-iban", VALID_IBAN)
    keys.to("#feld-vollmacht")
    assert tab.evaluate("document.activeElement.id") == "feld-vollmacht"
    chooser = open_file_chooser_by_keyboard(tab)
    chooser.set_files(files=[{"name": "nachweis.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    keys.to("button", "Weiter")
    keys.submit()
    assert tab.url.endswith(f"{START}zusammenfassung/")

    keys.tour()
    keys.skip_to_content()
    keys.to("dd.summary-change a[href*='/bescheinigung/']")
    keys.submit()
    assert "zurueck=zusammenfassung" in tab.url
    keys.skip_to_content()
    keys.to("#feld-anzahl")
    tab.keyboard.press("Control+A")
    tab.keyboard.type("3")
    keys.submit()
    assert tab.url.endswith(f"{START}zusammenfassung/")
    assert tab.locator(".summary-row:has(dt:text-is('Anzahl der Ausfertigungen')) dd").first.inner_text() == "3"
    assert "nachweis.pdf" in tab.locator("main").inner_text()
    keys.skip_to_content()
    keys.to("#feld-erklaerung")
    keys.press("Space")
    assert tab.locator("#feld-erklaerung").is_checked()
    keys.to("button", "Antrag verbindlich absenden")
    keys.submit()
    assert tab.locator("h1").inner_text() == "Ihr Antrag ist eingegangen"
    reference = tab.locator("strong.code").inner_text()

    keys.tour()
    keys.skip_to_content()
    keys.to("a", "Eingangsbestätigung als PDF herunterladen")
    with tab.expect_download() as waiting:
        tab.keyboard.press("Enter")
    assert Path(waiting.value.path()).read_bytes().startswith(b"%PDF")
    assert reference in waiting.value.suggested_filename
    context.close()
    assert keys.problems == []
    assert keys.stops > 50


# ---------------------------------------------------------------- issue 15: no detours


def to_the_certificate_step(tab: Any, portal: Portal, email: str) -> None:
    log_in_on_the_way(tab, portal, email)
    tab.click("button:text-is('Antrag beginnen')")
    tab.wait_for_url(f"**{START}person/")
    for field, value in (("vorname", "Lena"), ("nachname", "Beispiel"), ("geburtsdatum", "3"),
                         ("geburtsdatum-monat", "4"), ("geburtsdatum-jahr", "1990"), ("anschrift", "Musterweg 5"),
                         ("anschrift-plz", "48143"), ("anschrift-ort", "Beispielstadt")):
        tab.fill(f"#feld-{field}", value)
    tab.click("main button:text-is('Weiter')")
    tab.wait_for_url(f"**{START}bescheinigung/")


def test_with_javascript_a_question_is_revealed_in_place_below_its_answer(browser: Any, portal: Portal) -> None:
    email = portal.citizen("aufklappen.js@example.org")
    context = browser.new_context(locale="de-DE", viewport=PHONE)
    tab = context.new_page()
    to_the_certificate_step(tab, portal, email)
    names = tab.locator("#feld-personen")
    main = tab.locator("main")
    assert not names.is_visible() and "Namen der weiteren Personen" not in main.inner_text()
    assert "Nur nötig" not in main.inner_text()
    yes = tab.locator("#feld-weitere")  # "Ja"
    assert yes.get_attribute("aria-controls") == "bedingt-personen"
    assert tab.locator("#feld-weitere-nein").get_attribute("aria-controls") is None
    tab.check("#feld-weitere")
    expect(names).to_be_visible()
    expect(tab.locator("form [aria-live=polite]")).to_have_text(
        "Darunter ist eine weitere Frage erschienen: Namen der weiteren Personen")
    tab.check("#feld-weitere-nein")
    expect(names).to_be_hidden()
    tab.check("#feld-weitere")
    names.fill("Max Beispiel")
    tab.check("#feld-art")  # "Einfache Meldebescheinigung": no payment step
    tab.fill("#feld-anzahl", "1")
    tab.click("main button:text-is('Weiter')")
    tab.wait_for_url(f"**{START}zusammenfassung/")  # answered on the same page, no page of its own
    assert tab.locator(".summary-row:has(dt:text-is('Namen der weiteren Personen')) dd").first.inner_text() == \
        "Max Beispiel"
    context.close()


def test_without_javascript_a_question_follows_on_the_next_page_only_when_it_applies(
        browser: Any, portal: Portal) -> None:
    email = portal.citizen("aufklappen.ohne-js@example.org")
    context = browser.new_context(locale="de-DE", viewport=PHONE, java_script_enabled=False)
    tab = context.new_page()
    to_the_certificate_step(tab, portal, email)
    assert not tab.locator("#feld-personen").is_visible()
    assert "Namen der weiteren Personen" not in tab.locator("main").inner_text()
    tab.check("#feld-art")
    tab.fill("#feld-anzahl", "1")
    tab.check("#feld-weitere")  # "Ja": nothing appears without a script
    assert not tab.locator("#feld-personen").is_visible()
    tab.click("main button:text-is('Weiter')")
    tab.wait_for_url(f"**{START}bescheinigung/?teil=1")
    assert tab.locator("h1").inner_text() == "Art der Bescheinigung"
    assert tab.locator("main p.lead").inner_text() == "Nach Ihrer Antwort brauchen wir dazu noch diese Angaben."
    expect(tab.locator("#feld-personen")).to_be_visible()
    assert not tab.locator("#feld-anzahl").is_visible()
    tab.fill("#feld-personen", "Max Beispiel")
    tab.click("main button:text-is('Weiter')")
    tab.wait_for_url(f"**{START}zusammenfassung/")
    # Back to "Nein": the follow-up page is skipped and the names are forgotten.
    tab.click("dd.summary-change a:has-text('Sollen weitere Personen')")
    tab.check("#feld-weitere-nein")
    tab.click("main button:text-is('Zurück zur Zusammenfassung')")
    tab.wait_for_url(f"**{START}zusammenfassung/")
    assert "Max Beispiel" not in tab.locator("main").inner_text()
    context.close()


def test_after_a_failed_submit_the_focus_is_on_the_error_summary(browser: Any, portal: Portal) -> None:
    email = portal.citizen("fehlerfokus@example.org")
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    log_in_on_the_way(tab, portal, email)
    tab.click("button:text-is('Antrag beginnen')")
    tab.wait_for_url(f"**{START}person/")
    assert tab.evaluate("document.activeElement === document.body")  # no error: nothing is focused
    tab.click("main button:text-is('Weiter')")
    expect(tab).to_have_title(re.compile(r"^Fehler: Angaben zu Ihrer Person"))
    assert tab.evaluate("document.activeElement.classList.contains('error-summary')")
    assert tab.evaluate("document.activeElement.querySelector('h2').textContent") == "Es gibt ein Problem"
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.getAttribute('href')") == "#feld-vorname"
    context.close()
