"""The machine-readable format of an application: one JSON Schema (draft 2020-12) per form
and version, made from the form itself, and the rule that a published version never changes
incompatibly.

Pure functions over the JSON of a form (as katalog.json carries it, `katalog.models.Form`), so
the build (snapshots in schema/forms/, the content check) and the app (which serves the schema
at /api/v1/forms/<form-id>/<version>/schema.json) describe the same thing. The data an
application carries under `data` (dynamic.forms.delivery) is what this schema describes:
field id → compact machine value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .models import FILE_SIZE_MB, NUMBER_MAX, NUMBER_MIN, TEXT_LIMIT

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SNAPSHOT_FOLDER = ("schema", "forms")  # below the folder that holds content/
REPOSITORY_SNAPSHOTS = Path(__file__).resolve().parent.parent.joinpath(*SNAPSHOT_FOLDER)
SNAPSHOT_NAME = re.compile(r"(?P<form>[a-z0-9]+(?:-[a-z0-9]+)*)\.v(?P<version>[1-9][0-9]*)\.json")
CONTENT_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
IBAN = "^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$"
PHONE = r"^\+?[0-9 /\-()]{6,30}$"
POSTAL_CODE = "^[0-9]{5}$"
SHA512 = "^[0-9a-f]{128}$"
REQUIRED_RANK = {"optional": 0, "conditional": 1, "always": 2}
WHEN = {"optional": "optional", "conditional": "when its condition holds", "always": "always"}


def schema_path(form_id: str, version: int) -> str:
    """Where the app serves the schema, below the portal's base URL."""
    return f"/api/v1/forms/{form_id}/{version}/schema.json"


def schema_url(base_url: str, form_id: str, version: int) -> str:
    return base_url.rstrip("/") + schema_path(form_id, version)


def version_of(form: Mapping[str, Any]) -> int:
    """A form's version; a catalogue built before forms had one is version 1."""
    return int(form.get("version") or 1)


def _attachment() -> dict[str, Any]:
    return {
        "type": "object",
        "title": "Anhang",
        "description": "Eine hochgeladene Datei; ihr Inhalt steht Base64-kodiert unter files im Antrag, "
                       "zugeordnet über die Kennung des Feldes.",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 120, "description": "Dateiname"},
            "content_type": {"type": "string", "enum": list(CONTENT_TYPES.values()), "description": "Dateiart"},
            "size": {"type": "integer", "minimum": 1, "description": "Größe in Bytes"},
            "sha512": {"type": "string", "pattern": SHA512, "description": "SHA-512 des Inhalts, hexadezimal"},
        },
        "required": ["name", "content_type", "size", "sha512"],
        "additionalProperties": False,
    }


