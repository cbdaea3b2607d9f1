"""The content schema: one pydantic model per kind of YAML file.

These models are the single source of truth for the validator, the published JSON
Schema (schema/*.json) and the handbook's reference. Descriptions are German because
editors read them in their editor's tooltips and in the handbook.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

# Parts of the content that katalog.json carries as they are (katalog is their one definition).
from katalog.models import BOOKING_DEFAULTS, FILE_SIZE_MB, NUMBER_MAX, NUMBER_MIN, Duration, Fee, HttpsUrl, TimeUnit

ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
Id = Annotated[str, Field(pattern=ID_PATTERN, description="Kennung: Kleinbuchstaben, Ziffern, Bindestriche")]
Markdown = Annotated[str, Field(min_length=1, description="Text, Markdown erlaubt")]
Colour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$", description="Farbe als #rrggbb")]

TrustLevel = Literal["basis", "niedrig", "substantiell", "hoch"]
Level = Literal["kommune", "kreis", "land", "bund"]
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


# --- services -------------------------------------------------------------------------


class Deadline(Model):
    description: str = Field(description="Die Frist in einem Satz")
    value: float | None = Field(None, gt=0)
    unit: TimeUnit | None = None

    @model_validator(mode="after")
    def _value_with_unit(self) -> Deadline:
        if (self.value is None) != (self.unit is None):
            raise ValueError("value and unit go together")
        return self


class LegalBasis(Model):
    title: str = Field(description="Bezeichnung der Vorschrift")
    url: HttpsUrl | None = None


class Authority(Model):
    name: str = Field(description="Zuständige Behörde auf Landes- oder Bundesebene")
    url: HttpsUrl | None = None


def _five_minute_grid(minutes: int, what: str) -> int:
    """Appointment times lie on a grid of 5 minutes (the booking's slot claims, DOMAIN: Termine)."""
    if minutes % 5:
        raise ValueError(f"{what} must be a multiple of 5 minutes, got {minutes}")
    return minutes


class AppointmentType(Model):
    duration: int = Field(gt=0, le=480, description="Dauer eines Termins in Minuten (ein Vielfaches von 5)")
    max_persons: int = Field(1, ge=1, le=10, description="Personen, die in einem Termin bedient werden können")
    trust_level: TrustLevel = Field(
        "basis",
        description="Vertrauensniveau, das das Buchen eines Termins verlangt (unabhängig vom Niveau des Formulars)",
    )

    @field_validator("duration")
    @classmethod
    def _on_the_grid(cls, value: int) -> int:
        return _five_minute_grid(value, "the duration")


class OnlineService(Model):
    url: HttpsUrl | None = Field(None, description="Externer Online-Dienst (Portalverbund)")
    label: str | None = Field(None, description="Linktext zum externen Online-Dienst")
    form: Id | None = Field(None, description="Kennung unseres eigenen Online-Formulars")
    appointment: AppointmentType | None = Field(None, description="Termin buchbar")
    trust_level: TrustLevel = Field("basis", description="Nötiges Vertrauensniveau")

    @model_validator(mode="after")
    def _label_with_url(self) -> OnlineService:
        if self.url and not self.label:
            raise ValueError("an online url needs a label (the link text)")
        if not (self.url or self.form or self.appointment):
            raise ValueError("give url, form or appointment")
        return self


# Typisierung of a service in FIM/LeiKa: who regulates it and who performs it (DOMAIN.md).
# DOMAIN.md names the variants 2a/2b and 3a/3b without saying how they differ; correct the
# texts here when the official code list is at hand.
TYPISIERUNG: dict[str, str] = {
    "1": "Bund regelt, Bund vollzieht",
    "2": "Bund regelt, Land oder Kommune vollziehen",
    "2a": "Bund regelt, Land oder Kommune vollziehen (Variante 2a)",
    "2b": "Bund regelt, Land oder Kommune vollziehen (Variante 2b)",
    "3": "Bund setzt den Rahmen, Land oder Kommune",
    "3a": "Bund setzt den Rahmen, Land oder Kommune (Variante 3a)",
    "3b": "Bund setzt den Rahmen, Land oder Kommune (Variante 3b)",
    "4": "Land regelt, Land oder Kommune vollziehen",
    "4a": "Land regelt, Land vollzieht",
    "4b": "Land regelt, Kommune vollzieht",
    "5": "Kommune regelt, Kommune vollzieht",
    "6": "Allgemeine Hinweise",
    "7": "Servicenummern",
    "10": "Interne Leistung",
    "11": "Informationsdienst nach der Single-Digital-Gateway-Verordnung",
    "12": "Hilfsdienst nach der Single-Digital-Gateway-Verordnung",
}
Typisierung = Literal["1", "2", "2a", "2b", "3", "3a", "3b", "4", "4a", "4b", "5", "6", "7", "10", "11", "12"]
# Which levels (Service.level: who performs) fit the performer a type names; types 6 and up
# describe information, not who performs, and fit every level.
TYPISIERUNG_LEVELS: dict[str, tuple[str, ...]] = {
    "1": ("bund",),
    **dict.fromkeys(("2", "2a", "2b", "3", "3a", "3b", "4"), ("land", "kommune", "kreis")),
    "4a": ("land",),
    **dict.fromkeys(("4b", "5"), ("kommune", "kreis")),
}


class Service(Model):
    """Leistungsbeschreibung nach FIM, einmal für alle Kommunen."""

    name: str = Field(min_length=3, description="Leistungsbezeichnung")
    leika: str | None = Field(
        None, pattern=r"^99[0-9]{12}$", description="LeiKa-Leistungsschlüssel: genau 14 Ziffern, beginnt mit 99"
    )
    synonyms: list[str] = Field(default_factory=list, description="Suchbegriffe der Bürgerinnen und Bürger")
    teaser: str = Field(min_length=10, description="Ein Satz, der die Leistung erklärt")
    description: Markdown = Field(description="Volltext")
    prerequisites: list[str] = Field(default_factory=list, description="Voraussetzungen")
    documents: list[str] = Field(default_factory=list, description="Erforderliche Unterlagen")
    fees: list[Fee] = Field(default_factory=list, description="Kosten")
    processing_time: Duration | None = Field(None, description="Bearbeitungsdauer")
    deadlines: list[Deadline] = Field(default_factory=list, description="Fristen")
    procedure: list[str] = Field(default_factory=list, description="Verfahrensablauf in Schritten")
    legal_basis: list[LegalBasis] = Field(default_factory=list, description="Rechtsgrundlagen")
    hints: Markdown | None = Field(None, description="Hinweise und Besonderheiten")
    life_situations: list[Id] = Field(default_factory=list, description="Lebenslagen")
    level: Level = Field(description="Verwaltungsebene, die die Leistung erbringt")
    office: OfficeRole | None = Field(None, description="Rolle der zuständigen Stelle (bei kommune/kreis)")
    authority: Authority | None = Field(None, description="Zuständige Stelle (bei land/bund)")
    online: OnlineService | None = Field(None, description="Online-Dienst")
    related: list[Id] = Field(default_factory=list, description="Verwandte Leistungen")
    typisierung: Typisierung | None = Field(
        None,
        description="Typisierung nach FIM: wer regelt und wer vollzieht. 1 Bund/Bund; 2, 2a, 2b Bund regelt, Land "
        "oder Kommune vollziehen; 3, 3a, 3b Bund setzt den Rahmen, Land oder Kommune; 4a Land/Land; 4b Land regelt, "
        "Kommune vollzieht; 5 Kommune/Kommune; 6 allgemeine Hinweise; 7 Servicenummern; 10 intern; 11, 12 "
        "Informations- und Hilfsdienste (Single Digital Gateway). Nur angeben, wenn sie sicher ist; in "
        "Anführungszeichen, z. B. \"2\"",
    )

    @field_validator("typisierung", mode="before")
    @classmethod
    def _typisierung_as_text(cls, value: Any) -> Any:
        # An unquoted 2 in YAML is a number; the codes are text ("2", "2a").
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _responsibility_fits_level(self) -> Service:
        if self.level in ("kommune", "kreis") and self.office is None:
            raise ValueError(f"level {self.level} needs an office role (who does it)")
        if self.level in ("land", "bund") and self.authority is None:
            raise ValueError(f"level {self.level} needs an authority (who does it)")
        levels = TYPISIERUNG_LEVELS.get(self.typisierung or "")
        if levels is not None and self.level not in levels:
            raise ValueError(
                f'typisierung "{self.typisierung}" ({TYPISIERUNG[self.typisierung or ""]}) does not fit level '
                f"{self.level}: that type fits {', '.join(levels)}"
            )
        return self


class LifeSituationStep(Model):
    """Ein Schritt einer Lebenslage, wie GOV.UK's step-by-step navigation."""

    title: str = Field(min_length=3, description="Überschrift des Schritts, z. B. »Neue Wohnung anmelden«")
    note: Markdown | None = Field(
        None, description="Ein, zwei Sätze zum Schritt: wann er ansteht, wen er betrifft. Fristen nennen die "
        "Leistungen selbst (deadlines); schreiben Sie hier keine Frist, die Sie nicht belegen können")
    required: list[Id] = Field(
        default_factory=list, description="Pflichten: Kennungen der Leistungen, die in diesem Schritt erledigt "
        "werden müssen (wenn sie die Person betreffen). Die Seite zeigt sie als »Pflicht« mit ihren Fristen")
    optional: list[Id] = Field(
        default_factory=list, description="Kennungen der Leistungen, die in diesem Schritt nur manche brauchen "
        "(»Falls es Sie betrifft«), mit ihren Fristen")

    @model_validator(mode="after")
    def _services_or_note(self) -> LifeSituationStep:
        if not (self.required or self.optional or self.note):
            raise ValueError("a step needs services (required or optional) or a note")
        return self


class LifeSituation(Model):
    name: str
    teaser: str
    description: Markdown
    related: list[Id] = Field(default_factory=list)
    steps: list[LifeSituationStep] = Field(
        default_factory=list,
        description="Schritt für Schritt: die Reihenfolge, in der die Seite die Leistungen zeigt. Zuerst die "
        "Schritte mit Pflichten (required) und ihren Fristen, danach, was nur manche betrifft (optional). "
        "Jede Leistung steht höchstens einmal darin. Leistungen der Lebenslage, die in keinem Schritt stehen, "
        "zeigt die Seite danach unter »Weitere Leistungen«. Ohne steps zeigt sie alle Leistungen alphabetisch",
    )


# --- municipality ---------------------------------------------------------------------


class Branding(Model):
    primary: Colour = Field(description="Hauptfarbe; weiße Schrift darauf braucht Kontrast 4,5:1")
    accent: Colour | None = None
    logo: str | None = Field(None, description="Logo-Datei neben municipality.yaml (SVG oder PNG)")

    @field_validator("primary")
    @classmethod
    def _readable_with_white(cls, value: str) -> str:
        ratio = contrast_ratio(value, "#ffffff")
        if ratio < 4.5:
            raise ValueError(
                f"white text on {value} has contrast {ratio:.2f}:1, WCAG AA needs 4.5:1; choose a darker colour"
            )
        return value


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


Offices = dict[OfficeRole, Id]


CREDITOR_ID = re.compile(r"DE[0-9]{2}[A-Z0-9]{3}[0-9]{11}")


def creditor_id_problem(value: str) -> str | None:
    """Why a German SEPA creditor identifier (Gläubiger-Identifikationsnummer) is wrong, or None:
    DE, two check digits, a three-character business code, eleven digits; the check digits
    are ISO 13616's (mod 97) over the national part and the country, without the business code."""
    if CREDITOR_ID.fullmatch(value) is None:
        return (f'"{value}" is not a German creditor identifier: DE, 2 check digits, 3 letters or digits '
                "(usually ZZZ) and 11 digits, without spaces, for example DE98ZZZ09999999999")
    digits = "".join(str(int(c, 36)) for c in value[7:] + "DE00")
    if 98 - int(digits) % 97 != int(value[2:4]):
        return f'"{value}": the check digits {value[2:4]} do not fit the rest of the number'
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
            raise ValueError("a real creditor identifier needs its source and as_of date; "
                             "an invented one needs example: true")
        return self


class Town(Model):
    id: Id
    name: str
    ags: str | None = Field(None, pattern=r"^[0-9]{8}$", description="Amtlicher Gemeindeschlüssel")
    website: HttpsUrl | None = None
    offices: Offices = Field(description="Rolle → Organisationseinheit der Stadt oder Gemeinde")
    sepa_creditor: SepaCreditor | None = Field(
        None, description="Zahlungsempfänger der Lastschriften dieser Stadt oder Gemeinde (z. B. Hundesteuer)")

    @field_validator("offices")
    @classmethod
    def _has_general(cls, value: dict[str, str]) -> dict[str, str]:
        if "general" not in value:
            raise ValueError("offices needs a 'general' unit (the fallback for every other role)")
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
    unit: Id | None = None
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
    service: Id = Field(description="Leistung, deren Termine hier online buchbar sind (braucht online.appointment)")
    locations: list[Id] = Field(min_length=1, description="Standorte, an denen die Termine gebucht werden")
    without_account: bool = Field(
        True,
        description="Buchen auch ohne Konto, mit bestätigter E-Mail-Adresse. Standard: ja für Schalterleistungen "
        "(Termine mit Vertrauensniveau basis); false schaltet es ab",
    )
    max_open: int = Field(
        1, ge=1, le=10, description="Offene Termine je Konto oder E-Mail-Adresse für diese Leistung (gegen Hamstern)"
    )


class Features(Model):
    online_forms: list[Id] = Field(
        default_factory=list, description="Leistungen, deren eigenes Online-Formular hier freigeschaltet ist"
    )
    appointments: list[AppointmentSwitch] = Field(
        default_factory=list, description="Buchbare Termine je Leistung und Standort"
    )


class TopTask(Model):
    """Ein häufiges Anliegen auf der Startseite: eine Leistung oder die Terminbuchung."""

    service: Id | None = Field(default=None, description="Kennung der Leistung, zu deren Seite der Eintrag führt")
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
            raise ValueError("give either service or page")
        return self


class Municipality(Model):
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

    @field_validator("offices")
    @classmethod
    def _has_general(cls, value: dict[str, str]) -> dict[str, str]:
        if "general" not in value:
            raise ValueError("offices needs a 'general' unit (the fallback for every other role)")
        return value

    @model_validator(mode="after")
    def _towns_only_in_districts(self) -> Municipality:
        if self.kind == "kreis" and not self.towns:
            raise ValueError("a kreis needs its member towns (towns)")
        if self.kind == "kreisfreie_stadt" and self.towns:
            raise ValueError("a kreisfreie_stadt has no member towns; remove towns")
        return self


# --- per municipality -----------------------------------------------------------------


class Unit(Model):
    name: str = Field(description="Name der Organisationseinheit, z. B. Bürgeramt")
    description: Markdown | None = Field(None, description="Was die Stelle tut")
    parent: Id | None = Field(None, description="Übergeordnete Einheit (z. B. das Amt eines Sachgebiets)")
    town: Id | None = Field(None, description="Im Kreis: die Stadt oder Gemeinde, zu der die Einheit gehört")
    phone: str | None = Field(None, description="Telefonnummer")
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$",
                              description="E-Mail-Adresse; bekommt auch die Hinweise auf neue Online-Anträge")
    website: HttpsUrl | None = Field(None, description="Eigene Internetseite der Stelle")
    locations: list[Id] = Field(default_factory=list, description="Standorte, an denen die Stelle zu finden ist")
    grammar: Grammar | None = Field(None, description="Grammatik des Namens, z. B. gender: n für das Steueramt "
                                    "(meist leer; siehe Handbuch)")


