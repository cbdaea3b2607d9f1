"""Write a new content file with every field of its model explained (build.py new).

Everything an editor reads in the skeleton comes from the pydantic models in models.py:
the field's description, whether it is required, the type and its limits, the allowed
values of a Literal, the default (read and put into German words by field_words.py).
Nothing here is written per field, so a new field in a model appears in the next skeleton
by itself.

Required fields get placeholder values (texts start with TODO) that pass validation, so
a fresh skeleton passes `build.py check` as written; optional fields are commented out
(`# key: value`), with an example value that fits the rest, ready to be switched on by
removing "# ". Only references to other files come from the content around the new file
(a contact's unit, a form's service and its trust level), so that check passes.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
import textwrap
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticUndefined

from .errors import PortalError
from .field_words import PATTERN_SAMPLES, FieldSpec, Shape, explain, fields_of, has_default, inline
from .models import ID_PATTERN, Contact, Form, Location, Service, TrustLevel

NEW_KINDS: dict[str, type[BaseModel]] = {"service": Service, "location": Location, "contact": Contact, "form": Form}
KIND_NAMES = {"service": "Leistung", "location": "Standort", "contact": "Ansprechperson", "form": "Online-Antrag"}
PER_MUNICIPALITY = {"location": "locations", "contact": "contacts"}
SHARED = {"service": "services", "form": "forms"}
WIDTH = 100


class SkeletonError(PortalError):
    """The skeleton cannot be written (existing file, invalid id, unknown municipality …)."""


# --- example values ---------------------------------------------------------------------


@dataclass
class Entry:
    """One field in the skeleton: switched on (a value) or commented out (an example)."""

    spec: FieldSpec
    active: bool
    value: Any = None
    children: list[Entry] | None = None  # a model's fields
    item: list[Entry] | None = None  # the fields of the one example item of a list of models


@dataclass
class Example:
    entries: list[Entry]
    data: dict[str, Any]
    valid: bool


class _Samples:
    """Hands out pattern samples in turn within one model."""

    def __init__(self) -> None:
        self.used: dict[str, int] = {}

    def take(self, pattern: str) -> str | None:
        samples = PATTERN_SAMPLES.get(pattern)
        if not samples:
            return None
        index = self.used.get(pattern, 0)
        self.used[pattern] = index + 1
        return samples[index % len(samples)]


def _todo(spec_name: str, description: str | None, limits: dict[str, Any]) -> str:
    label = (description or spec_name).split(" (")[0].rstrip(" .…:")
    text = f"TODO: {label}"
    while len(text) < limits.get("min_length", 0):
        text += " …"
    return text[: limits["max_length"]] if "max_length" in limits else text


def _numbers(shape: Shape) -> list[float]:
    limits = shape.limits
    low = limits.get("ge", limits["gt"] + 1 if "gt" in limits else None)
    found: list[float] = []
    for value in [1, 5, 10, 30, 60, 0] + ([low] if low is not None else []):
        bounds = (("ge", operator.ge), ("gt", operator.gt), ("le", operator.le), ("lt", operator.lt))
        if all(key not in limits or holds(value, limits[key]) for key, holds in bounds) and value not in found:
            found.append(value)
    return found or [0]


def candidates(spec: FieldSpec, shape: Shape, samples: _Samples, depth: int) -> Iterator[tuple[Any, Entry]]:
    """Example values for a field, the most natural first, each with its entry."""

    def plain(value: Any) -> tuple[Any, Entry]:
        return value, Entry(spec, True, value)

    if has_default(spec):
        yield plain(spec.default)
    kind = shape.kind
    if kind == "model" and shape.model is not None and depth < 6:
        nested = example(shape.model, {}, depth + 1)
        yield nested.data, Entry(spec, True, nested.data, children=nested.entries)
    elif kind == "list" and shape.item is not None:
        item = shape.item
        if item.kind == "model" and item.model is not None and depth < 6:
            nested = example(item.model, {}, depth + 1)
            yield [nested.data], Entry(spec, True, [nested.data], item=nested.entries)
        else:
            inner = next(candidates(FieldSpec(spec.name, item, spec.description, True, PydanticUndefined),
                                    item, samples, depth))
            yield plain([inner[0]])
    elif kind == "dict" and shape.key is not None and shape.item is not None:
        inner_spec = FieldSpec(spec.name, shape.item, spec.description, True, PydanticUndefined)
        key = next(candidates(FieldSpec(spec.name, shape.key, None, True, PydanticUndefined), shape.key, samples,
                              depth))[0]
        yield plain({key: next(candidates(inner_spec, shape.item, samples, depth))[0]})
    elif kind == "literal":
        for choice in shape.choices:
            yield plain(choice)
    elif kind == "bool":
        yield plain(not spec.default if isinstance(spec.default, bool) else False)
        yield plain(True)
    elif kind == "int":
        for number in _numbers(shape):
            yield plain(int(number))
    elif kind == "float":
        for number in _numbers(shape):
            yield plain(float(number))
    elif kind == "date":
        yield plain(dt.date.today())
    elif kind == "text":
        pattern = shape.limits.get("pattern")
        sample = samples.take(pattern) if pattern else None
        yield plain(sample if sample is not None else _todo(spec.name, spec.description or shape.about, shape.limits))
    for other in shape.alternatives:
        yield from candidates(spec, other, samples, depth)
    if kind == "any":
        yield plain("TODO")


def _valid(model: type[BaseModel], data: dict[str, Any]) -> bool:
    try:
        model.model_validate(data)
    except ValidationError:
        return False
    return True


def example(model: type[BaseModel], given: dict[str, Any], depth: int = 0) -> Example:
    """Required fields (and the given ones) with example values that validate together.

    When the required fields alone do not validate (a rule across fields: level kommune
    needs an office), one other value of a required field or one optional field more is
    tried, in the order of the model, until the example validates.
    """
    samples = _Samples()
    specs = fields_of(model)
    options: dict[str, list[tuple[Any, Entry]]] = {}
    for spec in specs:
        if spec.name in given:
            value = given[spec.name]
            options[spec.name] = [(value, Entry(spec, True, value))]
        else:
            options[spec.name] = list(candidates(spec, spec.shape, samples, depth))
    chosen = {spec.name: 0 for spec in specs}
    active = {spec.name for spec in specs if spec.required or spec.name in given}

    def data_for(active_names: set[str], picks: dict[str, int]) -> dict[str, Any]:
        return {name: options[name][picks[name]][0] for name in active_names if options[name]}

    valid = _valid(model, data_for(active, chosen))
    if not valid:
        tries: list[tuple[set[str], dict[str, int]]] = []
        for spec in specs:
            if spec.name in active and spec.name not in given:
                tries += [(active, {**chosen, spec.name: i}) for i in range(1, len(options[spec.name]))]
        for spec in specs:
            if spec.name not in active:
                tries += [(active | {spec.name}, {**chosen, spec.name: i}) for i in range(len(options[spec.name]))]
        for names, picks in tries:
            if _valid(model, data_for(names, picks)):
                active, chosen, valid = names, picks, True
                break
    data = data_for(active, chosen)
    for spec in specs:  # each commented-out example fits the rest: switched on alone, it validates
        if spec.name not in active and len(options[spec.name]) > 1:
            fitting = (i for i, (value, _) in enumerate(options[spec.name])
                       if _valid(model, {**data, spec.name: value}))
            chosen[spec.name] = next(fitting, chosen[spec.name])
    entries = []
    for spec in specs:
        if options[spec.name]:
            entry = replace(options[spec.name][chosen[spec.name]][1], active=spec.name in active)
        else:
            entry = Entry(spec, spec.name in active, None)
        entries.append(entry)
    return Example(entries, data, valid)


# --- YAML with comments -------------------------------------------------------------------


def _comment(text: str, indent: int) -> list[str]:
    pad = " " * indent
    return [f"{pad}# {line}" for line in textwrap.wrap(text, WIDTH - indent - 2, break_on_hyphens=False)]


def _comment_out(line: str, indent: int) -> str:
    if not line.strip():
        return line
    return f"{line[:indent]}# {line[indent:]}"


def render_entries(entries: list[Entry], indent: int) -> list[str]:
    lines: list[str] = []
    for entry in entries:
        if indent == 0 and lines:
            lines.append("")
        lines += _comment(explain(entry.spec), indent)
        body = _render_value(entry, indent)
        lines += body if entry.active else [_comment_out(line, indent) for line in body]
    return lines


def _render_value(entry: Entry, indent: int) -> list[str]:
    pad, name = " " * indent, entry.spec.name
    if entry.children is not None:
        return [f"{pad}{name}:", *render_entries(entry.children, indent + 2)]
    if entry.item is not None:
        item = render_entries(entry.item, indent + 4)
        item[0] = f"{pad}  - {item[0][indent + 4:]}"
        return [f"{pad}{name}:", *item]
    return [f"{pad}{name}: {inline(entry.value)}"]


def render(model: type[BaseModel], title: str, given: dict[str, Any] | None = None) -> str:
    """The skeleton of a file of this model, as YAML text with German comments."""
    found = example(model, given or {})
    if not found.valid:
        raise SkeletonError(f"no valid example for {model.__name__}: a rule in models.py needs a placeholder here")
    header = [title]
    doc = model.__doc__ if "__doc__" in vars(model) else None
    if doc:
        header.append(" ".join(doc.split()))
    header.append(
        "Jedes Feld ist darüber erklärt (aus dem Schema in generator/models.py). Pflichtfelder stehen mit einem "
        "Platzhalter da; Texte, die mit TODO beginnen, und Beispielwerte bitte ersetzen. Freiwillige Felder sind "
        "auskommentiert: »# « vor dem Feld (und den eingerückten Zeilen darunter) entfernen, um es zu nutzen; "
        "nicht gebrauchte Felder dürfen gelöscht werden. Danach prüfen: python build.py check"
    )
    lines = [line for paragraph in header for line in [*_comment(paragraph, 0), "#"]][:-1]
    return "\n".join([*lines, "", *render_entries(found.entries, 0)]) + "\n"


# --- writing the file ----------------------------------------------------------------------


@dataclass
class Written:
    path: Path
    notes: list[str] = field(default_factory=list)  # what the editor still has to do elsewhere


def target_path(content: Path, kind: str, file_id: str, municipality: str | None) -> Path:
    if kind in PER_MUNICIPALITY:
        if municipality is None:
            raise SkeletonError(f"{kind} braucht --municipality SLUG (die Kommune, zu der die Datei gehört)")
        if re.fullmatch(ID_PATTERN, municipality) is None:
            raise SkeletonError(f'"{municipality}" ist keine gültige Kennung einer Kommune')
        folder = content / "municipalities" / municipality
        if not (folder / "municipality.yaml").is_file():
            known = sorted(p.parent.name for p in (content / "municipalities").glob("*/municipality.yaml"))
            raise SkeletonError(
                f'keine Kommune "{municipality}" in {_shown(folder.parent, content)} (bekannt: {", ".join(known)})'
            )
        return folder / PER_MUNICIPALITY[kind] / f"{file_id}.yaml"
    if municipality is not None:
        raise SkeletonError(f"--municipality gilt nur für location und contact, nicht für {kind}")
    return content / SHARED[kind] / f"{file_id}.yaml"


def _shown(path: Path, content: Path) -> str:
    """Paths in messages start at the content folder's name, as in check: content/services/x.yaml."""
    return str(path.relative_to(content.parent)) if path.is_relative_to(content.parent) else str(path)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _existing(path: Path) -> Path | None:
    for suffix in (".yaml", ".yml"):
        if path.with_suffix(suffix).exists():
            return path.with_suffix(suffix)
    return None


