"""Who is responsible in a district: member towns that run district tasks themselves
(takes_over in municipality.yaml) are named to their residents, on the service pages, in
katalog.json (which bookings and forms read) and in XZuFi. The cases are the real ones of
content/, each sourced there."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from generator.catalog import Catalog
from generator.pipeline import check
from generator.resolve import resolve

from ..conftest import REAL_CONTENT

BUILDING = ["baugenehmigung", "bauvorbescheid", "baulastenauskunft", "abbruch-anzeigen"]
YOUTH = ["kita-platz", "unterhaltsvorschuss", "beistandschaft", "sorgeerklaerung"]

# (district, town, service, the unit that serves the town's residents)
CASES = [
    *[("kreis-coesfeld", town, sid, f"bauaufsicht-{town}") for town in ("coesfeld", "duelmen") for sid in BUILDING],
    *[("kreis-coesfeld", town, sid, f"jugendamt-{town}") for town in ("coesfeld", "duelmen") for sid in YOUTH],
    ("kreis-coesfeld", "coesfeld", "wohnberechtigungsschein", "wohnberechtigungsschein-coesfeld"),
    ("kreis-coesfeld", "duelmen", "wohnberechtigungsschein", "buergerbuero-duelmen"),
    ("kreis-coesfeld", "coesfeld", "parkausweis-behinderung", "buergerbuero-coesfeld"),
    ("kreis-coesfeld", "coesfeld", "wohngeld", "rathaus-coesfeld"),
    ("kreis-coesfeld", "duelmen", "wohngeld", "rathaus-duelmen"),
    *[("kreis-warendorf", town, sid, f"bauaufsicht-{town}")
      for town in ("ahlen", "beckum", "oelde", "warendorf") for sid in BUILDING],
    *[("kreis-warendorf", town, sid, f"jugendamt-{town}") for town in ("ahlen", "beckum", "oelde") for sid in YOUTH],
    *[("kreis-warendorf", town, sid, f"rathaus-{town}")
      for town in ("ahlen", "beckum", "oelde", "warendorf")
      for sid in ("wohngeld", "wohnberechtigungsschein", "halteverbot-umzug")],
    ("kreis-warendorf", "ahlen", "parkausweis-behinderung", "buergerbuero-ahlen"),
    # A temporary no-parking zone is ordered by the road traffic authority: the district, except in the
    # towns that are their own authority (Coesfeld and Dülmen; Ahlen, Beckum, Oelde and Warendorf).
    ("kreis-coesfeld", "coesfeld", "halteverbot-umzug", "ordnung-verkehr-coesfeld"),
    ("kreis-coesfeld", "duelmen", "halteverbot-umzug", "verkehrssicherung-duelmen"),
    *[("kreis-coesfeld", town, "halteverbot-umzug", "strassenverkehrsbehoerde")
      for town in ("senden", "billerbeck", "rosendahl", "luedinghausen")],
    *[("kreis-warendorf", town, "halteverbot-umzug", "verkehrslenkung") for town in ("beelen", "sendenhorst")],
    # The district keeps the task for the towns that do not take it over.
    ("kreis-coesfeld", "senden", "baugenehmigung", "bauaufsicht"),
    ("kreis-coesfeld", "senden", "kita-platz", "kreisjugendamt"),
    ("kreis-coesfeld", "senden", "wohnberechtigungsschein", "wohnungswesen"),
    ("kreis-warendorf", "warendorf", "kita-platz", "kreisjugendamt"),  # no youth office of its own
    ("kreis-warendorf", "telgte", "baugenehmigung", "bauaufsicht"),
    ("kreis-warendorf", "telgte", "wohnberechtigungsschein", "wohnungswesen"),
    ("kreis-warendorf", "telgte", "halteverbot-umzug", "verkehrslenkung"),
    ("kreis-warendorf", "telgte", "wohngeld", "rathaus-telgte"),  # Wohngeld is every town's task in NRW
]
# One case per district, town and unit for the built site (building the real content is slow).
SITE_CASES = [
    ("kreis-coesfeld", "coesfeld", "baugenehmigung", "bauaufsicht-coesfeld"),
    ("kreis-coesfeld", "duelmen", "kita-platz", "jugendamt-duelmen"),
    ("kreis-coesfeld", "coesfeld", "wohnberechtigungsschein", "wohnberechtigungsschein-coesfeld"),
    ("kreis-warendorf", "oelde", "unterhaltsvorschuss", "jugendamt-oelde"),
    ("kreis-warendorf", "warendorf", "bauvorbescheid", "bauaufsicht-warendorf"),
    ("kreis-warendorf", "ahlen", "parkausweis-behinderung", "buergerbuero-ahlen"),
    ("kreis-coesfeld", "coesfeld", "parkausweis-behinderung", "buergerbuero-coesfeld"),
    ("kreis-warendorf", "warendorf", "kita-platz", "kreisjugendamt"),
    ("kreis-warendorf", "beelen", "halteverbot-umzug", "verkehrslenkung"),
    ("kreis-warendorf", "ahlen", "halteverbot-umzug", "rathaus-ahlen"),
    ("kreis-coesfeld", "senden", "halteverbot-umzug", "strassenverkehrsbehoerde"),
    ("kreis-coesfeld", "coesfeld", "halteverbot-umzug", "ordnung-verkehr-coesfeld"),
]


@pytest.fixture(scope="module")
def catalogs() -> dict[str, Catalog]:
    return resolve(check(REAL_CONTENT))


def office_for(catalog: Catalog, sid: str, town: str) -> str:
    [unit] = [r.unit_id for r in catalog.services[sid].responsibilities if r.town and r.town.id == town]
    return unit


@pytest.mark.parametrize(("slug", "town", "sid", "unit"), CASES)
def test_resident_of_a_town_is_sent_to_the_office_that_serves_the_town(
        catalogs: dict[str, Catalog], slug: str, town: str, sid: str, unit: str) -> None:
    catalog = catalogs[slug]
    assert office_for(catalog, sid, town) == unit
    assert catalog.units[unit].town in (town, None)


@pytest.mark.parametrize("slug", ["kreis-coesfeld", "kreis-warendorf"])
def test_a_district_service_taken_over_by_some_towns_names_an_office_for_every_town(
        catalogs: dict[str, Catalog], slug: str) -> None:
    catalog = catalogs[slug]
    towns = [t.id for t in catalog.municipality.towns]
    for sid in [*BUILDING, *YOUTH, "wohnberechtigungsschein", "wohngeld", "halteverbot-umzug"]:
        assert [r.town.id for r in catalog.services[sid].responsibilities if r.town] == towns, sid


def test_district_youth_office_of_warendorf_serves_ten_towns(catalogs: dict[str, Catalog]) -> None:
    entry = catalogs["kreis-warendorf"].services["kita-platz"]
    served = [r.town.name for r in entry.responsibilities if r.town and r.unit_id == "kreisjugendamt"]
    assert len(served) == 10 and "Warendorf" in served


# The towns that are their own road traffic authority (sources in the districts' municipality.yaml).
OWN_TRAFFIC_AUTHORITY = {"kreis-coesfeld": {"coesfeld", "duelmen"},
                         "kreis-warendorf": {"ahlen", "beckum", "oelde", "warendorf"}}


@pytest.mark.parametrize("slug", sorted(OWN_TRAFFIC_AUTHORITY))
def test_no_parking_zone_for_a_move_is_ordered_by_the_district_unless_the_town_is_its_own_authority(
        catalogs: dict[str, Catalog], slug: str) -> None:
    catalog = catalogs[slug]
    district_office = catalog.municipality.offices["public_order"]
    assert catalog.units[district_office].town is None
    for r in catalog.services["halteverbot-umzug"].responsibilities:
        assert r.town is not None
        if r.town.id in OWN_TRAFFIC_AUTHORITY[slug]:
            assert catalog.units[r.unit_id].town == r.town.id, r.town.id
        else:
            # Not the town hall of a town that has no authority of its own.
            assert r.unit_id == district_office, r.town.id


@pytest.mark.parametrize("slug", ["muenster", "hamm"])
def test_no_parking_zone_in_a_city_outside_any_district_is_the_citys_own_office(
        catalogs: dict[str, Catalog], slug: str) -> None:
    [r] = catalogs[slug].services["halteverbot-umzug"].responsibilities
    assert (r.unit_id, r.town) == ("ordnungsamt", None)


def test_vehicle_registration_stays_with_the_district(catalogs: dict[str, Catalog]) -> None:
    # Taking over single services of a role (the parking card) leaves its other services alone.
    for slug in ("kreis-coesfeld", "kreis-warendorf"):
        assert [r.town for r in catalogs[slug].services["fahrzeug-neu-zulassen"].responsibilities] == [None]


def _town_block(page: str, town_name: str) -> str:
    """The part of a service page's list of towns that belongs to one town."""
    match = re.search(r"<summary>" + re.escape(town_name) + r"(?:<span[^<]*</span>)?</summary>(.*?)</details>",
                      page, re.S)
    assert match, town_name
    return match.group(1)


