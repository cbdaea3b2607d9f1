"""What a field of a content model is, and how to say it in German: the shape of its type
(model, list, text with limits, one of some values …), its description, whether it is
required, its default. From the pydantic models in models.py alone, for the skeletons of
`build.py new` (generator/skeleton.py).
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Union

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .models import ID_PATTERN

# Example values for texts with a pattern, by pattern (the same patterns as in models.py).
# A model with several fields of one pattern takes the samples in turn (opens, closes).
PATTERN_SAMPLES: dict[str, list[str]] = {
    ID_PATTERN: ["beispiel"],
    r"^https://[^\s/$.?#][^\s]*\.[^\s]{2,}$": ["https://www.example.org"],
    r"^99[0-9]{12}$": ["99000000000000"],
    r"^[0-9]{5}$": ["00000"],
    r"^[0-9]{8}$": ["00000000"],
    r"^#[0-9a-fA-F]{6}$": ["#005a9c"],
    r"^([01][0-9]|2[0-3]):[0-5][0-9]$": ["08:00", "12:00"],
    r"^DE[0-9]{9}$": ["DE000000000"],
    r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$": ["name@example.org"],
}
LIMITS = ("pattern", "min_length", "max_length", "ge", "gt", "le", "lt")


# --- what a type is ----------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """The parts of a field's type that matter to an editor."""

    kind: str  # model, list, dict, literal, text, int, float, bool, date, any
    model: type[BaseModel] | None = None
    item: Shape | None = None  # list item or dict value
    key: Shape | None = None  # dict key
    choices: tuple[Any, ...] = ()
    limits: dict[str, Any] = field(default_factory=dict)
    about: str | None = None  # the description that comes with the type (Id, HttpsUrl, Markdown …)
    alternatives: tuple[Shape, ...] = ()  # further members of a union (str | bool)


def _limits_of(metadata: Any) -> dict[str, Any]:
    found = {}
    for name in LIMITS:
        value = getattr(metadata, name, None)
        if value is not None:
            found[name] = value
    return found


def shape_of(annotation: Any) -> Shape:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        shape = shape_of(args[0])
        limits, about = dict(shape.limits), shape.about
        for meta in args[1:]:
            if isinstance(meta, FieldInfo):
                about = meta.description or about
                for inner in meta.metadata:
                    limits.update(_limits_of(inner))
            else:
                limits.update(_limits_of(meta))
        return replace(shape, limits=limits, about=about)
    if origin in (Union, types.UnionType):
        members = [shape_of(arg) for arg in args if arg is not type(None)]
        return replace(members[0], alternatives=tuple(members[1:]))
    if origin is Literal:
        return Shape("literal", choices=args)
    if origin is list:
        return Shape("list", item=shape_of(args[0]))
    if origin is dict:
        return Shape("dict", key=shape_of(args[0]), item=shape_of(args[1]))
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return Shape("model", model=annotation)
        for python_type, kind in ((bool, "bool"), (int, "int"), (float, "float"), (str, "text"), (dt.date, "date")):
            if issubclass(annotation, python_type):
                return Shape(kind)
    return Shape("any")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    shape: Shape
    description: str | None
    required: bool
    default: Any  # PydanticUndefined when there is none


def fields_of(model: type[BaseModel]) -> list[FieldSpec]:
    hints = typing.get_type_hints(model, include_extras=True)
    specs = []
    for name, info in model.model_fields.items():
        shape = shape_of(hints.get(name, info.annotation))
        limits = dict(shape.limits)
        for meta in info.metadata:
            limits.update(_limits_of(meta))
        default = PydanticUndefined
        if info.default_factory is not None:
            default = info.default_factory()  # type: ignore[call-arg]
        elif info.default is not PydanticUndefined:
            default = info.default
        # A field without its own description shows the description of its type (Id, Clock) once.
        description = info.description if info.description != shape.about else None
        specs.append(FieldSpec(name, replace(shape, limits=limits), description, info.is_required(), default))
    return specs


# --- German words for a field ----------------------------------------------------------


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace(".", ",")


def inline(value: Any) -> str:
    """A value as YAML on one line."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000, sort_keys=False)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def describe_type(shape: Shape) -> str:
    limits = shape.limits
    if shape.kind == "model":
        words = "eine Gruppe von Angaben (die eingerückten Felder darunter)"
    elif shape.kind == "list":
        words = "eine Liste"
        if limits.get("min_length"):
            count = limits["min_length"]
            words += f" mit mindestens {count} {'Eintrag' if count == 1 else 'Einträgen'}"
        item = shape.item or Shape("any")
        if item.kind == "model":
            words += "; jeder Eintrag (Zeile mit »- «) hat die eingerückten Felder darunter"
        else:
            words += f"; jeder Eintrag: {describe_type(item)}"
    elif shape.kind == "dict":
        key, value = shape.key or Shape("any"), shape.item or Shape("any")
        words = f"eine Zuordnung »Schlüssel: Wert«; Schlüssel: {describe_type(key)}; Wert: {describe_type(value)}"
    elif shape.kind == "literal":
        words = "einer der Werte " + ", ".join(inline(choice) for choice in shape.choices)
    elif shape.kind == "bool":
        words = "true oder false"
    elif shape.kind == "date":
        words = "ein Datum JJJJ-MM-TT"
    elif shape.kind in ("int", "float"):
        words = "eine ganze Zahl" if shape.kind == "int" else "eine Zahl"
        bounds = [f"{word} {_number(limits[key])}" for key, word in
                  (("ge", "mindestens"), ("gt", "größer als"), ("le", "höchstens"), ("lt", "kleiner als"))
                  if key in limits]
        if bounds:
            words += ", " + " und ".join(bounds)
    elif shape.kind == "text":
        about = shape.about or ""
        words = about if about.startswith("Text") else f"Text ({about})" if about else "Text"
        if limits.get("min_length") == 1:
            words += ", nicht leer"
        elif limits.get("min_length"):
            words += f", mindestens {limits['min_length']} Zeichen"
        if limits.get("max_length"):
            words += f", höchstens {limits['max_length']} Zeichen"
        pattern = limits.get("pattern")
        if pattern and not shape.about:
            sample = PATTERN_SAMPLES.get(pattern)
            words += f" wie »{sample[0]}« (Muster {pattern})" if sample else f" nach dem Muster {pattern}"
    else:
        words = "ein beliebiger Wert"
    if shape.about and shape.kind != "text":
        words += f" ({shape.about})"
    for other in shape.alternatives:
        words += " oder " + describe_type(other)
    return words


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?…:" else text + "."


def explain(spec: FieldSpec) -> str:
    """The comment above a field, in German, from its model."""
    parts = [_sentence(spec.description)] if spec.description else []
    parts.append(_sentence(f"{'Pflichtfeld' if spec.required else 'Freiwillig'}: {describe_type(spec.shape)}"))
    if has_default(spec):
        parts.append(_sentence(f"Standard: {inline(spec.default)}"))
    return " ".join(parts)


def has_default(spec: FieldSpec) -> bool:
    """A default worth showing: not None, not empty, not a whole model."""
    default = spec.default
    return (default is not PydanticUndefined and default is not None and default not in ([], {})
            and not isinstance(default, BaseModel))