class Geo(Model):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class OpeningHours(Model):
    days: list[Weekday] = Field(min_length=1)
    opens: Clock
    closes: Clock

    _clock_opens = field_validator("opens", "closes", mode="before")(lambda cls, v: _clock(v))

    @model_validator(mode="after")
    def _opens_before_closes(self) -> OpeningHours:
        if self.opens >= self.closes:
            raise ValueError(f"opens {self.opens} is not before closes {self.closes}")
        return self


def _without_overlaps(hours: list[OpeningHours]) -> list[OpeningHours]:
    for day in WEEKDAYS:
        spans = sorted((h.opens, h.closes) for h in hours if day in h.days)
        for (_, first_end), (second_start, _) in zip(spans, spans[1:], strict=False):
            if second_start < first_end:
                raise ValueError(f"opening hours overlap on {day}: {second_start} is before {first_end}")
    return hours


def outside_hours(inner: OpeningHours, outer: list[OpeningHours]) -> list[str]:
    """The weekdays on which the span of `inner` does not lie within one span of `outer`."""
    return [
        day
        for day in inner.days
        if not any(day in o.days and o.opens <= inner.opens and inner.closes <= o.closes for o in outer)
    ]


class Exception_(Model):
    date: dt.date
    closed: bool = False
    opens: Clock | None = None
    closes: Clock | None = None
    note: str | None = None

    _clock_opens = field_validator("opens", "closes", mode="before")(lambda cls, v: _clock(v))

    @model_validator(mode="after")
    def _closed_or_hours(self) -> Exception_:
        if self.closed and (self.opens or self.closes):
            raise ValueError("a closed day has no opening times")
        if not self.closed and not (self.opens and self.closes):
            raise ValueError("give closed: true, or opens and closes")
        if self.opens and self.closes and self.opens >= self.closes:
            raise ValueError(f"opens {self.opens} is not before closes {self.closes}")
        return self


