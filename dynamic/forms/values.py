"""One answer by the kind of its field: the check that turns what the citizen typed into a
clean value (or says what to correct), the clean value as people read numbers, and as an
office's case system imports it (katalog.formschema describes it).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from stdnum import iban as iban_number

from katalog.models import FormField

DATE_PARTS = ("tag", "monat", "jahr")
ADDRESS_PARTS = ("strasse", "plz", "ort")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
PHONE_SEPARATORS = re.compile(r"[\s/\-\u2010-\u2015().]")
PHONE_COMPACT = re.compile(r"\+?[0-9]{6,20}")
# Gaps people type into long numbers (chip number, IBAN, postal code): white space and dashes.
GAPS = re.compile(r"[\s\-\u2010-\u2015]")
POSTAL_CODE = re.compile(r"[0-9]{5}")
# Numbers: plain digits with an optional sign and German (or English) decimal separator, never
# exponent notation, and short enough that converting them costs nothing.
NUMBER_LENGTH = 30
NUMBER_SYNTAX = re.compile(r"[+-]?[0-9][0-9.,]*")


def text_limit(field: FormField) -> int:
    """The most characters a text answer may have."""
    return field.text_limit


def empty(value: Any) -> bool:
    if isinstance(value, dict):
        return not any(str(v).strip() for v in value.values())
    if isinstance(value, list):
        return not value
    return value is None or not str(value).strip()


def check_text(field: FormField, value: Any, today: dt.date) -> tuple[Any, str | None]:
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
    "text": check_text, "textarea": check_text, "email": _check_email, "phone": _check_phone,
    "iban": _check_iban, "number": _check_number, "date": _check_date, "choice": _check_choice,
    "yesno": _check_yesno, "address": _check_address,
}


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


def number_text(value: Any) -> str:
    """A number as Germans write it: 2,5 and 3 (not 3.0)."""
    text = f"{value}"
    if text.endswith(".0"):
        text = text[:-2]
    return text.replace(".", ",")
