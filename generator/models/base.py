"""What every content model shares: the base class, the small value types, and the
marker for fields that name another file (`Ref`).

Descriptions are German because editors read them in their editor's tooltips and in the
handbook.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from portal.levels import LEVELS

from ..messages import say

ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
Id = Annotated[str, Field(pattern=ID_PATTERN, description="Kennung: Kleinbuchstaben, Ziffern, Bindestriche")]
HttpsUrl = Annotated[
    str, Field(pattern=r"^https://[^\s/$.?#][^\s]*\.[^\s]{2,}$", description="Vollständige Adresse mit https://")
]
Markdown = Annotated[str, Field(min_length=1, description="Text, Markdown erlaubt")]
Colour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$", description="Farbe als #rrggbb")]

# A trust level's name (portal.levels.TrustLevel), as a Literal so that the schema lists them.
if TYPE_CHECKING:
    TrustLevel = str
else:
    TrustLevel = Literal[LEVELS]
Level = Literal["kommune", "kreis", "land", "bund"]
TimeUnit = Literal["minutes", "hours", "days", "weeks", "months", "years"]
Weekday = Literal["mo", "tu", "we", "th", "fr", "sa", "su"]
WEEKDAYS: tuple[str, ...] = ("mo", "tu", "we", "th", "fr", "sa", "su")
OfficeRole = Literal[
    "general",
    "citizens_office",
    "registry_office",
    "public_order",
    "trade",
    "tax",
    "waste",
    "building",
    "planning",
    "road_traffic",
    "driving_licences",
    "foreigners",
    "naturalisation",
    "youth",
    "social",
    "housing",
    "health",
    "parental_allowance",
    "disability",
    "elections",
    "lost_property",
]




@dataclass(frozen=True)
class Ref:
    """Marks a field whose value names something else that must exist: `Annotated[Id, Ref("units")]`.

    `kind` is the collection the value is looked up in (services, life_situations, forms:
    files of the knowledge base; units, locations, contacts, towns: those of the municipality
    the file belongs to). One walker (generator/validation/refs.py) checks every marked value;
    the JSON Schema does not change."""

    kind: str


ServiceId = Annotated[Id, Ref("services")]
LifeSituationId = Annotated[Id, Ref("life_situations")]
FormId = Annotated[Id, Ref("forms")]
UnitId = Annotated[Id, Ref("units")]
LocationId = Annotated[Id, Ref("locations")]
ContactId = Annotated[Id, Ref("contacts")]
TownId = Annotated[Id, Ref("towns")]

class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    # Digest of the file this model was read from (set by the validator), so that the
    # build can fingerprint pages without serialising the model again.
    _source_digest: str | None = PrivateAttr(default=None)

    def mark_source(self, digest: str) -> None:
        self._source_digest = digest

    @property
    def source_digest(self) -> str | None:
        return self._source_digest


def _clock(value: Any) -> Any:
    """YAML 1.1 reads an unquoted 14:00 as the base-60 number 840; turn it back."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return f"{value // 60:02d}:{value % 60:02d}"
    return value


Clock = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="Uhrzeit HH:MM")]


class Address(Model):
    street: str = Field(description="Straße und Hausnummer")
    postal_code: str = Field(pattern=r"^[0-9]{5}$", description="Postleitzahl (5 Ziffern)")
    city: str = Field(description="Ort")


class Grammar(Model):
    """How a name is declined. Usually empty: the gender follows from the name's first word
    (…amt: das, …stelle: die, Stadt: die, Kreis: der). A full form only where the rule
    does not fit the name."""

    gender: Literal["f", "m", "n", "pl"] | None = Field(
        None, description="Genus des Namens: f (die), m (der), n (das) oder pl (Mehrzahl, die); "
        "leer lassen, wenn es aus dem ersten Wort folgt")
    nominative: str | None = Field(None, description="Name mit Artikel im Nominativ, z. B. der Kreis Coesfeld")
    accusative: str | None = Field(None, description="Name mit Artikel im Akkusativ, z. B. den Kreis Coesfeld")
    dative: str | None = Field(None, description="Name mit Artikel im Dativ, z. B. dem Kreis Coesfeld")
    genitive: str | None = Field(None, description="Name mit Artikel im Genitiv, z. B. des Kreises Coesfeld")



def _five_minute_grid(minutes: int, what: str) -> int:
    """Appointment times lie on a grid of 5 minutes (the booking's slot claims, DOMAIN: Termine)."""
    if minutes % 5:
        raise ValueError(say("nicht-im-fuenf-minuten-raster", feld=what, wert=minutes))
    return minutes



Offices = dict[OfficeRole, UnitId]
