"""\"Meine Daten\": the citizen's stored data (once only), prefill for forms, export and deletion.

Values from the eID (or another login at level substantiell or higher) are stored as
verified, with their source and date, and cannot be changed by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, flash, get_flashed_messages, redirect, request, session
from sqlalchemy import delete, select
from werkzeug.wrappers import Response as BaseResponse

from portal.levels import means_label
from portal.profile_fields import FIELD_BY_NAME, FIELD_NAMES, FIELDS

from ..platform import auth, config, ratelimit
from ..platform.db import db
from ..platform.models import (
    Account,
    Application,
    Appointment,
    EmailToken,
    FormDraft,
    LoginSession,
    Message,
    OutboxItem,
    ProfileValue,
    utcnow,
)
from ..platform.passwords import verify_password
from ..platform.render import current_site, page, remember_municipality

profile = Blueprint("profile", __name__, url_prefix="/konto")



CONTACT_CHOICES = {
    "postfach": "Nachricht in das Postfach im Bürgerportal",
    "email": "E-Mail (nur mit dem Hinweis, dass eine Nachricht wartet)",
    "telefon": "Telefon",
    "brief": "Brief",
}

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



# What the citizen's data export says about an application's status.
APPLICATION_STATES = {"new": "eingegangen", "received": "von der Stelle abgerufen", "rejected": "abgelehnt"}

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


# --- "Meine Daten": reading and checking the form (pure) ---------------------------------

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


def _sent_verified_values(form: Mapping[str, str], verified: set[str]) -> dict[str, str]:
    """Values a request sent for verified fields although the page offers no input for them."""
    sent = {name: " ".join(form[name].split()) for name in verified if name in form}
    if "birthdate" in verified and any(f"birthdate-{part}" in form for part in DATE_PARTS):
        sent["birthdate"], _error = _read_birthdate(form, dt.date.max)
    return sent


# --- "Meine Daten": the page ---------------------------------------------------------------

SAVED = "Ihre Daten wurden gespeichert."
KEPT = "Sie mussten sich neu anmelden. Ihre Eingaben sind noch da – bitte prüfen und speichern Sie sie."
CONFIRMED = "Ihre Angaben aus dem Online-Ausweis sind jetzt als bestätigt gespeichert."
NOTHING_CONFIRMED = ("Sie sind mit dem Online-Ausweis angemeldet, aber er hat keine Angaben übermittelt. "
                     "Ihre gespeicherten Daten sind unverändert.")


def _crumbs(title: str, path: str) -> list[tuple[str, str]]:
    return [("Startseite", current_site().base), ("Mein Konto", "/konto/"), (title, path)]


def _this_account() -> Account:
    account = auth.current_account()
    assert account is not None  # require_level let the request in
    return account


@profile.route("/daten", methods=["GET", "POST"])
@auth.require_level("basis")
def my_data() -> Any:
    remember_municipality()
    account = _this_account()
    stored = stored_values(account.id)
    verified = {name for name, value in stored.items() if value.verified}
    if request.method == "GET":
        kept = auth.kept_form()
        notices = [KEPT] if kept is not None else []
        form = form_from_kept(kept) if kept is not None else form_from_stored(stored)
        return _my_data_page(account, stored, form, {}, notices)
    form = {key: request.form.get(key, "") for key in request.form}
    values, errors = read_profile_form(form, verified, bool(account.email), dt.date.today())
    if errors:
        return _my_data_page(account, stored, form, errors, [], status=400)
    refused = set_values(account.id, normalised(values) | _sent_verified_values(form, verified))
    db().commit()
    flash(SAVED)
    if refused:
        labels = ", ".join(field.label for field in FIELDS if field.name in refused)
        flash(f"Bestätigte Angaben können Sie nicht von Hand ändern. Unverändert geblieben: {labels}.")
    return redirect("/konto/daten", code=303)


def _my_data_page(account: Account, stored: dict[str, StoredValue], form: dict[str, str],
                  errors: dict[str, str], notices: list[str], status: int = 200) -> tuple[str, int]:
    title = ("Fehler: " if errors else "") + "Meine Daten"
    shown = {name: StoredValue(date_for_people(value.value) if name == "birthdate" else value.value,
                               value.verified, value.source, value.verified_at)
             for name, value in stored.items()}
    return page("konto/daten.html", title, status=status, heading="Meine Daten", account=account, stored=shown,
                form=form, errors=errors, notices=[*get_flashed_messages(), *notices], fields=FIELD_BY_NAME,
                contact_choices=CONTACT_CHOICES, has_verified=any(v.verified for v in stored.values()),
                crumbs=_crumbs("Meine Daten", "/konto/daten"))


@profile.route("/daten/nachweis")
@auth.require_level("hoch")
def confirm_identity() -> BaseResponse:
    """Reached after a login with the eID: the SAML login has stored its values as verified."""
    account = _this_account()
    confirmed = any(value.verified for value in stored_values(account.id).values())
    flash(CONFIRMED if confirmed else NOTHING_CONFIRMED)
    return redirect("/konto/daten", code=303)


# --- Download of everything stored (DSGVO Art. 15 and 20) ----------------------------------

def _when(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def export_data(account: Account, now: dt.datetime) -> dict[str, Any]:
    """Everything stored about the account's holder, as the download shows it. Secrets that
    only prove a login or a link (password hash, token hashes) are named, never shown."""
    account_id = account.id
    rows = db().scalars(select(ProfileValue).where(ProfileValue.account_id == account_id)
                        .order_by(ProfileValue.field))
    order = {name: index for index, name in enumerate(FIELD_NAMES)}
    profile_rows = sorted(rows, key=lambda row: (order.get(row.field, len(order)), row.field))
    sessions = db().scalars(select(LoginSession).where(LoginSession.account_id == account_id)
                            .order_by(LoginSession.created_at))
    tokens = db().scalars(select(EmailToken).where(EmailToken.account_id == account_id).order_by(EmailToken.id))
    outbox = db().scalars(select(OutboxItem).where(OutboxItem.account_id == account_id).order_by(OutboxItem.id))
    appointments = db().scalars(select(Appointment).where(Appointment.account_id == account_id)
                                .order_by(Appointment.starts_at))
    messages = db().scalars(select(Message).where(Message.account_id == account_id).order_by(Message.id))
    applications = db().scalars(select(Application).where(Application.account_id == account_id)
                                .order_by(Application.id))
    drafts = db().scalars(select(FormDraft).where(FormDraft.account_id == account_id).order_by(FormDraft.id))
    return {
        "format": "buergerportal-datenauskunft/1",
        "erstellt_am": _when(now),
        "hinweis": "Alle Daten, die das Bürgerportal zu Ihrem Konto gespeichert hat (Art. 15 und 20 DSGVO). "
                   "Zeitangaben in UTC.",
        "konto": {
            "e_mail": account.email,
            "e_mail_bestaetigt_am": _when(account.email_confirmed_at),
            "angelegt_am": _when(account.created_at),
            "letzte_anmeldung_am": _when(account.last_login_at),
            "passwort_gesetzt": account.password_hash is not None,
            "servicekonto_verknuepft": account.bpk2 is not None,
            "servicekonto_pseudonym": account.bpk2,
        },
        "meine_daten": [{
            "feld": row.field,
            "bezeichnung": FIELD_BY_NAME[row.field].label if row.field in FIELD_BY_NAME else row.field,
            "wert": row.value,
            "bestaetigt": row.verified,
            "quelle": row.source,
            "bestaetigt_am": _when(row.verified_at),
            "geaendert_am": _when(row.updated_at),
        } for row in profile_rows],
        "anmeldungen": [{
            "angemeldet_am": _when(row.created_at),
            "zuletzt_aktiv_am": _when(row.last_seen_at),
            "vertrauensniveau": row.level,
            "vertrauensniveau_seit": _when(row.level_since),
            "anmeldeweg": means_label(row.means),
            "rueckfall_vertrauensniveau": row.fallback_level,
        } for row in sessions],
        "e_mail_links": [{
            "zweck": row.purpose,
            "neue_e_mail": row.new_email,
            "erstellt_am": _when(row.created_at),
            "gueltig_bis": _when(row.expires_at),
            "benutzt_am": _when(row.used_at),
        } for row in tokens],
        "e_mails": [{
            "art": row.kind,
            "erstellt_am": _when(row.created_at),
            "versendet_am": _when(row.done_at),
        } for row in outbox],
        "termine": [{
            "kommune": row.slug,
            "leistung": row.service_id,
            "standort": row.location_id,
            "beginn": _when(row.starts_at),
            "ende": _when(row.ends_at),
            "personen": row.persons,
            "stand": row.status,
            "buchungsnummer": row.code,
            "gebucht_am": _when(row.booked_at),
            "abgesagt_am": _when(row.cancelled_at),
        } for row in appointments],
        "postfach": [{
            "kommune": row.slug,
            "absender": row.sender,
            "betreff": row.subject,
            "text": row.body,
            "erhalten_am": _when(row.created_at),
            "gelesen_am": _when(row.read_at),
            "anhaenge": [a.name for a in row.attachments],
        } for row in messages],
        # The answers themselves are encrypted for the office; the receipt page shows the citizen's copy.
        "antraege": [{
            "kommune": row.slug,
            "formular": row.form_id,
            "vorgangsnummer": row.reference,
            "gesendet_am": _when(row.submitted_at),
            "stand": APPLICATION_STATES.get(row.status, "eingegangen"),
        } for row in applications],
        "antragsentwuerfe": [{
            "kommune": row.slug,
            "formular": row.form_id,
            "begonnen_am": _when(row.created_at),
            "zuletzt_gespeichert_am": _when(row.updated_at),
        } for row in drafts],
    }


@profile.route("/daten/export")
@auth.require_level("basis")
def export() -> Response:
    account = _this_account()
    now = utcnow()
    body = json.dumps(export_data(account, now), ensure_ascii=False, indent=2) + "\n"
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="buergerportal-daten-{now:%Y-%m-%d}.json"'
    return response


# --- Deleting the account (DSGVO Art. 17) --------------------------------------------------

DELETE_MESSAGES = {
    "confirm": "Bestätigen Sie, dass Sie Ihr Konto und alle gespeicherten Daten löschen möchten.",
    "password": "Geben Sie Ihr aktuelles Passwort ein.",
    "wrong_password": "Das Passwort ist nicht richtig. Geben Sie Ihr aktuelles Passwort ein.",
    "too_many": "Sie haben zu oft ein falsches Passwort eingegeben. Versuchen Sie es in 15 Minuten noch einmal.",
}
DELETED = "Ihr Konto und alle gespeicherten Daten wurden gelöscht."


def delete_account(account: Account) -> None:
    """Delete the account and everything personal hanging on it (the caller commits).

    Profile values, logins, e-mail links and queued mails go with the account row through
    the foreign keys' ON DELETE CASCADE (tested on SQLite and PostgreSQL). Queued mails to
    the address that belong to no account are deleted here, so the address is gone too."""
    email = account.email
    if email:
        waiting = db().scalars(select(OutboxItem).where(OutboxItem.account_id.is_(None),
                                                        OutboxItem.done_at.is_(None)))
        for item in waiting:
            if isinstance(item.payload, dict) and item.payload.get("to") == email:
                db().delete(item)
    db().execute(delete(Account).where(Account.id == account.id))


@profile.route("/loeschen", methods=["GET", "POST"])
@auth.require_level("basis")
def delete_page() -> Any:
    remember_municipality()
    account = _this_account()
    if request.method == "GET":
        return _delete_page(account, {})
    errors: dict[str, str] = {}
    if request.form.get("bestaetigung") != "ja":
        errors["bestaetigung"] = DELETE_MESSAGES["confirm"]
    if account.password_hash is not None:
        error = _check_password(account)
        if error:
            errors["passwort"] = error
    if errors:
        return _delete_page(account, errors, status=400)
    delete_account(account)
    db().commit()
    auth.end_login()
    session["konto_geloescht"] = True
    return redirect("/konto/geloescht", code=303)


def _check_password(account: Account) -> str | None:
    assert account.password_hash is not None
    password = request.form.get("passwort", "")
    if not password:
        return DELETE_MESSAGES["password"]
    limiter = ratelimit.limiter()
    rule = config.settings().login_limit_account
    if not limiter.allowed(rule, "account-delete", str(account.id)):
        return DELETE_MESSAGES["too_many"]
    if not verify_password(account.password_hash, password):
        limiter.hit(rule, "account-delete", str(account.id))
        return DELETE_MESSAGES["wrong_password"]
    return None


def _delete_page(account: Account, errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    title = ("Fehler: " if errors else "") + "Konto löschen"
    return page("konto/loeschen.html", title, status=status, heading="Konto löschen", account=account,
                errors=errors, confirmed=request.form.get("bestaetigung") == "ja",
                crumbs=_crumbs("Konto löschen", "/konto/loeschen"))


@profile.route("/geloescht")
def deleted_page() -> Any:
    if not session.pop("konto_geloescht", False):
        return redirect("/konto/", code=303)
    return page("konto/loeschen_erledigt.html", "Konto gelöscht", message=DELETED)