def _context(content: Path, kind: str, file_id: str, municipality: str | None, service: str | None,
             notes: list[str]) -> dict[str, Any]:
    """Values that only the content around the new file can give (references that check follows)."""
    if service is not None and kind != "form":
        raise SkeletonError(f"--service gilt nur für form, nicht für {kind}")
    if kind == "contact" and municipality is not None:
        folder = content / "municipalities" / municipality
        units = sorted(p.stem for p in (folder / "units").glob("*.y*ml"))
        general = _read(folder / "municipality.yaml").get("offices", {})
        unit = general.get("general") if isinstance(general, dict) else None
        if unit in units:
            notes.append(f'unit ist vorerst "{unit}" (die allgemeine Stelle); bitte die richtige Einheit eintragen')
            return {"unit": unit}
        if units:
            notes.append(f'unit ist vorerst "{units[0]}"; bitte die richtige Einheit eintragen')
            return {"unit": units[0]}
        notes.append(f"{municipality} hat noch keine Organisationseinheit (units/); unit bitte eintragen")
        return {}
    if kind == "form":
        service = service or file_id
        if re.fullmatch(ID_PATTERN, service) is None:
            raise SkeletonError(f'"{service}" ist keine gültige Kennung einer Leistung')
        source = _existing(content / "services" / f"{service}.yaml")
        if source is None:
            raise SkeletonError(
                f'keine Leistung "{service}" in {_shown(content / "services", content)}; mit --service SERVICE '
                "die Leistung angeben, zu der der Antrag gehört"
            )
        online = _read(source).get("online")
        online = online if isinstance(online, dict) else {}
        given: dict[str, Any] = {"service": service}
        if online.get("trust_level") in typing.get_args(TrustLevel):  # check wants the same level in both
            given["trust_level"] = online["trust_level"]
        if online.get("form") != file_id:
            notes.append(
                f'die Leistung "{service}" nennt diesen Antrag noch nicht: in {_shown(source, content)} unter online: '
                f'"form: {file_id}" eintragen (bis dahin meldet check einen Fehler)'
            )
        return given
    return {}


