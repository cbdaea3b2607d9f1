"""Our own knowledge base: complete enough for the four municipalities, and valid."""

from __future__ import annotations

from collections import Counter

import pytest

from generator.pipeline import check
from generator.resolve import resolve
from generator.validate import ValidContent

from .conftest import REAL_CONTENT

DISTRICT_TOWNS = {
    "kreis-coesfeld": ["Ascheberg", "Billerbeck", "Coesfeld", "Dülmen", "Havixbeck", "Lüdinghausen", "Nordkirchen",
                       "Nottuln", "Olfen", "Rosendahl", "Senden"],
    "kreis-warendorf": ["Ahlen", "Beckum", "Beelen", "Drensteinfurt", "Ennigerloh", "Everswinkel", "Oelde",
                        "Ostbevern", "Sassenberg", "Sendenhorst", "Telgte", "Wadersloh", "Warendorf"],
}
CITIZENS_OFFICE_SERVICES = ["personalausweis-beantragen", "wohnsitz-anmelden", "reisepass-beantragen"]


@pytest.fixture(scope="module")
def valid() -> ValidContent:
    return check(REAL_CONTENT)


def test_the_four_municipalities_are_there(valid: ValidContent) -> None:
    kinds = {slug: c.municipality.kind for slug, c in valid.municipalities.items()}
    assert kinds == {"muenster": "kreisfreie_stadt", "hamm": "kreisfreie_stadt",
                     "kreis-coesfeld": "kreis", "kreis-warendorf": "kreis"}


def test_at_least_80_distinct_services_across_the_offices(valid: ValidContent) -> None:
    assert len(valid.services) >= 80
    names = Counter(s.name for s in valid.services.values())
    assert [n for n, count in names.items() if count > 1] == []
    roles = {s.office for s in valid.services.values() if s.office}
    for role in ("citizens_office", "registry_office", "road_traffic", "driving_licences", "public_order",
                 "building", "youth", "social", "foreigners", "tax", "waste", "trade"):
        assert role in roles, role


def test_state_and_federal_services_link_to_where_they_are_done_online(valid: ValidContent) -> None:
    elsewhere = {sid: s for sid, s in valid.services.items() if s.level in ("land", "bund")}
    assert len(elsewhere) >= 8
    without_link = [sid for sid, s in elsewhere.items() if not (s.online and s.online.url) and
                    not (s.authority and s.authority.url)]
    assert without_link == []


@pytest.mark.parametrize("slug", sorted(DISTRICT_TOWNS))
def test_districts_have_all_member_towns_each_with_a_citizens_office(valid: ValidContent, slug: str) -> None:
    content = valid.municipalities[slug]
    towns = content.municipality.towns
    assert sorted(t.name for t in towns) == sorted(DISTRICT_TOWNS[slug])
    for town in towns:
        office = town.offices.get("citizens_office")
        assert office in content.units, town.name
        assert content.units[office].town == town.id
        assert content.units[office].locations, f"{town.name}: citizens' office without a location"


@pytest.mark.parametrize("slug", sorted(DISTRICT_TOWNS))
def test_district_site_names_the_town_office_for_town_services(valid: ValidContent, slug: str) -> None:
    catalog = resolve(valid)[slug]
    for sid in CITIZENS_OFFICE_SERVICES:
        towns = [r.town.name for r in catalog.services[sid].responsibilities if r.town]
        assert sorted(towns) == sorted(DISTRICT_TOWNS[slug]), sid
    zulassung = catalog.services["fahrzeug-neu-zulassen"].responsibilities
    assert [r.town for r in zulassung] == [None]  # the district registers vehicles itself


def test_contact_persons_are_marked_as_sample_data(valid: ValidContent) -> None:
    unmarked = [cid for c in valid.municipalities.values() for cid, person in c.contacts.items() if not person.sample]
    assert unmarked == []
    assert all(person.email is None or person.email.endswith("@example.org")
               for c in valid.municipalities.values() for person in c.contacts.values())


def test_every_municipality_switches_on_features_at_its_own_speed(valid: ValidContent) -> None:
    switched = {slug: (len(c.municipality.features.online_forms), len(c.municipality.features.appointments))
                for slug, c in valid.municipalities.items()}
    assert len(set(switched.values())) > 1


def test_every_booking_location_says_how_many_counters_take_appointments(valid: ValidContent) -> None:
    for slug, content in valid.municipalities.items():
        for switch in content.municipality.features.appointments:
            for lid in switch.locations:
                assert content.locations[lid].booking is not None, f"{slug}: {lid}"


def test_counter_services_are_bookable_without_an_account_everywhere(valid: ValidContent) -> None:
    """The default (as Münster's own booking, which needs no account): no municipality of the
    sample content switches it off, and every bookable service there is a counter service."""
    for slug, c in valid.municipalities.items():
        for switch in c.municipality.features.appointments:
            appointment = valid.services[switch.service].online.appointment  # type: ignore[union-attr]
            assert switch.without_account and appointment.trust_level == "basis", f"{slug}: {switch.service}"


@pytest.mark.parametrize("slug", sorted(DISTRICT_TOWNS))
def test_districts_book_in_several_towns_and_phone_in_others(valid: ValidContent, slug: str) -> None:
    content = valid.municipalities[slug]
    catalog = resolve(valid)[slug]
    entry = catalog.services["personalausweis-beantragen"]
    booking_towns = {content.locations[lid].town for lid in entry.appointment_location_ids}
    all_towns = {t.id for t in content.municipality.towns}
    assert len(booking_towns) >= 3
    assert all_towns - booking_towns


APPOINTMENT_MINUTES = {"personalausweis-beantragen": 15, "reisepass-beantragen": 15, "eheschliessung-anmelden": 45,
                       "wohnsitz-anmelden": 15}


@pytest.mark.parametrize(("sid", "minutes"), APPOINTMENT_MINUTES.items())
def test_appointments_take_as_long_as_they_do_at_the_counter(valid: ValidContent, sid: str, minutes: int) -> None:
    online = valid.services[sid].online
    assert online is not None and online.appointment is not None
    assert online.appointment.duration == minutes
