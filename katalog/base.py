"""The ground of katalog.json's models: the record base (frozen, unknown keys ignored, empty
keys left out), the limits of form fields, and the parts shared with the content files.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    SerializerFunctionWrapHandler,
    model_serializer,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

VERSION = 1

HttpsUrl = Annotated[
    str, Field(pattern=r"^https://[^\s/$.?#][^\s]*\.[^\s]{2,}$", description="Vollständige Adresse mit https://")
]
TimeUnit = Literal["minutes", "hours", "days", "weeks", "months", "years"]

# Form fields: the limits of a field that names none. The editors' schema, the form JSON Schema
# and the app's checks all read them from here.
TEXT_LIMIT = {"text": 200, "textarea": 2000}
NUMBER_MIN, NUMBER_MAX = 0, 999_999
FILE_KINDS: tuple[str, ...] = ("pdf", "jpeg", "png")
FILE_SIZE_MB = 5


def default_of(model: type[BaseModel], key: str) -> Any:
    """The value a katalog model gives a key the file leaves out. The content models take their
    defaults from here, so an editor's omitted key and the app's reading agree by construction."""
    return model.model_fields[key].get_default(call_default_factory=True)


class Record(BaseModel):
    """A part of katalog.json: frozen, unknown keys ignored, empty keys left out when dumped."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    # Keys written as null when they have no value (every other empty key is left out).
    _null: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """The schema says which keys stay as null (`x-null`), for the handbook's table of keys."""
        json_schema = handler(core_schema)
        if cls._null:
            handler.resolve_ref_schema(json_schema)["x-null"] = sorted(cls._null)
        return json_schema

    @model_serializer(mode="wrap")
    def _leave_out_empty(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None or key in self._null}
        return data


# What the app shows next to a value that is only an example (issue 17), in words.
EXAMPLE_NOTE = "Beispielangabe – nicht amtlich"


class Source(Record):
    """Eine öffentliche Quelle der Angaben."""

    url: str = Field(description="Adresse der Quelle.")
    titel: str = Field(description="Titel der Quelle.")
    abgerufen: dt.date = Field(description="Tag, an dem die Quelle aufgerufen wurde (JJJJ-MM-TT).")


class Marked(Record):
    """A part whose values may be examples nobody could source: the whole part (`beispiel`) or
    some of its keys (`beispiel_felder`). The app marks them as EXAMPLE_NOTE, never as facts."""

    beispiel: bool = Field(
        default=False, description="true, wenn alle Angaben dieses Eintrags erfundene Beispiele sind: die App zeigt "
        "sie nur mit „Beispielangabe – nicht amtlich“.")
    beispiel_felder: list[str] = Field(
        default_factory=list, description="Die Schlüssel dieses Eintrags, deren Werte nur Beispiele sind (zum "
        "Beispiel address, opening_hours, phone); die App kennzeichnet sie mit „Beispielangabe – nicht amtlich“.")

    def is_example(self, name: str) -> bool:
        """Whether the value of key `name` is only an example (the whole part or that key)."""
        return self.beispiel or name in self.beispiel_felder


class SourcedPart(Marked):
    """A part built like a content file that states facts: its sources and the day they were last
    checked come along with its example marks (issue 17)."""

    quellen: list[Source] = Field(default_factory=list, description="Woher die Angaben stammen.")
    geprueft_am: dt.date | None = Field(
        default=None, description="Tag, an dem die Angaben zuletzt mit den Quellen verglichen wurden; fehlt, wo "
        "niemand sie geprüft hat.")


def _part(kind: str, *own: str) -> ConfigDict:
    """The handbook's note on a part that has the fields of a content file (`kind`, as in the
    reference), and which of its keys katalog.json adds (`own`, described here)."""
    return ConfigDict(frozen=True, extra="ignore", populate_by_name=True,
                      json_schema_extra={"x-wie": kind, "x-eigene": list(own)})


# ---------------------------------------------------------------- shared with the content files


# A fee as katalog.json carries it. The content's Fee (generator/models) adds the editors' checks.
class Fee(Record):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    label: str = Field(description="Wofür die Gebühr anfällt")
    amount: float | None = Field(default=None, ge=0, description="Betrag in Euro")
    amount_min: float | None = Field(default=None, ge=0, description="Mindestbetrag in Euro")
    amount_max: float | None = Field(default=None, ge=0, description="Höchstbetrag in Euro")
    note: str | None = Field(default=None, description="Hinweis, z. B. wenn die Höhe von einer Satzung abhängt")
    # A local amount is a fact: where it comes from and when someone compared it, or
    # visibly an example.
    source: HttpsUrl | None = Field(default=None, description="Quelle des Betrags, z. B. die Satzung im Ortsrecht")
    checked_on: dt.date | None = Field(
        default=None,
        description="Tag, an dem der Betrag mit der Quelle verglichen wurde")
    example: bool = Field(
        default=False,
        description="Beispielwert, nicht geprüft (die Seite kennzeichnet ihn als Beispiel)")


# A duration as katalog.json carries it. The content's Duration adds the editors' checks.
class Duration(Record):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    min: float | None = Field(default=None, ge=0, description="Mindestdauer")
    max: float | None = Field(default=None, ge=0, description="Höchstdauer")
    unit: TimeUnit = Field(description="Einheit")
    note: str | None = None


# ---------------------------------------------------------------- names


class Declension(Record):
    """A name with its article in each case and the phrases made from them."""

    model_config = ConfigDict(serialize_by_alias=True)

    nominative: str = Field(description="Nominativ, zum Beispiel „der Kreis Coesfeld“, „das Steueramt“.")
    accusative: str = Field(description="Akkusativ, zum Beispiel „den Kreis Coesfeld“.")
    dative: str = Field(description="Dativ, zum Beispiel „dem Kreis Coesfeld“.")
    genitive: str = Field(description="Genitiv, zum Beispiel „des Kreises Coesfeld“.")
    in_: str = Field(alias="in", description="Mit „in“, zum Beispiel „im Kreis Coesfeld“, „in der Stadt Hamm“.")
    at: str = Field(description="Mit „bei“, zum Beispiel „beim Steueramt“, „bei der Stadt Hamm“.")
    from_: str = Field(alias="from", description="Mit „von“, zum Beispiel „vom Steueramt“.")
    to: str = Field(description="Mit „an“, zum Beispiel „an das Steueramt“.")


GRAMMAR = ("Der Name {} mit Artikel in den Fällen, die Seiten und Nachrichten brauchen; aus dem Namen und dem "
           "Block grammar abgeleitet (siehe Handbuch, Grammatik der Namen).")
