"""A form from katalog.json: which steps and fields are shown, reading and checking answers.

Pure functions over the typed form of katalog.json (`katalog.models.Form`); `raw` holds
what the citizen typed, field id → text, list (multiple choice) or mapping (date, address),
exactly as sent, so nothing is lost when an answer is wrong. Uploads are kept apart.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import logging
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import filetype
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject
from stdnum import iban as iban_number
from werkzeug.datastructures import FileStorage, MultiDict

from katalog.models import TEXT_LIMIT, Condition, Form, FormField, FormStep

Raw = dict[str, Any]
DATE_PARTS = ("tag", "monat", "jahr")
ADDRESS_PARTS = ("strasse", "plz", "ort")
CONTENT_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
KIND_NAMES = {"pdf": "PDF", "jpeg": "JPEG-Bild", "png": "PNG-Bild"}
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
PHONE_SEPARATORS = re.compile(r"[\s/\-\u2010-\u2015().]")
PHONE_COMPACT = re.compile(r"\+?[0-9]{6,20}")
# Gaps people type into long numbers (chip number, IBAN, postal code): white space and dashes.
GAPS = re.compile(r"[\s\-\u2010-\u2015]")
POSTAL_CODE = re.compile(r"[0-9]{5}")
# What a field's raw answer may hold at most when it is stored in the draft: longer values are cut
# (twice the field's limit, so the citizen still sees what to shorten and the check still fails).
KEPT_LIMIT = {"text": 400, "textarea": 4000}
OTHER_LIMIT = 500  # every other kind of field (a number, an e-mail address, a part of a date …)
# Numbers: plain digits with an optional sign and German (or English) decimal separator, never
# exponent notation, and short enough that converting them costs nothing.
NUMBER_LENGTH = 30
NUMBER_SYNTAX = re.compile(r"[+-]?[0-9][0-9.,]*")
IMAGE_PIXELS = 40_000_000  # larger images are refused before they are decoded (decompression bombs)
# Names in a PDF that run code, open other programs or carry other files.
PDF_FORBIDDEN = frozenset({"/JS", "/JavaScript", "/Launch", "/EmbeddedFile", "/EmbeddedFiles"})
PDF_FORBIDDEN_BYTES = re.compile(rb"/(?:JS|JavaScript|Launch|EmbeddedFiles?)(?=[\s()<>\[\]{}/%]|$)")
PDF_OBJECTS = 200_000


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
            if any(c.field in undecided or _empty(raw.get(c.field)) for c in conditions):
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


def text_limit(field: FormField) -> int:
    """The most characters a text answer may have."""
    return field.text_limit


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


def image_problem(data: bytes) -> str | None:
    """Why an image is refused, or None. Only the header is read before the size is known, so an
    image that would fill the memory when decoded (a decompression bomb) is never decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > IMAGE_PIXELS:
                    return _too_many_pixels()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return _too_many_pixels()
    except Exception:  # noqa: BLE001 - whatever Pillow cannot read is refused, never an error page
        return "lässt sich nicht als Bild lesen. Bitte speichern Sie das Bild neu oder wählen Sie eine andere Datei."
    return None


def _too_many_pixels() -> str:
    return (f"hat zu viele Bildpunkte (höchstens {IMAGE_PIXELS // 1_000_000} Megapixel). Bitte verkleinern Sie "
            "das Bild oder wählen Sie eine andere Datei.")


def pdf_problem(data: bytes) -> str | None:
    """Why a PDF is refused, or None: it must be readable (pypdf, with its own repair of a missing
    cross-reference table) and must not contain JavaScript, actions that start programs, or
    embedded files. Every object is looked at, also those in object streams; a byte search
    finds what hides outside the cross-reference table."""
    unsafe = ("enthält Programmcode, Aktionen oder eingebettete Dateien. Bitte speichern Sie das Dokument "
              "als einfaches PDF (zum Beispiel über »Drucken als PDF«) und laden Sie es erneut hoch.")
    unreadable = ("lässt sich nicht als PDF lesen. Bitte speichern Sie das Dokument neu als PDF oder wählen Sie "
                  "eine andere Datei.")
    if PDF_FORBIDDEN_BYTES.search(_unescaped_names(data)):
        return unsafe
    try:
        found = _pdf_names(data)
    except Exception:  # noqa: BLE001 - pypdf cannot read it: refused
        return unreadable
    if found is None:
        return unreadable
    return unsafe if found & PDF_FORBIDDEN else None


