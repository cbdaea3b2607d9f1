"""The Catalog: everything one municipality's site shows, resolved and frozen.

Built once from validated content by resolve.py and handed to rendering, indexing and
export. Holds no I/O and no references back to YAML documents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .models import (
    AppointmentSwitch,
    AppointmentType,
    BestBet,
    Contact,
    Duration,
    EverydayWords,
    Fee,
    Form,
    LifeSituation,
    Location,
    Municipality,
    Service,
    Town,
    Unit,
)


def source_of(model: Any) -> str:
    """The digest of the file a model came from ('' for models built in code)."""
    return getattr(model, "source_digest", None) or ""


@dataclass(frozen=True)
class Responsibility:
    """Who does a service, and where: one entry per member town in a district."""

    unit_id: str
    location_ids: tuple[str, ...]
    town: Town | None = None


@dataclass(frozen=True)
class ServiceEntry:
    """A shared service as offered by one municipality."""

    id: str
    service: Service
    fees: tuple[Fee, ...]
    processing_time: Duration | None
    notes: str | None
    responsibilities: tuple[Responsibility, ...]
    contact_ids: tuple[str, ...]
    form_enabled: bool
    appointment_location_ids: tuple[str, ...]
    # The municipality's switch that makes appointments bookable online (None: booking is off).
    booking: AppointmentSwitch | None = None
    # Digests of every file this entry was resolved from (service, local part, offices,
    # locations, contacts, life situations, related services): its page's inputs.
    sources: tuple[str, ...] = ()
    # Provenance: the fields whose values are only examples (from the service's file and its
    # local part; `fees` and `processing_time` from the file that gives them), and the day the
    # page's facts were last checked: the older of the two files' geprueft_am, None while
    # either has none. Pages mark examples, JSON-LD, XZuFi and katalog.json leave them out.
    examples: frozenset[str] = frozenset()
    checked_on: dt.date | None = None

    def is_example(self, name: str) -> bool:
        """Whether the value of a field of this entry (`fees`, `documents`, …) is only an example."""
        return name in self.examples

    @property
    def name(self) -> str:
        return self.service.name

    @property
    def appointment(self) -> AppointmentType | None:
        """The service's appointment type, whether or not booking is switched on."""
        online = self.service.online
        return online.appointment if online else None

    @property
    def per_town(self) -> bool:
        return any(r.town is not None for r in self.responsibilities)


@dataclass(frozen=True)
class FormEntry:
    """An online form switched on in one municipality, with the offices that receive it
    (one per member town in a district, when the towns do the service)."""

    id: str
    form: Form
    recipients: tuple[Responsibility, ...]


@dataclass(frozen=True)
class Catalog:
    slug: str
    municipality: Municipality
    services: dict[str, ServiceEntry]
    life_situations: dict[str, LifeSituation]
    units: dict[str, Unit]
    locations: dict[str, Location]
    contacts: dict[str, Contact]
    folder: Path
    warnings: tuple[str, ...] = ()
    everyday_words: tuple[EverydayWords, ...] = ()
    best_bets: tuple[BestBet, ...] = ()
    services_by_unit: dict[str, tuple[str, ...]] = field(default_factory=dict)
    services_by_situation: dict[str, tuple[str, ...]] = field(default_factory=dict)
    units_by_location: dict[str, tuple[str, ...]] = field(default_factory=dict)
    contacts_by_unit: dict[str, tuple[str, ...]] = field(default_factory=dict)
    forms: dict[str, FormEntry] = field(default_factory=dict)

    def digests(self, kind: str, ids: Iterable[str]) -> tuple[str, ...]:
        """Source digests of the named units, locations, contacts, services or life situations."""
        table: dict[str, Any] = getattr(self, kind)
        return tuple(source_of(table[i].service if kind == "services" else table[i]) for i in ids)

    def town_name(self, town_id: str | None) -> str | None:
        for town in self.municipality.towns:
            if town.id == town_id:
                return town.name
        return None
