"""A form from katalog.json: which steps and fields are shown, reading and checking answers.

Pure functions over the typed form of katalog.json (`katalog.models.Form`); `raw` holds
what the citizen typed, field id → text, list (multiple choice) or mapping (date, address),
exactly as sent, so nothing is lost when an answer is wrong. Uploads are kept apart.
The check and the machine value of each kind of field are in `values`; what an uploaded
file may contain is decided in `files`.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import filetype
from stdnum import iban as iban_number
from werkzeug.datastructures import FileStorage, MultiDict

from katalog.models import TEXT_LIMIT, Condition, Form, FormField, FormStep

from .files import image_problem, pdf_problem
from .values import ADDRESS_PARTS, CHECKS, DATE_PARTS, check_text, empty, number_text, text_limit

Raw = dict[str, Any]
CONTENT_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
KIND_NAMES = {"pdf": "PDF", "jpeg": "JPEG-Bild", "png": "PNG-Bild"}
# What a field's raw answer may hold at most when it is stored in the draft: longer values are cut
# (twice the field's limit, so the citizen still sees what to shorten and the check still fails).
KEPT_LIMIT = {"text": 400, "textarea": 4000}
OTHER_LIMIT = 500  # every other kind of field (a number, an e-mail address, a part of a date …)


@dataclass(frozen=True)
class Upload:
    """A file the citizen uploaded, checked, kept base64-encoded in the draft."""

    name: str
    content_type: str
    size: int
    data: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "content_type": self.content_type, "size": self.size, "data": self.data}

    @staticmethod
    def from_dict(value: Mapping[str, Any]) -> Upload:
        return Upload(str(value["name"]), str(value["content_type"]), int(value["size"]), str(value["data"]))


def condition_values(condition: Condition) -> list[str]:
    """The answers (as posted) that meet a condition."""
    return condition.values()


def condition_met(condition: Condition | None, answers: Mapping[str, Any]) -> bool:
    if condition is None:
        return True
    wanted = condition_values(condition)
    answer = answers.get(condition.field)
    if isinstance(answer, list):
        return any(a in wanted for a in answer)
    return answer in wanted


def shown(form: Form, raw: Raw) -> list[tuple[FormStep, list[FormField]]]:
    """The steps shown for these answers, each with its shown fields. An answer to a hidden
    field counts as not given, so conditions that depend on it are not met either."""
    effective: dict[str, Any] = {}
    result = []
    for step in form.steps:
        if not condition_met(step.when, effective):
            continue
        fields = []
        for field in step.fields:
            if condition_met(field.when, effective):
                fields.append(field)
                effective[field.id] = raw.get(field.id)
        result.append((step, fields))
    return result


def depths(step: FormStep) -> dict[str, int]:
    """Field id → how many questions of the same step it waits for: 0 for a field without a
    condition or with one on an earlier step, 1 for a field that depends on a 0 field of this
    step, and so on. Without JavaScript a step is asked in parts by this depth (a question that
    depends on an answer appears on the following page); with JavaScript in one page, where
    a question is revealed in place."""
    found: dict[str, int] = {}
    for field in step.fields:
        controller = field.when.field if field.when is not None else None
        found[field.id] = found[controller] + 1 if controller in found else 0
    return found


def part_fields(step: FormStep, raw: Raw, part: int) -> list[FormField]:
    """The shown fields of one part of a step (see `depths`)."""
    depth = depths(step)
    return [f for f in step_fields(step, raw) if depth[f.id] == part]


def later_part(step: FormStep, raw: Raw, part: int) -> int | None:
    """The next part of a step after `part` that has a question for these answers, if any."""
    depth = depths(step)
    return min((depth[f.id] for f in step_fields(step, raw) if depth[f.id] > part), default=None)


def prune(form: Form, raw: Raw, uploads: dict[str, Any], keep: Mapping[str, Any]) -> None:
    """Forget the answers (and files) to questions whose condition is false: what an earlier
    answer hid is neither stored nor sent, whatever a request carries. A question whose
    condition waits for an answer not given yet keeps its value (a prefilled one, say);
    values in `keep` (confirmed by the eID) stay."""
    visible = {f.id for _step, fields in shown(form, raw) for f in fields}
    undecided: set[str] = set()
    for step in form.steps:
        for field in step.fields:
            name = field.id
            conditions = [c for c in (step.when, field.when) if c is not None]
            if any(c.field in undecided or empty(raw.get(c.field)) for c in conditions):
                undecided.add(name)
                continue
            if name not in visible and name not in keep:
                raw.pop(name, None)
                uploads.pop(name, None)


def step_fields(step: FormStep, raw: Raw) -> list[FormField]:
    """The fields of a step that are shown, for the answers given so far (conditions on
    fields of the same step are applied to what the citizen sends, again after sending)."""
    effective = dict(raw)
    fields = []
    for field in step.fields:
        if condition_met(field.when, effective):
            fields.append(field)
        else:
            effective.pop(field.id, None)
    return fields


def read_sent(field: FormField, form: MultiDict[str, str]) -> Any:
    """The raw answer to one field from a POST (files are read by `read_upload`)."""
    name, kind = field.id, field.type
    if kind == "date":
        return {part: form.get(f"{name}-{part}", "").strip()[:OTHER_LIMIT] for part in DATE_PARTS}
    if kind == "address":
        return {part: form.get(f"{name}-{part}", "").strip()[:OTHER_LIMIT] for part in ADDRESS_PARTS}
    if kind == "choice" and field.multiple:
        allowed = len(field.options) + 1
        return [value[:OTHER_LIMIT] for value in form.getlist(name) if value][:allowed]
    return form.get(name, "").strip()[:kept_limit(field)]



def kept_limit(field: FormField) -> int:
    """The most characters of an answer that are stored: more than the field allows, so that the
    check still says what is wrong, but never what an attacker sends."""
    if field.type in TEXT_LIMIT:
        return max(2 * text_limit(field), KEPT_LIMIT[field.type])
    return OTHER_LIMIT


def read_upload(field: FormField, files: MultiDict[str, FileStorage]) -> tuple[Upload | None, str | None]:
    """A new upload for a file field, checked by its content: (upload, None), (None, error),
    or (None, None) when nothing was sent."""
    sent = files.get(field.id)
    if sent is None or not sent.filename:
        return None, None
    limit = field.max_bytes
    data = sent.stream.read(limit + 1)
    label = field.label
    if len(data) > limit:
        return None, f"Die Datei bei »{label}« ist größer als {number_text(field.max_size_mb)} MB."
    if not data:
        return None, f"Die Datei bei »{label}« ist leer."
    accept = field.accept or list(CONTENT_TYPES)
    guessed = filetype.guess(data)
    kind = next((k for k in accept if guessed is not None and guessed.mime == CONTENT_TYPES[k]), None)
    if kind is None:
        allowed = " oder ".join(KIND_NAMES[k] for k in accept)
        return None, f"Die Datei bei »{label}« muss ein {allowed} sein."
    problem = image_problem(data) if kind in ("png", "jpeg") else pdf_problem(data)
    if problem:
        return None, f"Die Datei bei »{label}« {problem}"
    name = re.sub(r"[^\w.\- ]", "_", sent.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1])[:120] or "datei"
    return Upload(name, CONTENT_TYPES[kind], len(data), base64.b64encode(data).decode()), None


def check(field: FormField, value: Any, upload: Upload | None, today: dt.date) -> tuple[Any, str | None]:
    """Check one shown field: (clean value, None) or (None, what the citizen should do).
    An optional field left empty is (None, None)."""
    kind, label = field.type, field.label
    required = field.required
    if kind == "file":
        if upload is None:
            return None, (f"Laden Sie bei »{label}« eine Datei hoch." if required else None)
        return upload.as_dict(), None
    if empty(value):
        if not required:
            return None, None
        if kind == "choice":
            return None, f"Wählen Sie bei »{label}« eine Antwort aus."
        if kind == "yesno":
            return None, f"Wählen Sie bei »{label}« Ja oder Nein."
        if kind == "date":
            return None, f"Geben Sie bei »{label}« ein Datum an, zum Beispiel 27 3 2024."
        return None, f"Füllen Sie das Feld »{label}« aus."
    checker = CHECKS.get(kind, check_text)
    return checker(field, value, today)


def check_all(form: Form, raw: Raw, uploads: Mapping[str, Upload],
              today: dt.date) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """Every shown field: (clean answers, errors by field, the step of each error)."""
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    error_steps: dict[str, str] = {}
    for step, fields in shown(form, raw):
        for field in fields:
            value, error = check(field, raw.get(field.id), uploads.get(field.id), today)
            if error:
                errors[field.id] = error
                error_steps[field.id] = step.id
            elif value is not None:
                clean[field.id] = value
    return clean, errors, error_steps


def display(field: FormField, value: Any) -> str:
    """A clean answer as the citizen and the clerk read it."""
    kind = field.type
    if value is None:
        return "keine Angabe"
    if kind == "yesno":
        return "Ja" if value else "Nein"
    if kind == "choice":
        labels = {o.value: o.label for o in field.options}
        return ", ".join(str(labels.get(v, v)) for v in (value if isinstance(value, list) else [value]))
    if kind == "date":
        return dt.date.fromisoformat(value).strftime("%d.%m.%Y")
    if kind == "address":
        return f"{value['strasse']}, {value['plz']} {value['ort']}"
    if kind == "number":
        return number_text(value) + (f" {field.unit}" if field.unit else "")
    if kind == "file":
        return f"{value['name']} ({size_text(int(value['size']))})"
    if kind == "iban":
        return str(iban_number.format(str(value)))
    return str(value)


def answers_in_order(form: Form, clean: Mapping[str, Any]) -> Iterator[tuple[FormStep, FormField]]:
    """(step, field) of every answered shown field, in the form's order."""
    for step, fields in shown(form, raw_like(clean)):
        for field in fields:
            if field.id in clean:
                yield step, field


def raw_like(clean: Mapping[str, Any]) -> Raw:
    """Clean answers in the raw shape that conditions compare against."""
    return {key: ("ja" if value else "nein") if isinstance(value, bool) else value for key, value in clean.items()}


def size_text(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB".replace(".", ",") if size >= 1024 * 1024 else f"{max(1, size // 1024)} KB"
