"""An online form as katalog.json carries it: steps, fields, conditions, the SEPA mandate and
the offices that receive it."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from .base import (
    FILE_KINDS,
    FILE_SIZE_MB,
    GRAMMAR,
    NUMBER_MAX,
    NUMBER_MIN,
    TEXT_LIMIT,
    Declension,
    Duration,
    Record,
    _part,
)


class Option(Record):
    value: str
    label: str


class Condition(Record):
    """Shows a step or field only when an earlier answer says so."""

    field: str
    equals: bool | str | None = None
    one_of: list[str] | None = None

    def values(self) -> list[str]:
        """The answers (as the form posts them) that meet the condition."""
        if self.one_of is not None:
            return [str(v) for v in self.one_of]
        if isinstance(self.equals, bool):
            return ["ja" if self.equals else "nein"]
        return [str(self.equals)]


class FormField(Record):
    id: str
    type: str
    label: str
    hint: str | None = None
    required: bool = True
    when: Condition | None = None
    prefill: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    pattern_message: str | None = None
    example: str | None = None
    min: float | None = None
    max: float | None = None
    decimals: int = 0
    unit: str | None = None
    past: bool = False
    future: bool = False
    options: list[Option] = Field(default_factory=list)
    multiple: bool = False
    accept: list[str] = Field(default_factory=lambda: list(FILE_KINDS))
    max_size_mb: float = FILE_SIZE_MB
    compact: bool = False

    @property
    def text_limit(self) -> int:
        """The longest answer a text field takes (its own limit, else the kind's)."""
        return int(self.max_length or TEXT_LIMIT.get(self.type, TEXT_LIMIT["text"]))

    @property
    def number_bounds(self) -> tuple[float, float]:
        """The smallest and largest value of a number field; a field that names none (a
        catalogue built before the bounds were filled in) gets the defaults."""
        low = NUMBER_MIN if self.min is None else self.min
        high = max(NUMBER_MAX, low) if self.max is None else self.max
        return low, high

    @property
    def max_bytes(self) -> int:
        return int(float(self.max_size_mb) * 1024 * 1024)


class FormStep(Record):
    id: str
    title: str
    intro: str | None = None
    when: Condition | None = None
    fields: list[FormField]


class SepaMandate(Record):
    when: Condition
    purpose: str


class SepaCreditor(Record):
    model_config = _part("municipality/sepa_creditor")

    name: str
    creditor_id: str
    example: bool = False
    source: str | None = None
    as_of: dt.date | None = None


class Recipient(Record):
    """An office that receives applications of a form (in a district, one per town)."""

    _null = frozenset({"town", "town_name", "email"})

    unit: str = Field(description="Kennung der Organisationseinheit; unter dieser Kennung registriert der Betrieb "
                                  "ihren Schlüssel.")
    town: str | None = Field(
        default=None,
        description="Kennung des Orts, für den sie empfängt; null in einer kreisfreien "
                                               "Stadt.")
    town_name: str | None = Field(default=None, description="Name dieses Orts.")
    name: str = Field(description="Name der Organisationseinheit.")
    grammar: Declension | None = Field(default=None, description=GRAMMAR.format("der Organisationseinheit"))
    email: str | None = Field(
        default=None,
        description="E-Mail-Adresse der Einheit, an die der Hinweis auf einen neuen "
                                                "Antrag geht.")
    sepa_creditor: SepaCreditor | None = Field(
        default=None,
        description="Zahlungsempfänger der Lastschriften für diese Stelle (im Kreis der des Orts), wie in "
        "municipality.yaml; fehlt, wo keiner eingetragen ist.")


class Form(Record):
    model_config = _part("form", "url", "recipients", "processing_time")

    id: str = Field(default="", exclude=True)  # the key it has in `forms` (not written into the entry)
    title: str
    version: int = 1  # a catalogue built before forms had versions: version 1
    service: str
    trust_level: str = "basis"
    recipient: str | None = None
    intro: str | None = None
    declaration: str
    steps: list[FormStep]
    sepa_mandate: SepaMandate | None = None
    after_sending: str | None = None
    url: str = Field(description="Adresse des Antrags ohne Rechnernamen.")
    recipients: list[Recipient] = Field(
        default_factory=list, description="Die Stellen, die den Antrag empfangen können; im Kreis eine je Ort.")
    processing_time: Duration | None = Field(
        default=None,
        description="Übliche Bearbeitungsdauer der Leistung des Formulars in dieser Kommune; fehlt, wo keine "
        "bekannt ist.", json_schema_extra={"x-wie": "service/processing_time"})

    def fields(self) -> list[FormField]:
        return [field for step in self.steps for field in step.fields]
