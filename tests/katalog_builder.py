"""Katalogs for tests of the app, built from the models of katalog.json without running Pelican.

Each function gives one part with plausible values; keyword arguments replace them (plain
JSON-like values are fine: they go through the models' validation). `write` puts katalogs where
the app reads them, `<output>/<slug>/katalog.json`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import katalog as contract
from katalog.models import (
    Declension,
    Katalog,
    Location,
    Municipality,
    Service,
    ServiceBooking,
    Unit,
)

OPENING_HOURS = [{"days": ["mo", "tu", "we", "fr"], "opens": "08:00", "closes": "12:30"},
                 {"days": ["th"], "opens": "14:00", "closes": "18:00"}]


def _plain(name: str) -> Declension:
    """A name's forms where the test does not care about grammar (the name with "die")."""
    return Declension(nominative=f"die {name}", accusative=f"die {name}", dative=f"der {name}",
                      genitive=f"der {name}", in_=f"in der {name}", at=f"bei der {name}", from_=f"von der {name}",
                      to=f"an die {name}")


def municipality(slug: str = "stadt", **fields: Any) -> Municipality:
    name = fields.pop("name", "Stadt Beispielstadt")
    return Municipality.model_validate({
        "slug": slug, "name": name, "short_name": name.split(" ", 1)[-1], "kind": "kreisfreie_stadt",
        "ags": "05515000", "url": f"/{slug}/", "phone": "0251 492-0", "email": f"info@{slug}.example.org",
        "grammar": _plain(name), **fields})


def location(location_id: str = "rathaus", slug: str = "stadt", **fields: Any) -> Location:
    """A location; with `booking` (a dict, {} for every default) it takes appointments."""
    return Location.model_validate({
        "name": "Rathaus", "address": {"street": "Markt 1", "postal_code": "48143", "city": "Beispielstadt"},
        "opening_hours": OPENING_HOURS, "url": f"/{slug}/standorte/{location_id}/", **fields})


def unit(unit_id: str = "buergeramt", slug: str = "stadt", **fields: Any) -> Unit:
    name = fields.pop("name", "Bürgeramt")
    return Unit.model_validate({"name": name, "email": f"{unit_id}@example.org",
                                "url": f"/{slug}/organisation/{unit_id}/", "grammar": _plain(name), **fields})


def service(service_id: str = "personalausweis-beantragen", slug: str = "stadt", **fields: Any) -> Service:
    """A service of the municipality; with `booking` (a ServiceBooking or dict) bookable online."""
    booking = fields.pop("booking", None)
    if isinstance(booking, dict):
        booking = ServiceBooking.model_validate(booking)
    return Service.model_validate({
        "name": "Personalausweis beantragen", "teaser": "Einen neuen Personalausweis beantragen.",
        "level": "kommune", "url": f"/{slug}/leistungen/{service_id}/",
        "appointment_locations": list(booking.locations) if booking else [], "booking": booking, **fields})


def katalog(slug: str = "stadt", *, services: dict[str, Service] | None = None,
            locations: dict[str, Location] | None = None, units: dict[str, Unit] | None = None,
            **fields: Any) -> Katalog:
    return Katalog(municipality=fields.pop("municipality", None) or municipality(slug),
                   services=services or {}, locations=locations or {}, units=units or {}, **fields)


def booking_site(slug: str = "stadt", counters: int = 2, **booking: Any) -> Katalog:
    """A municipality whose Rathaus takes appointments for the ID card (15 minutes, one person,
    an account needed), as a build with booking switched on writes it."""
    return katalog(
        slug,
        services={"personalausweis-beantragen": service(slug=slug, booking={
            "duration": 15, "max_persons": 1, "trust_level": "basis", "without_account": False, "max_open": 1,
            "locations": ["rathaus"]})},
        locations={"rathaus": location(slug=slug, booking={"counters": counters, "days_ahead": 60, **booking})},
        units={"buergeramt": unit(slug=slug, locations=["rathaus"])},
    )


def write(output: Path, *katalogs: Katalog) -> Path:
    """Each katalog as `<output>/<slug>/katalog.json`; `output` back."""
    for found in katalogs:
        folder = output / found.slug
        folder.mkdir(parents=True, exist_ok=True)
        (folder / contract.FILE_NAME).write_text(contract.dump(found), encoding="utf-8")
    return output
