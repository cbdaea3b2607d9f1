"""Shared descriptions meet local parts: overrides and responsibilities per town."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.catalog import Catalog
from generator.errors import ContentError
from generator.pipeline import check
from generator.resolve import resolve


@pytest.fixture
def catalogs(content: Path) -> dict[str, Catalog]:
    return resolve(check(content))


def test_local_fee_replaces_shared_fee(catalogs: dict[str, Catalog]) -> None:
    city = catalogs["stadt"].services["personalausweis-beantragen"]
    district = catalogs["kreis"].services["personalausweis-beantragen"]
    assert [(f.label, f.amount) for f in city.fees] == [("Örtliche Gebühr (Test-Überschreibung)", 40.0)]
    assert [f.amount for f in district.fees] == [37.0, 22.8]
    assert city.notes and "Passfoto" in city.notes
    assert district.notes is None


def test_city_service_is_done_by_the_unit_of_its_role(catalogs: dict[str, Catalog]) -> None:
    entry = catalogs["stadt"].services["personalausweis-beantragen"]
    assert [(r.town, r.unit_id, r.location_ids) for r in entry.responsibilities] == [(None, "buergeramt", ("rathaus",))]


def test_role_missing_in_city_falls_back_to_general_office(catalogs: dict[str, Catalog]) -> None:
    entry = catalogs["stadt"].services["fahrzeug-zulassen"]
    assert [r.unit_id for r in entry.responsibilities] == ["buergerservice"]


def test_district_service_of_towns_lists_each_towns_office(catalogs: dict[str, Catalog]) -> None:
    entry = catalogs["kreis"].services["personalausweis-beantragen"]
    assert [(r.town.id if r.town else None, r.unit_id, r.location_ids) for r in entry.responsibilities] == [
        ("nordort", "buergerbuero-nordort", ("rathaus-nordort",)),
        ("suedort", "rathaus-suedort", ("rathaus-suedort",)),  # no citizens' office: the town hall
    ]


def test_district_service_of_the_district_is_done_once_by_the_district(catalogs: dict[str, Catalog]) -> None:
    entry = catalogs["kreis"].services["fahrzeug-zulassen"]
    assert [(r.town, r.unit_id) for r in entry.responsibilities] == [(None, "zulassung")]


def test_federal_service_has_no_local_office(catalogs: dict[str, Catalog]) -> None:
    entry = catalogs["stadt"].services["kindergeld"]
    assert entry.responsibilities == ()
    assert entry.service.authority is not None and entry.service.authority.name == "Familienkasse"


def local_part(content: Path, slug: str, service: str) -> Path:
    path = content / "municipalities" / slug / "services" / f"{service}.yaml"
    path.parent.mkdir(exist_ok=True)
    return path


def test_local_unit_override_in_district_replaces_per_town_offices(content: Path) -> None:
    local_part(content, "kreis", "personalausweis-beantragen").write_text("unit: zulassung\n", encoding="utf-8")
    entry = resolve(check(content))["kreis"].services["personalausweis-beantragen"]
    assert [(r.town, r.unit_id) for r in entry.responsibilities] == [(None, "zulassung")]


def test_town_units_override_one_town(content: Path) -> None:
    local_part(content, "kreis", "personalausweis-beantragen").write_text(
        "town_units: {suedort: rathaus-nordort}\n", encoding="utf-8")
    entry = resolve(check(content))["kreis"].services["personalausweis-beantragen"]
    assert [r.unit_id for r in entry.responsibilities] == ["buergerbuero-nordort", "rathaus-nordort"]


def test_features_switch_forms_and_appointments_per_municipality(catalogs: dict[str, Catalog]) -> None:
    city, district = catalogs["stadt"], catalogs["kreis"]
    assert city.services["meldebescheinigung"].form_enabled
    assert district.services["meldebescheinigung"].form_enabled
    assert not city.services["kindergeld"].form_enabled
    # The city's citizens' office receives the form; in the district each town's office does.
    assert [r.unit_id for r in city.forms["meldebescheinigung"].recipients] == ["buergeramt"]
    assert [(r.town.id if r.town else None, r.unit_id) for r in district.forms["meldebescheinigung"].recipients] == [
        ("nordort", "buergerbuero-nordort"), ("suedort", "rathaus-suedort")]
    assert city.services["personalausweis-beantragen"].appointment_location_ids == ("rathaus",)
    assert city.services["eheschliessung-anmelden"].appointment_location_ids == ("rathaus",)
    assert district.services["personalausweis-beantragen"].appointment_location_ids == ("rathaus-nordort",)
    assert district.services["eheschliessung-anmelden"].appointment_location_ids == ()
    assert district.services["eheschliessung-anmelden"].booking is None
    switch = district.services["personalausweis-beantragen"].booking
    assert switch is not None and (switch.without_account, switch.max_open) == (True, 1)


def test_contacts_are_attached_to_their_services(catalogs: dict[str, Catalog]) -> None:
    assert catalogs["stadt"].services["personalausweis-beantragen"].contact_ids == ("erika-beispiel",)
    assert catalogs["stadt"].services_by_unit["buergeramt"] == ("meldebescheinigung", "personalausweis-beantragen")


def test_editors_are_warned_where_the_general_office_stands_in(catalogs: dict[str, Catalog]) -> None:
    assert catalogs["stadt"].warnings == (
        "no office named for registry_office, road_traffic: those services show the general office",
    )
    assert catalogs["kreis"].warnings == (
        "towns without an office for citizens_office (their general office is shown): Südort",
        "towns without an office for registry_office (their general office is shown): Nordort, Südort",
    )


def test_editors_are_warned_where_booking_settings_are_missing_or_unused(content: Path) -> None:
    rathaus = content / "municipalities/stadt/locations/rathaus.yaml"
    rathaus.write_text(rathaus.read_text(encoding="utf-8").replace("booking: {counters: 2}\n", ""), encoding="utf-8")
    suedort = content / "municipalities/kreis/locations/rathaus-suedort.yaml"
    suedort.write_text(suedort.read_text(encoding="utf-8") + "booking: {counters: 1}\n", encoding="utf-8")
    catalogs = resolve(check(content))
    assert ('location "rathaus" takes appointments but has no booking block: one counter and the default times apply'
            in catalogs["stadt"].warnings)
    assert ('location "rathaus-suedort" has a booking block, but no service is bookable there (features.appointments)'
            in catalogs["kreis"].warnings)


def _take_over(content: Path, entry: str) -> None:
    """Let the fixture district's town Nordort take over a district task (takes_over)."""
    path = content / "municipalities/kreis/municipality.yaml"
    text = path.read_text(encoding="utf-8")
    old = "    offices: {general: rathaus-nordort, citizens_office: buergerbuero-nordort}\n"
    path.write_text(text.replace(old, old + f"    takes_over:\n      - {entry}\n"), encoding="utf-8")


