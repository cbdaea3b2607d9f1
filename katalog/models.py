"""The contract between the build and the app: one municipality's katalog.json as typed, frozen models.

`generator.export` fills these models from a Catalog and dumps them; `dynamic.catalog` reads
the file back into them. Both sides therefore agree on every key, on what is left out when it
is empty and on every default; the handbook renders its table of keys from the JSON Schema of
these models (descriptions are German because the handbook is).

Two rules shape the file: a key that has no value is left out, except where a model lists it in
`_null` (those stay as null, because readers outside this repository rely on seeing them); and
readers ignore keys they do not know, so the build may add keys without a version bump.
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
    model_validator,
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


def _part(kind: str, *own: str) -> ConfigDict:
    """The handbook's note on a part that has the fields of a content file (`kind`, as in the
    reference), and which of its keys katalog.json adds (`own`, described here)."""
    return ConfigDict(frozen=True, extra="ignore", populate_by_name=True,
                      json_schema_extra={"x-wie": kind, "x-eigene": list(own)})


# ---------------------------------------------------------------- shared with the content files


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

    @model_validator(mode="after")
    def _source_with_date(self) -> Fee:
        if self.source is not None and self.checked_on is None:
            raise ValueError("checked_on: give the day the amount was compared with its source")
        return self

    @model_validator(mode="after")
    def _amount_or_range_or_note(self) -> Fee:
        has_range = self.amount_min is not None or self.amount_max is not None
        if self.amount is not None and has_range:
            raise ValueError("give either amount or amount_min/amount_max, not both")
        if has_range and (self.amount_min is None or self.amount_max is None):
            raise ValueError("a range needs both amount_min and amount_max")
        if has_range and self.amount_min > self.amount_max:  # type: ignore[operator]
            raise ValueError("amount_min is larger than amount_max")
        if self.amount is None and not has_range and not self.note:
            raise ValueError("give amount, amount_min/amount_max, or a note that says why there is no amount")
        return self


class Duration(Record):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    min: float | None = Field(default=None, ge=0, description="Mindestdauer")
    max: float | None = Field(default=None, ge=0, description="Höchstdauer")
    unit: TimeUnit = Field(description="Einheit")
    note: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Duration:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is larger than max")
        return self


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


# ---------------------------------------------------------------- the municipality


class Town(Record):
    _null = frozenset({"ags"})

    id: str = Field(description="Kennung des Orts.")
    name: str = Field(description="Name des Orts.")
    ags: str | None = Field(default=None, description="Amtlicher Gemeindeschlüssel des Orts, wenn bekannt.")


class AppointmentSwitch(Record):
    service: str
    locations: list[str]
    without_account: bool = True
    max_open: int = 1


class Features(Record):
    model_config = _part("municipality/features")

    online_forms: list[str] = Field(default_factory=list)
    appointments: list[AppointmentSwitch] = Field(default_factory=list)


class Municipality(Record):
    _null = frozenset({"logo"})

    slug: str = Field(description="Kennung der Kommune, zugleich der erste Teil aller ihrer Adressen (muenster).")
    name: str = Field(description="Amtlicher Name (Stadt Münster).")
    short_name: str = Field(description="Kurzer Name für Überschriften (Münster).")
    kind: Literal["kreisfreie_stadt", "kreis"] = Field(description="kreisfreie_stadt oder kreis.")
    ags: str = Field(description="Amtlicher Gemeindeschlüssel, acht Ziffern.")
    url: str = Field(description="Adresse der Startseite, ohne Rechnernamen (/muenster/).")
    phone: str = Field(description="Zentrale Telefonnummer.")
    email: str = Field(description="Zentrale E-Mail-Adresse.")
    logo: str | None = Field(default=None, description="Adresse des Logos ohne Rechnernamen, null ohne Logo.")
    towns: list[Town] = Field(
        default_factory=list,
        description="Die kreisangehörigen Städte und Gemeinden eines Kreises; bei einer kreisfreien Stadt leer.")
    features: Features = Field(default_factory=Features,
                               description="Was die Kommune freigeschaltet hat, vollständig mit leeren Listen.")
    grammar: Declension | None = Field(default=None, description=GRAMMAR.format("der Kommune"))

    @property
    def is_district(self) -> bool:
        return self.kind == "kreis"


# ---------------------------------------------------------------- services


class AppointmentType(Record):
    duration: int
    max_persons: int = 1
    trust_level: str = "basis"


class OnlineService(Record):
    model_config = _part("service/online")

    url: str | None = None
    label: str | None = None
    form: str | None = None
    appointment: AppointmentType | None = None
    trust_level: str = "basis"


class ServiceBooking(Record):
    """How citizens book a service online here."""

    duration: int = Field(description="Dauer eines Termins in Minuten.")
    max_persons: int = Field(default=1, description="Personen je Termin.")
    trust_level: str = Field(default="basis", description="Vertrauensniveau für das Buchen.")
    without_account: bool = Field(
        default=False, description="true, wenn auch ohne Konto gebucht werden kann (Standard bei Terminen mit "
        "Vertrauensniveau basis, wenn die Kommune es nicht mit without_account false abschaltet).")
    max_open: int = Field(default=1, description="Offene Termine je Konto oder E-Mail-Adresse.")
    locations: list[str] = Field(default_factory=list, description="Kennungen der buchbaren Standorte.")


class Responsibility(Record):
    _null = frozenset({"town"})

    unit: str = Field(description="Kennung der zuständigen Organisationseinheit (siehe units).")
    town: str | None = Field(default=None, description="Kennung des Orts, für den die Stelle zuständig ist; null, wenn "
                                               "sie für die ganze Kommune zuständig ist.")
    locations: list[str] = Field(default_factory=list,
                                 description="Kennungen der Standorte, an denen die Stelle die Leistung erbringt.")


class Service(Record):
    """Eine Leistung, gemeinsame Beschreibung und örtliche Ergänzung zusammengeführt."""

    _null = frozenset({"leika", "online", "booking"})

    name: str = Field(description="Leistungsbezeichnung.")
    teaser: str = Field(default="", description="Ein Satz, der die Leistung erklärt.")
    leika: str | None = Field(default=None, description="LeiKa-Leistungsschlüssel, 14 Ziffern, wenn bekannt.")
    synonyms: list[str] = Field(default_factory=list, description="Suchbegriffe.")
    level: str = Field(description="Verwaltungsebene, die die Leistung erbringt (kommune, kreis, land, bund).")
    url: str = Field(description="Adresse der Leistungsseite ohne Rechnernamen.")
    online: OnlineService | None = Field(
        default=None,
        description="Das Online-Angebot aus der Leistungsbeschreibung (leere Felder weggelassen), null ohne "
        "Online-Angebot. Ob es in dieser Kommune freigeschaltet ist, sagen form_enabled und booking.")
    form_enabled: bool = Field(
        default=False, description="true, wenn der Online-Antrag (online.form) auf dieser Website freigeschaltet ist.")
    appointment_locations: list[str] = Field(
        default_factory=list, description="Kennungen der Standorte, an denen Termine für diese Leistung buchbar "
        "sind; leer ohne Terminbuchung.")
    booking: ServiceBooking | None = Field(
        default=None, description="Wie die Leistung hier gebucht wird; null, wenn die Kommune die Buchung nicht "
        "freigeschaltet hat.")
    responsible: list[Responsibility] = Field(
        default_factory=list, description="Die zuständigen Stellen; in einem Kreis bei Leistungen der Orte eine je "
        "Ort, bei Land und Bund leer.")
    contacts: list[str] = Field(default_factory=list,
                                description="Kennungen der Ansprechpersonen für diese Leistung.")
    fees: list[Fee] = Field(
        default_factory=list, description="Die Gebühren, die hier gelten (die örtlichen, wenn die Kommune eigene "
        "nennt); leere Felder weggelassen.", json_schema_extra={"x-wie": "service/fees"})
    documents: list[str] = Field(
        default_factory=list, description="Erforderliche Unterlagen; die Terminbestätigung zeigt sie unter "
        "„Bitte mitbringen“.")
    typisierung: str | None = Field(
        default=None,
        description="Typisierung nach FIM und LeiKa (wer regelt, wer vollzieht), zum Beispiel 4b; fehlt, wo "
        "sie nicht bekannt ist.")


# ---------------------------------------------------------------- units


class Unit(Record):
    model_config = _part("unit", "url", "grammar")

    name: str
    description: str | None = None
    parent: str | None = None
    town: str | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    locations: list[str] = Field(default_factory=list)
    url: str = Field(description="Adresse der Seite der Einheit ohne Rechnernamen.")
    grammar: Declension | None = Field(
        default=None,
        description="Der Name der Organisationseinheit mit Artikel in den Fällen, die Seiten und Nachrichten "
        "brauchen; anders als in der Datei der Einheit immer vollständig, aus dem Namen und dem Block grammar "
        "abgeleitet (siehe Handbuch, Grammatik der Namen).")


# ---------------------------------------------------------------- locations


class Address(Record):
    street: str
    postal_code: str
    city: str


class Geo(Record):
    lat: float
    lon: float


class Hours(Record):
    """A span on some weekdays (mo … su), times as HH:MM."""

    days: list[str] = Field(description="Wochentage (mo, tu, we, th, fr, sa, su).")
    opens: str = Field(description="Beginn, HH:MM.")
    closes: str = Field(description="Ende, HH:MM.")


class ExceptionDay(Record):
    date: dt.date
    closed: bool = False
    opens: str | None = None
    closes: str | None = None
    note: str | None = None


class BuildingAccess(Record):
    step_free: bool
    accessible_toilet: bool | None = None
    accessible_parking: str | None = None
    hearing_loop: bool | None = None
    notes: str | None = None


class BookingSettings(Record):
    """How a location gives appointments, every default filled (the defaults live here only)."""

    counters: int = Field(default=1, description="Schalter, die gleichzeitig Termine annehmen.")
    days_ahead: int = Field(default=42, description="So viele Tage im Voraus sind Termine buchbar.")
    lead_minutes: int = Field(default=60, description="Bis so viele Minuten vor Beginn ist ein Termin noch buchbar.")
    cancel_hours: int = Field(
        default=24, description="Bis so viele Stunden vor Beginn lässt sich ein Termin absagen oder verschieben.")
    step_minutes: int = Field(default=15, description="Termine beginnen in diesem Takt, in Minuten.")
    hours: list[Hours] | None = Field(
        default=None, description="Zeiten für Termine: die eigenen des Standorts oder, wo er keine nennt, "
        "seine Öffnungszeiten.")


# The booking settings of a location that names none (the content schema's defaults too).
BOOKING_DEFAULTS = BookingSettings()


class Location(Record):
    model_config = _part("location", "url", "booking")
    _null = frozenset({"booking"})

    name: str
    address: Address | None = None
    geo: Geo | None = None
    town: str | None = None
    phone: str | None = None
    email: str | None = None
    opening_hours: list[Hours] = Field(default_factory=list)
    closed_on_public_holidays: bool = True
    exceptions: list[ExceptionDay] = Field(default_factory=list)
    accessibility: BuildingAccess | None = None
    transport: list[str] = Field(default_factory=list)
    url: str = Field(default="", description="Adresse der Seite des Standorts ohne Rechnernamen.")
    booking: BookingSettings | None = Field(
        default=None,
        description="Die Terminvergabe mit allen Standardwerten ausgefüllt (hours sind die Öffnungszeiten, "
        "wenn nichts anderes angegeben ist); null, wenn an diesem Standort nichts buchbar ist.")

    @property
    def booking_hours(self) -> list[Hours]:
        """When appointments can be booked: the booking hours, else the opening hours."""
        return (self.booking.hours if self.booking is not None else None) or self.opening_hours


# ---------------------------------------------------------------- forms


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


# ---------------------------------------------------------------- life situations and the whole


class LifeSituation(Record):
    """Eine Lebenslage."""

    name: str = Field(description="Name der Lebenslage.")
    url: str = Field(description="Adresse der Seite ohne Rechnernamen.")
    services: list[str] = Field(default_factory=list,
                                description="Kennungen der Leistungen in dieser Lebenslage.")


def _with_id(form: Any, form_id: str) -> Any:
    if isinstance(form, Form):
        return form if form.id == form_id else form.model_copy(update={"id": form_id})
    return {**form, "id": form_id} if isinstance(form, dict) else form


class Katalog(Record):
    """Everything the dynamic tier knows about one municipality."""

    version: int = Field(
        default=VERSION, description="Version des Aufbaus dieser Datei. Sie steigt nur, wenn ein Schlüssel umbenannt, "
        "entfernt oder in seiner Bedeutung geändert werden muss.")
    municipality: Municipality = Field(description="Die Kommune, deren Website diese Datei gehört.")
    services: dict[str, Service] = Field(
        default_factory=dict, description="Alle Leistungen, wie sie auf dieser Website gelten, nach Namen sortiert.")
    units: dict[str, Unit] = Field(default_factory=dict, description="Die Organisationseinheiten der Kommune.",
                                   json_schema_extra={"x-eintrag": "Alle Felder der Datei der Einheit; leere "
                                                                   "Felder weggelassen."})
    locations: dict[str, Location] = Field(
        default_factory=dict, description="Die Standorte der Kommune.",
        json_schema_extra={"x-eintrag": "Alle Felder der Datei des Standorts außer booking; leere Felder "
                                        "weggelassen."})
    forms: dict[str, Form] = Field(
        default_factory=dict, description="Die Online-Formulare, die auf dieser Website freigeschaltet sind.",
        json_schema_extra={"x-eintrag": "Alle Felder der Formulardatei; leere Felder weggelassen."})
    life_situations: dict[str, LifeSituation] = Field(default_factory=dict, description="Die Lebenslagen.")

    @model_validator(mode="before")
    @classmethod
    def _form_ids(cls, data: Any) -> Any:
        """Each form knows its id (its key in `forms`)."""
        if isinstance(data, dict) and isinstance(data.get("forms"), dict):
            data = {**data, "forms": {fid: _with_id(form, fid) for fid, form in data["forms"].items()}}
        return data

    @property
    def slug(self) -> str:
        return self.municipality.slug
