"""Pydantic's errors as sentences an editor understands, with file, line and field.

`parse_model` validates one document against one model; every error becomes a Problem
("expected a number, got "zwei"", "unknown key; did you mean "teaser"?"), worded by the
catalogue of messages (generator/messages.yaml).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import Problem
from ..load import Document, Loc, _dotted
from ..messages import say
from ..models import ID_PATTERN, Model

# Pydantic's error types and the message of the catalogue (generator/messages.yaml) for each.
TYPE_MESSAGES = {
    "float_parsing": "zahl-erwartet",
    "float_type": "zahl-erwartet",
    "int_parsing": "ganze-zahl-erwartet",
    "int_type": "ganze-zahl-erwartet",
    "int_from_float": "ganze-zahl-erwartet",
    "bool_parsing": "ja-nein-erwartet",
    "bool_type": "ja-nein-erwartet",
    "string_type": "text-erwartet",
    "list_type": "liste-erwartet",
    "dict_type": "zuordnung-erwartet",
    "model_type": "zuordnung-erwartet",
    "model_attributes_type": "zuordnung-erwartet",
    "date_parsing": "datum-erwartet",
    "date_type": "datum-erwartet",
    "date_from_datetime_parsing": "datum-erwartet",
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


def closest(value: str, candidates: Iterable[str]) -> str | None:
    """The candidate an editor probably meant, for "did you mean"."""
    match = difflib.get_close_matches(value, list(candidates), n=1, cutoff=0.6)
    return match[0] if match else None


def _message(error: dict[str, Any], model: type[BaseModel], loc: Loc) -> str:
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        return say("unbekannter-schluessel", vorschlag=closest(str(loc[-1]), _field_names(model, loc)))
    if kind == "missing":
        return say("pflichtfeld-fehlt")
    if kind in TYPE_MESSAGES:
        return say(TYPE_MESSAGES[kind], wert=_show(value))
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        allowed = re.findall(r"'([^']*)'", expected)
        return say("wert-nicht-erlaubt", erlaubt=", ".join(allowed), wert=_show(value),
                   vorschlag=closest(str(value), allowed))
    if kind == "string_pattern_mismatch":
        pattern = error["ctx"]["pattern"]
        message_id = _pattern_message(pattern)
        if message_id is None:
            return f"expected text matching {pattern}, got {_show(value)}"
        return say(message_id, wert=_show(value))
    if kind in BOUND_WORDS:
        words, key = BOUND_WORDS[kind]
        return say("grenze", grenze=words, schranke=error["ctx"][key], wert=_show(value))
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind in ("too_short", "string_too_short"):
        return say("nicht-leer", wert=_show(value))
    return f"{error['msg']}, got {_show(value)}"


PATTERN_MESSAGES = {
    ID_PATTERN: "kennung-ungueltig",
    r"^99[0-9]{12}$": "leika-ungueltig",
    r"^[0-9]{5}$": "postleitzahl-ungueltig",
    r"^[0-9]{8}$": "gemeindeschluessel-ungueltig",
    r"^#[0-9a-fA-F]{6}$": "farbe-ungueltig",
    r"^([01][0-9]|2[0-3]):[0-5][0-9]$": "uhrzeit-ungueltig",
    r"^DE[0-9]{9}$": "ust-id-ungueltig",
}


def _pattern_message(pattern: str) -> str | None:
    if pattern in PATTERN_MESSAGES:
        return PATTERN_MESSAGES[pattern]
    if pattern.startswith("^https://"):
        return "adresse-ungueltig"
    if "@" in pattern:
        return "email-ungueltig"
    return None


def parse_model(
    doc: Document, model: type[Model], problems: list[Problem], memo: dict[tuple[str, str], Any] | None = None
) -> Any:
    """Validate a document as model; on errors add Problems and return None."""
    key = (model.__name__, doc.digest)
    if memo is not None and doc.digest and key in memo:
        return memo[key]
    if not isinstance(doc.data, dict):
        problems.append(
            Problem(doc.rel, 1, "", say("keine-zuordnung-oben", wert=_show(doc.data)))
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


