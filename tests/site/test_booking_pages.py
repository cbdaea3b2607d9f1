"""The booking pages in Debian's chromium: axe in every state, without JavaScript, on a
phone, and by keyboard."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from generator.build import build
from tests.conftest import FIXTURE_CONTENT, TODAY, _free_port
from tests.dynamic.booking_fixtures import with_booking
from tests.site.test_browser import axe_violations

pytestmark = pytest.mark.browser

KREIS = "/kreis/termine/personalausweis-beantragen/rathaus-nordort/"


@pytest.fixture(scope="module")
def booking_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from werkzeug.serving import make_server

    from dynamic import create_app
    from dynamic.config import settings_from_env
    from dynamic.serve import migrate_database

    root = tmp_path_factory.mktemp("booking-site")
    build(FIXTURE_CONTENT, root / "built", today=TODAY, show_progress=False)
    output = with_booking(root / "built", root / "output")
    port = _free_port()
    settings = {"output_dir": output, "var_dir": root / "var", "base_url": f"http://127.0.0.1:{port}"}
    migrate_database(**settings)
    httpd = make_server("127.0.0.1", port, create_app(settings_from_env({}, **settings)), threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    httpd.shutdown()


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
