"""Online forms (content/forms/): steps, fields, conditions, the SEPA mandate."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

# The bounds of a number field that names none and the largest file: katalog.json carries them.
from katalog import forms as k
from katalog.base import default_of
from katalog.models import NUMBER_MAX, NUMBER_MIN
from portal.profile_fields import PREFILL_SOURCES

from ..messages import say
from .base import Id, Markdown, Model, OfficeRole, ServiceId, TrustLevel

# --- online forms -----------------------------------------------------------------------

FieldType = Literal["text", "textarea", "number", "date", "choice", "yesno", "address", "iban", "email", "phone",
                    "file"]
# Stored profile values that can fill a field ("address" fills street, postal code and town at once).
# Where a form's field may take its value from (portal.profile_fields), listed in the schema.
if TYPE_CHECKING:
    ProfileField = str
else:
    ProfileField = Literal[PREFILL_SOURCES]
FileKind = Literal["pdf", "jpeg", "png"]
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
            raise ValueError(say("bedingung-ohne-wert"))
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
    required: bool = Field(
        default_of(k.FormField, "required"), description="Pflichtfeld (sonst als freiwillig gekennzeichnet)")
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
    decimals: int = Field(default_of(k.FormField, "decimals"), ge=0, le=2, description="Nachkommastellen (Zahl)")
    unit: str | None = Field(None, description="Einheit hinter dem Zahlenfeld, z. B. Euro")
    past: bool = Field(default_of(k.FormField, "past"), description="Datum darf nicht in der Zukunft liegen")
    future: bool = Field(default_of(k.FormField, "future"), description="Datum darf nicht in der Vergangenheit liegen")
    options: list[Option] = Field(default_factory=list, description="Auswahlmöglichkeiten (Auswahl)")
    multiple: bool = Field(
        default_of(k.FormField, "multiple"), description="Mehrere Auswahlmöglichkeiten zugleich (Auswahl)")
    accept: list[FileKind] = Field(default_factory=lambda: default_of(k.FormField, "accept"),
                                   description="Erlaubte Dateiarten (Datei); geprüft wird der Inhalt")
    max_size_mb: float = Field(
        default_of(k.FormField, "max_size_mb"), gt=0, le=10, description="Größte Datei in MB (Datei)")
    compact: bool = Field(
        default_of(k.FormField, "compact"),
        description="Leerzeichen und Bindestriche vor der Prüfung entfernen und ohne sie speichern (Text; für Nummern "
        "wie die Chipnummer)")

    @model_validator(mode="before")
    @classmethod
    def _number_bounds(cls, data: Any) -> Any:
        """Every number field has bounds: without min and max the portal would take any number
        (1e500000 too). Missing ones get the defaults (also used by dynamic.forms.values)."""
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
            raise ValueError(say("auswahl-mit-einer-moeglichkeit"))
        if kind != "choice" and (self.options or self.multiple):
            raise ValueError(say("auswahl-nur-bei-auswahlfeld", art=kind))
        if self.options and len({o.value for o in self.options}) != len(self.options):
            raise ValueError(say("auswahl-doppelter-wert"))
        if kind != "text" and self.compact:
            raise ValueError(say("kompakt-bei-anderem-feld", art=kind))
        if kind not in ("text", "textarea") and (self.min_length or self.max_length or self.pattern):
            raise ValueError(say("textregel-bei-anderem-feld", art=kind))
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as error:
                raise ValueError(say("muster-ungueltig", grund=error)) from None
            if not self.pattern_message:
                raise ValueError(say("muster-ohne-meldung"))
            if self.example is None:
                raise ValueError(say("muster-ohne-beispiel"))
            if re.fullmatch(self.pattern, self.example) is None:
                raise ValueError(say("beispiel-passt-nicht-zum-muster", beispiel=self.example))
        if kind != "number" and (self.min is not None or self.max is not None or self.decimals or self.unit):
            raise ValueError(say("zahlregel-bei-anderem-feld", art=kind))
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(say("zahlregel-verkehrt", min=self.min, max=self.max))
        if kind != "date" and (self.past or self.future):
            raise ValueError(say("datumsregel-bei-anderem-feld", art=kind))
        if self.past and self.future:
            raise ValueError(say("datum-vergangen-und-kuenftig"))
        if self.prefill is not None:
            fitting = PREFILL_TYPES.get(self.prefill, ("text", "choice"))
            if kind not in fitting:
                raise ValueError(say("vorbelegung-passt-nicht", angabe=self.prefill, art=kind,
                                     arten=", ".join(fitting)))
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
        default_of(k.Form, "version"), ge=1,
        description="Version des Antragsformats (ganze Zahl, beginnt bei 1). Erhöhen Sie sie, wenn Sie ein Feld "
        "entfernen, seine Art ändern, ein neues Pflichtfeld hinzufügen, eine Auswahlmöglichkeit streichen oder eine "
        "Grenze enger fassen; build.py check lehnt solche Änderungen sonst ab (veröffentlicht ist jede Version, deren "
        "Schema in schema/forms/ liegt)")
    service: ServiceId = Field(description="Leistung, zu der der Antrag gehört (ihr online.form nennt dieses Formular)")
    trust_level: TrustLevel = Field(
        default_of(k.Form, "trust_level"), description="Vertrauensniveau, das der Antrag verlangt")
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
            found.append((("steps", s_index, "id"), say("schritt-doppelt", kennung=step.id)))
        steps.add(step.id)
        if step.when is not None:
            found += [(("steps", s_index, "when", *loc), message)
                      for loc, message in _condition_problems(step.when, earlier)]
        for f_index, field in enumerate(step.fields):
            if field.id in earlier:
                found.append((("steps", s_index, "fields", f_index, "id"), say("feld-doppelt", kennung=field.id)))
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
        return [(("field",), say("bedingung-auf-spaeteres-feld", feld=condition.field))]
    if target.type == "yesno":
        allowed = ["ja", "nein"]
    elif target.type == "choice":
        allowed = [o.value for o in target.options]
    else:
        return [(("field",), say("bedingung-auf-freitext", feld=condition.field, art=target.type))]
    wrong = [v for v in condition.values() if v not in allowed]
    if wrong:
        key = "one_of" if condition.one_of is not None else "equals"
        shown = "true or false" if target.type == "yesno" else ", ".join(allowed)
        return [((key,), say("bedingung-mit-unmoeglicher-antwort", wert=wrong[0], feld=condition.field,
                             erlaubt=shown))]
    return []
