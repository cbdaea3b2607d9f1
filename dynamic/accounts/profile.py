"""\"Meine Daten\": the pages of the citizen's stored data (once only), its export and the
deletion of the account. The stored values and prefill are in profile_values.py, the
form's checks in profile_form.py, the export's content in data_export.py; the names other
modules use are importable from here too.

Values from the eID (or another login at level substantiell or higher) are stored as
verified, with their source and date, and cannot be changed by hand.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Blueprint, Response, flash, get_flashed_messages, redirect, request, session
from sqlalchemy import delete, select
from werkzeug.wrappers import Response as BaseResponse

from portal.profile_fields import FIELD_BY_NAME, FIELD_NAMES, FIELDS

from ..platform import auth, config, ratelimit
from ..platform.db import db
from ..platform.models import Account, OutboxItem, utcnow
from ..platform.passwords import verify_password
from ..platform.render import current_site, page, remember_municipality
from .data_export import export_data
from .profile_form import (
    CONTACT_CHOICES,
    date_for_people,
    form_from_kept,
    form_from_stored,
    normalised,
    read_profile_form,
    sent_verified_values,
)
from .profile_values import Prefill, StoredValue, prefill, save_back, set_values, store_identity, stored_values

# Other modules and the tests import these from here.
__all__ = ["FIELD_NAMES", "Prefill", "StoredValue", "prefill", "profile", "save_back", "set_values", "store_identity",
           "stored_values"]


profile = Blueprint("profile", __name__, url_prefix="/konto")


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
    refused = set_values(account.id, normalised(values) | sent_verified_values(form, verified))
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