def field_schema(field: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON Schema of one field's machine value."""
    kind = field["type"]
    schema: dict[str, Any]
    if kind in ("text", "textarea"):
        schema = {"type": "string", "minLength": int(field.get("min_length") or 1),
                  "maxLength": int(field.get("max_length") or TEXT_LIMIT[kind])}
        if field.get("pattern"):
            schema["pattern"] = f"^(?:{field['pattern']})$"  # the portal matches the whole answer
    elif kind == "number":
        low = field.get("min")
        high = field.get("max")
        schema = {"type": "number" if field.get("decimals") else "integer",
                  "minimum": _plain(NUMBER_MIN if low is None else low),
                  "maximum": _plain(max(NUMBER_MAX, low or 0) if high is None else high)}
    elif kind == "date":
        schema = {"type": "string", "format": "date"}
    elif kind == "choice":
        values = [o["value"] for o in field.get("options") or []]
        schema = ({"type": "array", "items": {"type": "string", "enum": values}, "minItems": 1}
                  if field.get("multiple") else {"type": "string", "enum": values})
    elif kind == "yesno":
        schema = {"type": "boolean"}
    elif kind == "iban":
        schema = {"type": "string", "pattern": IBAN}
    elif kind == "email":
        schema = {"type": "string", "format": "email", "maxLength": 254}
    elif kind == "phone":
        schema = {"type": "string", "pattern": PHONE}
    elif kind == "address":
        schema = {"type": "object",
                  "properties": {"strasse": {"type": "string", "minLength": 1, "maxLength": 200,
                                             "description": "Straße und Hausnummer"},
                                 "plz": {"type": "string", "pattern": POSTAL_CODE, "description": "Postleitzahl"},
                                 "ort": {"type": "string", "minLength": 1, "maxLength": 200, "description": "Ort"}},
                  "required": ["strasse", "plz", "ort"], "additionalProperties": False}
    elif kind == "file":
        accept = field.get("accept") or list(CONTENT_TYPES)
        schema = {"$ref": "#/$defs/anhang",
                  "properties": {"content_type": {"enum": [CONTENT_TYPES[k] for k in accept]},
                                 "size": {"maximum": int(float(field.get("max_size_mb", FILE_SIZE_MB)) * 1024 * 1024)}}}
    else:  # a kind this code does not know yet: text, unlimited
        schema = {"type": "string"}
    described = {"title": field["label"], **({"description": field["hint"]} if field.get("hint") else {})}
    if kind == "iban":
        described["description"] = "Die IBAN ohne Leerzeichen, in Großbuchstaben"
    return {**described, "x-field-type": kind, **schema}


def _plain(number: Any) -> Any:
    """3.0 as 3, so that the schema reads as the form does."""
    return int(number) if isinstance(number, float) and number.is_integer() else number


def _condition_schema(condition: Mapping[str, Any], fields: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The data in which a condition of the form is met (its field answered with one of its values)."""
    target = fields.get(condition["field"], {})
    if condition.get("one_of") is not None:
        wanted: list[Any] = list(condition["one_of"])
    else:
        wanted = [condition.get("equals")]
    if target.get("type") == "yesno":
        wanted = [value in (True, "ja", "true") for value in wanted]
    value: dict[str, Any] = ({"contains": {"enum": wanted}} if target.get("multiple") else {"enum": wanted})
    return {"properties": {condition["field"]: value}, "required": [condition["field"]]}


def form_schema(form: Mapping[str, Any], schema_id: str) -> dict[str, Any]:
    """The JSON Schema of the `data` of an application of this form (at its version).

    Keys are field ids; only answered fields that were shown are present. A required field
    is in `required` when it is always shown, else required under `if` its conditions hold."""
    fields = {f["id"]: f for step in form["steps"] for f in step["fields"]}
    properties: dict[str, Any] = {}
    always: list[str] = []
    conditional: list[dict[str, Any]] = []
    for step in form["steps"]:
        for field in step["fields"]:
            properties[field["id"]] = field_schema(field)
            if not field.get("required", True):
                continue
            conditions = [c for c in (step.get("when"), field.get("when")) if c]
            if not conditions:
                always.append(field["id"])
                continue
            parts = [_condition_schema(c, fields) for c in conditions]
            test = parts[0] if len(parts) == 1 else {"allOf": parts}
            conditional.append({"if": test, "then": {"required": [field["id"]]}})
    version = version_of(form)
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "$id": schema_id,
        "title": f"{form['title']} (Version {version})",
        "description": "Die Angaben eines Antrags als Maschinenwerte (data im Antrag): Kennung des Feldes → Wert. "
                       "Nur beantwortete und angezeigte Felder sind enthalten.",
        "x-form": {"id": form.get("id"), "version": version, "service": form.get("service")},
        "type": "object",
        "properties": properties,
        "required": always,
        "additionalProperties": False,
        "$defs": {"anhang": _attachment()},
    }
    if conditional:
        schema["allOf"] = conditional
    return schema


# ---------------------------------------------------------------- published snapshots


def snapshot_folder(content_dir: Path) -> Path:
    """Where the published snapshots of the forms in `content_dir` live: schema/forms/ beside it."""
    return content_dir.resolve().parent.joinpath(*SNAPSHOT_FOLDER)


def snapshot_name(form_id: str, version: int) -> str:
    return f"{form_id}.v{version}.json"


def snapshot(form: Mapping[str, Any]) -> str:
    """A form's schema as committed in the repository ($id relative: the app fills in its URL)."""
    schema = form_schema(form, snapshot_name(str(form["id"]), version_of(form)))
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def published(folder: Path) -> dict[str, dict[int, Path]]:
    """form id → version → snapshot file, of every snapshot in `folder`."""
    found: dict[str, dict[int, Path]] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.iterdir()):
        match = SNAPSHOT_NAME.fullmatch(path.name)
        if match and path.is_file():
            found.setdefault(match["form"], {})[int(match["version"])] = path
    return found


def _required(schema: Mapping[str, Any]) -> dict[str, str]:
    ranks = dict.fromkeys(schema.get("properties", {}), "optional")
    for branch in schema.get("allOf", []):
        for name in branch.get("then", {}).get("required", []):
            ranks[name] = "conditional"
    for name in schema.get("required", []):
        ranks[name] = "always"
    return ranks


def _shape(schema: Mapping[str, Any]) -> str:
    """What kind of JSON value a field holds, for comparing versions."""
    if "$ref" in schema:
        return "file"
    kind = str(schema.get("type", ""))
    if kind == "array":
        return f"list of {schema.get('items', {}).get('type', '')}"
    return f"{kind} ({schema['format']})" if schema.get("format") else kind


def _enum(schema: Mapping[str, Any]) -> list[Any] | None:
    if "enum" in schema:
        return list(schema["enum"])
    items = schema.get("items")
    if isinstance(items, dict) and "enum" in items:
        return list(items["enum"])
    content_type = schema.get("properties", {}).get("content_type", {})
    return list(content_type["enum"]) if "enum" in content_type else None


def _limits(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Limits of `new` that refuse a value `old` took."""
    found = []
    for key, lower in (("minLength", True), ("minimum", True), ("minItems", True), ("maxLength", False),
                       ("maximum", False)):
        before, after = old.get(key), new.get(key)
        if after is None or before == after:
            continue
        if before is None or (after > before if lower else after < before):
            found.append(f"{key} from {_number(before)} to {_number(after)}")
    if new.get("pattern") is not None and new.get("pattern") != old.get("pattern"):
        found.append("pattern changed" if old.get("pattern") else "pattern added")
    old_size = old.get("properties", {}).get("size", {}).get("maximum")
    new_size = new.get("properties", {}).get("size", {}).get("maximum")
    if old_size is not None and new_size is not None and new_size < old_size:
        found.append(f"largest file from {_number(old_size)} to {_number(new_size)} bytes")
    return found


def _number(value: Any) -> str:
    return "none" if value is None else str(_plain(value))


def incompatibilities(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[tuple[str | None, str]]:
    """(field id or None, what) for every change from `old` to `new` (two form schemas) that
    makes data valid under the old schema invalid under the new one, or data of the new one
    unreadable to an importer of the old: a field removed, its type changed, a new required
    field or one required more often, a choice value removed, a narrower limit."""
    found: list[tuple[str | None, str]] = []
    old_fields, new_fields = old.get("properties", {}), new.get("properties", {})
    old_required, new_required = _required(old), _required(new)
    for name, before in old_fields.items():
        after = new_fields.get(name)
        if after is None:
            found.append((None, f'field "{name}" was removed'))
            continue
        shape_before, shape_after = _shape(before), _shape(after)
        if shape_before != shape_after and (shape_before, shape_after) != ("integer", "number"):
            found.append((name, f'field "{name}": type changed from {shape_before} to {shape_after}'))
            continue
        values_before, values_after = _enum(before), _enum(after)
        if values_before is not None and values_after is not None:
            gone = [v for v in values_before if v not in values_after]
            if gone:
                shown = ", ".join(json.dumps(v) for v in gone)
                found.append((name, f'field "{name}": choice value {shown} removed'))
        for limit in _limits(before, after):
            found.append((name, f'field "{name}": narrower limit: {limit}'))
        if REQUIRED_RANK[new_required[name]] > REQUIRED_RANK[old_required[name]]:
            now, was = WHEN[new_required[name]], WHEN[old_required[name]]
            found.append((name, f'field "{name}": now required {now}, was {was}'))
    for name in new_fields:
        if name not in old_fields and new_required[name] != "optional":
            found.append((name, f'field "{name}": new field required {WHEN[new_required[name]]}'))
    return found


def compatibility_problems(form: Mapping[str, Any], folder: Path) -> list[tuple[str | None, str]]:
    """(field id or None, message) when the form changed incompatibly against its published
    snapshot of the same version, or its version is lower than a published one."""
    versions = published(folder).get(str(form["id"]), {})
    if not versions:
        return []
    version, latest = version_of(form), max(versions)
    shown = f"{'/'.join(SNAPSHOT_FOLDER)}/{snapshot_name(str(form['id']), latest)}"
    if version < latest:
        return [(None, f"version {version} is lower than the published version {latest} ({shown}); "
                       "versions only go up")]
    if version not in versions:
        return []  # a new version: anything may change
    shown = f"{'/'.join(SNAPSHOT_FOLDER)}/{snapshot_name(str(form['id']), version)}"
    try:
        old = json.loads(versions[version].read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return [(None, f"published version {version} ({shown}) cannot be read: {error}")]
    new = form_schema(form, snapshot_name(str(form["id"]), version))
    return [(name, f"incompatible with the published version {version} ({shown}): {what}; raise version to "
                   f"{latest + 1} or undo the change")
            for name, what in incompatibilities(old, new)]


def write_snapshots(forms: Mapping[str, Mapping[str, Any]], folder: Path) -> list[Path]:
    """Write each form's snapshot at its current version; older versions stay as they are."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for form_id, form in sorted(forms.items()):
        path = folder / snapshot_name(form_id, version_of(form))
        text = snapshot({**form, "id": form_id})
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
