"""The contract between the build and the app: one municipality's katalog.json as typed, frozen models.

`generator.export` fills these models from a Catalog and dumps them; `dynamic.catalog` reads
the file back into them. Both sides therefore agree on every key, on what is left out when it
is empty and on every default; the handbook renders its table of keys from the JSON Schema of
these models (descriptions are German because the handbook is).

The record base and the parts shared with the content files live in `katalog.base`, the forms in
`katalog.forms`; this module names them all.

Two rules shape the file: a key that has no value is left out, except where a model lists it in
`_null` (those stay as null, because readers outside this repository rely on seeing them); and
readers ignore keys they do not know, so the build may add keys without a version bump.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, model_validator

from .base import (
    EXAMPLE_NOTE,
    FILE_KINDS,
    FILE_SIZE_MB,
    GRAMMAR,
    NUMBER_MAX,
    NUMBER_MIN,
    TEXT_LIMIT,
    VERSION,
    Declension,
    Duration,
    Fee,
    HttpsUrl,
    Marked,
    Record,
    Source,
    SourcedPart,
    TimeUnit,
    _part,
)
from .forms import Condition, Form, FormField, FormStep, Option, Recipient, SepaCreditor, SepaMandate

__all__ = [
    "BOOKING_DEFAULTS", "EXAMPLE_NOTE", "FILE_KINDS", "FILE_SIZE_MB", "NUMBER_MAX", "NUMBER_MIN", "TEXT_LIMIT",
    "VERSION", "Address", "AppointmentSwitch", "AppointmentType", "BookingSettings", "BuildingAccess", "Condition",
    "Declension", "Duration", "ExceptionDay", "Features", "Fee", "Form", "FormField", "FormStep", "Geo", "Hours",
    "HttpsUrl", "Katalog", "LifeSituation", "Location", "Marked", "Municipality", "OnlineService", "Option",
    "Recipient", "Record", "Responsibility", "SepaCreditor", "SepaMandate", "Service", "ServiceBooking", "Source",
    "SourcedPart", "TimeUnit", "Town", "Unit",
]


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


class Municipality(Marked):
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
    beispiel_felder: list[str] = Field(
        default_factory=list, description="Die Angaben dieser Leistung, die hier nur Beispiele sind (fees, documents, "
        "processing_time, …); die App zeigt sie nur mit „Beispielangabe – nicht amtlich“. Eine einzelne Gebühr "
        "als Beispiel sagt fees[].example.")

    def is_example(self, name: str) -> bool:
        """Whether the value of key `name` (`fees`, `documents`, …) is only an example here."""
        return name in self.beispiel_felder


# ---------------------------------------------------------------- units


class Unit(SourcedPart):
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


class Location(SourcedPart):
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
