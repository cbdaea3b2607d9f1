"""The municipality (municipality.yaml), its units, contacts and local additions, and the operator
of the installation (content/portal.yaml)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from katalog import models as k
from katalog.base import default_of

from ..messages import say
from .base import (
    Address,
    Colour,
    ContactId,
    Grammar,
    HttpsUrl,
    Id,
    LocationId,
    Markdown,
    Model,
    OfficeRole,
    Offices,
    ServiceId,
    TownId,
    UnitId,
)
from .provenance import Sourced
from .services import Duration, Fee


class Branding(Model):
    primary: Colour = Field(description="Hauptfarbe; weiße Schrift darauf braucht Kontrast 4,5:1")
    accent: Colour | None = None
    logo: str | None = Field(None, description="Logo-Datei neben municipality.yaml (SVG oder PNG)")

    @field_validator("primary")
    @classmethod
    def _readable_with_white(cls, value: str) -> str:
        ratio = contrast_ratio(value, "#ffffff")
        if ratio < 4.5:
            raise ValueError(say("farbe-zu-hell", farbe=value, kontrast=f"{ratio:.2f}"))
        return value


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)



CREDITOR_ID = re.compile(r"DE[0-9]{2}[A-Z0-9]{3}[0-9]{11}")


def creditor_id_problem(value: str) -> str | None:
    """Why a German SEPA creditor identifier (Gläubiger-Identifikationsnummer) is wrong, or None:
    DE, two check digits, a three-character business code, eleven digits; the check digits
    are ISO 13616's (mod 97) over the national part and the country, without the business code."""
    if CREDITOR_ID.fullmatch(value) is None:
        return say("glaeubiger-id-aufbau", nummer=value)
    digits = "".join(str(int(c, 36)) for c in value[7:] + "DE00")
    if 98 - int(digits) % 97 != int(value[2:4]):
        return say("glaeubiger-id-pruefziffer", nummer=value, ziffern=value[2:4])
    return None


class SepaCreditor(Model):
    """Wer eine SEPA-Lastschrift einzieht: die Stadt, Gemeinde oder der Kreis mit der
    Gläubiger-Identifikationsnummer, die das Lastschriftmandat im Online-Antrag nennt."""

    name: str = Field(min_length=3, description="Zahlungsempfänger, wie im Mandat genannt, z. B. Stadt Hamm")
    creditor_id: str = Field(description="Gläubiger-Identifikationsnummer (Bundesbank), z. B. DE98ZZZ09999999999")
    example: bool = Field(False, description="Nur ein Beispielwert (wird im Mandat als »Beispielwert« gezeigt)")
    source: HttpsUrl | None = Field(None, description="Wo die Nummer veröffentlicht ist (nötig ohne example)")
    as_of: dt.date | None = Field(None, description="Wann die Nummer dort geprüft wurde (nötig ohne example)")

    @field_validator("creditor_id")
    @classmethod
    def _valid_creditor_id(cls, value: str) -> str:
        problem = creditor_id_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _sourced_or_example(self) -> SepaCreditor:
        if not self.example and (self.source is None or self.as_of is None):
            raise ValueError(say("glaeubiger-id-ohne-quelle"))
        return self


class Takeover(Model):
    """Eine Aufgabe des Kreises, die eine Stadt für ihre Einwohnerinnen und Einwohner selbst
    erledigt (z. B. die eigene Bauaufsicht oder das eigene Jugendamt einer großen
    kreisangehörigen Stadt). Für die Leistungen dieser Aufgabe nennt das Portal dann den
    Bewohnern der Stadt die Stelle der Stadt statt der Stelle des Kreises."""

    role: OfficeRole | None = Field(
        None, description="Aufgabe (Rolle) des Kreises, die die Stadt ganz übernimmt, z. B. building oder youth")
    services: list[ServiceId] = Field(
        default_factory=list,
        description="Nur diese Leistungen übernimmt die Stadt (ohne role: einzelne Leistungen einer Aufgabe, "
        "z. B. den Wohnberechtigungsschein, aber nicht alle Leistungen des Wohnungswesens)")
    unit: UnitId = Field(description="Organisationseinheit der Stadt, die es erledigt")

    @model_validator(mode="after")
    def _role_or_services(self) -> Takeover:
        if (self.role is None) == (not self.services):
            raise ValueError(say("uebernahme-rolle-oder-leistungen"))
        return self

    def covers(self, service_id: str, role: str | None) -> bool:
        """Whether this takeover covers the service (by its id or by its office role)."""
        return service_id in self.services if self.services else role is not None and role == self.role


