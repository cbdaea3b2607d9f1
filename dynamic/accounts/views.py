"""The portal account: "Mein Konto", and the blueprint's pages, one module per concern:
login.py (log in and out, also everywhere), registration.py (register with e-mail
confirmation), password.py (reset and change the password), email_change.py (change the
e-mail address); common.py holds the blueprint and what they share.

Answers never tell whether an address has an account: registration, password reset and
address change say the same thing either way, and the mail tells the owner the rest. Nor
does their time: every path of a login, a registration, a reset or an address change does
exactly one argon2 operation (see passwords.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import request
from sqlalchemy import select

from portal.levels import LEVELS, TrustLevel, means_label

from ..inbox.views import unread_count
from ..platform.auth import current_account, current_login, require_level
from ..platform.db import db
from ..platform.models import Appointment, utcnow
from ..platform.render import page

# The pages register themselves on the blueprint when their modules load.
from . import email_change, password, registration  # noqa: F401
from . import login as login_pages  # noqa: F401
from .common import ACCOUNT, Page, accounts, email_problem  # noqa: F401 - other modules import these from here

# ---------------------------------------------------------------- Mein Konto


@accounts.get("/")
@require_level("basis")
def overview() -> Page:
    account = current_account()
    login = current_login()
    assert account is not None and login is not None
    return page("konto/index.html", "Mein Konto", account=account, login=login,
                level_label=TrustLevel(login.level).label, means_label=means_label(login.means), levels=LEVELS,
                notice=_notice(), unread=unread_count(account.id), appointments=upcoming_appointments(account.id))


def upcoming_appointments(account_id: int) -> list[dict[str, Any]]:
    """The account's booked appointments from today on, in every municipality, soonest first."""
    from ..appointments.slots import BERLIN
    from ..platform.catalog import katalog

    rows = db().scalars(select(Appointment).where(
        Appointment.account_id == account_id, Appointment.status == "booked",
        Appointment.starts_at >= utcnow() - dt.timedelta(hours=1)).order_by(Appointment.starts_at)).all()
    found = []
    for row in rows:
        known = katalog(row.slug)
        service = known.services.get(row.service_id) if known else None
        location = known.locations.get(row.location_id) if known else None
        found.append({
            "when": row.starts_at.astimezone(BERLIN).strftime("%d.%m.%Y, %H:%M Uhr"),
            "service": service.name if service else row.service_id,
            "place": location.name if location else row.location_id,
            "municipality": known.municipality.name if known else row.slug,
            "link": f"/{row.slug}/termine/termin/{row.code}",
        })
    return found


NOTICES = {
    "bestaetigt": "Ihre E-Mail-Adresse ist bestätigt. Willkommen im Bürgerportal.",
    "passwort": "Ihr neues Passwort ist gespeichert. Alle anderen Anmeldungen wurden beendet.",
    "email": "Ihre neue E-Mail-Adresse ist bestätigt und gespeichert.",
    "email-gesendet": "Wir haben einen Bestätigungslink an die neue Adresse geschickt. "
                      "Die Änderung gilt, sobald Sie den Link geöffnet haben.",
}


def _notice() -> str | None:
    return NOTICES.get(request.args.get("hinweis", ""))