class Booking(Model):
    """Wie ein Standort Termine vergibt. Was fehlt, gilt mit dem genannten Standardwert."""

    counters: int = Field(default=BOOKING_DEFAULTS.counters, ge=1, le=50,
                          description="Schalter, die gleichzeitig Termine annehmen")
    days_ahead: int = Field(default=BOOKING_DEFAULTS.days_ahead, ge=1, le=365,
                            description="So viele Tage im Voraus sind Termine buchbar")
    lead_minutes: int = Field(
        default=BOOKING_DEFAULTS.lead_minutes, ge=0, le=7 * 24 * 60,
        description="Bis so viele Minuten vor Beginn ist ein Termin noch buchbar"
    )
    cancel_hours: int = Field(
        default=BOOKING_DEFAULTS.cancel_hours,
        ge=0,
        le=14 * 24,
        description="Bis so viele Stunden vor Beginn lässt sich ein Termin absagen oder verschieben",
    )
    step_minutes: int = Field(
        default=BOOKING_DEFAULTS.step_minutes, ge=5, le=240,
        description="Termine beginnen in diesem Takt, in Minuten (ein Vielfaches von 5)"
    )
    hours: list[OpeningHours] | None = Field(
        default=None,
        description="Zeiten für Termine, wenn sie von den Öffnungszeiten abweichen; sie liegen in den Öffnungszeiten",
    )

    @field_validator("step_minutes")
    @classmethod
    def _on_the_grid(cls, value: int) -> int:
        return _five_minute_grid(value, "step_minutes")

    @field_validator("hours")
    @classmethod
    def _no_overlaps(cls, hours: list[OpeningHours] | None) -> list[OpeningHours] | None:
        return None if hours is None else _without_overlaps(hours)