@pytest.mark.parametrize(("slug", "town", "sid", "unit"), SITE_CASES)
def test_built_site_names_the_office_on_the_page_in_katalog_and_in_xzufi(
        real_output: Path, catalogs: dict[str, Catalog], slug: str, town: str, sid: str, unit: str) -> None:
    catalog = catalogs[slug]
    site = real_output / slug
    page = html.unescape((site / "leistungen" / sid / "index.html").read_text(encoding="utf-8"))
    block = _town_block(page, catalog.town_name(town) or town)
    assert f"/organisation/{unit}/" in block and catalog.units[unit].name in block
    katalog = json.loads((site / "katalog.json").read_text(encoding="utf-8"))
    assert {"unit": unit, "town": town} in [
        {"unit": r["unit"], "town": r["town"]} for r in katalog["services"][sid]["responsible"]]
    ags = next(t.ags for t in catalog.municipality.towns if t.id == town)
    xzufi = (site / "xzufi.xml").read_text(encoding="utf-8")
    assert f">{slug}.organisationseinheit.{unit}</xzufi:id>" in xzufi
    # XZuFi carries services with a LeiKa key only (the building and youth services have none yet).
    zustaendigkeit = f"{slug}.zustaendigkeit.{unit}.{sid}.{ags}"
    assert (zustaendigkeit in xzufi) == (catalog.services[sid].service.leika is not None)
