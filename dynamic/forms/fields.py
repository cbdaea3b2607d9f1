"""A form from katalog.json: which steps and fields are shown, reading and checking answers.

Pure functions over plain data: a form is the JSON of `generator.models.Form`; `raw` holds
what the citizen typed, field id → text, list (multiple choice) or mapping (date, address),
exactly as sent, so nothing is lost when an answer is wrong. Uploads are kept apart.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import filetype
from stdnum import iban as iban_number
from werkzeug.datastructures import FileStorage, MultiDict

Raw = dict[str, Any]
DATE_PARTS = ("tag", "monat", "jahr")
ADDRESS_PARTS = ("strasse", "plz", "ort")
CONTENT_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
KIND_NAMES = {"pdf": "PDF", "jpeg": "JPEG-Bild", "png": "PNG-Bild"}
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
PHONE = re.compile(r"\+?[0-9 /\-()]{6,30}")
POSTAL_CODE = re.compile(r"[0-9]{5}")
TEXT_LIMIT = {"text": 200, "textarea": 2000}


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


def condition_values(condition: Mapping[str, Any]) -> list[str]:
    """The answers (as posted) that meet a condition."""
    if condition.get("one_of") is not None:
        return [str(v) for v in condition["one_of"]]
    if isinstance(condition.get("equals"), bool):
        return ["ja" if condition["equals"] else "nein"]
    return [str(condition.get("equals"))]


def condition_met(condition: Mapping[str, Any] | None, answers: Mapping[str, Any]) -> bool:
    if not condition:
        return True
    wanted = condition_values(condition)
    answer = answers.get(condition["field"])
    if isinstance(answer, list):
        return any(a in wanted for a in answer)
    return answer in wanted


def shown(form: Mapping[str, Any], raw: Raw) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """The steps shown for these answers, each with its shown fields. An answer to a hidden
    field counts as not given, so conditions that depend on it are not met either."""
    effective: dict[str, Any] = {}
    result = []
    for step in form["steps"]:
        if not condition_met(step.get("when"), effective):
            continue
        fields = []
        for field in step["fields"]:
            if condition_met(field.get("when"), effective):
                fields.append(field)
                effective[field["id"]] = raw.get(field["id"])
        result.append((step, fields))
    return result


def step_fields(step: Mapping[str, Any], raw: Raw) -> list[dict[str, Any]]:
    """The fields of a step that are shown, for the answers given so far (conditions on
    fields of the same step are applied to what the citizen sends, again after sending)."""
    effective = dict(raw)
    fields = []
    for field in step["fields"]:
        if condition_met(field.get("when"), effective):
            fields.append(field)
        else:
            effective.pop(field["id"], None)
    return fields


def read_sent(field: Mapping[str, Any], form: MultiDict[str, str]) -> Any:
    """The raw answer to one field from a POST (files are read by `read_upload`)."""
    name, kind = field["id"], field["type"]
    if kind == "date":
        return {part: form.get(f"{name}-{part}", "").strip() for part in DATE_PARTS}
    if kind == "address":
        return {part: form.get(f"{name}-{part}", "").strip() for part in ADDRESS_PARTS}
    if kind == "choice" and field.get("multiple"):
        return [value for value in form.getlist(name) if value]
    return form.get(name, "").strip()


def read_upload(field: Mapping[str, Any], files: MultiDict[str, FileStorage]) -> tuple[Upload | None, str | None]:
    """A new upload for a file field, checked by its content: (upload, None), (None, error),
    or (None, None) when nothing was sent."""
    sent = files.get(field["id"])
    if sent is None or not sent.filename:
        return None, None
    limit = int(float(field.get("max_size_mb", 5)) * 1024 * 1024)
    data = sent.stream.read(limit + 1)
    label = field["label"]
    if len(data) > limit:
        return None, f"Die Datei bei »{label}« ist größer als {number_text(field.get('max_size_mb', 5))} MB."
    if not data:
        return None, f"Die Datei bei »{label}« ist leer."
    accept = field.get("accept") or list(CONTENT_TYPES)
    guessed = filetype.guess(data)
    kind = next((k for k in accept if guessed is not None and guessed.mime == CONTENT_TYPES[k]), None)
    if kind is None:
        allowed = " oder ".join(KIND_NAMES[k] for k in accept)
        return None, f"Die Datei bei »{label}« muss ein {allowed} sein."
    name = re.sub(r"[^\w.\- ]", "_", sent.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1])[:120] or "datei"
    return Upload(name, CONTENT_TYPES[kind], len(data), base64.b64encode(data).decode()), None


def check(field: Mapping[str, Any], value: Any, upload: Upload | None, today: dt.date) -> tuple[Any, str | None]:
    """Check one shown field: (clean value, None) or (None, what the citizen should do).
    An optional field left empty is (None, None)."""
    kind, label = field["type"], field["label"]
    required = field.get("required", True)
    if kind == "file":
        if upload is None:
            return None, (f"Laden Sie bei »{label}« eine Datei hoch." if required else None)
        return upload.as_dict(), None
    if _empty(value):
        if not required:
            return None, None
        if kind == "choice":
            return None, f"Wählen Sie bei »{label}« eine Antwort aus."
        if kind == "yesno":
            return None, f"Wählen Sie bei »{label}« Ja oder Nein."
        if kind == "date":
            return None, f"Geben Sie bei »{label}« ein Datum an, zum Beispiel 27 3 2024."
        return None, f"Füllen Sie das Feld »{label}« aus."
    checker = CHECKS.get(kind, _check_text)
    return checker(field, value, today)


def _empty(value: Any) -> bool:
    if isinstance(value, dict):
        return not any(str(v).strip() for v in value.values())
    if isinstance(value, list):
        return not value
    return value is None or not str(value).strip()


def _check_text(field: Mapping[str, Any], value: Any, today: dt.date) -> tuple[Any, str | None]:
    text, label = str(value).strip(), field["label"]
    longest = field.get("max_length") or TEXT_LIMIT.get(field["type"], 200)
    if len(text) > longest:
        return None, f"Kürzen Sie »{label}« auf höchstens {longest} Zeichen."
    if field.get("min_length") and len(text) < field["min_length"]:
        return None, f"»{label}« braucht mindestens {field['min_length']} Zeichen."
    if field.get("pattern") and re.fullmatch(field["pattern"], text) is None:
        return None, str(field.get("pattern_message") or f"Prüfen Sie die Angabe bei »{label}«.")
    return text, None


def _check_email(field: Mapping[str, Any], value: Any, today: dt.date) -> tuple[Any, str | None]:
    text = str(value).strip()
    if len(text) > 254 or EMAIL.fullmatch(text) is None:
        return None, "Geben Sie eine E-Mail-Adresse im richtigen Format an, zum Beispiel name@example.org."
    return text, None


def _check_phone(field: Mapping[str, Any], value: Any, today: dt.date) -> tuple[Any, str | None]:
    text = str(value).strip()
    if PHONE.fullmatch(text) is None or sum(c.isdigit() for c in text) < 6:
        return None, "Geben Sie eine Telefonnummer nur mit Ziffern an, zum Beispiel 0251 1234567."
    return text, None


def _check_iban(field: Mapping[str, Any], value: Any, today: dt.date) -> tuple[Any, str | None]:
    compact = iban_number.compact(str(value))
    if not iban_number.is_valid(compact):
        return None, ("Die IBAN ist nicht gültig. Prüfen Sie sie auf Ihrer Bankkarte oder im Online-Banking: "
                      "eine deutsche IBAN hat DE und 20 Ziffern.")
    return iban_number.format(compact), None


def _check_number(field: Mapping[str, Any], value: Any, today: dt.date) -> tuple[Any, str | None]:
    label, text = field["label"], str(value).strip().replace(" ", "")
    german = text.replace(".", "").replace(",", ".") if "," in text else text
    try:
        number = Decimal(german)
    except InvalidOperation:
        return None, f"Geben Sie bei »{label}« eine Zahl an, zum Beispiel 2."
    if not number.is_finite():
        return None, f"Geben Sie bei »{label}« eine Zahl an, zum Beispiel 2."
    decimals = int(field.get("decimals", 0))
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > decimals:
        return None, (f"Geben Sie bei »{label}« eine ganze Zahl an." if decimals == 0 else
                      f"Geben Sie bei »{label}« höchstens {decimals} Nachkommastelle{'n' if decimals > 1 else ''} an.")
    if field.get("min") is not None and number < Decimal(str(field["min"])):
        return None, f"»{label}« muss mindestens {number_text(field['min'])} sein."
    if field.get("max") is not None and number > Decimal(str(field["max"])):
        return None, f"»{label}« darf höchstens {number_text(field['max'])} sein."
    return float(number) if decimals else int(number), None


def _check_date(field: Mapping[str, Any], value: Any, today: dt.date) -> tuple[Any, str | None]:
    label = field["label"]
    parts = value if isinstance(value, dict) else {}
    try:
        day, month, year = (int(str(parts.get(p, "")).strip()) for p in DATE_PARTS)
    except ValueError:
        return None, f"Geben Sie bei »{label}« Tag, Monat und Jahr als Zahlen an, zum Beispiel 27 3 2024."
    if year < 1000:
        return None, f"Geben Sie bei »{label}« das Jahr mit vier Ziffern an, zum Beispiel 2024."
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return None, f"»{label}« muss ein Datum sein, das es gibt."
    if field.get("past") and date > today:
        return None, f"»{label}« darf nicht in der Zukunft liegen."
    if field.get("future") and date < today:
        return None, f"»{label}« darf nicht in der Vergangenheit liegen."
    return date.isoformat(), None


def _check_choice(field: Mapping[str, Any], value: Any, today: dt.date) -> tuple[Any, str | None]:
    allowed = {o["value"] for o in field["options"]}
    chosen = value if isinstance(value, list) else [value]
    if any(v not in allowed for v in chosen):
        return None, f"Wählen Sie bei »{field['label']}« eine der genannten Antworten aus."
    return list(chosen) if field.get("multiple") else chosen[0], None


def _check_yesno(field: Mapping[str, Any], value: Any, today: dt.date) -> tuple[Any, str | None]:
    if value not in ("ja", "nein"):
        return None, f"Wählen Sie bei »{field['label']}« Ja oder Nein."
    return value == "ja", None


def _check_address(field: Mapping[str, Any], value: Any, today: dt.date) -> tuple[Any, str | None]:
    parts = {p: str((value or {}).get(p, "")).strip() for p in ADDRESS_PARTS}
    label = field["label"]
    if not parts["strasse"]:
        return None, f"Geben Sie bei »{label}« Straße und Hausnummer an."
    if POSTAL_CODE.fullmatch(parts["plz"]) is None:
        return None, f"Geben Sie bei »{label}« die Postleitzahl mit fünf Ziffern an."
    if not parts["ort"]:
        return None, f"Geben Sie bei »{label}« den Ort an."
    if any(len(v) > 200 for v in parts.values()):
        return None, f"Kürzen Sie die Angaben bei »{label}« auf höchstens 200 Zeichen."
    return parts, None


CHECKS = {
    "text": _check_text, "textarea": _check_text, "email": _check_email, "phone": _check_phone,
    "iban": _check_iban, "number": _check_number, "date": _check_date, "choice": _check_choice,
    "yesno": _check_yesno, "address": _check_address,
}


def check_all(form: Mapping[str, Any], raw: Raw, uploads: Mapping[str, Upload],
              today: dt.date) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """Every shown field: (clean answers, errors by field, the step of each error)."""
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    error_steps: dict[str, str] = {}
    for step, fields in shown(form, raw):
        for field in fields:
            value, error = check(field, raw.get(field["id"]), uploads.get(field["id"]), today)
            if error:
                errors[field["id"]] = error
                error_steps[field["id"]] = step["id"]
            elif value is not None:
                clean[field["id"]] = value
    return clean, errors, error_steps


def display(field: Mapping[str, Any], value: Any) -> str:
    """A clean answer as the citizen and the clerk read it."""
    kind = field["type"]
    if value is None:
        return "keine Angabe"
    if kind == "yesno":
        return "Ja" if value else "Nein"
    if kind == "choice":
        labels = {o["value"]: o["label"] for o in field["options"]}
        return ", ".join(str(labels.get(v, v)) for v in (value if isinstance(value, list) else [value]))
    if kind == "date":
        return dt.date.fromisoformat(value).strftime("%d.%m.%Y")
    if kind == "address":
        return f"{value['strasse']}, {value['plz']} {value['ort']}"
    if kind == "number":
        return number_text(value) + (f" {field['unit']}" if field.get("unit") else "")
    if kind == "file":
        return f"{value['name']} ({size_text(int(value['size']))})"
    return str(value)


def answers_in_order(form: Mapping[str, Any],
                     clean: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(step, field) of every answered shown field, in the form's order."""
    for step, fields in shown(form, _raw_like(clean)):
        for field in fields:
            if field["id"] in clean:
                yield step, field


def _raw_like(clean: Mapping[str, Any]) -> Raw:
    """Clean answers in the raw shape that conditions compare against."""
    return {key: ("ja" if value else "nein") if isinstance(value, bool) else value for key, value in clean.items()}


def number_text(value: Any) -> str:
    """A number as Germans write it: 2,5 and 3 (not 3.0)."""
    text = f"{value}"
    if text.endswith(".0"):
        text = text[:-2]
    return text.replace(".", ",")


def size_text(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB".replace(".", ",") if size >= 1024 * 1024 else f"{max(1, size // 1024)} KB"