class BuildingAccess(Model):
    step_free: bool = Field(description="Stufenlos erreichbar (Eingang und die Räume der Leistungen)")
    accessible_toilet: bool | None = Field(None, description="Barrierefreie Toilette im Gebäude")
    accessible_parking: str | None = Field(None, description="Behindertenparkplätze: wo und wie viele")
    hearing_loop: bool | None = Field(None, description="Induktive Höranlage für Hörgeräte")
    notes: str | None = Field(None, description="Weitere Hinweise zur Barrierefreiheit, z. B. Klingel am Seiteneingang")


class Location(Model):
    name: str = Field(description="Name des Standorts, z. B. Stadthaus 1")
    address: Address = Field(description="Anschrift des Gebäudes")
    geo: Geo | None = Field(None, description="Lage für Karten und Suchmaschinen (Breite, Länge)")
    town: Id | None = Field(None, description="Im Kreis: die Stadt oder Gemeinde, in der der Standort liegt")
    phone: str | None = Field(None, description="Telefonnummer des Standorts")
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", description="E-Mail-Adresse des Standorts")
    opening_hours: list[OpeningHours] = Field(default_factory=list, description="Öffnungszeiten nach Wochentagen")
    closed_on_public_holidays: bool = Field(True, description="An gesetzlichen Feiertagen in NRW geschlossen")
    exceptions: list[Exception_] = Field(default_factory=list,
                                         description="Abweichende Tage: geschlossen oder andere Zeiten")
    accessibility: BuildingAccess | None = Field(None, description="Barrierefreiheit des Gebäudes")
    transport: list[str] = Field(default_factory=list, description="Anfahrt mit Bus und Bahn, je ein Satz")
    booking: Booking | None = Field(None, description="Terminvergabe an diesem Standort")

    @field_validator("opening_hours")
    @classmethod
    def _no_overlaps(cls, hours: list[OpeningHours]) -> list[OpeningHours]:
        return _without_overlaps(hours)

    @property
    def booking_settings(self) -> Booking:
        """The booking block with every default filled, hours defaulting to the opening hours."""
        booking = self.booking or Booking()
        return booking if booking.hours is not None else booking.model_copy(update={"hours": self.opening_hours})

    @field_validator("exceptions")
    @classmethod
    def _one_exception_a_day(cls, exceptions: list[Exception_]) -> list[Exception_]:
        seen: set[dt.date] = set()
        for exc in exceptions:
            if exc.date in seen:
                raise ValueError(f"exception for {exc.date} is given twice")
            seen.add(exc.date)
        return exceptions


