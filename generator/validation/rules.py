"""Rules that span fields or files, registered per model.

A rule is a function of (model, Check) registered with `@rule(ModelClass)`. It reports
through `check.problem(loc, message)`; returning False stops the model's later rules and its
reference walk (the model is not usable). `check_model` runs a model's rules, then the one
reference walker (generator/validation/refs.py). The rules of the shared files (services,
life situations, forms, best bets, the operator) are here; those of a municipality's files
in generator/validation/municipality.py.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from katalog.formschema import compatibility_problems

from ..errors import Problem
from ..load import Document, Loc, _dotted
from ..messages import say
from ..models import BestBetList, Form, LifeSituation, Operator, form_structure_problems
from .content import MunicipalityContent, ValidContent
from .refs import check_references


@dataclass
class Scope:
    """What rules may look at: the valid content so far, the ids that exist of each kind
    (None: not checked here), the municipality being checked, the published form schemas."""

    valid: ValidContent
    known: dict[str, Collection[str] | None]
    content: MunicipalityContent | None = None
    snapshots: Path | None = None


@dataclass
class Check:
    doc: Document
    scope: Scope
    problems: list[Problem]
    skipped: list[Loc] = field(default_factory=list)

    def problem(self, loc: Loc, message: str, doc: Document | None = None) -> None:
        """A problem at loc in this file (or in doc, when a rule finds it in another file)."""
        where = doc or self.doc
        self.problems.append(Problem(where.rel, where.line_of(loc), _dotted(loc), message))

    def skip(self, loc: Loc) -> None:
        """The value at loc is reported already (listed twice, not allowed here): no reference check."""
        self.skipped.append(loc)


Rule = Callable[[Any, Check], bool | None]
RULES: dict[type[BaseModel], list[Rule]] = {}
R = TypeVar("R", bound=Rule)


def rule(model: type[BaseModel]) -> Callable[[R], R]:
    def register(function: R) -> R:
        RULES.setdefault(model, []).append(function)
        return function

    return register


def check_model(doc: Document, model: BaseModel, scope: Scope, problems: list[Problem]) -> bool:
    """Run the model's rules and check its references; False when a rule found it unusable."""
    check = Check(doc, scope, problems)
    for function in RULES.get(type(model), ()):
        if function(model, check) is False:
            return False
    check_references(doc, model, scope.known, problems, check.skipped)
    return True


# --- life situations --------------------------------------------------------------------


@rule(LifeSituation)
def _steps(situation: LifeSituation, check: Check) -> None:
    """Each service once, and the steps with duties before the steps with only optional services."""
    first: dict[str, Loc] = {}
    optional_only: int | None = None  # the first step that names only optional services
    for index, step in enumerate(situation.steps):
        for kind in ("required", "optional"):
            for position, sid in enumerate(getattr(step, kind)):
                loc: Loc = ("steps", index, kind, position)
                if sid in first:
                    check.problem(loc, say("schritt-leistung-doppelt", leistung=sid, stelle=_dotted(first[sid])))
                    check.skip(loc)
                    continue
                first[sid] = loc
        if step.required and optional_only is not None:
            check.problem(("steps", index, "required"), say("schritt-pflicht-nach-optional", nummer=optional_only))
        if step.optional and not step.required and optional_only is None:
            optional_only = index


# --- forms ------------------------------------------------------------------------------


@rule(Form)
def _structure(form: Form, check: Check) -> bool:
    """Ids used once, conditions on earlier answers; a form that fails here is not used at all."""
    structure = form_structure_problems(form)
    for loc, message in structure:
        check.problem(loc, message)
    return not structure


@rule(Form)
def _published(form: Form, check: Check) -> None:
    """A published version of a form (its schema in schema/forms/) changes only compatibly."""
    if check.scope.snapshots is None:
        return
    data = {**form.model_dump(mode="json", exclude_none=True), "id": check.doc.id}
    lines = {f.id: ("steps", s_index, "fields", f_index) for s_index, step in enumerate(form.steps)
             for f_index, f in enumerate(step.fields)}
    for name, message in compatibility_problems(data, check.scope.snapshots):
        check.problem(lines.get(name or "", ("version",)), message)


@rule(Form)
def _named_by_its_service(form: Form, check: Check) -> None:
    """Forms and the services that name them point at each other, at one level."""
    service = check.scope.valid.services.get(form.service)
    if service is None:
        return  # unknown (reported by the reference walk) or invalid (reported in its file)
    online, own_id = service.online, check.doc.id
    if online is None or online.form != own_id:
        check.problem(("service",), say("leistung-nennt-formular-nicht", leistung=form.service, formular=own_id))
    elif online.trust_level != form.trust_level:
        check.problem(("trust_level",), say("formular-und-leistung-uneinig", formularniveau=form.trust_level,
                                            leistung=form.service, leistungsniveau=online.trust_level))


# --- the search's best bets and the operator --------------------------------------------


@rule(BestBetList)
def _queries_once(bets: BestBetList, check: Check) -> None:
    """Each query once, compared as the search compares them (search_index.analysis: case,
    umlauts, endings, order and stop words do not count), so "Umzug" and "umzüge" are one query."""
    from search_index.analysis import query_key

    first: dict[str, tuple[str, int]] = {}
    for number, bet in enumerate(bets.bets):
        for index, query in enumerate(bet.queries):
            loc: Loc = ("bets", number, "queries", index)
            key = query_key(query)
            if not key:
                check.problem(loc, say("suchwort-nur-fuellwoerter", suchwort=query))
            elif key in first:
                shown, line = first[key]
                check.problem(loc, say("suchwort-doppelt", suchwort=query, erstes=shown, zeile=line))
            else:
                first[key] = (query, check.doc.line_of(loc))


@rule(Operator)
def _operator_without_units(operator: Operator, check: Check) -> None:
    if operator.accessibility.contact.unit is not None:
        check.problem(("accessibility", "contact", "unit"), say("betreiber-ohne-organisationseinheiten"))
