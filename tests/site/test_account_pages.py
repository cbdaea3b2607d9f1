"""The account pages in Debian's chromium: no axe violations in any state, usable without
JavaScript and on a phone."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.site.test_browser import axe_violations

pytestmark = pytest.mark.browser

PASSWORD = "Wanderweg Kompass Brotzeit"


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    """A phone 320 CSS px wide: also a 1280 px window at 400 % zoom (WCAG 1.4.10)."""
    context = browser.new_context(bypass_csp=True, locale="de-DE", viewport={"width": 320, "height": 640})
    yield context.new_page()
    context.close()


def deliver_mail(real_output: Path) -> list[email.message.EmailMessage]:
    """Run the outbox worker of the served portal once; return the mails in var/mail."""
    from dynamic import create_app
    from dynamic.platform.config import settings_from_env
    from dynamic.platform.outbox import process_outbox

    var = real_output.parent / "var"
    app = create_app(settings_from_env({}, output_dir=real_output, var_dir=var))
    process_outbox(app)
    app.extensions["db_engine"].dispose()
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for p in sorted((var / "mail").glob("*.eml"))]


def test_account_pages_have_no_axe_violations_and_fit_a_phone_in_any_state(tab: Any, server: str, real_output: Path) -> None:
    found: dict[str, list[str]] = {}
    too_wide: dict[str, int] = {}

    def check(label: str) -> None:
        if violations := axe_violations(tab):
            found[label] = violations
        if (width := tab.evaluate("document.documentElement.scrollWidth")) > 320:
            too_wide[label] = width

    for path in ["/konto/anmelden?kommune=muenster", "/konto/anmelden?stufe=hoch", "/konto/registrieren",
                 "/konto/passwort-vergessen", "/konto/abgemeldet"]:
        tab.goto(server + path)
        check(path)
    tab.goto(server + "/konto/registrieren?kommune=kreis-coesfeld")
    tab.click("text=Konto anlegen >> nth=-1")
    expect(tab).to_have_title(re.compile(r"^Fehler: Konto anlegen"))
    check("registration with errors")

    address = "axe.pruefung@example.org"
    tab.fill("#feld-email", address)
    tab.fill("#feld-passwort", PASSWORD)
    tab.check("#feld-datenschutz")
    tab.click("button:has-text('Konto anlegen')")
    assert tab.locator("h1").inner_text() == "Fast geschafft"
    check("registered")
    mail = [m for m in deliver_mail(real_output) if m["To"] == address][-1]
    link = re.search(r"(/konto/bestaetigen/\S+)", mail.get_content()).group(1)  # type: ignore[union-attr]
    other = tab.context.browser.new_context(bypass_csp=True, locale="de-DE", viewport={"width": 320, "height": 640})
    elsewhere = other.new_page()  # another browser is asked for the chosen password
    elsewhere.goto(server + link)
    assert elsewhere.locator("h1").inner_text() == "E-Mail-Adresse bestätigen"
    if violations := axe_violations(elsewhere):
        found["confirmation in another browser"] = violations
    other.close()
    tab.goto(server + link)  # the browser that registered: the link is enough
    assert tab.locator("h1").inner_text() == "Mein Konto"
    assert "Kreis Coesfeld" in tab.locator("header").inner_text()  # the municipality the citizen came from
    check("Mein Konto")
    for path in ["/konto/email", "/konto/passwort", "/konto/daten", "/konto/loeschen"]:
        tab.goto(server + path)
        check(path)
    tab.goto(server + "/konto/daten")
    tab.fill("input[name='postal_code']", "481")
    tab.fill("input[name='birthdate-day']", "31")
    tab.fill("input[name='birthdate-month']", "2")
    tab.fill("input[name='birthdate-year']", "1990")
    tab.click("button:has-text('Daten speichern')")
    expect(tab).to_have_title(re.compile(r"^Fehler: "))
    check("Meine Daten with errors")
    assert found == {}
    assert too_wide == {}


def test_login_works_without_javascript_and_on_a_phone(browser: Any, server: str, real_output: Path) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 320, "height": 640},
                                  locale="de-DE")
    tab = context.new_page()
    tab.goto(server + "/konto/anmelden?kommune=hamm")
    tab.fill("#feld-email", "niemand.hier@example.org")
    tab.fill("#feld-passwort", "ein falsches Passwort")
    tab.click("button:has-text('Anmelden') >> nth=0")
    expect(tab).to_have_title(re.compile(r"^Fehler: Anmelden"))
    summary = tab.locator(".error-summary")
    assert "E-Mail-Adresse oder Passwort sind nicht richtig." in summary.inner_text()
    assert tab.locator("#feld-email").get_attribute("aria-invalid") == "true"
    width = tab.evaluate("document.documentElement.scrollWidth")
    assert width <= 320
    context.close()


def test_state_login_at_level_hoch_through_the_development_idp(tab: Any, server: str) -> None:
    """With JavaScript the identity provider's answer is posted on by itself; Mein Konto
    then names the level and the means, and Meine Daten shows the eID values as verified."""
    tab.goto(server + "/konto/anmelden?stufe=hoch&weiter=/konto/daten&kommune=hamm")
    assert "brauchen Sie eine Anmeldung mit „Online-Ausweis“" in tab.locator("main").inner_text()
    tab.click("button:has-text('Beim Servicekonto anmelden')")
    tab.wait_for_url("**/dev-idp/**")
    assert axe_violations(tab) == []
    tab.check("label:has-text('Online-Ausweis')")
    tab.click("button:has-text('Anmelden')")
    tab.wait_for_url("**/konto/daten")
    assert tab.locator("h1").inner_text() == "Meine Daten"
    assert "Bestätigt durch Online-Ausweis (eID)" in tab.locator("main").inner_text()
    assert axe_violations(tab) == []
    tab.goto(server + "/konto/")
    text = tab.locator("main").inner_text()
    assert "Angemeldet mit\nOnline-Ausweis (eID)\nVertrauensniveau\nOnline-Ausweis\n" in text
    assert "verknüpft" in text and "nicht verknüpft" not in text
