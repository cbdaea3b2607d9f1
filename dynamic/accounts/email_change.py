"""Changing the e-mail address: a link to the new address confirms it. The answer is the same
whether or not the new address already has an account; the mail tells its owner."""

from __future__ import annotations

from flask import redirect, request, url_for
from sqlalchemy import select

from ..platform import config
from ..platform.auth import current_account, require_level
from ..platform.db import db
from ..platform.models import Account, utcnow
from ..platform.outbox import queue_mail
from ..platform.ratelimit import limiter
from ..platform.render import page
from .common import (
    ACCOUNT,
    CHANGE_HOURS,
    Page,
    accounts,
    client_address,
    current_password_allowed,
    current_password_right,
    email_problem,
    issue_token,
    link_expired,
    normalise_email,
    too_many,
    too_many_wrong_passwords,
    valid_token,
)


@accounts.route("/email", methods=["GET", "POST"])
@require_level("basis")
def change_email() -> Page:
    account = current_account()
    assert account is not None
    errors: dict[str, str] = {}
    new_email = ""
    if request.method == "POST":
        new_email = normalise_email(request.form.get("email", ""))
        if account.password_hash and not current_password_allowed(account):
            return too_many_wrong_passwords("konto/email.html", "E-Mail-Adresse ändern", email=new_email,
                                            account=account)
        if problem := email_problem(new_email):
            errors["email"] = problem
        elif new_email == account.email:
            errors["email"] = "Das ist schon Ihre E-Mail-Adresse. Geben Sie die neue Adresse an."
        # Checked also without a password (state login only): every address change does the same work.
        right = current_password_right(account, request.form.get("passwort", ""))
        if account.password_hash and not right:
            errors["passwort"] = "Ihr Passwort ist nicht richtig."
        if not errors:
            if not limiter().hit(config.settings().request_limit_address, "email", client_address()):
                return too_many()
            taken = db().scalar(select(Account.id).where(Account.email == new_email)) is not None
            if not taken:
                token = issue_token(account, "email_change", CHANGE_HOURS, new_email=new_email)
                queue_mail(new_email, "email-bestaetigen", account.id, link=f"/konto/email/bestaetigen/{token}")
                if account.email:
                    queue_mail(account.email, "email-aenderung", account.id)
            else:
                queue_mail(new_email, "email-vergeben", account.id)
            db().commit()
            return redirect(url_for("accounts.overview", hinweis="email-gesendet"))
    return page("konto/email.html", "E-Mail-Adresse ändern", errors=errors, parent=ACCOUNT, email=new_email,
                account=account)


@accounts.route("/email/bestaetigen/<token>", methods=["GET", "POST"])
def confirm_email_change(token: str) -> Page:
    row = valid_token(token, "email_change")
    if row is None:
        return link_expired("Ändern Sie Ihre E-Mail-Adresse unter „Mein Konto“ noch einmal.")
    if request.method == "GET":
        # A button, not the link itself, makes the change: mail scanners open links too.
        return page("konto/email_bestaetigen.html", "Neue E-Mail-Adresse bestätigen")
    account = db().get(Account, row.account_id)
    assert account is not None and row.new_email is not None
    if db().scalar(select(Account.id).where(Account.email == row.new_email)) is not None:
        return link_expired("Diese E-Mail-Adresse gehört inzwischen zu einem anderen Konto.")
    account.email = row.new_email
    account.email_confirmed_at = row.used_at = utcnow()
    db().commit()
    return redirect(url_for("accounts.overview", hinweis="email"))