def _unescaped_names(data: bytes) -> bytes:
    """PDF names may write characters as #xx (/J#61vaScript): the bytes with those decoded."""
    return re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), data)


def _pdf_names(data: bytes) -> set[str] | None:
    """Every name (dictionary key or value) in every object of the PDF; None if it is encrypted."""
    pdf_log = logging.getLogger("pypdf")
    level = pdf_log.level
    pdf_log.setLevel(logging.ERROR)  # its notes on repairs would fill the log
    try:
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
        except Exception:  # noqa: BLE001 - no usable end of file: let pypdf rebuild the table
            reader = PdfReader(io.BytesIO(data + b"\nstartxref\n0\n%%EOF\n"), strict=False)
        if reader.is_encrypted:
            return None
        numbers = [(number, generation) for generation, entries in reader.xref.items() for number in entries]
        numbers += [(number, 0) for number in reader.xref_objStm]
        if len(numbers) > PDF_OBJECTS:
            return None
        names: set[str] = set()
        _collect(reader.trailer, names, 0)
        for number, generation in numbers:
            _collect(reader.get_object(IndirectObject(number, generation, reader)), names, 0)
        return names
    finally:
        pdf_log.setLevel(level)


def _collect(value: Any, names: set[str], depth: int) -> None:
    """Names in a PDF object and in the objects written inside it (references are visited as
    objects of their own)."""
    if depth > 100:
        raise ValueError("objects nested too deeply")
    if isinstance(value, NameObject):
        names.add(str(value))
    elif isinstance(value, DictionaryObject):  # streams are dictionaries too
        for key, item in value.items():
            names.add(str(key))
            _collect(item, names, depth + 1)
    elif isinstance(value, ArrayObject):
        for item in value:
            _collect(item, names, depth + 1)


def check(field: FormField, value: Any, upload: Upload | None, today: dt.date) -> tuple[Any, str | None]:
    """Check one shown field: (clean value, None) or (None, what the citizen should do).
    An optional field left empty is (None, None)."""
    kind, label = field.type, field.label
    required = field.required
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


def _check_text(field: FormField, value: Any, today: dt.date) -> tuple[Any, str | None]:
    text, label = str(value).strip(), field.label
    if field.compact:  # a number such as a chip number, typed in groups: checked and kept without gaps
        text = GAPS.sub("", text)
    longest = text_limit(field)
    if len(text) > longest:
        return None, f"Kürzen Sie »{label}« auf höchstens {longest} Zeichen."
    if field.min_length and len(text) < field.min_length:
        return None, f"»{label}« braucht mindestens {field.min_length} Zeichen."
    if field.pattern and re.fullmatch(field.pattern, text) is None:
        return None, str(field.pattern_message or f"Prüfen Sie die Angabe bei »{label}«.")
    return text, None


def _check_email(field: FormField, value: Any, today: dt.date) -> tuple[Any, str | None]:
    text = str(value).strip()
    if len(text) > 254 or EMAIL.fullmatch(text) is None:
        return None, "Geben Sie eine E-Mail-Adresse im richtigen Format an, zum Beispiel name@example.org."
    return text, None


def _check_phone(field: FormField, value: Any, today: dt.date) -> tuple[Any, str | None]:
    text = compact_phone(str(value))
    if PHONE_COMPACT.fullmatch(text) is None:
        return None, "Geben Sie eine Telefonnummer nur mit Ziffern an, zum Beispiel 0251 1234567."
    return text, None


def compact_phone(text: str) -> str:
    """A phone number without its separators: "+49 (0) 251 / 123-45 67" → "+492511234567"."""
    text = text.strip()
    if text.startswith("+"):
        text = text.replace("(0)", "")
    return PHONE_SEPARATORS.sub("", text)


def _check_iban(field: FormField, value: Any, today: dt.date) -> tuple[Any, str | None]:
    compact = GAPS.sub("", str(value)).upper()
    if not iban_number.is_valid(compact):
        return None, ("Die IBAN ist nicht gültig. Prüfen Sie sie auf Ihrer Bankkarte oder im Online-Banking: "
                      "eine deutsche IBAN hat DE und 20 Ziffern.")
    return compact, None  # kept compact; shown in groups of four (display)