def write_skeleton(content: Path, kind: str, file_id: str, municipality: str | None = None,
                   service: str | None = None) -> Written:
    """Write the skeleton of a new file; refuse an invalid id or an existing file."""
    if kind not in NEW_KINDS:
        raise SkeletonError(f"unbekannte Art {kind!r}; möglich: {', '.join(NEW_KINDS)}")
    if re.fullmatch(ID_PATTERN, file_id) is None:
        raise SkeletonError(
            f'"{file_id}" ist keine gültige Kennung: nur Kleinbuchstaben, Ziffern und einzelne Bindestriche '
            "(z. B. hund-anmelden; ä → ae, ß → ss)"
        )
    path = target_path(content, kind, file_id, municipality)
    existing = _existing(path)
    if existing is not None:
        raise SkeletonError(f"{_shown(existing, content)} gibt es schon; die Datei wird nicht überschrieben")
    notes: list[str] = []
    given = _context(content, kind, file_id, municipality, service, notes)
    command = f"python build.py new {kind} {file_id}"
    command += f" --municipality {municipality}" if municipality else ""
    command += f" --service {given['service']}" if kind == "form" else ""
    title = f'{KIND_NAMES[kind]} "{file_id}", angelegt mit: {command}'
    text = render(NEW_KINDS[kind], title, given)
    NEW_KINDS[kind].model_validate(yaml.safe_load(text))  # the skeleton must pass its own schema
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as handle:
        handle.write(text)
    return Written(path, notes)
