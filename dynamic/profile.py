"""\"Meine Daten\": the citizen's stored data (once only), prefill for forms, export and deletion.

Values from the eID (or another login at level substantiell or higher) are stored as
verified, with their source and date, and cannot be changed by hand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Blueprint
from sqlalchemy import select

from .db import db
from .models import ProfileValue, utcnow

profile = Blueprint("profile", __name__, url_prefix="/konto")


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    autocomplete: str
    kind: str = "text"  # text | date | tel | choice


FIELDS = (
    Field("given_name", "Vorname(n)", "given-name"),
    Field("family_name", "Familienname", "family-name"),
    Field("birth_name", "Geburtsname", "off"),
    Field("birthdate", "Geburtsdatum", "bday", "date"),
    Field("place_of_birth", "Geburtsort", "off"),
    Field("nationality", "Staatsangehörigkeit", "off"),
    Field("street", "Straße und Hausnummer", "street-address"),
    Field("postal_code", "Postleitzahl", "postal-code"),
    Field("city", "Ort", "address-level2"),
    Field("country", "Staat", "country"),
    Field("phone", "Telefon", "tel", "tel"),
    Field("preferred_contact", "Bevorzugter Kontaktweg", "off", "choice"),
)
FIELD_NAMES = tuple(f.name for f in FIELDS)

CONTACT_CHOICES = {
    "postfach": "Nachricht in das Postfach im Bürgerportal",
    "email": "E-Mail (nur mit dem Hinweis, dass eine Nachricht wartet)",
    "telefon": "Telefon",
    "brief": "Brief",
}


@dataclass(frozen=True)
class StoredValue:
    value: str
    verified: bool
    source: str | None
    verified_at: dt.datetime | None


def stored_values(account_id: int) -> dict[str, StoredValue]:
    rows = db().scalars(select(ProfileValue).where(ProfileValue.account_id == account_id))
    return {row.field: StoredValue(row.value, row.verified, row.source, row.verified_at) for row in rows}


def store_identity(account_id: int, values: dict[str, str], source: str, verified: bool) -> None:
    """Store what an identity provider said about the citizen (the caller commits).

    Verified values replace whatever was there. Unverified ones (a login without checked
    attributes) only fill fields that are still empty, and never replace a verified value.
    """
    existing = {row.field: row for row in db().scalars(
        select(ProfileValue).where(ProfileValue.account_id == account_id))}
    now = utcnow()
    for name, value in values.items():
        if name not in FIELD_NAMES or not value:
            continue
        row = existing.get(name)
        if not verified and row is not None:
            continue
        if row is None:
            row = ProfileValue(account_id=account_id, field=name)
            db().add(row)
        row.value = value
        row.verified = verified
        row.source = source if verified else None
        row.verified_at = now if verified else None
        row.updated_at = now


def set_values(account_id: int, values: dict[str, str]) -> list[str]:
    """Save values the citizen typed (the caller commits). Verified fields are left alone;
    their names are returned so that the caller can say so. An empty value deletes the field."""
    existing = {row.field: row for row in db().scalars(
        select(ProfileValue).where(ProfileValue.account_id == account_id))}
    refused = []
    for name, value in values.items():
        if name not in FIELD_NAMES:
            continue
        row = existing.get(name)
        if row is not None and row.verified:
            if value != row.value:
                refused.append(name)
            continue
        if not value:
            if row is not None:
                db().delete(row)
            continue
        if row is None:
            row = ProfileValue(account_id=account_id, field=name)
            db().add(row)
        row.value, row.verified, row.source, row.verified_at = value, False, None, None
    return refused


@dataclass(frozen=True)
class Prefill:
    value: str
    verified: bool
    source: str | None


def prefill(account_id: int, mapping: dict[str, str]) -> dict[str, Prefill]:
    """Prefill a form: `mapping` is form field → profile field; only fields with a value return."""
    values = stored_values(account_id)
    return {form_field: Prefill(values[profile_field].value, values[profile_field].verified,
                                values[profile_field].source)
            for form_field, profile_field in mapping.items() if profile_field in values}