def test_town_that_takes_over_a_district_role_does_its_services_for_its_residents(content: Path) -> None:
    _take_over(content, "{role: road_traffic, unit: rathaus-nordort}")
    entry = resolve(check(content))["kreis"].services["fahrzeug-zulassen"]
    # Each town gets its office: Nordort its own unit, Südort still the district's.
    assert [(r.town.id if r.town else None, r.unit_id, r.location_ids) for r in entry.responsibilities] == [
        ("nordort", "rathaus-nordort", ("rathaus-nordort",)),
        ("suedort", "zulassung", ("kreishaus",)),
    ]
    assert entry.per_town


def test_town_can_take_over_single_services_of_a_role(content: Path) -> None:
    _take_over(content, "{services: [personalausweis-beantragen], unit: rathaus-nordort}")
    catalog = resolve(check(content))["kreis"]
    # A takeover of services does not touch the other services of the district.
    assert [(r.town, r.unit_id) for r in catalog.services["fahrzeug-zulassen"].responsibilities] == [
        (None, "zulassung")]


def test_takeover_applies_where_the_district_does_a_towns_service(content: Path) -> None:
    local_part(content, "kreis", "personalausweis-beantragen").write_text("unit: zulassung\n", encoding="utf-8")
    _take_over(content, "{services: [personalausweis-beantragen], unit: buergerbuero-nordort}")
    entry = resolve(check(content))["kreis"].services["personalausweis-beantragen"]
    assert [(r.town.id if r.town else None, r.unit_id) for r in entry.responsibilities] == [
        ("nordort", "buergerbuero-nordort"), ("suedort", "zulassung")]


def test_takeover_needs_a_unit_of_the_town_itself(content: Path) -> None:
    _take_over(content, "{role: road_traffic, unit: rathaus-suedort}")
    with pytest.raises(ContentError) as caught:
        check(content)
    assert any('unit "rathaus-suedort" belongs to suedort, not to nordort' in str(p) for p in caught.value.problems)


def test_takeover_names_a_role_or_services(content: Path) -> None:
    _take_over(content, "{unit: rathaus-nordort}")
    with pytest.raises(ContentError) as caught:
        check(content)
    assert any("either a role or services" in str(p) for p in caught.value.problems)
