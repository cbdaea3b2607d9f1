"""Check loaded content against the schema and every cross-reference.

All problems are collected, each with file, line and field, so that an editor fixes
everything in one round. Pure: works on loaded Documents, reads no files except to
confirm that a referenced logo exists.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from katalog.formschema import compatibility_problems, snapshot_folder

from .errors import Problem
from .grammar import head_word, name_forms
from .load import Document, Loc, MarkdownFile, RawContent, _dotted
from .models import (
    ID_PATTERN,
    BestBet,
    BestBetList,
    Contact,
    EverydayWordList,
    Form,
    Grammar,
    LifeSituation,
    LocalService,
    Location,
    Model,
    Municipality,
    Operator,
    Service,
    Unit,
    form_structure_problems,
    outside_hours,
)


@dataclass
class MunicipalityContent:
    slug: str
    municipality: Municipality
    doc: Document
    units: dict[str, Unit] = field(default_factory=dict)
    locations: dict[str, Location] = field(default_factory=dict)
    contacts: dict[str, Contact] = field(default_factory=dict)
    local_services: dict[str, LocalService] = field(default_factory=dict)
    news: list[MarkdownFile] = field(default_factory=list)
    pages: list[MarkdownFile] = field(default_factory=list)
    docs: dict[tuple[str, str], Document] = field(default_factory=dict)


@dataclass
class ValidContent:
    services: dict[str, Service] = field(default_factory=dict)
    life_situations: dict[str, LifeSituation] = field(default_factory=dict)
    forms: dict[str, Form] = field(default_factory=dict)
    municipalities: dict[str, MunicipalityContent] = field(default_factory=dict)
    service_docs: dict[str, Document] = field(default_factory=dict)
    everyday_words: EverydayWordList = field(default_factory=lambda: EverydayWordList(groups=[]))
    portal: Operator | None = None  # content/portal.yaml
    best_bets: tuple[BestBet, ...] = ()


# --- turning pydantic errors into sentences -------------------------------------------

TYPE_WORDS = {
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "int_parsing": "expected a whole number",
    "int_type": "expected a whole number",
    "int_from_float": "expected a whole number",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_type": "expected text",
    "list_type": "expected a list (lines starting with '- ')",
    "dict_type": "expected a mapping (key: value)",
    "model_type": "expected a mapping (key: value)",
    "model_attributes_type": "expected a mapping (key: value)",
    "date_parsing": "expected a date as YYYY-MM-DD",
    "date_type": "expected a date as YYYY-MM-DD",
    "date_from_datetime_parsing": "expected a date as YYYY-MM-DD",
}

BOUND_WORDS = {
    "greater_than_equal": ("at least", "ge"),
    "greater_than": ("more than", "gt"),
    "less_than_equal": ("at most", "le"),
    "less_than": ("less than", "lt"),
}


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _field_names(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys allowed at the mapping that contains loc[-1], for 'did you mean'."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        info = getattr(current, "model_fields", {}).get(part)
        if info is None:
            return []
        current = _inner_model(info.annotation)
    return list(getattr(current, "model_fields", {}))


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def did_you_mean(value: str, candidates: Iterable[str]) -> str:
    match = difflib.get_close_matches(value, list(candidates), n=1, cutoff=0.6)
    return f'; did you mean "{match[0]}"?' if match else ""


def _message(error: dict[str, Any], model: type[BaseModel], loc: Loc) -> str:
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        return "unknown key" + did_you_mean(str(loc[-1]), _field_names(model, loc))
    if kind == "missing":
        return "required field is missing"
    if kind in TYPE_WORDS:
        return f"{TYPE_WORDS[kind]}, got {_show(value)}"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        allowed = re.findall(r"'([^']*)'", expected)
        return f"expected one of {', '.join(allowed)}; got {_show(value)}" + did_you_mean(str(value), allowed)
    if kind == "string_pattern_mismatch":
        return f"{_pattern_hint(error['ctx']['pattern'])}, got {_show(value)}"
    if kind in BOUND_WORDS:
        words, key = BOUND_WORDS[kind]
        return f"expected {words} {error['ctx'][key]}, got {_show(value)}"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind in ("too_short", "string_too_short"):
        return f"must not be empty, got {_show(value)}"
    return f"{error['msg']}, got {_show(value)}"


PATTERN_HINTS = {
    ID_PATTERN: "expected an id of lowercase letters, digits and hyphens",
    r"^99[0-9]{12}$": "expected a LeiKa key of exactly 14 digits starting with 99",
    r"^[0-9]{5}$": "expected a postal code of 5 digits",
    r"^[0-9]{8}$": "expected an official municipality key (AGS) of 8 digits",
    r"^#[0-9a-fA-F]{6}$": "expected a colour as #rrggbb",
    r"^([01][0-9]|2[0-3]):[0-5][0-9]$": "expected a time as HH:MM",
    r"^DE[0-9]{9}$": "expected a VAT id as DE and 9 digits",
}


def _pattern_hint(pattern: str) -> str:
    if pattern in PATTERN_HINTS:
        return PATTERN_HINTS[pattern]
    if pattern.startswith("^https://"):
        return "expected a full https:// URL"
    if "@" in pattern:
        return "expected an e-mail address"
    return f"expected text matching {pattern}"


def parse_model(
    doc: Document, model: type[Model], problems: list[Problem], memo: dict[tuple[str, str], Any] | None = None
) -> Any:
    """Validate a document as model; on errors add Problems and return None."""
    key = (model.__name__, doc.digest)
    if memo is not None and doc.digest and key in memo:
        return memo[key]
    if not isinstance(doc.data, dict):
        problems.append(
            Problem(doc.rel, 1, "", f"expected a mapping of keys at the top of the file, got {_show(doc.data)}")
        )
        return None
    try:
        parsed = model.model_validate(doc.data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(part for part in error["loc"] if not isinstance(part, str) or not part.startswith("function-"))
            problems.append(Problem(doc.rel, doc.line_of(loc), _dotted(loc), _message(dict(error), model, loc)))
        return None
    if doc.digest:
        parsed.mark_source(f"{model.__name__}:{doc.digest}")
        if memo is not None:
            memo[key] = parsed
    return parsed


# --- cross-references -------------------------------------------------------------------


def _check_best_bets(raw: RawContent, valid: ValidContent, service_ids: list[str], situation_ids: list[str],
                     ref: RefCheck, problems: list[Problem], memo: dict[tuple[str, str], Any]) -> None:
    """content/search/best-bets.yaml: known pages, and each query once. Queries are compared as the
    search compares them (search_index.analysis: case, umlauts, endings, order and stop words do
    not count), so that "Umzug" and "umzüge" count as the same query."""
    from search_index.analysis import query_key

    doc = raw.best_bets
    if doc is None:
        return
    bets = parse_model(doc, BestBetList, problems, memo)
    if bets is None:
        return
    first: dict[str, tuple[str, int]] = {}
    for number, bet in enumerate(bets.bets):
        for index, page in enumerate(bet.pages):
            loc: Loc = ("bets", number, "pages", index)
            ref(doc, (*loc, "service"), page.service, service_ids, "service")
            ref(doc, (*loc, "life_situation"), page.life_situation, situation_ids, "life situation")
        for index, query in enumerate(bet.queries):
            loc = ("bets", number, "queries", index)
            key = query_key(query)
            if not key:
                problems.append(Problem(doc.rel, doc.line_of(loc), _dotted(loc),
                                        f'"{query}" has only words the search ignores (such as "und", "ich", '
                                        '"beantragen"); add a word that says what is meant'))
            elif key in first:
                shown, line = first[key]
                problems.append(Problem(doc.rel, doc.line_of(loc), _dotted(loc),
                                        f'"{query}" is searched like "{shown}" (line {line}); give each query once'))
            else:
                first[key] = (query, doc.line_of(loc))
    valid.best_bets = tuple(bets.bets)


class RefCheck:
    def __init__(self, problems: list[Problem]):
        self.problems = problems

    def __call__(self, doc: Document, loc: Loc, value: str | None, known: Iterable[str], what: str) -> bool:
        if value is None:
            return True
        known = list(known)
        if value in known:
            return True
        self.problems.append(
            Problem(doc.rel, doc.line_of(loc), _dotted(loc), f'unknown {what} "{value}"' + did_you_mean(value, known))
        )
        return False

    def each(self, doc: Document, loc: Loc, values: Iterable[str], known: Iterable[str], what: str) -> None:
        known = list(known)
        for index, value in enumerate(values):
            self(doc, loc + (index,), value, known, what)


# An HTML tag or comment. Markdown's own angle brackets (<https://…>, <post@…>) and a lone
# "<" in text do not match: a tag name is followed by a space, "/" or ">".
RAW_HTML = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|<!--")
CODE_SPAN = re.compile(r"(`+).*?\1")
CODE_FENCE = re.compile(r"^\s*(```|~~~)")
FIRST_HEADING = re.compile(r"^#(?!#)\s")


def _raw_html(md: MarkdownFile, lines: list[str], problems: list[Problem]) -> None:
    """News and pages are Markdown: raw HTML would be removed from the page, and a first-level
    heading would be a second h1 (its element is dropped as well), so say so here."""
    fenced = False
    for number, line in enumerate(lines, start=1):
        if CODE_FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced and FIRST_HEADING.match(line):
            problems.append(Problem(md.rel, number, "", 'a heading "# …" would be a second page title (the page '
                                    "takes its title from Title:); start the headings of the text with ##"))
        found = None if fenced else RAW_HTML.search(CODE_SPAN.sub("", line))
        if found:
            problems.append(Problem(md.rel, number, "", f'raw HTML "{found.group(0)}" is not allowed in news and '
                                    "pages; write Markdown instead (## for a heading, - for a list, [text](address) "
                                    "for a link)"))


def _check_markdown(files: list[MarkdownFile], need_date: bool, problems: list[Problem]) -> None:
    for md in files:
        header: dict[str, tuple[int, str]] = {}
        lines = md.path.read_text(encoding="utf-8").splitlines()
        _raw_html(md, lines, problems)
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                break
            key, sep, value = line.partition(":")
            if sep:
                header[key.strip().lower()] = (number, value.strip())
        if "title" not in header:
            problems.append(Problem(md.rel, 1, "Title", "required field is missing (first lines: 'Title: …')"))
        if need_date:
            if "date" not in header:
                problems.append(Problem(md.rel, 1, "Date", "required field is missing ('Date: YYYY-MM-DD')"))
            else:
                number, value = header["date"]
                try:
                    dt.date.fromisoformat(value[:10])
                except ValueError:
                    problems.append(Problem(md.rel, number, "Date", f'expected a date as YYYY-MM-DD, got "{value}"'))


def validate(raw: RawContent) -> tuple[ValidContent, list[Problem]]:
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
    if raw.portal is not None:
        valid.portal = _check_operator(raw.portal, problems, memo)
    situation_docs = {}
    for doc in raw.life_situations:
        situation = parse_model(doc, LifeSituation, problems, memo)
        if situation is not None:
            valid.life_situations[doc.id] = situation
            situation_docs[doc.id] = doc

    # References are checked against every file that exists, valid or not, so that one
    # broken file does not cause a cascade of "unknown …" errors elsewhere.
    all_ids = [doc.id for doc in raw.services]
    situation_ids = [doc.id for doc in raw.life_situations]
    ref = RefCheck(problems)
    for sid, doc in valid.service_docs.items():
        service = valid.services[sid]
        ref.each(doc, ("life_situations",), service.life_situations, situation_ids, "life situation")
        ref.each(doc, ("related",), service.related, all_ids, "service")
    for lid, doc in situation_docs.items():
        ref.each(doc, ("related",), valid.life_situations[lid].related, situation_ids, "life situation")
        _check_steps(doc, valid.life_situations[lid], all_ids, ref, problems)
    _check_forms(raw, valid, all_ids, ref, problems, memo)
    _check_best_bets(raw, valid, all_ids, situation_ids, ref, problems, memo)

    for files in raw.municipalities:
        if re.fullmatch(ID_PATTERN, files.slug) is None:
            problems.append(Problem(f"{files.folder}", 1, "", f'folder name "{files.slug}" is not a valid slug'))
        elif files.slug in RESERVED_SLUGS:
            problems.append(Problem(f"{files.folder}", 1, "", f'folder name "{files.slug}" is taken by the '
                                                              f"portal's own address /{files.slug}/"))
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
        for doc in files.services:
            ref(doc, (), doc.id, all_ids, "service (the file name must be a service id)")
        if not any(md.path.stem == "leichte-sprache" for md in files.pages):
            problems.append(
                Problem(
                    files.municipality.rel,
                    1,
                    "",
                    "pages/leichte-sprache.md is missing (every site needs its page in Leichte Sprache)",
                )
            )
        _check_markdown(files.news, True, problems)
        _check_markdown(files.pages, False, problems)
        if municipality is not None:
            known = Known(
                services=all_ids,
                units=[d.id for d in files.units],
                locations=[d.id for d in files.locations],
                contacts=[d.id for d in files.contacts],
            )
            _check_municipality(content, valid, known, ref, problems)
            valid.municipalities[files.slug] = content
    if len(memo) != known_models:
        raw.cache.changed = True
    return valid, problems


def _check_forms(raw: RawContent, valid: ValidContent, service_ids: list[str], ref: RefCheck,
                 problems: list[Problem], memo: dict[tuple[str, str], Any]) -> None:
    """Forms and the services that name them must point at each other, at one level."""
    form_ids = [doc.id for doc in raw.forms]
    snapshots = snapshot_folder(raw.root)
    for doc in raw.forms:
        form = parse_model(doc, Form, problems, memo)
        if form is None:
            continue
        structure = form_structure_problems(form)
        for loc, message in structure:
            problems.append(Problem(doc.rel, doc.line_of(loc), _dotted(loc), message))
        if structure:
            continue
        valid.forms[doc.id] = form
        _check_published(doc, form, snapshots, problems)
        if not ref(doc, ("service",), form.service, service_ids, "service"):
            continue
        service = valid.services.get(form.service)
        if service is None:
            continue
        online = service.online
        if online is None or online.form != doc.id:
            problems.append(Problem(doc.rel, doc.line_of(("service",)), "service",
                                    f'service "{form.service}" does not name this form (its online.form must be '
                                    f'"{doc.id}")'))
        elif online.trust_level != form.trust_level:
            problems.append(Problem(doc.rel, doc.line_of(("trust_level",)), "trust_level",
                                    f'the form needs "{form.trust_level}" but service "{form.service}" says '
                                    f'online.trust_level "{online.trust_level}"; give both the same level'))
    for sid, doc in valid.service_docs.items():
        online = valid.services[sid].online
        if online is not None and online.form is not None:
            ref(doc, ("online", "form"), online.form, form_ids, "form (a file in content/forms/)")


def _check_published(doc: Document, form: Form, snapshots: Path, problems: list[Problem]) -> None:
    """A published version of a form (its schema in schema/forms/) changes only compatibly."""
    data = {**form.model_dump(mode="json", exclude_none=True), "id": doc.id}
    lines = {f.id: ("steps", s_index, "fields", f_index) for s_index, step in enumerate(form.steps)
             for f_index, f in enumerate(step.fields)}
    for name, message in compatibility_problems(data, snapshots):
        loc: Loc = lines.get(name or "", ("version",))
        problems.append(Problem(doc.rel, doc.line_of(loc), _dotted(loc), message))


# Addresses at the portal's root that are not a municipality's (the app's blueprints, the
# operator's pages, the shared theme): a municipality with one of these slugs would be hidden.
RESERVED_SLUGS = frozenset({"api", "barrierefreiheit", "datenschutz", "dev-idp", "healthz", "impressum", "konto",
                            "metrics", "postfach", "saml", "theme"})


def _check_operator(doc: Document, problems: list[Problem], memo: dict[tuple[str, str], Any] | None) -> Operator | None:
    operator = parse_model(doc, Operator, problems, memo)
    if operator is not None and operator.accessibility.contact.unit is not None:
        loc = ("accessibility", "contact", "unit")
        problems.append(Problem(doc.rel, doc.line_of(loc), _dotted(loc),
                                "the operator has no units; give the contact's email (and phone) only"))
    return operator


@dataclass
class Known:
    """Ids of every file of a kind, including files that failed validation."""

    services: list[str]
    units: list[str]
    locations: list[str]
    contacts: list[str]


def _check_grammar(doc: Document, name: str, grammar: Grammar | None, problems: list[Problem]) -> None:
    """Pages and mails decline the name („beim Steueramt“); its gender must be known."""
    if name_forms(name, grammar) is None:
        problems.append(Problem(
            doc.rel, doc.line_of(("name",)), "name",
            f'the article of "{name}" does not follow from its first word "{head_word(name)}"; add '
            '"grammar: {gender: f}" (die), m (der), n (das) or pl (plural)'))


def _check_municipality(
    content: MunicipalityContent, valid: ValidContent, known: Known, ref: RefCheck, problems: list[Problem]
) -> None:
    m, doc = content.municipality, content.doc
    units, locations = known.units, known.locations
    town_ids = [town.id for town in m.towns]
    for role, unit in m.offices.items():
        ref(doc, ("offices", role), unit, units, "unit")
    seen: dict[str, int] = {}
    for index, town in enumerate(m.towns):
        if town.id in seen:
            problems.append(
                Problem(
                    doc.rel,
                    doc.line_of(("towns", index, "id")),
                    f"towns[{index}].id",
                    f'duplicate town id "{town.id}" (also towns[{seen[town.id]}])',
                )
            )
        seen.setdefault(town.id, index)
        for role, unit in town.offices.items():
            if ref(doc, ("towns", index, "offices", role), unit, units, "unit") and unit in content.units:
                owner = content.units[unit].town
                if owner != town.id:
                    problems.append(
                        Problem(
                            doc.rel,
                            doc.line_of(("towns", index, "offices", role)),
                            f"towns[{index}].offices.{role}",
                            f'unit "{unit}" belongs to {owner or "the district"}, not to {town.id}',
                        )
                    )
    ref(doc, ("accessibility", "contact", "unit"), m.accessibility.contact.unit, units, "unit")
    if m.branding.logo and content.doc.path.parent.joinpath(m.branding.logo).is_file() is False:
        problems.append(
            Problem(
                doc.rel,
                doc.line_of(("branding", "logo")),
                "branding.logo",
                f'file "{m.branding.logo}" not found next to municipality.yaml',
            )
        )
    for index, sid in enumerate(m.features.online_forms):
        loc = ("features", "online_forms", index)
        if ref(doc, loc, sid, known.services, "service") and sid in valid.services:
            online = valid.services[sid].online
            if online is None or online.form is None:
                problems.append(
                    Problem(
                        doc.rel,
                        doc.line_of(loc),
                        _dotted(loc),
                        f'service "{sid}" has no online form (online.form) to switch on',
                    )
                )
    _check_appointment_switches(content, valid, known, ref, problems)
    _check_top_tasks(content, known, ref, problems)
    _check_grammar(doc, m.name, m.grammar, problems)

    for uid, unit_model in content.units.items():
        udoc = content.docs[("units", uid)]
        _check_grammar(udoc, unit_model.name, unit_model.grammar, problems)
        ref(udoc, ("parent",), unit_model.parent, units, "unit")
        _town_ref(ref, udoc, unit_model.town, town_ids, m, problems)
        ref.each(udoc, ("locations",), unit_model.locations, locations, "location")
        if _has_cycle(uid, content.units):
            problems.append(Problem(udoc.rel, udoc.line_of(("parent",)), "parent", "units form a cycle through parent"))
    for lid, location in content.locations.items():
        _town_ref(ref, content.docs[("locations", lid)], location.town, town_ids, m, problems)
        _check_booking_hours(location, content.docs[("locations", lid)], problems)
    for cid, contact in content.contacts.items():
        cdoc = content.docs[("contacts", cid)]
        ref(cdoc, ("unit",), contact.unit, units, "unit")
        ref(cdoc, ("location",), contact.location, locations, "location")
        ref.each(cdoc, ("services",), contact.services, known.services, "service")
    for sid, local in content.local_services.items():
        sdoc = content.docs[("local_services", sid)]
        ref(sdoc, ("unit",), local.unit, units, "unit")
        for town_id, unit_id in local.town_units.items():
            if m.kind != "kreis":
                problems.append(
                    Problem(sdoc.rel, sdoc.line_of(("town_units",)), "town_units", "town_units is only for a kreis")
                )
                break
            ref(sdoc, ("town_units", town_id), town_id, town_ids, "town")
            ref(sdoc, ("town_units", town_id), unit_id, units, "unit")
        ref.each(sdoc, ("contacts",), local.contacts, known.contacts, "contact")
        ref.each(sdoc, ("locations",), local.locations, locations, "location")


def _check_appointment_switches(
    content: MunicipalityContent, valid: ValidContent, known: Known, ref: RefCheck, problems: list[Problem]
) -> None:
    """Each switch names a service that has an appointment type, once, and locations of this
    municipality that can take appointments."""
    m, doc = content.municipality, content.doc
    first_switch: dict[str, int] = {}

    def problem(loc: Loc, message: str) -> None:
        problems.append(Problem(doc.rel, doc.line_of(loc), _dotted(loc), message))

    for index, switch in enumerate(m.features.appointments):
        switch_loc: Loc = ("features", "appointments", index, "service")
        if switch.service in first_switch:
            problem(
                switch_loc,
                f'service "{switch.service}" is switched on twice (also features.appointments'
                f"[{first_switch[switch.service]}]); list all its locations in one entry",
            )
        first_switch.setdefault(switch.service, index)
        if ref(doc, switch_loc, switch.service, known.services, "service") and switch.service in valid.services:
            online = valid.services[switch.service].online
            appointment = online.appointment if online else None
            if appointment is None:
                problem(
                    switch_loc,
                    f'service "{switch.service}" has no appointment type to switch on; give it '
                    "online.appointment with the duration in content/services/"
                    f"{switch.service}.yaml, or remove this entry",
                )
            elif "without_account" in switch.model_fields_set and switch.without_account and (
                appointment.trust_level != "basis"
            ):  # the default applies to counter services (trust level basis) only
                problem(
                    ("features", "appointments", index, "without_account"),
                    f'service "{switch.service}" needs trust level {appointment.trust_level} for booking '
                    "(online.appointment.trust_level), which a booking without an account cannot reach",
                )
        locations_loc: Loc = ("features", "appointments", index, "locations")
        for position, lid in enumerate(switch.locations):
            if not ref(doc, (*locations_loc, position), lid, known.locations, "location"):
                continue
            location = content.locations.get(lid)
            if location is None:
                continue  # the location's own file has errors, reported there
            ldoc = content.docs[("locations", lid)]
            if m.kind == "kreis" and location.town is None:
                problems.append(
                    Problem(
                        ldoc.rel,
                        ldoc.line_of(("town",)),
                        "town",
                        f'location "{lid}" takes appointments (features.appointments[{index}]), so in a district '
                        "it needs its town: citizens choose where to book by town",
                    )
                )
            if not location.booking_settings.hours:
                problems.append(
                    Problem(
                        ldoc.rel,
                        ldoc.line_of(("opening_hours",)),
                        "opening_hours",
                        f'location "{lid}" takes appointments (features.appointments[{index}]) but has no '
                        "opening hours and no booking.hours",
                    )
                )


def _check_steps(doc: Document, situation: LifeSituation, service_ids: list[str], ref: RefCheck,
                 problems: list[Problem]) -> None:
    """Each service once, known, and the steps with duties before the steps with only optional services."""
    first: dict[str, Loc] = {}
    optional_only: int | None = None  # the first step that names only optional services
    for index, step in enumerate(situation.steps):
        for kind in ("required", "optional"):
            for position, sid in enumerate(getattr(step, kind)):
                loc: Loc = ("steps", index, kind, position)
                if sid in first:
                    problems.append(Problem(doc.rel, doc.line_of(loc), _dotted(loc),
                                            f'service "{sid}" is listed twice (also {_dotted(first[sid])}); '
                                            "list each service in one step only"))
                    continue
                first[sid] = loc
                ref(doc, loc, sid, service_ids, "service")
        if step.required and optional_only is not None:
            loc = ("steps", index, "required")
            problems.append(Problem(doc.rel, doc.line_of(loc), _dotted(loc),
                                    f"this step has duties (required) but comes after steps[{optional_only}], which "
                                    "has only optional services; put the steps with duties first"))
        if step.optional and not step.required and optional_only is None:
            optional_only = index


def _check_top_tasks(content: MunicipalityContent, known: Known, ref: RefCheck, problems: list[Problem]) -> None:
    """Top tasks name known services or the booking page, each once; where appointments are
    bookable online, "Termin buchen" is among the first three (seen on a phone without scrolling)."""
    m, doc = content.municipality, content.doc
    bookable = bool(m.features.appointments)
    first: dict[str, int] = {}

    def problem(loc: Loc, message: str) -> None:
        problems.append(Problem(doc.rel, doc.line_of(loc), _dotted(loc), message))

    for index, task in enumerate(m.top_tasks):
        key = "service" if task.service is not None else "page"
        target = task.service or task.page or ""
        loc: Loc = ("top_tasks", index, key)
        if target in first:
            problem(loc, f'"{target}" is listed twice (also top_tasks[{first[target]}])')
            continue
        first[target] = index
        if task.service is not None:
            ref(doc, loc, task.service, known.services, "service")
        elif not bookable:
            problem(loc, 'page "termine" lists the services bookable online, but no appointments are switched on '
                         "(features.appointments); remove this entry or switch appointments on")
    if bookable and m.top_tasks and first.get("termine", 3) >= 3:
        at = first.get("termine")
        loc = ("top_tasks", at, "page") if at is not None else ("top_tasks",)
        problem(loc, "appointments are bookable online (features.appointments), so the booking page "
                     "(page: termine) belongs among the first three top tasks, where citizens see it on a "
                     "phone without scrolling")


def _check_booking_hours(location: Location, doc: Document, problems: list[Problem]) -> None:
    booking = location.booking
    if booking is None or booking.hours is None:
        return
    for index, span in enumerate(booking.hours):
        days = outside_hours(span, location.opening_hours)
        if days:
            problems.append(
                Problem(
                    doc.rel,
                    doc.line_of(("booking", "hours", index)),
                    f"booking.hours[{index}]",
                    f"{span.opens} to {span.closes} on {', '.join(days)} lies outside the opening hours; "
                    "booking hours must lie within them",
                )
            )


def _town_ref(
    ref: RefCheck, doc: Document, town: str | None, town_ids: list[str], m: Municipality, problems: list[Problem]
) -> None:
    if town is None:
        return
    if m.kind != "kreis":
        problems.append(
            Problem(doc.rel, doc.line_of(("town",)), "town", "town is only for units and locations of a kreis")
        )
        return
    ref(doc, ("town",), town, town_ids, "town")


def _has_cycle(start: str, units: dict[str, Unit]) -> bool:
    seen = {start}
    current = units[start].parent
    while current is not None and current in units:
        if current in seen:
            return True
        seen.add(current)
        current = units[current].parent
    return False
