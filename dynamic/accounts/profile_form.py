"""The "Meine Daten" form: reading and checking what the citizen typed (pure: no request,
no database). The page is in profile.py."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from portal.profile_fields import FIELD_NAMES, FIELDS

from .profile_values import StoredValue

CONTACT_CHOICES = {
    "postfach": "Nachricht in das Postfach im Bürgerportal",
    "email": "E-Mail (nur mit dem Hinweis, dass eine Nachricht wartet)",
    "telefon": "Telefon",
    "brief": "Brief",
}

DATE_PARTS = ("day", "month", "year")
GERMANY = {"", "de", "d", "deu", "deutschland", "bundesrepublik deutschland", "germany"}
PHONE = re.compile(r"[0-9 +/\-()]+")
MAX_LENGTH = 200

MESSAGES = {
    "too_long": "Kürzen Sie die Angabe auf höchstens 200 Zeichen.",
    "birthdate": "Geben Sie Ihr Geburtsdatum als Tag, Monat und Jahr an, zum Beispiel 27 3 1985.",
    "birthdate_future": "Ihr Geburtsdatum muss in der Vergangenheit liegen.",
    "birthdate_year": "Geben Sie das Jahr Ihres Geburtsdatums mit vier Ziffern an, zum Beispiel 1985.",
    "birthdate_old": "Prüfen Sie das Jahr Ihres Geburtsdatums: Es darf nicht vor 1900 liegen.",
    "postal_code": "Geben Sie eine Postleitzahl mit 5 Ziffern an, zum Beispiel 48143.",
    "phone": "Geben Sie Ihre Telefonnummer nur mit Ziffern, Leerzeichen und den Zeichen + / - ( ) an, "
             "zum Beispiel 0251 123456.",
    "phone_short": "Geben Sie Ihre Telefonnummer mit Vorwahl an, zum Beispiel 0251 123456.",
    "contact": "Wählen Sie einen der angebotenen Kontaktwege.",
    "contact_phone": "Geben Sie Ihre Telefonnummer an oder wählen Sie einen anderen Kontaktweg.",
    "contact_letter": "Geben Sie Ihre Anschrift an oder wählen Sie einen anderen Kontaktweg.",
    "contact_email": "Hinterlegen Sie zuerst eine E-Mail-Adresse oder wählen Sie einen anderen Kontaktweg.",
}


def form_from_stored(stored: Mapping[str, StoredValue]) -> dict[str, str]:
    """The form's inputs as they show stored values (the date of birth in its three parts)."""
    form = {name: value.value for name, value in stored.items() if name in FIELD_NAMES}
    birthdate = parse_iso_date(form.pop("birthdate", ""))
    if birthdate is not None:
        form.update({"birthdate-day": str(birthdate.day), "birthdate-month": str(birthdate.month),
                     "birthdate-year": str(birthdate.year)})
    return form


def form_from_kept(kept: Mapping[str, list[str]]) -> dict[str, str]:
    return {key: values[0] for key, values in kept.items() if values and isinstance(values[0], str)}


def parse_iso_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def date_for_people(value: str) -> str:
    parsed = parse_iso_date(value)
    return value if parsed is None else parsed.strftime("%d.%m.%Y")


def read_profile_form(form: Mapping[str, str], verified: set[str], has_email: bool,
                      today: dt.date) -> tuple[dict[str, str], dict[str, str]]:
    """Check what the citizen typed: (values to store by field, errors by field).

    Verified fields are not read: the page does not offer them, and a request that sends
    them anyway does not change them. All errors are collected, in the page's order."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for field in FIELDS:
        if field.name in verified:
            continue
        if field.kind == "date":
            value, error = _read_birthdate(form, today)
        else:
            value = " ".join(form.get(field.name, "").split())
            error = _check(field.name, value, form)
        values[field.name] = value
        if error:
            errors[field.name] = error
    _check_contact(values, form, verified, has_email, errors)
    return values, {field.name: errors[field.name] for field in FIELDS if field.name in errors}


def _read_birthdate(form: Mapping[str, str], today: dt.date) -> tuple[str, str | None]:
    parts = [form.get(f"birthdate-{part}", "").strip() for part in DATE_PARTS]
    if not any(parts):
        return "", None
    if not all(part.isdigit() for part in parts):
        return "", MESSAGES["birthdate"]
    day, month, year = (int(part) for part in parts)
    if len(parts[2]) != 4:
        return "", MESSAGES["birthdate_year"]
    if year < 1900:
        return "", MESSAGES["birthdate_old"]
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return "", MESSAGES["birthdate"]
    if date >= today:
        return "", MESSAGES["birthdate_future"]
    return date.isoformat(), None


def _check(name: str, value: str, form: Mapping[str, str]) -> str | None:
    if len(value) > MAX_LENGTH:
        return MESSAGES["too_long"]
    if not value:
        return None
    if name == "postal_code":
        country = " ".join(form.get("country", "").split()).lower()
        if country in GERMANY and not re.fullmatch(r"[0-9]{5}", value.replace(" ", "")):
            return MESSAGES["postal_code"]
    if name == "phone":
        if not PHONE.fullmatch(value):
            return MESSAGES["phone"]
        if sum(char.isdigit() for char in value) < 5:
            return MESSAGES["phone_short"]
    if name == "preferred_contact" and value not in CONTACT_CHOICES:
        return MESSAGES["contact"]
    return None


def _check_contact(values: dict[str, str], form: Mapping[str, str], verified: set[str], has_email: bool,
                   errors: dict[str, str]) -> None:
    """The preferred way of contact needs what it names: a phone number, an address, an e-mail."""
    contact = values.get("preferred_contact", "")

    def present(name: str) -> bool:
        return name in verified or bool(values.get(name))

    if contact == "telefon" and not present("phone"):
        errors.setdefault("phone", MESSAGES["contact_phone"])
    if contact == "brief" and not all(present(name) for name in ("street", "postal_code", "city")):
        missing = next(name for name in ("street", "postal_code", "city") if not present(name))
        errors.setdefault(missing, MESSAGES["contact_letter"])
    if contact == "email" and not has_email:
        errors.setdefault("preferred_contact", MESSAGES["contact_email"])


def normalised(values: dict[str, str]) -> dict[str, str]:
    if values.get("postal_code") and " ".join(values.get("country", "").split()).lower() in GERMANY:
        values["postal_code"] = values["postal_code"].replace(" ", "")
    return values


def sent_verified_values(form: Mapping[str, str], verified: set[str]) -> dict[str, str]:
    """Values a request sent for verified fields although the page offers no input for them."""
    sent = {name: " ".join(form[name].split()) for name in verified if name in form}
    if "birthdate" in verified and any(f"birthdate-{part}" in form for part in DATE_PARTS):
        sent["birthdate"], _error = _read_birthdate(form, dt.date.max)
    return sent
