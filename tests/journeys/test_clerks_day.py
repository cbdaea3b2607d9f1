"""Journey 4, a clerk's day: staff login → the day's appointments at one location → mark
arrivals → and nothing of another municipality in reach. On all four sites, on a phone
(axe) and on a desktop. The clerk's login comes from `build.py staff`; the day's bookings
were made before the day began, so they are stored as the booking stores them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.journeys.conftest import STAFF_PASSWORD, Portal
from tests.journeys.steps import DESKTOP, LOCATIONS, PHONE, SITES, Device, citizen_tab, heading

pytestmark = pytest.mark.browser

def booked_today(portal: Portal, slug: str, location: str, codes: list[str], first: dt.time) -> list[int]:
    """Appointments of today at the location, from `first` every 15 minutes, with their claims."""
    from dynamic.appointments.claims import add_claims
    from dynamic.appointments.slots import to_utc
    from dynamic.platform.db import session_scope
    from dynamic.platform.models import Appointment, utcnow

    ids = []
    with session_scope(portal.app) as session:
        for number, code in enumerate(codes):
            start = to_utc(portal.today(), first) + dt.timedelta(minutes=15 * number)
            end = start + dt.timedelta(minutes=15)
            appointment = Appointment(slug=slug, location_id=location, service_id="personalausweis-beantragen",
                                      starts_at=start, ends_at=end, counter=1, persons=1, status="booked",
                                      code=code, email=f"{code.lower()}@example.org", booked_at=utcnow())
            session.add(appointment)
            session.flush()
            add_claims(session, slug, location, 1, start, end, appointment_id=appointment.id)
            ids.append(appointment.id)
    return ids


def status_of(portal: Portal, appointment_id: int) -> str:
    from dynamic.platform.db import session_scope
    from dynamic.platform.models import Appointment

    with session_scope(portal.app) as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        return appointment.status


def row_of(tab: Any, code: str) -> list[str]:
    return [text.strip() for text in tab.locator("tr", has=tab.locator(f"td:text-is('{code}')")).locator(
        "th, td").all_inner_texts()]


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=lambda d: d.name)
@pytest.mark.parametrize("slug", list(SITES))
def test_a_clerks_day(browser: Any, portal: Portal, clerks: dict[str, str], slug: str, device: Device) -> None:
    number = list(SITES).index(slug)
    other = list(SITES)[(number + 1) % len(SITES)]
    mine = [f"HEUTE-{number}{device.name[0].upper()}{n}" for n in range(3)]
    hour = 8 + 2 * [PHONE, DESKTOP].index(device)  # each run its own times
    [foreign_id] = booked_today(portal, other, LOCATIONS[other], [f"FREMD-{number}{device.name[0].upper()}"],
                                dt.time(hour + 1, 0))
    ids = booked_today(portal, slug, LOCATIONS[slug], mine, dt.time(hour, 0))
    location = portal.katalog(slug)["locations"][LOCATIONS[slug]]["name"]

    with citizen_tab(browser, device, axe=device is PHONE) as (tab, check):
        tab.goto(f"{portal.url}/{slug}/verwaltung/")
        assert heading(tab) == "Anmelden für die Verwaltung"
        check("staff login")
        tab.fill("#feld-benutzername", clerks[slug])
        tab.fill("#feld-passwort", STAFF_PASSWORD)
        tab.click("main button:text-is('Anmelden')")
        assert heading(tab).startswith("Verwaltung ")
        check("staff overview")

        tab.locator("main a", has_text=re.compile(rf"^Termine heute: {re.escape(location)}$")).click()
        assert heading(tab).startswith(f"{location}: Termine am ")
        for code in mine:
            assert row_of(tab, code)[4] == "gebucht"
        check("the day")

        for code in mine[:2]:  # two people came
            tab.click(f"main button:has-text('Erschienen'):has-text('{code}')")
            expect(tab.locator(".notice")).to_have_text(
                re.compile(rf"^Termin {code} um \d\d:\d\d Uhr ist als „erschienen“ markiert\.$"))
            assert row_of(tab, code)[4] == "erschienen"
        tab.click(f"main button:has-text('Erledigt'):has-text('{mine[0]}')")
        expect(tab.locator(".notice")).to_have_text(re.compile(rf"^Termin {mine[0]} .*„erledigt“"))
        assert row_of(tab, mine[0])[4] == "erledigt"
        check("the day with arrivals")
        assert [status_of(portal, i) for i in ids] == ["done", "arrived", "booked"]

        # Another municipality: not on the clerk's pages, not reachable by address or by a
        # forged form (with the clerk's own valid CSRF token).
        assert f"FREMD-{number}" not in tab.content()
        token = tab.locator("input[name=csrf_token]").first.get_attribute("value")
        forged = tab.request.post(f"{portal.url}/{slug}/verwaltung/termine/{foreign_id}/status",
                                  form={"csrf_token": token, "status": "arrived"}, max_redirects=0)
        assert forged.status == 404
        assert status_of(portal, foreign_id) == "booked"
        tab.goto(f"{portal.url}/{other}/verwaltung/termine/{LOCATIONS[other]}/")
        assert heading(tab) == "Anmelden für die Verwaltung"
        assert re.search(r"Sie sind bei der Verwaltung (der Stadt|des Kreises) \w+ angemeldet\.",
                         tab.locator(".notice").inner_text())
        assert f"FREMD-{number}" not in tab.content()
        check("another municipality's staff area")
    check.assert_clean()
