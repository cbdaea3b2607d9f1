"""The download of everything stored about the citizen (DSGVO Art. 15 and 20). The page
that offers it is in profile.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from portal.levels import means_label
from portal.profile_fields import FIELD_BY_NAME, FIELD_NAMES

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
)

# What the citizen's data export says about an application's status.
APPLICATION_STATES = {"new": "eingegangen", "received": "von der Stelle abgerufen", "rejected": "abgelehnt"}


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
