"""What the journeys share: the four municipalities as citizens meet them, the devices they
use, the check after every page (axe and reflow) and the steps that several journeys take."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.journeys.conftest import PASSWORD, Portal
from tests.site import readable
from tests.site.test_browser import axe_violations

REFERENCE = re.compile(r"A-[0-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}")
# The elements that stick out of the screen, or whose content does (a long word).
WIDER_THAN_THE_SCREEN = """() => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > innerWidth || e.scrollWidth > e.clientWidth + 1)
    .map(e => `${e.tagName.toLowerCase()}.${e.className} ${e.textContent.trim().slice(0, 40)}`)"""


@dataclass(frozen=True)
class Site:
    slug: str
    persona: str            # the development identity provider's test person who lives there
    persona_label: str
    family_name: str
    town: str | None        # district: the member town the person lives in (where the form goes)
    booking_place: str      # the link to the office on the booking's choice of location
    guest_booking: bool     # books without an account, confirmed by e-mail (the others log in on the way)


SITES = {site.slug: site for site in (
    Site("muenster", "erika", "Erika Mustermann, Münster", "Mustermann", None, "Stadthaus 1", False),
    Site("hamm", "lukas", "Lukas Probst, Hamm", "Probst", None, "Bürgeramt Mitte", True),
    Site("kreis-coesfeld", "jonas", "Jonas Beispielmann, Coesfeld", "Beispielmann", "Coesfeld",
         "Dülmen: Rathaus Dülmen", False),
    Site("kreis-warendorf", "suryani", "Suryani (nur ein Name), Warendorf", "Suryani", "Warendorf",
         "Warendorf: Rathaus Warendorf", False),
)}

# Where each municipality's clerk works (a location with booking).
LOCATIONS = {"muenster": "stadthaus-1", "hamm": "buergeramt-mitte", "kreis-coesfeld": "rathaus-duelmen",
             "kreis-warendorf": "rathaus-warendorf"}


@dataclass(frozen=True)
class Device:
    name: str
    viewport: dict[str, int]
    javascript: bool

    @property
    def phone(self) -> bool:
        return self.viewport["width"] <= 320


# A phone 320 CSS px wide is also what a 1280 px window shows at 400 % zoom (WCAG 1.4.10).
PHONE = Device("phone", {"width": 320, "height": 640}, True)
DESKTOP = Device("desktop", {"width": 1280, "height": 800}, True)
PHONE_WITHOUT_JS = Device("phone-without-js", {"width": 320, "height": 640}, False)
DESKTOP_WITHOUT_JS = Device("desktop-without-js", {"width": 1280, "height": 800}, False)


@dataclass
class Check:
    """After every page: what it says inside <main> reads as text (tests/site/readable.py:
    no markup, None, placeholder or English framework text); on a phone nothing may need
    sideways scrolling; where scripts run, axe-core finds no violation of WCAG 2.1 A/AA (and
    its best practices)."""

    tab: Any
    device: Device
    axe: bool
    too_wide: dict[str, list[str]] = field(default_factory=dict)
    violations: dict[str, list[str]] = field(default_factory=dict)
    unreadable: dict[str, list[str]] = field(default_factory=dict)

    def __call__(self, label: str, again: bool = False) -> None:
        """`again`: a kind of page in a state this journey has had axe check already (the
        second calendar, the second message): only the reflow check."""
        if found := readable.problems(self.tab.content()):
            self.unreadable[f"{label} ({self.tab.url})"] = found
        width = self.device.viewport["width"]
        if self.device.phone and self.tab.evaluate("document.documentElement.scrollWidth") > width:
            self.too_wide[label] = self.tab.evaluate(WIDER_THAN_THE_SCREEN)
        if self.axe and not again and (found := axe_violations(self.tab)):
            self.violations[label] = found

    def assert_clean(self) -> None:
        assert self.unreadable == {}, f"pages whose text does not read as text: {self.unreadable}"
        assert self.too_wide == {}, f"pages that scroll sideways on a phone: {self.too_wide}"
        assert self.violations == {}, f"axe violations: {self.violations}"


@contextmanager
def citizen_tab(browser: Any, device: Device, axe: bool = False) -> Iterator[tuple[Any, Check]]:
    """A fresh browser (no cookies) on the device; axe needs scripts and may be injected
    despite the Content-Security-Policy (the pages themselves load no foreign script)."""
    context = browser.new_context(locale="de-DE", viewport=device.viewport, java_script_enabled=device.javascript,
                                  bypass_csp=axe and device.javascript, accept_downloads=True)
    context.set_default_timeout(20_000)
    tab = context.new_page()
    try:
        yield tab, Check(tab, device, axe and device.javascript)
    finally:
        context.close()


def heading(tab: Any) -> str:
    return str(tab.locator("h1").inner_text()).strip()


def search_and_open(tab: Any, portal: Portal, site: Site, query: str, title: str, check: Check) -> None:
    """From the municipality's home page: the search field in the header → the results →
    the page called `title`."""
    tab.goto(f"{portal.url}/{site.slug}/")
    check("home page")
    tab.fill("#kopfsuche", query)
    tab.press("#kopfsuche", "Enter")
    tab.wait_for_url(re.compile(rf".*/{site.slug}/suche/\?q=.*"))
    result = tab.locator("#suchergebnisse a", has_text=re.compile(rf"^{re.escape(title)}$"))
    result.first.wait_for()
    assert re.search(rf"\d+ Ergebnis(se)? für „{query}“\.", tab.locator("#suchstatus").inner_text())
    assert tab.locator("#suchbegriff").input_value() == query
    check(f"search results for {query}")
    result.first.click()
    tab.wait_for_url(re.compile(rf".*/{site.slug}/leistungen/[a-z0-9-]+/$"))
    assert heading(tab) == title
    check("service page")


def log_in_with_password(tab: Any, address: str, check: Check) -> None:
    """On the portal's login page: the portal account's e-mail address and password."""
    assert heading(tab) == "Anmelden"
    check("login")
    tab.fill("#feld-email", address)
    tab.fill("#feld-passwort", PASSWORD)
    tab.click("main button:text-is('Anmelden')")


def log_in_with_state_account(tab: Any, site: Site, device: Device, check: Check, person: str | None = None) -> None:
    """On the portal's login page: on to the (development) identity provider of the state
    account, choose the test person (the means it preselects reaches the level asked), and back. Without JavaScript the citizen
    sends the identity provider's answer on with "Weiter"."""
    check("login")
    tab.click("button:text-is('Beim Servicekonto anmelden')")
    tab.wait_for_url("**/dev-idp/sso**")
    check("identity provider")
    tab.get_by_label(person or site.persona_label, exact=True).check()
    tab.click("main button:text-is('Anmelden')")
    if not device.javascript:
        assert heading(tab) == "Weiter zum Bürgerportal"
        check("identity provider's answer")
        tab.click("main button:text-is('Weiter')")
    tab.wait_for_url(lambda url: "/dev-idp/" not in url and "/saml/" not in url)


def inbox_message(tab: Any, portal: Portal, subject: str, check: Check, again: bool = False) -> str:
    """Open the newest message with this subject in the inbox; its text."""
    tab.goto(portal.url + "/postfach/")
    assert heading(tab) == "Postfach"
    check("inbox", again)
    tab.locator("ul.messages a", has_text=subject).first.click()
    tab.wait_for_url(re.compile(r".*/postfach/\d+$"))
    check("message", again)
    return str(tab.locator("main").inner_text())
