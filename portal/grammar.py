"""German grammar of names: the article and case forms of a municipality's or an office's
name, so that pages and mails say „des Kreises Coesfeld“, „im Kreis Coesfeld“, „an das
Steueramt“ and „beim Bürgerbüro Dülmen“.

Pure: a name and what the editor set in its `grammar:` block in, the forms out. Editors
set nothing where the first word of the name shows its gender (…amt, …stelle, Stadt,
Kreis); `gender` where it does not, and a full form only where the rules below do not
fit the name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol


class Grammar(Protocol):
    """What an editor set in a name's `grammar:` block (generator.models.Grammar)."""

    def model_dump(self) -> dict[str, Any]: ...

# The last part of a name's first word → its gender. Longest endings are tried first.
GENDER_BY_ENDING: dict[str, str] = {
    # plural names ("die Bürgerämter")
    "ämter": "pl", "büros": "pl", "betriebe": "pl", "dienste": "pl", "stellen": "pl", "behörden": "pl",
    "angelegenheiten": "pl", "werke": "pl",
    # feminine
    "stadt": "f", "gemeinde": "f", "region": "f", "stelle": "f", "behörde": "f", "aufsicht": "f",
    "zulassung": "f", "verwaltung": "f", "abteilung": "f", "information": "f", "beratung": "f",
    "kasse": "f", "agentur": "f", "bibliothek": "f", "schule": "f", "einrichtung": "f", "polizei": "f",
    "wache": "f", "gesellschaft": "f", "anstalt": "f", "förderung": "f", "hilfe": "f", "kammer": "f",
    "leitung": "f", "planung": "f", "kanzlei": "f", "zentrale": "f",
    # masculine
    "kreis": "m", "service": "m", "betrieb": "m", "dienst": "m", "bereich": "m", "bezirk": "m",
    "verband": "m", "rat": "m", "stab": "m", "hof": "m", "punkt": "m", "treff": "m", "schalter": "m",
    # neuter
    "amt": "n", "büro": "n", "haus": "n", "telefon": "n", "geld": "n", "wesen": "n", "zentrum": "n",
    "center": "n", "referat": "n", "dezernat": "n", "sachgebiet": "n", "team": "n", "archiv": "n",
    "bad": "n", "museum": "n", "institut": "n", "gericht": "n", "werk": "n", "rathaus": "n", "forum": "n",
}
_ENDINGS = sorted(GENDER_BY_ENDING, key=len, reverse=True)

ARTICLES = {  # nominative, accusative, dative, genitive
    "m": ("der", "den", "dem", "des"),
    "f": ("die", "die", "der", "der"),
    "n": ("das", "das", "dem", "des"),
    "pl": ("die", "die", "den", "der"),
}
GENDER_NAMES = {"f": "weiblich (die)", "m": "männlich (der)", "n": "sächlich (das)", "pl": "Mehrzahl (die)"}


@dataclass(frozen=True)
class NameForms:
    """A name with its article in each case, and the phrases the templates build from them."""

    nominative: str  # "der Kreis Coesfeld", "das Steueramt"
    accusative: str  # "den Kreis Coesfeld", "das Steueramt"
    dative: str  # "dem Kreis Coesfeld", "dem Steueramt"
    genitive: str  # "des Kreises Coesfeld", "des Steueramts"

    @property
    def in_(self) -> str:
        """„im Kreis Coesfeld“, „in der Stadt Hamm“."""
        return _contract("in", self.dative)

    @property
    def at(self) -> str:
        """„beim Steueramt“, „bei der Stadt Hamm“."""
        return _contract("bei", self.dative)

    @property
    def from_(self) -> str:
        """„vom Steueramt“, „von der Stadt Hamm“."""
        return _contract("von", self.dative)

    @property
    def to(self) -> str:
        """„an das Steueramt“, „an die Stadt Hamm“ (where something is sent)."""
        return f"an {self.accusative}"

    def as_dict(self) -> dict[str, str]:
        return {"nominative": self.nominative, "accusative": self.accusative, "dative": self.dative,
                "genitive": self.genitive, "in": self.in_, "at": self.at, "from": self.from_, "to": self.to}


