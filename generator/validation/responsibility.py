"""Who does a service in a municipality: the unit (in a district for a town's service, one per
town; for a district's service one per town as well where member towns take it over, see
Town.takes_over) and the locations citizens go to. Resolution builds the Catalog from it; the warnings
use it to find units that are responsible but have no location."""

from __future__ import annotations

from ..catalog import Responsibility
from ..models import LocalService, Service
from .content import MunicipalityContent, ValidContent


def responsibilities(
    service_id: str, service: Service, local: LocalService, content: MunicipalityContent
) -> tuple[Responsibility, ...]:
    if service.level in ("land", "bund") or service.office is None:
        return ()
    m, units = content.municipality, content.units
    role = service.office
    per_town = m.kind == "kreis" and service.level == "kommune" and local.unit is None
    if not per_town:
        unit_id = local.unit or m.offices.get(role) or m.offices["general"]
        locations = tuple(local.locations) or tuple(units[unit_id].locations)
        takeovers = {town.id: town.takeover_for(service_id, role) for town in m.towns}
        if not any(takeovers.values()):
            return (Responsibility(unit_id=unit_id, location_ids=locations),)
        # Some member towns do this district service themselves: every town gets its office,
        # its own unit where it takes the service over, the district's for the others.
        result = []
        for town in m.towns:
            takeover = takeovers[town.id]
            if takeover is None:
                result.append(Responsibility(unit_id=unit_id, town=town, location_ids=locations))
            else:
                result.append(Responsibility(unit_id=takeover.unit, town=town,
                                             location_ids=tuple(units[takeover.unit].locations)))
        return tuple(result)
    result = []
    for town in m.towns:
        unit_id = local.town_units.get(town.id) or town.offices.get(role) or town.offices["general"]
        chosen = [lid for lid in local.locations if content.locations[lid].town == town.id]
        result.append(
            Responsibility(unit_id=unit_id, town=town, location_ids=tuple(chosen) or tuple(units[unit_id].locations))
        )
    return tuple(result)


def all_responsibilities(content: MunicipalityContent, valid: ValidContent) -> list[Responsibility]:
    no_local = LocalService()
    return [
        r
        for sid, service in valid.services.items()
        for r in responsibilities(sid, service, content.local_services.get(sid, no_local), content)
    ]
