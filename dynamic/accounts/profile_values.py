"""The citizen's stored data ("Meine Daten", once only) and prefill for forms.

Values from the eID (or another login at level substantiell or higher) are stored as
verified, with their source and date, and cannot be changed by hand. No Flask here: the
pages (profile.py), the forms and the state login use these functions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select

from portal.profile_fields import FIELD_NAMES

from ..platform.db import db
from ..platform.models import Account, ProfileValue, utcnow

# The e-mail address is not a profile value: it belongs to the account and changes only
# through a confirmed link. Prefill offers it under this name.
EMAIL_FIELD = "email"
EMAIL_SOURCE = "Bestätigungs-E-Mail"


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


def save_back(account_id: int, values: Mapping[str, str]) -> list[str]:
    """A form's "save changed values to my profile" (the caller commits): `values` is profile
    field → value. Stores only values that differ from what is stored; never touches a
    verified field, never deletes a value because a form left it empty, and never changes the
    account's e-mail address (that needs a confirmed link). Returns the fields it changed."""
    stored = stored_values(account_id)
    changed = {}
    for name, value in values.items():
        value = value.strip()
        current = stored.get(name)
        if name not in FIELD_NAMES or not value or (current is not None and current.verified):
            continue
        if current is None or current.value != value:
            changed[name] = value
    set_values(account_id, changed)
    return list(changed)


@dataclass(frozen=True)
class Prefill:
    value: str
    verified: bool
    source: str | None
    verified_at: dt.datetime | None = None


def prefill(account_id: int, mapping: dict[str, str]) -> dict[str, Prefill]:
    """Prefill a form: `mapping` is form field → profile field; only fields with a value return.

    Profile fields are those of FIELDS (the date of birth as ISO 8601, YYYY-MM-DD) and
    "email", the account's address, verified once it was confirmed by a link. A verified
    value is meant to be shown, not edited (`formular.html`'s `verified` macro).
    """
    values = stored_values(account_id)
    if EMAIL_FIELD in mapping.values():
        account = db().get(Account, account_id)
        if account is not None and account.email:
            confirmed = account.email_confirmed_at
            values[EMAIL_FIELD] = StoredValue(account.email, confirmed is not None,
                                              EMAIL_SOURCE if confirmed else None, confirmed)
    return {form_field: Prefill(values[profile_field].value, values[profile_field].verified,
                                values[profile_field].source, values[profile_field].verified_at)
            for form_field, profile_field in mapping.items() if profile_field in values}