def _contract(preposition: str, dative: str) -> str:
    """in dem → im, bei dem → beim, von dem → vom; other articles stay."""
    if dative.startswith("dem "):
        short = {"in": "im", "bei": "beim", "von": "vom"}[preposition]
        return f"{short} {dative[4:]}"
    return f"{preposition} {dative}"


def head_word(name: str) -> str:
    """The word that carries gender and case: the first word, or in „Abfallwirtschafts- und
    Stadtreinigungsbetrieb“ the word after „und“."""
    words = name.split()
    for word in words:
        if not word.endswith("-") and word not in ("und", "oder", "sowie"):
            return word.strip("(),;:–")
    return words[0]


def derived_gender(name: str) -> str | None:
    """The gender the ending of the name's head word shows, or None."""
    word = head_word(name).casefold()
    for ending in _ENDINGS:
        if word.endswith(ending):
            return GENDER_BY_ENDING[ending]
    return None


def _genitive_of(name: str, gender: str) -> str:
    """Inflect the head word: Kreis → Kreises, Steueramt → Steueramts (m, n); f and pl stay."""
    if gender not in ("m", "n"):
        return name
    word = head_word(name)
    ending = "es" if re.search(r"(s|ß|x|z)$", word) else "s"
    return name.replace(word, word + ending, 1)


def _dative_plural_of(name: str) -> str:
    """Bürgerämter → Bürgerämtern; names ending in -n or -s stay."""
    word = head_word(name)
    if re.search(r"(n|s)$", word):
        return name
    return name.replace(word, word + "n", 1)


def name_forms(name: str, grammar: Grammar | None = None) -> NameForms | None:
    """The forms of a name, or None when its gender is neither set nor derivable (`check`
    reports that as a problem of the file)."""
    given = grammar.model_dump() if grammar is not None else {}
    if all(given.get(case) for case in CASES):  # spelt out in full: no rule needed
        return NameForms(*(given[case] for case in CASES))
    gender = given.get("gender") or derived_gender(name)
    if gender is None:
        return None
    nom, acc, dat, gen = ARTICLES[gender]
    dative_name = _dative_plural_of(name) if gender == "pl" else name
    return NameForms(
        nominative=given.get("nominative") or f"{nom} {name}",
        accusative=given.get("accusative") or f"{acc} {name}",
        dative=given.get("dative") or f"{dat} {dative_name}",
        genitive=given.get("genitive") or f"{gen} {_genitive_of(name, gender)}",
    )


def forms_or_plain(name: str, grammar: Grammar | None = None) -> NameForms:
    """For code that must always say something: without a known gender, the name in each
    case (content that passed `check` always has one)."""
    return name_forms(name, grammar) or NameForms(name, name, name, name)


# Shared texts speak to every municipality. On a city's own site they name the city:
# „bei Ihrer Stadt oder Gemeinde“ → „bei der Stadt Hamm“.
_GENERIC = re.compile(r"\b([Ii]hre|Ihrer) Stadt oder Gemeinde\b")


def name_the_city(text: str, city: NameForms) -> str:
    """Replace „Ihre(r) Stadt oder Gemeinde“ by the city's name in the same case. Only
    where dative and genitive agree (a feminine name: „der Stadt Hamm“), because
    „Ihrer“ may be either."""
    if city.dative != city.genitive:
        return text

    def replace(match: re.Match[str]) -> str:
        said = city.dative if match.group(1) == "Ihrer" else city.nominative
        before = text[:match.start()].rstrip(" ")
        return upper_first(said) if not before or before[-1] in ".!?:\n" else said

    return _GENERIC.sub(replace, text)


def upper_first(text: str) -> str:
    """„das Steueramt“ → „Das Steueramt“ at the start of a sentence."""
    return text[:1].upper() + text[1:]


def forms_of(entry: dict[str, Any]) -> NameForms:
    """The forms of a unit or municipality as katalog.json carries them (its "grammar"), for
    the app; derived from the name where an older export lacks them."""
    given = entry.get("grammar")
    if isinstance(given, dict) and all(isinstance(given.get(case), str) for case in CASES):
        return NameForms(*(given[case] for case in CASES))
    return forms_or_plain(str(entry.get("name", "")))


CASES = ("nominative", "accusative", "dative", "genitive")