class Contact(Model):
    name: str = Field(description="Vor- und Familienname")
    role: str = Field(description="Aufgabe, z. B. Sachbearbeitung Hundesteuer")
    unit: Id = Field(description="Organisationseinheit, zu der die Person gehört")
    topics: list[str] = Field(default_factory=list, description="Themen, zu denen man sie ansprechen kann")
    phone: str | None = Field(None, description="Telefonnummer (Durchwahl)")
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", description="Dienstliche E-Mail-Adresse")
    room: str | None = Field(None, description="Raum, z. B. 2.14")
    location: Id | None = Field(None, description="Standort, an dem die Person arbeitet")
    office_hours: str | None = Field(None, description="Sprechzeiten, wenn sie von denen des Standorts abweichen")
    services: list[Id] = Field(default_factory=list, description="Leistungen, für die sie ansprechbar ist")
    sample: bool = Field(False, description="Beispieldaten (fiktive Person)")


class LocalService(Model):
    """Was eine Kommune zu einer gemeinsamen Leistung ergänzt oder ersetzt."""

    unit: Id | None = None
    town_units: dict[Id, Id] = Field(default_factory=dict)
    contacts: list[Id] = Field(default_factory=list)
    locations: list[Id] = Field(default_factory=list)
    fees: list[Fee] | None = None
    processing_time: Duration | None = None
    notes: Markdown | None = None