class Town(Model):
    id: Id
    name: str
    ags: str | None = Field(None, pattern=r"^[0-9]{8}$", description="Amtlicher Gemeindeschlüssel")
    website: HttpsUrl | None = None
    offices: Offices = Field(description="Rolle → Organisationseinheit der Stadt oder Gemeinde")
    sepa_creditor: SepaCreditor | None = Field(
        None, description="Zahlungsempfänger der Lastschriften dieser Stadt oder Gemeinde (z. B. Hundesteuer)")
    takes_over: list[Takeover] = Field(
        default_factory=list,
        description="Aufgaben des Kreises, die diese Stadt selbst erledigt (eigene Bauaufsicht, eigenes Jugendamt, …); "
        "je Eintrag die Rolle oder die einzelnen Leistungen und die Stelle der Stadt")

    def takeover_for(self, service_id: str, role: str | None) -> Takeover | None:
        """The town's takeover of a district service, if it does the service itself; a takeover
        that names the service wins over one of its whole role."""
        by_service = [t for t in self.takes_over if t.services and service_id in t.services]
        by_role = [t for t in self.takes_over if not t.services and t.covers(service_id, role)]
        found = by_service or by_role
        return found[0] if found else None

    @field_validator("offices")
    @classmethod
    def _has_general(cls, value: dict[str, str]) -> dict[str, str]:
        if "general" not in value:
            raise ValueError(say("keine-allgemeine-stelle"))
        return value


class Imprint(Model):
    representative: str
    legal_form: str = "Körperschaft des öffentlichen Rechts"
    supervisory_authority: str
    vat_id: str | None = Field(None, pattern=r"^DE[0-9]{9}$")


class DataProtectionOfficer(Model):
    title: str = "Behördliche Datenschutzbeauftragte"
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
    phone: str | None = None
    address: Address | None = None


class Privacy(Model):
    data_protection_officer: DataProtectionOfficer
    supervisory_authority: str = "Landesbeauftragte für Datenschutz und Informationsfreiheit Nordrhein-Westfalen"


class NonAccessiblePart(Model):
    part: str
    reason: str
    alternative: str | None = None


class AccessibilityContact(Model):
    unit: UnitId | None = None
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
    phone: str | None = None


class AccessibilityStatement(Model):
    status: Literal["vereinbar", "teilweise_vereinbar", "nicht_vereinbar"]
    prepared_on: dt.date
    reviewed_on: dt.date | None = None
    non_accessible: list[NonAccessiblePart] = Field(default_factory=list)
    contact: AccessibilityContact


class Operator(Model):
    """content/portal.yaml: who runs the installation. Its facts make the imprint, privacy
    notice and accessibility statement of the pages that belong to no municipality (the
    portal's start page, the account and the inbox)."""

    example: bool = Field(
        False, description="Erfundene Angaben (Beispielbetrieb): die drei Seiten sagen das sichtbar dazu"
    )
    name: str = Field(description="Name des Betreibers, z. B. des kommunalen IT-Dienstleisters")
    legal_form: str = Field(description="Rechtsform, z. B. Zweckverband (Körperschaft des öffentlichen Rechts)")
    address: Address
    phone: str | None = None
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
    website: HttpsUrl | None = None
    representative: str = Field(description="Vertreten durch (Funktion oder Name)")
    supervisory_authority: str | None = Field(None, description="Aufsichtsbehörde, falls es eine gibt")
    registry_entry: str | None = Field(None, description="Registereintrag, falls es einen gibt (Gericht und Nummer)")
    vat_id: str | None = Field(None, pattern=r"^DE[0-9]{9}$")
    privacy: Privacy
    accessibility: AccessibilityStatement


