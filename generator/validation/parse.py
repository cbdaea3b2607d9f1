"""Pydantic's errors as sentences an editor understands, with file, line and field.

`parse_model` validates one document against one model; every error becomes a Problem
("expected a number, got "zwei"", "unknown key; did you mean "teaser"?").
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import Problem
from ..load import Document, Loc, _dotted
from ..models import ID_PATTERN, Model

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


