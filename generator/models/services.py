"""Shared service descriptions (content/services/) and life situations (content/life-situations/)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from katalog import base as katalog_base
from katalog import models as k
from katalog.base import default_of

from ..messages import say
from .base import (
    FormId,
    HttpsUrl,
    Level,
    LifeSituationId,
    Markdown,
    Model,
    OfficeRole,
    ServiceId,
    TimeUnit,
    TrustLevel,
    _five_minute_grid,
)
from .provenance import Sourced


# A fee: its fields are katalog.json's (katalog/base.py), the checks the editors'.
class Fee(katalog_base.Fee, Model):
    @model_validator(mode="after")
    def _source_with_date(self) -> Fee:
        if self.source is not None and self.checked_on is None:
            raise ValueError(say("quelle-ohne-datum"))
        return self

    @model_validator(mode="after")
    def _amount_or_range_or_note(self) -> Fee:
        has_range = self.amount_min is not None or self.amount_max is not None
        if self.amount is not None and has_range:
            raise ValueError(say("gebuehr-betrag-und-spanne"))
        if has_range and (self.amount_min is None or self.amount_max is None):
            raise ValueError(say("gebuehr-halbe-spanne"))
        if has_range and self.amount_min > self.amount_max:  # type: ignore[operator]
            raise ValueError(say("gebuehr-spanne-verkehrt"))
        if self.amount is None and not has_range and not self.note:
            raise ValueError(say("gebuehr-ohne-betrag"))
        return self


# A duration: its fields are katalog.json's (katalog/base.py), the checks the editors'.
class Duration(katalog_base.Duration, Model):
    @model_validator(mode="after")
    def _ordered(self) -> Duration:
        if self.min is None and self.max is None:
            raise ValueError(say("dauer-ohne-wert"))
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(say("dauer-verkehrt"))
        return self


class Deadline(Model):
    description: str = Field(description="Die Frist in einem Satz")
    value: float | None = Field(None, gt=0)
    unit: TimeUnit | None = None

    @model_validator(mode="after")
    def _value_with_unit(self) -> Deadline:
        if (self.value is None) != (self.unit is None):
            raise ValueError(say("frist-ohne-einheit"))
        return self


class LegalBasis(Model):
    title: str = Field(description="Bezeichnung der Vorschrift")
    url: HttpsUrl | None = None


class Authority(Model):
    name: str = Field(description="Zuständige Behörde auf Landes- oder Bundesebene")
    url: HttpsUrl | None = None



class AppointmentType(Model):
    duration: int = Field(gt=0, le=480, description="Dauer eines Termins in Minuten (ein Vielfaches von 5)")
    max_persons: int = Field(
        default_of(k.AppointmentType, "max_persons"), ge=1, le=10,
        description="Personen, die in einem Termin bedient werden können")
    trust_level: TrustLevel = Field(
        default_of(k.AppointmentType, "trust_level"),
        description="Vertrauensniveau, das das Buchen eines Termins verlangt (unabhängig vom Niveau des Formulars)",
    )

    @field_validator("duration")
    @classmethod
    def _on_the_grid(cls, value: int) -> int:
        return _five_minute_grid(value, "the duration")


class OnlineService(Model):
    url: HttpsUrl | None = Field(None, description="Externer Online-Dienst (Portalverbund)")
    label: str | None = Field(None, description="Linktext zum externen Online-Dienst")
    form: FormId | None = Field(None, description="Kennung unseres eigenen Online-Formulars")
    appointment: AppointmentType | None = Field(None, description="Termin buchbar")
    trust_level: TrustLevel = Field(default_of(k.OnlineService, "trust_level"), description="Nötiges Vertrauensniveau")

    @model_validator(mode="after")
    def _label_with_url(self) -> OnlineService:
        if self.url and not self.label:
            raise ValueError(say("online-adresse-ohne-linktext"))
        if not (self.url or self.form or self.appointment):
            raise ValueError(say("online-ohne-angebot"))
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


class Service(Sourced):
    """Leistungsbeschreibung nach FIM, einmal für alle Kommunen."""

    name: str = Field(min_length=3, description="Leistungsbezeichnung")
    leika: str | None = Field(
        None, pattern=r"^99[0-9]{12}$", description="LeiKa-Leistungsschlüssel: genau 14 Ziffern, beginnt mit 99"
    )
    synonyms: list[str] = Field(
        default_factory=list,
        description="Andere gebräuchliche Bezeichnungen der Leistung; werden auch als Bezeichnung veröffentlicht "
        "(JSON-LD alternateName, XZuFi begriffImKontext)",
    )
    search_only: list[str] = Field(
        default_factory=list,
        description="Nur für die Suche: Schreibfehler und Alltagswörter; werden nicht als Bezeichnung veröffentlicht",
    )
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
    life_situations: list[LifeSituationId] = Field(default_factory=list, description="Lebenslagen")
    level: Level = Field(description="Verwaltungsebene, die die Leistung erbringt")
    office: OfficeRole | None = Field(None, description="Rolle der zuständigen Stelle (bei kommune/kreis)")
    authority: Authority | None = Field(None, description="Zuständige Stelle (bei land/bund)")
    online: OnlineService | None = Field(None, description="Online-Dienst")
    related: list[ServiceId] = Field(default_factory=list, description="Verwandte Leistungen")
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
            raise ValueError(say("ebene-ohne-stelle", ebene=self.level))
        if self.level in ("land", "bund") and self.authority is None:
            raise ValueError(say("ebene-ohne-behoerde", ebene=self.level))
        levels = TYPISIERUNG_LEVELS.get(self.typisierung or "")
        if levels is not None and self.level not in levels:
            raise ValueError(say("typisierung-passt-nicht", typ=self.typisierung,
                                 bedeutung=TYPISIERUNG[self.typisierung or ""], ebene=self.level,
                                 passend=", ".join(levels)))
        return self


class LifeSituationStep(Model):
    """Ein Schritt einer Lebenslage, wie GOV.UK's step-by-step navigation."""

    title: str = Field(min_length=3, description="Überschrift des Schritts, z. B. »Neue Wohnung anmelden«")
    note: Markdown | None = Field(
        None, description="Ein, zwei Sätze zum Schritt: wann er ansteht, wen er betrifft. Fristen nennen die "
        "Leistungen selbst (deadlines); schreiben Sie hier keine Frist, die Sie nicht belegen können")
    required: list[ServiceId] = Field(
        default_factory=list, description="Pflichten: Kennungen der Leistungen, die in diesem Schritt erledigt "
        "werden müssen (wenn sie die Person betreffen). Die Seite zeigt sie als »Pflicht« mit ihren Fristen")
    optional: list[ServiceId] = Field(
        default_factory=list, description="Kennungen der Leistungen, die in diesem Schritt nur manche brauchen "
        "(»Falls es Sie betrifft«), mit ihren Fristen")

    @model_validator(mode="after")
    def _services_or_note(self) -> LifeSituationStep:
        if not (self.required or self.optional or self.note):
            raise ValueError(say("schritt-ohne-inhalt"))
        return self


class LifeSituation(Model):
    name: str
    teaser: str
    description: Markdown
    related: list[LifeSituationId] = Field(default_factory=list)
    steps: list[LifeSituationStep] = Field(
        default_factory=list,
        description="Schritt für Schritt: die Reihenfolge, in der die Seite die Leistungen zeigt. Zuerst die "
        "Schritte mit Pflichten (required) und ihren Fristen, danach, was nur manche betrifft (optional). "
        "Jede Leistung steht höchstens einmal darin. Leistungen der Lebenslage, die in keinem Schritt stehen, "
        "zeigt die Seite danach unter »Weitere Leistungen«. Ohne steps zeigt sie alle Leistungen alphabetisch",
    )
