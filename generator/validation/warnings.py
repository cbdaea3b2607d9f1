"""What is valid but probably not meant: an office role nobody was named for, a place without
opening hours, a unit that is responsible but cannot be found. The build goes on and prints
them ("SLUG: warning: …"); `build.py check --strict` reports them as errors, at their file."""

from __future__ import annotations

import difflib
import os
import re

from ..errors import Problem
from ..load import Document, Loc, _dotted
from ..messages import say
from ..models import Service
from .content import MunicipalityContent, ValidContent
from .responsibility import all_responsibilities


def content_warnings(content: MunicipalityContent, valid: ValidContent) -> list[Problem]:
    """The warnings of one municipality whose content has no errors."""
    m = content.municipality
    warnings: list[Problem] = []

    def warn(doc: Document, loc: Loc, message: str) -> None:
        warnings.append(Problem(doc.rel, doc.line_of(loc), _dotted(loc) if loc in doc.lines else "", message))

    roles = {(s.level, s.office) for s in valid.services.values() if s.office}
    own_roles = sorted({role for level, role in roles if level == "kreis" or m.kind != "kreis"} - set(m.offices))
    if own_roles:
        warn(content.doc, ("offices",), say("rolle-ohne-stelle", rollen=", ".join(own_roles)))
    if m.kind == "kreis":
        town_roles = sorted({role for level, role in roles if level == "kommune"})
        for role in town_roles:
            missing = [t.name for t in m.towns if role not in t.offices]
            if missing:
                warn(content.doc, ("towns",), say("orte-ohne-stelle", rolle=role, orte=", ".join(missing)))
    for lid, location in sorted(content.locations.items()):
        if not location.opening_hours and not location.opening_hours_note:
            warn(content.docs[("locations", lid)], (), say("standort-ohne-oeffnungszeiten", standort=lid))
    booked = {lid for switch in m.features.appointments for lid in switch.locations}
    for lid, location in sorted(content.locations.items()):
        ldoc = content.docs[("locations", lid)]
        if lid in booked and location.booking is None:
            warn(ldoc, (), say("terminstandort-ohne-buchungsblock", standort=lid))
        if lid not in booked and location.booking is not None:
            warn(ldoc, ("booking",), say("buchungsblock-ohne-termine", standort=lid))
    used = {r.unit_id for r in all_responsibilities(content, valid)}
    for uid in sorted(used):
        if not content.units[uid].locations and not content.units[uid].website:
            warn(content.docs[("units", uid)], (), say("stelle-ohne-standort", einheit=uid))
    return warnings


# --- synonyms that look like misspellings (issue 17) -----------------------------------------

# Misspellings and colloquial words serve the search only (Service.search_only); synonyms are
# published as names of the service (JSON-LD alternateName, XZuFi begriffImKontext). A synonym
# that differs from the name or an earlier synonym only by a likely typo or by an ASCII spelling
# of its umlauts is probably a search word.
TYPO_RATIO = 0.85
_ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
# Endings by which two forms of one proper word differ (plural, case, verb forms): no typo.
_ENDINGS = frozenset(("", "e", "n", "en", "s", "es", "er", "r", "ern", "t", "te", "et", "st", "ung", "ungen"))


def _ascii(word: str) -> str:
    return word.casefold().translate(_ASCII)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def _distance(a: str, b: str) -> int:
    """How many letters one has to insert, delete or replace to turn a into b."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def _typo_of(word: str, other: str) -> bool:
    """Whether one word (casefolded) looks like a misspelling of the other: the same but for its
    umlauts written as ue, oe, ae, ss, or one or two letters off in the middle or at the end.
    Other forms of a word (Ausländischer, Ausländischen), compounds (Bauvorbescheid, Vorbescheid)
    and other prefixes (anmelden, abmelden) are no typos."""
    if word == other:
        return False
    a, b = _ascii(word), _ascii(other)
    if a == b:
        return True
    common = len(os.path.commonprefix([a, b]))
    tails = sorted((a[common:], b[common:]), key=len)
    doubled = tails == ["", a[common - 1]] if common else False  # Kinderreisepas, Sperrmül
    dropped = bool(tails[0]) and len(tails[1]) == len(tails[0]) + 1 and tails[1].endswith(tails[0])  # Hundesteur
    if not (doubled or dropped) and tails[0] in _ENDINGS and tails[1] in _ENDINGS:
        return False
    shorter, longer = sorted((a, b), key=len)
    if shorter in longer and len(longer) - len(shorter) >= 3:
        return False
    return (min(len(a), len(b)) >= 5 and a[:2] == b[:2] and _distance(a, b) <= 2
            and difflib.SequenceMatcher(None, a, b).ratio() >= TYPO_RATIO)


def _misspelling_of(term: str, other: str) -> bool:
    """Whether each word of the term is a word of the other or a likely typo of one, at least
    one of them a typo ("Sperrmül" of "Sperrmüll anmelden", "Hundesteur" of "Hundesteuer")."""
    words, others = _words(term), _words(other)
    typos = 0
    for word in words:
        if word in others:
            continue
        if not any(_typo_of(word, o) for o in others):
            return False
        typos += 1
    return typos > 0


def misspelt_synonyms(service: Service) -> list[tuple[int, str, str]]:
    """The synonyms that look like misspellings: (index, synonym, the word it resembles). Of
    two synonyms the later one is reported, or the one written without umlauts."""
    found = []
    for index, term in enumerate(service.synonyms):
        candidates = [service.name] + [other for i, other in enumerate(service.synonyms) if i != index]
        for other in candidates:
            if other in service.synonyms:
                position = service.synonyms.index(other)
                plain = term.casefold() == _ascii(term) and other.casefold() != _ascii(other)
                spelt = other.casefold() == _ascii(other) and term.casefold() != _ascii(term)
                if spelt or (position > index and not plain):
                    continue
            if _misspelling_of(term, other):
                found.append((index, term, other))
                break
    return found


def synonym_warnings(valid: ValidContent) -> list[Problem]:
    """Synonyms of the shared services that look like misspellings: move them to search_only."""
    warnings = []
    for sid, service in sorted(valid.services.items()):
        doc = valid.service_docs[sid]
        for index, term, other in misspelt_synonyms(service):
            loc: Loc = ("synonyms", index)
            warnings.append(Problem(doc.rel, doc.line_of(loc), _dotted(loc) if loc in doc.lines else "synonyms",
                                    say("synonym-wie-schreibfehler", wort=term, vorbild=other)))
    return warnings
