"""Where the facts of a file come from (issue 17): its sources, the day an editor last compared
the facts with them, and what is only an example.

Every kind of file that states facts (services, a municipality's file, units, locations, local
parts of services) derives from `Sourced`, so the fields are defined once and spelled the same
everywhere: `quellen`, `geprueft_am`, `beispiel`, `beispiel_felder`.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from .base import HttpsUrl, Model

PROVENANCE_FIELDS = ("quellen", "geprueft_am", "beispiel", "beispiel_felder")


class Quelle(Model):
    """Eine öffentliche Quelle der Angaben dieser Datei."""

    url: HttpsUrl = Field(description="Adresse der Quelle, z. B. die Seite der Stadt oder die Satzung im Ortsrecht")
    titel: str = Field(min_length=3, description="Titel der Quelle, wie er dort steht")
    abgerufen: dt.date = Field(description="Tag, an dem Sie die Quelle aufgerufen haben (JJJJ-MM-TT)")


class Sourced(Model):
    """A file that states facts: where they come from, when someone checked them, what is an example."""

    quellen: list[Quelle] = Field(
        default_factory=list,
        description="Woher die Angaben dieser Datei stammen: je Quelle url, titel und abgerufen (Datum). "
        "Ohne Quelle und ohne beispiel: true warnt build.py check")
    geprueft_am: dt.date | None = Field(
        default=None, description="Tag, an dem eine Redakteurin oder ein Redakteur die Angaben zuletzt mit den Quellen "
        "verglichen hat (JJJJ-MM-TT). Die Seite zeigt ihn als »Stand«; nach zwölf Monaten warnt build.py check")
    beispiel: bool = Field(
        default=False, description="Alle Angaben dieser Datei sind erfundene Beispiele: die Seiten sagen "
        "»Beispielangabe – nicht amtlich«, JSON-LD und XZuFi veröffentlichen sie nicht")
    beispiel_felder: list[str] = Field(
        default_factory=list,
        description="Nur diese Felder sind Beispiele, z. B. [opening_hours, phone]: die Seite kennzeichnet sie, "
        "JSON-LD und XZuFi lassen sie weg")

    def is_example(self, name: str) -> bool:
        """Whether the value of field `name` is only an example (the whole file or that field)."""
        return self.beispiel or name in self.beispiel_felder
