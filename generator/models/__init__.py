"""The content schema: one pydantic model per kind of YAML file.

These models are the single source of truth for the validator, the published JSON
Schema (schema/*.json) and the handbook's reference. One module per concern: `base`
(shared types and the `Ref` marker), `services` (services and life situations),
`municipality` (the municipality, its units, contacts and local additions, the operator),
`locations`, `forms`, `search` (everyday words, best bets). Rules that span several files
live with the validator (generator/validation/).
"""

from __future__ import annotations

from typing import Any

from .base import (
    ID_PATTERN,
    WEEKDAYS,
    Address,
    Clock,
    Colour,
    ContactId,
    FormId,
    Grammar,
    HttpsUrl,
    Id,
    Level,
    LifeSituationId,
    LocationId,
    Markdown,
    Model,
    OfficeRole,
    Offices,
    Ref,
    ServiceId,
    TimeUnit,
    TownId,
    TrustLevel,
    UnitId,
    Weekday,
)
from .forms import (
    NUMBER_MAX,
    NUMBER_MIN,
    PREFILL_TYPES,
    Condition,
    FieldType,
    FileKind,
    Form,
    FormField,
    FormStep,
    Option,
    ProfileField,
    SepaMandate,
    form_structure_problems,
)
from .locations import Booking, BuildingAccess, Exception_, Geo, Location, OpeningHours, outside_hours
from .municipality import (
    AccessibilityContact,
    AccessibilityStatement,
    AppointmentSwitch,
    Branding,
    Contact,
    DataProtectionOfficer,
    Features,
    Imprint,
    LocalService,
    Municipality,
    NonAccessiblePart,
    OpenDataLicence,
    Operator,
    Privacy,
    SepaCreditor,
    TopTask,
    Town,
    Unit,
    contrast_ratio,
    creditor_id_problem,
)
from .provenance import PROVENANCE_FIELDS, Quelle, Sourced
from .search import BestBet, BestBetList, BestBetPage, EverydayWordList, EverydayWords, FixedPage
from .services import (
    TYPISIERUNG,
    TYPISIERUNG_LEVELS,
    AppointmentType,
    Authority,
    Deadline,
    Duration,
    Fee,
    LegalBasis,
    LifeSituation,
    LifeSituationStep,
    OnlineService,
    Service,
    Typisierung,
)

KINDS: dict[str, type[Model]] = {
    "service": Service,
    "life-situation": LifeSituation,
    "municipality": Municipality,
    "unit": Unit,
    "location": Location,
    "contact": Contact,
    "local-service": LocalService,
    "everyday-words": EverydayWordList,
    "best-bets": BestBetList,
    "form": Form,
    "portal": Operator,
}


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema for each kind of file, for editors' YAML tooling."""
    return {kind: model.model_json_schema() for kind, model in KINDS.items()}


__all__ = [
    "ID_PATTERN", "KINDS", "NUMBER_MAX", "NUMBER_MIN", "PREFILL_TYPES", "TYPISIERUNG",
    "TYPISIERUNG_LEVELS", "WEEKDAYS", "AccessibilityContact", "AccessibilityStatement", "Address",
    "AppointmentSwitch", "AppointmentType", "Authority", "BestBet", "BestBetList", "BestBetPage", "Booking",
    "Branding", "BuildingAccess", "Clock", "Colour", "Condition", "Contact", "ContactId", "DataProtectionOfficer",
    "Deadline", "Duration", "EverydayWordList", "EverydayWords", "Exception_", "Features", "Fee", "FieldType",
    "FileKind", "FixedPage", "Form", "FormField", "FormId", "FormStep", "Geo", "Grammar", "HttpsUrl", "Id",
    "Imprint", "LegalBasis", "Level", "LifeSituation", "LifeSituationId", "LifeSituationStep", "LocalService",
    "Location", "LocationId", "Markdown", "Model", "Municipality", "NonAccessiblePart", "OfficeRole", "Offices",
    "OnlineService", "OpenDataLicence", "OpeningHours", "Operator", "Option", "Privacy", "ProfileField", "Ref",
    "SepaCreditor",
    "SepaMandate", "Service", "ServiceId", "TimeUnit", "TopTask", "Town", "TownId", "TrustLevel", "Typisierung",
    "Unit", "UnitId", "Weekday", "contrast_ratio", "creditor_id_problem", "form_structure_problems",
    "json_schemas", "outside_hours",
]
__all__ += ["PROVENANCE_FIELDS", "Quelle", "Sourced"]  # where facts come from (provenance.py)
