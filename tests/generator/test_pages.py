"""Service and location pages lead to booking where it is switched on, and to the phone elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator.pipeline import build

from ..conftest import FIXTURE_CONTENT, TODAY


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pages") / "output"
    build(FIXTURE_CONTENT, out, today=TODAY, show_progress=False)
    return out


def text_of(html: str) -> str:
    """The page's main content as a reader hears it: tags dropped, spaces joined."""
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)).replace(" .", ".").replace(" :", ":")


def main_of(html: str) -> str:
    """The page's <main>: the header's navigation links to /termine/ on every page of a site with booking."""
    return html[html.index("<main") : html.index("</main>")]


def page(site: Path, path: str) -> str:
    return (site / path / "index.html").read_text(encoding="utf-8")


def test_city_service_page_offers_online_booking_with_an_account(site: Path) -> None:
    html = page(site, "stadt/leistungen/personalausweis-beantragen")
    assert '<a class="button" href="/stadt/termine/personalausweis-beantragen/">Termin online buchen</a>' in html
    assert 'href="/stadt/termine/personalausweis-beantragen/rathaus/">Termin hier online buchen' in html
    text = text_of(html)
    assert "Online buchen können Sie am Standort Rathaus." in text
    assert "Zum Buchen brauchen Sie ein Konto im Bürgerportal. Ein Termin dauert etwa 15 Minuten." in text
    assert ('{"@type":"ServiceChannel","name":"Termin online buchen",'
            '"serviceUrl":"http://127.0.0.1:8000/stadt/termine/personalausweis-beantragen/"}') in html


def test_service_page_says_how_many_persons_may_come(site: Path) -> None:
    text = text_of(page(site, "stadt/leistungen/eheschliessung-anmelden"))
    assert "Ein Termin dauert etwa 45 Minuten; bis zu 2 Personen können gemeinsam kommen." in text


def test_district_service_page_books_per_town_and_shows_the_phone_elsewhere(site: Path) -> None:
    html = page(site, "kreis/leistungen/personalausweis-beantragen")
    assert '<a class="button" href="/kreis/termine/personalausweis-beantragen/">Termin online buchen</a>' in html
    assert ('<a class="button" href="/kreis/termine/personalausweis-beantragen/rathaus-nordort/">Termin online buchen'
            '<span class="visually-hidden"> in Nordort, Rathaus Nordort</span></a>') in html
    assert '<p>Termine vereinbaren Sie telefonisch: <a href="tel:02541220">02541 22-0</a></p>' in html
    text = text_of(html)
    assert ("Online buchen können Sie in Nordort. In den anderen Städten und Gemeinden vereinbaren Sie Termine "
            "telefonisch, siehe Zuständige Stelle.") in text
    assert "Buchen ist auch ohne Konto möglich, mit Bestätigung Ihrer E-Mail-Adresse." in text
    assert "/kreis/termine/personalausweis-beantragen/rathaus-suedort/" not in html


def test_district_without_booking_sends_citizens_to_their_towns_phone(site: Path) -> None:
    html = page(site, "kreis/leistungen/eheschliessung-anmelden")
    assert "/termine/" not in main_of(html)
    assert ("Termine vereinbaren Sie telefonisch mit Ihrer Stadt oder Gemeinde. Die Telefonnummer finden Sie bei "
            "Ihrem Wohnort unter Zuständige Stelle.") in text_of(html)
    assert '<p>Termine vereinbaren Sie telefonisch: <a href="tel:02541220">02541 22-0</a></p>' in html
    # Nordort's registry office is its town hall, which has no number: the page names it instead.
    assert ('<p>Termine vereinbaren Sie direkt mit: <a href="/kreis/organisation/rathaus-nordort/">Rathaus Nordort</a>'
            '</p>') in html


def test_service_without_appointments_has_no_appointment_box(site: Path) -> None:
    html = page(site, "stadt/leistungen/fahrzeug-zulassen")
    assert "Termin vereinbaren" not in html and "/termine/" not in main_of(html)


def test_city_with_booking_switched_off_shows_the_offices_phone(content: Path, tmp_path: Path) -> None:
    municipality = content / "municipalities" / "stadt" / "municipality.yaml"
    text = municipality.read_text(encoding="utf-8")
    municipality.write_text(text.replace("    - service: eheschliessung-anmelden\n      locations: [rathaus]\n"
                                         "      without_account: false\n", ""),
                            encoding="utf-8")
    build(content, tmp_path / "out", today=TODAY, show_progress=False)
    html = page(tmp_path / "out", "stadt/leistungen/eheschliessung-anmelden")
    assert '<p>Termine vereinbaren Sie telefonisch: <a href="tel:02510000">0251 000-0</a></p>' in html
    assert "/termine/" not in main_of(html)


def test_location_page_lists_what_can_be_booked_there(site: Path) -> None:
    html = page(site, "stadt/standorte/rathaus")
    assert '<h2 id="termine">Termine an diesem Standort</h2>' in html
    assert '<a href="/stadt/termine/personalausweis-beantragen/rathaus/">Personalausweis beantragen: Termin buchen</a>' in html
    assert '<a href="/stadt/termine/eheschliessung-anmelden/rathaus/">Eheschließung anmelden: Termin buchen</a>' in html
    assert ("Ein Termin dauert etwa 45 Minuten, bis zu 2 Personen können gemeinsam kommen. Zum Buchen brauchen Sie "
            "ein Konto im Bürgerportal.") in text_of(html)


def test_location_without_booking_gives_the_phone_for_its_appointments(site: Path) -> None:
    html = page(site, "kreis/standorte/rathaus-suedort")
    assert "/termine/" not in main_of(html)
    assert ("Telefonisch unter 02541 22-0 vereinbaren Sie Termine für: Eheschließung anmelden Personalausweis "
            "beantragen") in text_of(html)
    nordort = text_of(page(site, "kreis/standorte/rathaus-nordort"))
    assert "Diese Termine können Sie online buchen: Personalausweis beantragen: Termin buchen" in nordort
    assert "Buchen ist auch ohne Konto möglich" in nordort


def test_location_of_an_office_without_appointments_has_no_appointment_section(site: Path) -> None:
    assert "Termine an diesem Standort" not in page(site, "kreis/standorte/kreishaus")