class EverydayWords(Model):
    """Wörter aus dem Alltag, die Bürgerinnen und Bürger suchen, und was sie meinen."""

    words: list[str] = Field(min_length=1, description="Was Menschen eintippen, z. B. Perso")
    means: list[str] = Field(min_length=1, description="Begriffe, die in Leistungsnamen oder Synonymen vorkommen")


class EverydayWordList(Model):
    groups: list[EverydayWords] = Field(description="Gruppen von Alltagswörtern")


# Pages of every site that a best bet can name besides services and life situations
# (search_index/documents.py FIXED_PAGES gives their titles and addresses).
FixedPage = Literal["termine", "a-z", "themen", "lebenslagen", "organisation", "standorte"]


class BestBetPage(Model):
    """Eine Seite, die die Suche für die Suchwörter zuerst zeigt: genau eines von service, life_situation, page."""

    service: Id | None = Field(None, description="Leistung (Dateiname in content/services/)")
    life_situation: Id | None = Field(None, description="Lebenslage (Dateiname in content/life-situations/)")
    page: FixedPage | None = Field(
        None, description="Feste Seite: termine (Termin buchen), a-z, themen, lebenslagen, organisation, standorte"
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> BestBetPage:
        if sum(value is not None for value in (self.service, self.life_situation, self.page)) != 1:
            raise ValueError("give exactly one of service, life_situation or page")
        return self


class BestBet(Model):
    """Suchwörter und die Seiten, die die Suche für sie zuerst zeigt, in dieser Reihenfolge."""

    queries: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        min_length=1,
        description="Was Menschen eintippen, z. B. umzug oder auto anmelden; Groß- und Kleinschreibung, Umlaute, "
        "Endungen, Reihenfolge und Füllwörter zählen nicht",
    )
    pages: list[BestBetPage] = Field(min_length=1, max_length=5, description="Die Seiten, beste zuerst (höchstens 5)")


class BestBetList(Model):
    bets: list[BestBet] = Field(description="Beste Treffer der Suche")


# --- online forms -----------------------------------------------------------------------

FieldType = Literal["text", "textarea", "number", "date", "choice", "yesno", "address", "iban", "email", "phone",
                    "file"]
# Stored profile values that can fill a field ("address" fills street, postal code and town at once).
ProfileField = Literal["given_name", "family_name", "birth_name", "birthdate", "place_of_birth", "nationality",
                       "street", "postal_code", "city", "country", "phone", "email", "address"]
FileKind = Literal["pdf", "jpeg", "png"]
FILE_KINDS: tuple[FileKind, ...] = ("pdf", "jpeg", "png")
PREFILL_TYPES: dict[str, tuple[str, ...]] = {
    "birthdate": ("date",), "email": ("email",), "phone": ("phone",), "address": ("address",),
}


class Option(Model):
    value: Id = Field(description="Gespeicherter Wert (Kennung)")
    label: str = Field(min_length=1, description="Text, den die Bürgerin oder der Bürger liest")


class Condition(Model):
    """Shows a step or field only when an earlier answer says so."""

    field: Id = Field(description="Kennung eines früheren Feldes (Auswahl oder Ja/Nein)")
    equals: str | bool | None = Field(None, description="Wert, bei dem angezeigt wird (true/false bei Ja/Nein)")
    one_of: list[str] | None = Field(None, description="Werte, bei denen angezeigt wird")

    @model_validator(mode="after")
    def _one_rule(self) -> Condition:
        if (self.equals is None) == (self.one_of is None):
            raise ValueError("give either equals or one_of")
        return self

    def values(self) -> list[str]:
        """The answers that show the step or field, as the form posts them."""
        if self.one_of is not None:
            return list(self.one_of)
        if isinstance(self.equals, bool):
            return ["ja" if self.equals else "nein"]
        return [str(self.equals)]