def _check_number(field: FormField, value: Any, today: dt.date) -> tuple[Any, str | None]:
    label, text = field.label, str(value).strip().replace(" ", "")
    low, high = number_bounds(field)
    between = f"Geben Sie bei »{label}« eine Zahl zwischen {number_text(low)} und {number_text(high)} an."
    # Checked before any conversion: 1e500000 would be an integer of half a million digits.
    if len(text) > NUMBER_LENGTH or NUMBER_SYNTAX.fullmatch(text) is None or text.count(",") > 1:
        return None, f"Geben Sie bei »{label}« eine Zahl nur mit Ziffern an, zum Beispiel 2."
    german = text.replace(".", "").replace(",", ".") if "," in text else text
    try:
        number = Decimal(german)
    except InvalidOperation:
        return None, f"Geben Sie bei »{label}« eine Zahl nur mit Ziffern an, zum Beispiel 2."
    decimals = field.decimals
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > decimals:
        return None, (f"Geben Sie bei »{label}« eine ganze Zahl an." if decimals == 0 else
                      f"Geben Sie bei »{label}« höchstens {decimals} Nachkommastelle{'n' if decimals > 1 else ''} an.")
    if number < low or number > high:
        return None, between
    return float(number) if decimals else int(number), None


def number_bounds(field: FormField) -> tuple[Decimal, Decimal]:
    """The smallest and largest value of a number field; a field that names none (a catalogue
    built before every number field had bounds) gets the defaults of the content check."""
    low, high = field.number_bounds
    return Decimal(str(low)), Decimal(str(high))


def _check_date(field: FormField, value: Any, today: dt.date) -> tuple[Any, str | None]:
    label = field.label
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
    if field.past and date > today:
        return None, f"»{label}« darf nicht in der Zukunft liegen."
    if field.future and date < today:
        return None, f"»{label}« darf nicht in der Vergangenheit liegen."
    return date.isoformat(), None


def _check_choice(field: FormField, value: Any, today: dt.date) -> tuple[Any, str | None]:
    allowed = {o.value for o in field.options}
    chosen = value if isinstance(value, list) else [value]
    if any(v not in allowed for v in chosen):
        return None, f"Wählen Sie bei »{field.label}« eine der genannten Antworten aus."
    return list(chosen) if field.multiple else chosen[0], None


def _check_yesno(field: FormField, value: Any, today: dt.date) -> tuple[Any, str | None]:
    if value not in ("ja", "nein"):
        return None, f"Wählen Sie bei »{field.label}« Ja oder Nein."
    return value == "ja", None


def _check_address(field: FormField, value: Any, today: dt.date) -> tuple[Any, str | None]:
    parts = {p: str((value or {}).get(p, "")).strip() for p in ADDRESS_PARTS}
    parts["plz"] = GAPS.sub("", parts["plz"])
    label = field.label
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


def machine_value(kind: str, value: Any, upload: Mapping[str, Any] | None = None) -> Any:
    """A clean answer as an office's case system imports it (katalog.formschema describes
    it): an IBAN without spaces in capitals, dates ISO, numbers as numbers, yes/no as booleans,
    choices as their values, an address as an object, a file as name, type, size and the
    SHA-512 of its content (`upload`: the file with its base64 `data`)."""
    if kind == "iban":
        return re.sub(r"\s+", "", str(value)).upper()
    if kind == "address":
        return {part: str(value.get(part, "")) for part in ADDRESS_PARTS}
    if kind == "file":
        data = base64.b64decode(str((upload or value).get("data", "")))
        return {"name": value["name"], "content_type": value["content_type"], "size": int(value["size"]),
                "sha512": hashlib.sha512(data).hexdigest()}
    if kind == "choice" and isinstance(value, list):
        return list(value)
    return value


def answers_in_order(form: Form, clean: Mapping[str, Any]) -> Iterator[tuple[FormStep, FormField]]:
    """(step, field) of every answered shown field, in the form's order."""
    for step, fields in shown(form, raw_like(clean)):
        for field in fields:
            if field.id in clean:
                yield step, field


def raw_like(clean: Mapping[str, Any]) -> Raw:
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
