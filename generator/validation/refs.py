"""The one walker for references: every field marked `Ref(kind)` (generator/models/base.py)
is looked up among the ids of its kind.

Ids are those of every file that exists, valid or not, so that one broken file does not
cause a cascade of "unknown …" errors elsewhere. A kind missing from `known` (None) is not
checked in that place: units, locations, contacts and towns exist only within a
municipality, towns only in a district; the rules of the model say why such a value is
wrong there (generator/validation/rules.py).
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Annotated, Any, Union

from pydantic import BaseModel

from ..errors import Problem
from ..load import Document, Loc, _dotted
from ..messages import say
from ..models import Ref
from .parse import closest

# The message for an unknown reference of each kind, and how it names what is referred to.
WORDS: dict[str, tuple[str, str]] = {
    "services": ("unbekannte-kennung", "service"),
    "life_situations": ("unbekannte-kennung", "life situation"),
    "forms": ("unbekannte-kennung", "form (a file in content/forms/)"),
    "units": ("unbekannte-kennung-der-kommune", "unit"),
    "locations": ("unbekannte-kennung-der-kommune", "location"),
    "contacts": ("unbekannte-kennung-der-kommune", "contact"),
    "towns": ("unbekannte-kennung-der-kommune", "town"),
}

Known = Mapping[str, Collection[str] | None]


def unknown(kind: str, value: str, known: Iterable[str]) -> str:
    message_id, what = WORDS[kind]
    return say(message_id, art=what, kennung=value, vorschlag=closest(value, known))


def _kind(metadata: Iterable[Any]) -> str | None:
    return next((item.kind for item in metadata if isinstance(item, Ref)), None)


def references(model: BaseModel, loc: Loc = ()) -> Iterator[tuple[Loc, str, str]]:
    """(location in the file, kind, value) for every marked value inside model."""
    for name, kind, annotation in _plan(type(model)):
        value = getattr(model, name)
        if kind is not None:
            if value is not None:
                yield (*loc, name), kind, value
            continue
        yield from _walk(annotation, value, (*loc, name))


@functools.cache
def _plan(model: type[BaseModel]) -> tuple[tuple[str, str | None, Any], ...]:
    """The fields of model that can hold a reference (most hold text): name, kind when the field
    itself is marked, and its annotation to walk otherwise."""
    plan = []
    for name, info in model.model_fields.items():
        kind = _kind(info.metadata)
        if kind is not None or _may_refer(info.annotation, set()):
            plan.append((name, kind, info.annotation))
    return tuple(plan)


def _may_refer(annotation: Any, seen: set[type]) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return False
        seen.add(annotation)
        return any(_kind(info.metadata) is not None or _may_refer(info.annotation, seen)
                   for info in annotation.model_fields.values())
    if typing.get_origin(annotation) is Annotated and _kind(annotation.__metadata__) is not None:
        return True
    return any(_may_refer(arg, seen) for arg in typing.get_args(annotation))


def _walk(annotation: Any, value: Any, loc: Loc) -> Iterator[tuple[Loc, str, str]]:
    if value is None:
        return
    if isinstance(value, BaseModel):
        yield from references(value, loc)
        return
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        kind = _kind(annotation.__metadata__)
        if kind is not None:
            yield loc, kind, value
        else:
            yield from _walk(args[0], value, loc)
    elif origin in (Union, types.UnionType):
        members = [arg for arg in args if arg is not type(None)]
        if len(members) == 1:
            yield from _walk(members[0], value, loc)
    elif origin in (list, tuple) and args:
        for index, item in enumerate(value):
            yield from _walk(args[0], item, (*loc, index))
    elif origin is dict and len(args) == 2:
        for key, item in value.items():
            yield from _walk(args[0], key, (*loc, key))
            yield from _walk(args[1], item, (*loc, key))


def check_references(doc: Document, model: BaseModel, known: Known, problems: list[Problem],
                     skipped: Collection[Loc] = ()) -> None:
    """A problem for every marked value that names nothing known. Values at or below a
    location in `skipped` were already reported by a rule (a service listed twice)."""
    for loc, kind, value in references(model):
        ids = known.get(kind)
        if ids is None or value in ids or any(loc[:len(skip)] == skip for skip in skipped):
            continue
        problems.append(Problem(doc.rel, doc.line_of(loc), _dotted(loc), unknown(kind, value, ids)))