class AppointmentSwitch(Model):
    service: ServiceId = Field(
        description="Leistung, deren Termine hier online buchbar sind (braucht online.appointment)")
    locations: list[LocationId] = Field(min_length=1, description="Standorte, an denen die Termine gebucht werden")
    without_account: bool = Field(
        default_of(k.AppointmentSwitch, "without_account"),
        description="Buchen auch ohne Konto, mit bestätigter E-Mail-Adresse. Standard: ja für Schalterleistungen "
        "(Termine mit Vertrauensniveau basis); false schaltet es ab",
    )
    max_open: int = Field(
        default_of(k.AppointmentSwitch, "max_open"), ge=1, le=10,
        description="Offene Termine je Konto oder E-Mail-Adresse für diese Leistung (gegen Hamstern)"
    )


class Features(Model):
    online_forms: list[ServiceId] = Field(
        default_factory=list, description="Leistungen, deren eigenes Online-Formular hier freigeschaltet ist"
    )
    appointments: list[AppointmentSwitch] = Field(
        default_factory=list, description="Buchbare Termine je Leistung und Standort"
    )


class TopTask(Model):
    """Ein häufiges Anliegen auf der Startseite: eine Leistung oder die Terminbuchung."""

    service: ServiceId | None = Field(
        default=None, description="Kennung der Leistung, zu deren Seite der Eintrag führt")
    page: Literal["termine"] | None = Field(
        default=None, description="Statt einer Leistung eine Seite des Portals: termine ist »Termin buchen«, die Liste "
        "der Leistungen, für die online Termine buchbar sind")
    label: str | None = Field(
        default=None, min_length=3, max_length=40,
        description="Kurzer Linktext, z. B. »Personalausweis« statt »Personalausweis beantragen«; ohne Angabe "
        "der Name der Leistung oder »Termin buchen«")

    @model_validator(mode="after")
    def _service_or_page(self) -> TopTask:
        if (self.service is None) == (self.page is None):
            raise ValueError(say("anliegen-leistung-oder-seite"))
        return self


class OpenDataLicence(Model):
    """Die Lizenz der offenen Daten der Website (Seite »Offene Daten«)."""

    id: str = Field(min_length=2, max_length=40, description="Kurzkennung der Lizenz, z. B. dl-de/by-2-0 oder "
                    "dl-de/zero-2-0")
    name: str = Field(min_length=3, description="Name der Lizenz, wie er im Lizenztext steht")
    url: HttpsUrl = Field(description="Adresse des Lizenztexts")


DEFAULT_OPEN_DATA_LICENCE = OpenDataLicence(
    id="dl-de/by-2-0", name="Datenlizenz Deutschland – Namensnennung – Version 2.0",
    url="https://www.govdata.de/dl-de/by-2-0")


