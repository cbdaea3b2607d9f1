"""Check loaded content against the schema, the rules and every cross-reference.

All problems are collected, each with file, line and field, so that an editor fixes
everything in one round; warnings (valid, but probably not meant) come from the same call.
Pure: works on loaded Documents, reads no files except to confirm that a referenced logo
exists and to compare forms with their published schemas.

Where things are: the models mark references on their fields (`Ref`, generator/models/base.py),
`refs.py` is the one walker that checks them, `rules.py` and `municipality.py` hold the rules
that span fields or files (registered per model), `parse.py` turns pydantic's errors into
sentences, `markdown.py` checks news and pages, `warnings.py` the warnings.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection

from katalog.formschema import snapshot_folder

from ..errors import Problem
from ..load import Document, RawContent
from ..messages import say
from ..models import (
    ID_PATTERN,
    BestBetList,
    Contact,
    EverydayWordList,
    Form,
    LifeSituation,
    LocalService,
    Location,
    Municipality,
    Operator,
    Service,
    Unit,
)
from . import municipality as _municipality_rules  # noqa: F401  (registers the municipality's rules)
from . import provenance
from .content import MunicipalityContent, ValidContent
from .markdown import check_markdown
from .municipality import check_file_names
from .parse import parse_model
from .rules import Scope, check_model
from .warnings import content_warnings, synonym_warnings

# Addresses at the portal's root that are not a municipality's (the app's blueprints, the
# operator's pages, the shared theme): a municipality with one of these slugs would be hidden.
RESERVED_SLUGS = frozenset({"api", "barrierefreiheit", "datenschutz", "dev-idp", "healthz", "impressum", "konto",
                            "metrics", "postfach", "saml", "theme"})


def validate(raw: RawContent, *, today: dt.date | None = None,
             max_age_months: int = provenance.DEFAULT_MAX_AGE_MONTHS) -> tuple[ValidContent, list[Problem]]:
    """The valid content and every error. Warnings are in the municipalities' `warnings` and
    `source_warnings` (ValidContent.warnings()); they are only looked for when there is no error.
    A check date (geprueft_am) older than `max_age_months` before `today` is a warning."""
    problems: list[Problem] = []
    valid = ValidContent()
    memo = raw.cache.models
    known_models = len(memo)
    for doc in raw.services:
        service = parse_model(doc, Service, problems, memo)
        if service is not None:
            valid.services[doc.id] = service
            valid.service_docs[doc.id] = doc
    if raw.everyday_words is not None:
        words = parse_model(raw.everyday_words, EverydayWordList, problems, memo)
        if words is not None:
            valid.everyday_words = words
    situation_docs: dict[str, Document] = {}
    for doc in raw.life_situations:
        situation = parse_model(doc, LifeSituation, problems, memo)
        if situation is not None:
            valid.life_situations[doc.id] = situation
            situation_docs[doc.id] = doc

    # References are checked against every file that exists, valid or not, so that one
    # broken file does not cause a cascade of "unknown …" errors elsewhere.
    known: dict[str, Collection[str] | None] = {
        "services": [doc.id for doc in raw.services],
        "life_situations": [doc.id for doc in raw.life_situations],
        "forms": [doc.id for doc in raw.forms],
    }
    scope = Scope(valid, known, snapshots=snapshot_folder(raw.root))
    if raw.portal is not None:
        operator = parse_model(raw.portal, Operator, problems, memo)
        if operator is not None:
            check_model(raw.portal, operator, Scope(valid, {}), problems)
        valid.portal = operator
    for sid, doc in valid.service_docs.items():
        check_model(doc, valid.services[sid], scope, problems)
    for lid, doc in situation_docs.items():
        check_model(doc, valid.life_situations[lid], scope, problems)
    for doc in raw.forms:
        form = parse_model(doc, Form, problems, memo)
        if form is not None and check_model(doc, form, scope, problems):
            valid.forms[doc.id] = form
    if raw.best_bets is not None:
        bets = parse_model(raw.best_bets, BestBetList, problems, memo)
        if bets is not None:
            check_model(raw.best_bets, bets, scope, problems)
            valid.best_bets = tuple(bets.bets)

    for files in raw.municipalities:
        if re.fullmatch(ID_PATTERN, files.slug) is None:
            problems.append(Problem(f"{files.folder}", 1, "", say("ungueltiger-ordnername", ordner=files.slug)))
        elif files.slug in RESERVED_SLUGS:
            problems.append(Problem(f"{files.folder}", 1, "", say("ordnername-vergeben", ordner=files.slug,
                                                                  adresse=files.slug)))
        if files.municipality is None:
            continue
        municipality = parse_model(files.municipality, Municipality, problems, memo)
        content = MunicipalityContent(files.slug, municipality, files.municipality, news=files.news, pages=files.pages)
        for attr, model in (
            ("units", Unit),
            ("locations", Location),
            ("contacts", Contact),
            ("local_services", LocalService),
        ):
            source = files.services if attr == "local_services" else getattr(files, attr)
            for doc in source:
                parsed = parse_model(doc, model, problems, memo)
                if parsed is not None:
                    getattr(content, attr)[doc.id] = parsed
                    content.docs[(attr, doc.id)] = doc
        check_file_names(files.services, known["services"] or (), problems)
        if not any(md.path.stem == "leichte-sprache" for md in files.pages):
            problems.append(Problem(files.municipality.rel, 1, "", say("leichte-sprache-fehlt")))
        check_markdown(files.news, True, problems)
        check_markdown(files.pages, False, problems)
        if municipality is not None:
            local = Scope(valid, {
                **known,
                "units": [d.id for d in files.units],
                "locations": [d.id for d in files.locations],
                "contacts": [d.id for d in files.contacts],
                "towns": [town.id for town in municipality.towns] if municipality.kind == "kreis" else None,
            }, content=content)
            check_model(files.municipality, municipality, local, problems)
            for (attr, file_id), doc in content.docs.items():
                check_model(doc, getattr(content, attr)[file_id], local, problems)
            valid.municipalities[files.slug] = content
    if len(memo) != known_models:
        raw.cache.changed = True
    if not problems:
        day = today or dt.date.today()
        for content in valid.municipalities.values():
            content.warnings = content_warnings(content, valid)
            content.source_warnings = provenance.municipality_warnings(content, day, max_age_months)
        valid.source_warnings = provenance.file_warnings(provenance.shared_files(valid), day, max_age_months)
        misspelt = synonym_warnings(valid)
        if misspelt:
            valid.source_warnings["synonym-wie-schreibfehler"] = misspelt
    return valid, problems


__all__ = ["RESERVED_SLUGS", "MunicipalityContent", "ValidContent", "parse_model", "validate"]
