"""Provenance (issue 17): which files say where their facts come from, which were checked too
long ago, which sample contacts could ring a real desk, and which names in `beispiel_felder`
are no field at all.

The warnings are kept by kind (the id of their message in generator/messages.yaml), so that
`build.py check` can summarise them per municipality ("12 Dateien ohne Quellenangabe") and
`build.py check --verbose` or `--strict` list each at its file and line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from ..errors import Problem
from ..load import Document
from ..messages import say
from ..models import PROVENANCE_FIELDS, Contact, LocalService, Location, Municipality, Service, Sourced, Unit
from .content import MunicipalityContent, ValidContent
from .markdown import news_without_source
from .parse import closest
from .rules import Check, rule

DEFAULT_MAX_AGE_MONTHS = 12

# Telephone numbers the Bundesnetzagentur keeps for films, books, brochures and teaching
# material ("Drama Numbers"): 1,000 numbers in each of five local networks, never assigned to
# anyone. Source: Bundesnetzagentur, "Rufnummern für Medienproduktionen („Drama Numbers“)"
# (bundesnetzagentur.de, Nummerierung), Mitteilung Nr. 148/2021, Amtsblatt 7/2021, p. 489, as
# summarised by teltarif.de, "Drama-Rufnummern: fiktive Nummern der Bundesnetzagentur"
# (https://www.teltarif.de/drama-rufnummern-fiktiv-bundesnetzagentur-filme/news/84487.html):
# Berlin (0)30 23125 000–999, Frankfurt am Main (0)69 90009 000–999, Hamburg (0)40 66969
# 000–999, Köln (0)221 4710 000–999, München (0)89 99998 000–999. The mobile numbers kept by
# the network operators are left out: we could not confirm them.
FICTION_PREFIXES = ("03023125", "06990009", "04066969", "02214710", "08999998")


def digits_of(phone: str) -> str:
    """The number as dialled within Germany: digits only, +49 or 0049 read as 0."""
    digits = re.sub(r"\D", "", phone.split("#")[0])
    for country in ("0049", "49"):
        if phone.strip().startswith(("+49", "0049")) and digits.startswith(country):
            return "0" + digits[len(country):]
    return digits


def is_fiction_number(phone: str) -> bool:
    """Whether a number lies in one of the Bundesnetzagentur's ranges for fiction."""
    digits = digits_of(phone)
    return any(digits.startswith(prefix) and len(digits) == len(prefix) + 3 for prefix in FICTION_PREFIXES)


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` months earlier (the month's last day where it is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for candidate in range(day.day, 0, -1):
        try:
            return dt.date(year, month, candidate)
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - every month has a first day


# --- an error: beispiel_felder names a field of the file -----------------------------------


def _example_fields(model: Sourced, check: Check) -> None:
    fields = [name for name in type(model).model_fields if name not in PROVENANCE_FIELDS]
    for index, name in enumerate(model.beispiel_felder):
        if name not in fields:
            check.problem(("beispiel_felder", index),
                          say("beispiel-feld-unbekannt", feld=name, vorschlag=closest(name, fields)))


for _model in (Service, Location, Unit, Municipality, LocalService):
    rule(_model)(_example_fields)


# --- the warnings ----------------------------------------------------------------------------


Warnings = dict[str, list[Problem]]


def _add(found: Warnings, message_id: str, doc: Document, field: str, message: str) -> None:
    # A file without a source is reported at its first line without reading it again (a
    # cached Document reads its lines only when asked).
    line = doc.line_of((field,)) if field else 1
    found.setdefault(message_id, []).append(Problem(doc.rel, line, field, message))


def file_warnings(files: Iterable[tuple[Document, Sourced]], today: dt.date, max_age_months: int) -> Warnings:
    """Files without a source (unless they are examples), sources without a check date, and
    check dates older than the allowed age."""
    found: Warnings = {}
    oldest = months_before(today, max_age_months)
    for doc, model in files:
        if not model.quellen and not model.beispiel:
            _add(found, "ohne-quellenangabe", doc, "", say("ohne-quellenangabe"))
        if model.quellen and model.geprueft_am is None:
            _add(found, "pruefdatum-fehlt", doc, "quellen", say("pruefdatum-fehlt"))
        if model.geprueft_am is not None and model.geprueft_am < oldest:
            _add(found, "pruefung-veraltet", doc, "geprueft_am",
                 say("pruefung-veraltet", datum=model.geprueft_am.isoformat(), monate=max_age_months))
    return found


def municipality_files(content: MunicipalityContent) -> list[tuple[Document, Sourced]]:
    """The files of one municipality that state facts, with their models."""
    files: list[tuple[Document, Sourced]] = [(content.doc, content.municipality)]
    for (attr, _file_id), doc in sorted(content.docs.items()):
        model = getattr(content, attr)[_file_id]
        if isinstance(model, Sourced):
            files.append((doc, model))
    return files


def shared_files(valid: ValidContent) -> list[tuple[Document, Sourced]]:
    return [(valid.service_docs[sid], service) for sid, service in sorted(valid.services.items())]


def municipality_warnings(content: MunicipalityContent, today: dt.date, max_age_months: int) -> Warnings:
    found = file_warnings(municipality_files(content), today, max_age_months)
    for cid, contact in sorted(content.contacts.items()):
        if _rings_a_real_desk(contact):
            doc = content.docs[("contacts", cid)]
            _add(found, "beispielperson-mit-echter-nummer", doc, "phone",
                 say("beispielperson-mit-echter-nummer", nummer=contact.phone))
    for md in content.news:
        if news_without_source(md):
            found.setdefault("meldung-ohne-quelle", []).append(Problem(md.rel, 1, "", say("meldung-ohne-quelle")))
    return found


def _rings_a_real_desk(contact: Contact) -> bool:
    return contact.sample and bool(contact.phone) and not is_fiction_number(contact.phone or "")


__all__ = ["DEFAULT_MAX_AGE_MONTHS", "FICTION_PREFIXES", "Warnings", "digits_of", "file_warnings",
           "is_fiction_number", "months_before", "municipality_files", "municipality_warnings", "shared_files"]