class Municipality(Sourced):
    name: str
    short_name: str
    kind: Literal["kreisfreie_stadt", "kreis"]
    ags: str = Field(pattern=r"^[0-9]{8}$")
    address: Address
    phone: str
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
    website: HttpsUrl
    branding: Branding
    offices: Offices
    towns: list[Town] = Field(default_factory=list)
    imprint: Imprint
    privacy: Privacy
    accessibility: AccessibilityStatement
    features: Features = Field(default_factory=Features)
    top_tasks: list[TopTask] = Field(
        default_factory=list, max_length=12,
        description="Die häufigsten Anliegen, mit denen die Startseite beginnt, das gefragteste zuerst (auch "
        "»Häufig gesucht« folgt dieser Reihenfolge). Sind Termine online buchbar (features.appointments), "
        "gehört »Termin buchen« (page: termine) unter die ersten drei, damit es auf dem Telefon ohne Blättern "
        "zu sehen ist. Ohne Angabe: »Termin buchen« und die Leistungen mit Online-Angebot",
    )
    # SEPA direct debits of online applications (forms with sepa_mandate); in a district per town.
    sepa_creditor: SepaCreditor | None = Field(
        None, description="Zahlungsempfänger der Lastschriften (z. B. Hundesteuer): Name und Gläubiger-ID")
    # How templates decline the name („des Kreises Coesfeld“, „in der Stadt Hamm“).
    grammar: Grammar | None = Field(None, description="Grammatik des Namens (meist leer; siehe Handbuch)")
    open_data_licence: OpenDataLicence = Field(
        default_factory=DEFAULT_OPEN_DATA_LICENCE.model_copy,
        description="Lizenz der offenen Daten (vCards, Schließtage, Leistungsverzeichnis) auf der Seite »Offene "
        "Daten«: id, name und url. Ohne Angabe: Datenlizenz Deutschland – Namensnennung – Version 2.0")

    @field_validator("offices")
    @classmethod
    def _has_general(cls, value: dict[str, str]) -> dict[str, str]:
        if "general" not in value:
            raise ValueError(say("keine-allgemeine-stelle"))
        return value

    @model_validator(mode="after")
    def _towns_only_in_districts(self) -> Municipality:
        if self.kind == "kreis" and not self.towns:
            raise ValueError(say("kreis-ohne-orte"))
        if self.kind == "kreisfreie_stadt" and self.towns:
            raise ValueError(say("stadt-mit-orten"))
        return self


# --- per municipality -----------------------------------------------------------------


class Unit(Sourced):
    name: str = Field(description="Name der Organisationseinheit, z. B. Bürgeramt")
    description: Markdown | None = Field(None, description="Was die Stelle tut")
    parent: UnitId | None = Field(None, description="Übergeordnete Einheit (z. B. das Amt eines Sachgebiets)")
    town: TownId | None = Field(None, description="Im Kreis: die Stadt oder Gemeinde, zu der die Einheit gehört")
    phone: str | None = Field(None, description="Telefonnummer")
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$",
                              description="E-Mail-Adresse; bekommt auch die Hinweise auf neue Online-Anträge")
    website: HttpsUrl | None = Field(None, description="Eigene Internetseite der Stelle")
    locations: list[LocationId] = Field(
        default_factory=list, description="Standorte, an denen die Stelle zu finden ist")
    grammar: Grammar | None = Field(None, description="Grammatik des Namens, z. B. gender: n für das Steueramt "
                                    "(meist leer; siehe Handbuch)")



class Contact(Model):
    name: str = Field(description="Vor- und Familienname")
    role: str = Field(description="Aufgabe, z. B. Sachbearbeitung Hundesteuer")
    unit: UnitId = Field(description="Organisationseinheit, zu der die Person gehört")
    topics: list[str] = Field(default_factory=list, description="Themen, zu denen man sie ansprechen kann")
    phone: str | None = Field(None, description="Telefonnummer (Durchwahl)")
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", description="Dienstliche E-Mail-Adresse")
    room: str | None = Field(None, description="Raum, z. B. 2.14")
    location: LocationId | None = Field(None, description="Standort, an dem die Person arbeitet")
    office_hours: str | None = Field(None, description="Sprechzeiten, wenn sie von denen des Standorts abweichen")
    services: list[ServiceId] = Field(default_factory=list, description="Leistungen, für die sie ansprechbar ist")
    sample: bool = Field(False, description="Beispieldaten (fiktive Person)")


class LocalService(Sourced):
    """Was eine Kommune zu einer gemeinsamen Leistung ergänzt oder ersetzt."""

    unit: UnitId | None = None
    town_units: dict[TownId, UnitId] = Field(default_factory=dict)
    contacts: list[ContactId] = Field(default_factory=list)
    locations: list[LocationId] = Field(default_factory=list)
    fees: list[Fee] | None = None
    processing_time: Duration | None = None
    notes: Markdown | None = None
