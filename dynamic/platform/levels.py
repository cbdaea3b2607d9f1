"""Trust levels (Vertrauensniveau), their SAML values and how long a login at each lasts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

LEVELS = ("basis", "niedrig", "substantiell", "hoch")

# STORK QAA classes asked for in RequestedAuthnContext and returned in EID-CITIZEN-QAA-LEVEL.
STORK = {
    "basis": "STORK-QAA-Level-1",
    "niedrig": "STORK-QAA-Level-2",
    "substantiell": "STORK-QAA-Level-3",
    "hoch": "STORK-QAA-Level-4",
}
LEVEL_OF_STORK = {value: level for level, value in STORK.items()}

# The levels as citizens read them: by the means that reaches each, not by the level's name.
LABELS = {
    "basis": "Konto mit E-Mail-Adresse",
    "niedrig": "Servicekonto mit Benutzername und Passwort",
    "substantiell": "ELSTER-Zertifikat oder Online-Ausweis",
    "hoch": "Online-Ausweis",
}

# The levels' own names, for the development IdP that stands in for the state's login service.
TECHNICAL_LABELS = {level: level for level in LEVELS}

# How a citizen logged in, as "Mein Konto" names it.
MEANS = {
    "konto": "Portalkonto mit E-Mail-Adresse und Passwort",
    "passwort": "Servicekonto mit Benutzername und Passwort",
    "zertifikat": "Servicekonto mit Softwarezertifikat (ELSTER)",
    "eid": "Online-Ausweis (eID)",
}


@dataclass(frozen=True)
class Lifetime:
    absolute: dt.timedelta
    idle: dt.timedelta


# TR-03160-1: the higher the level, the shorter a login at it may last.
LIFETIMES = {
    "basis": Lifetime(dt.timedelta(hours=12), dt.timedelta(minutes=60)),
    "niedrig": Lifetime(dt.timedelta(hours=12), dt.timedelta(minutes=60)),
    "substantiell": Lifetime(dt.timedelta(hours=2), dt.timedelta(minutes=30)),
    "hoch": Lifetime(dt.timedelta(minutes=30), dt.timedelta(minutes=5)),
}


def rank(level: str) -> int:
    return LEVELS.index(level)


def at_least(reached: str | None, needed: str) -> bool:
    return reached is not None and rank(reached) >= rank(needed)


def is_level(value: str | None) -> bool:
    return value in LEVELS