class FormField(Model):
    id: Id = Field(description="Kennung, eindeutig im Formular")
    type: FieldType = Field(description="Art des Feldes")
    label: str = Field(min_length=1, description="Beschriftung")
    hint: str | None = Field(None, description="Hilfetext unter der Beschriftung")
    required: bool = Field(True, description="Pflichtfeld (sonst als freiwillig gekennzeichnet)")
    when: Condition | None = Field(None, description="Nur anzeigen, wenn …")
    prefill: ProfileField | None = Field(None, description="Gespeicherte Angabe aus »Meine Daten«, die das Feld füllt")
    min_length: int | None = Field(None, ge=1, description="Mindestlänge (Text)")
    max_length: int | None = Field(None, ge=1, le=5000, description="Höchstlänge (Text; Standard 200, mehrzeilig 2000)")
    pattern: str | None = Field(None, description="Regulärer Ausdruck, dem ein Text entsprechen muss")
    pattern_message: str | None = Field(None, description="Fehlermeldung, wenn der Text nicht dem Muster entspricht")
    example: str | None = Field(None, description="Eine gültige Beispielantwort (nötig bei pattern; für Tests "
                                                  "und das Handbuch, erfundene Werte)")
    min: float | None = Field(None, description=f"Kleinster Wert (Zahl; Standard {NUMBER_MIN})")
    max: float | None = Field(None, description=f"Größter Wert (Zahl; Standard {NUMBER_MAX})")
    decimals: int = Field(0, ge=0, le=2, description="Nachkommastellen (Zahl)")
    unit: str | None = Field(None, description="Einheit hinter dem Zahlenfeld, z. B. Euro")
    past: bool = Field(False, description="Datum darf nicht in der Zukunft liegen")
    future: bool = Field(False, description="Datum darf nicht in der Vergangenheit liegen")
    options: list[Option] = Field(default_factory=list, description="Auswahlmöglichkeiten (Auswahl)")
    multiple: bool = Field(False, description="Mehrere Auswahlmöglichkeiten zugleich (Auswahl)")
    accept: list[FileKind] = Field(default_factory=lambda: list(FILE_KINDS),
                                   description="Erlaubte Dateiarten (Datei); geprüft wird der Inhalt")
    max_size_mb: float = Field(FILE_SIZE_MB, gt=0, le=10, description="Größte Datei in MB (Datei)")
    compact: bool = Field(False, description="Leerzeichen und Bindestriche vor der Prüfung entfernen und ohne sie "
                                             "speichern (Text; für Nummern wie die Chipnummer)")

    @model_validator(mode="before")
    @classmethod
    def _number_bounds(cls, data: Any) -> Any:
        """Every number field has bounds: without min and max the portal would take any number
        (1e500000 too). Missing ones get the defaults (also used by dynamic.forms.fields)."""
        if isinstance(data, dict) and data.get("type") == "number":
            data = dict(data)
            if data.get("min") is None:
                high = data.get("max")
                data["min"] = min(NUMBER_MIN, high) if isinstance(high, int | float) else NUMBER_MIN
            if data.get("max") is None:
                low = data["min"]
                data["max"] = max(NUMBER_MAX, low) if isinstance(low, int | float) else NUMBER_MAX
        return data

    @model_validator(mode="after")
    def _rules_fit_type(self) -> FormField:
        kind = self.type
        if kind == "choice" and len(self.options) < 2:
            raise ValueError("a choice needs at least two options")
        if kind != "choice" and (self.options or self.multiple):
            raise ValueError(f"options and multiple are only for choice fields, not {kind}")
        if self.options and len({o.value for o in self.options}) != len(self.options):
            raise ValueError("option values must be unique")
        if kind != "text" and self.compact:
            raise ValueError(f"compact is only for text fields, not {kind}")
        if kind not in ("text", "textarea") and (self.min_length or self.max_length or self.pattern):
            raise ValueError(f"min_length, max_length and pattern are only for text fields, not {kind}")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as error:
                raise ValueError(f"pattern is not a regular expression: {error}") from None
            if not self.pattern_message:
                raise ValueError("a pattern needs a pattern_message that tells citizens what to enter")
            if self.example is None:
                raise ValueError("a pattern needs an example of a valid answer (example), which is checked against it")
            if re.fullmatch(self.pattern, self.example) is None:
                raise ValueError(f'the example "{self.example}" does not match the pattern')
        if kind != "number" and (self.min is not None or self.max is not None or self.decimals or self.unit):
            raise ValueError(f"min, max, decimals and unit are only for number fields, not {kind}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        if kind != "date" and (self.past or self.future):
            raise ValueError(f"past and future are only for date fields, not {kind}")
        if self.past and self.future:
            raise ValueError("a date cannot be both past and future")
        if self.prefill is not None:
            fitting = PREFILL_TYPES.get(self.prefill, ("text", "choice"))
            if kind not in fitting:
                raise ValueError(f"prefill {self.prefill} cannot fill a {kind} field (only {', '.join(fitting)})")
        return self


class SepaMandate(Model):
    """A SEPA direct-debit mandate granted with the application when an answer says so; the
    portal writes its text with the creditor of the municipality (or, in a district, the town)."""

    when: Condition = Field(description="Wann das Mandat erteilt wird, z. B. {field: zahlungsart, equals: lastschrift}")
    purpose: str = Field(min_length=3, description="Was eingezogen wird, z. B. »die Hundesteuer«")


class FormStep(Model):
    id: Id = Field(description="Kennung des Schritts (Teil der Adresse)")
    title: str = Field(min_length=1, description="Überschrift des Schritts")
    intro: str | None = Field(None, description="Einleitender Satz")
    when: Condition | None = Field(None, description="Schritt nur zeigen, wenn …")
    fields: list[FormField] = Field(min_length=1, description="Felder des Schritts")


class Form(Model):
    """Ein Online-Antrag: Schritte, Felder, Regeln, Vertrauensniveau und Empfänger."""

    title: str = Field(min_length=3, description="Titel des Antrags")
    version: int = Field(
        1, ge=1, description="Version des Antragsformats (ganze Zahl, beginnt bei 1). Erhöhen Sie sie, wenn Sie ein "
        "Feld entfernen, seine Art ändern, ein neues Pflichtfeld hinzufügen, eine Auswahlmöglichkeit streichen oder "
        "eine Grenze enger fassen; build.py check lehnt solche Änderungen sonst ab (veröffentlicht ist jede "
        "Version, deren Schema in schema/forms/ liegt)")
    service: Id = Field(description="Leistung, zu der der Antrag gehört (ihr online.form nennt dieses Formular)")
    trust_level: TrustLevel = Field("basis", description="Vertrauensniveau, das der Antrag verlangt")
    recipient: OfficeRole | None = Field(
        None, description="Rolle der empfangenden Stelle; ohne Angabe die zuständige Stelle der Leistung")
    intro: Markdown | None = Field(None, description="Was die Bürgerin oder der Bürger vorher wissen muss")
    declaration: str = Field(
        "Ich versichere, dass meine Angaben richtig und vollständig sind.",
        description="Erklärung, die vor dem Absenden bestätigt wird")
    steps: list[FormStep] = Field(min_length=1, description="Schritte des Antrags")
    sepa_mandate: SepaMandate | None = Field(
        None, description="SEPA-Lastschriftmandat, das mit dem Antrag erteilt wird (nennt den Zahlungsempfänger)")
    after_sending: str | None = Field(
        None, description="Was die Stelle nach dem Eingang tut, für »Wie geht es weiter« (ohne Bearbeitungsdauer: "
                          "die kommt aus der Leistung)")

    def fields(self) -> list[FormField]:
        return [field for step in self.steps for field in step.fields]


def form_structure_problems(form: Form) -> list[tuple[tuple[str | int, ...], str]]:
    """(location in the file, message) for ids used twice and conditions that cannot work:
    a condition must name an earlier choice or yes/no field and one of its answers."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    earlier: dict[str, FormField] = {}
    steps: set[str] = set()
    for s_index, step in enumerate(form.steps):
        if step.id in steps or step.id == "zusammenfassung":
            found.append((("steps", s_index, "id"), f'step id "{step.id}" is used twice or reserved'))
        steps.add(step.id)
        if step.when is not None:
            found += [(("steps", s_index, "when", *loc), message)
                      for loc, message in _condition_problems(step.when, earlier)]
        for f_index, field in enumerate(step.fields):
            if field.id in earlier:
                found.append((("steps", s_index, "fields", f_index, "id"), f'field id "{field.id}" is used twice'))
            if field.when is not None:
                found += [(("steps", s_index, "fields", f_index, "when", *loc), message)
                          for loc, message in _condition_problems(field.when, earlier)]
            earlier[field.id] = field
    if form.sepa_mandate is not None:
        found += [(("sepa_mandate", "when", *loc), message)
                  for loc, message in _condition_problems(form.sepa_mandate.when, earlier)]
    return found


def _condition_problems(condition: Condition, earlier: dict[str, FormField]) -> list[tuple[tuple[str, ...], str]]:
    target = earlier.get(condition.field)
    if target is None:
        return [(("field",), f'"{condition.field}" is not a field before this one; a condition can only '
                             "depend on an earlier answer")]
    if target.type == "yesno":
        allowed = ["ja", "nein"]
    elif target.type == "choice":
        allowed = [o.value for o in target.options]
    else:
        return [(("field",), f'"{condition.field}" is a {target.type} field; a condition needs a choice or yesno '
                             "field")]
    wrong = [v for v in condition.values() if v not in allowed]
    if wrong:
        key = "one_of" if condition.one_of is not None else "equals"
        shown = "true or false" if target.type == "yesno" else ", ".join(allowed)
        return [((key,), f'"{wrong[0]}" is not an answer of "{condition.field}" ({shown})')]
    return []


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
