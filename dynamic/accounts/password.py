"""Choosing a new password: by a reset link for a forgotten one, or logged in.

The reset page says the same whether or not the address has an account, and does the same
work. Wrong current passwords count per account like failed logins (common.py)."""

from __future__ import annotations

from flask import redirect, request, url_for
from sqlalchemy import select

from ..platform import config
from ..platform.auth import current_account, current_login, end_all_logins, require_level, start_login
from ..platform.db import db
from ..platform.models import Account, utcnow
from ..platform.outbox import queue_mail
from ..platform.passwords import hash_password, problem_with, same_work
from ..platform.ratelimit import limiter
from ..platform.render import page
from .common import (
    ACCOUNT,
    RESET_HOURS,
    Page,
    accounts,
    client_address,
    current_password_allowed,
    current_password_right,
    email_problem,
    issue_token,
    link_expired,
    login_limits,
    normalise_email,
    too_many,
    too_many_wrong_passwords,
    valid_token,
)


@accounts.route("/passwort-vergessen", methods=["GET", "POST"])
def forgot_password() -> Page:
    errors: dict[str, str] = {}
    email = ""
    if request.method == "POST":
        email = normalise_email(request.form.get("email", ""))
        if problem := email_problem(email):
            errors["email"] = problem
        else:
            if not limiter().hit(config.settings().request_limit_address, "reset", client_address()):
                return too_many()
            same_work()  # as long as a login, known address or not
            account = db().scalar(select(Account).where(Account.email == email))
            if account is not None:
                token = issue_token(account, "reset", RESET_HOURS)
                queue_mail(email, "passwort-zuruecksetzen", account.id, link=f"/konto/passwort-neu/{token}")
                db().commit()
            return page("konto/hinweis.html", "E-Mail unterwegs",
                        message="Wenn zu dieser Adresse ein Konto besteht, haben wir einen Link geschickt, mit dem Sie "
                                "ein neues Passwort wählen können. Der Link gilt eine Stunde.")
    return page("konto/passwort_vergessen.html", "Passwort vergessen", errors=errors, parent=ACCOUNT, email=email)


@accounts.route("/passwort-neu/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Page:
    row = valid_token(token, "reset")
    if row is None:
        return link_expired("Fordern Sie unter „Passwort vergessen“ einen neuen Link an.")
    account = db().get(Account, row.account_id)
    assert account is not None
    errors = _new_password_errors(account)
    if request.method == "POST" and not errors:
        account.password_hash = hash_password(request.form["passwort"])
        row.used_at = utcnow()
        account.email_confirmed_at = account.email_confirmed_at or row.used_at  # the link proved the mailbox
        db().commit()
        if account.email:  # the owner is back in; guesses against the old password no longer count
            for rule, key in login_limits(account.email)[:2]:
                limiter().reset(rule, *key)
        end_all_logins(account.id)
        start_login(account, "basis", "konto")
        return redirect(url_for("accounts.overview", hinweis="passwort"))
    return page("konto/passwort_neu.html", "Neues Passwort wählen", errors=errors, ask_current=False)


@accounts.route("/passwort", methods=["GET", "POST"])
@require_level("basis")
def change_password() -> Page:
    account = current_account()
    assert account is not None
    if request.method == "POST" and account.password_hash and not current_password_allowed(account):
        return too_many_wrong_passwords("konto/passwort_neu.html", "Passwort ändern", ask_current=True)
    errors = _new_password_errors(account)
    if request.method == "POST" and account.password_hash and not current_password_right(
            account, request.form.get("aktuelles_passwort", "")):
        errors = {"aktuelles_passwort": "Ihr bisheriges Passwort ist nicht richtig.", **errors}
    if request.method == "POST" and not errors:
        account.password_hash = hash_password(request.form["passwort"])
        db().commit()
        login = current_login()
        assert login is not None
        end_all_logins(account.id)
        start_login(account, login.level, login.means)
        return redirect(url_for("accounts.overview", hinweis="passwort"))
    return page("konto/passwort_neu.html", "Passwort ändern", errors=errors, parent=ACCOUNT,
                ask_current=bool(account.password_hash))


def _new_password_errors(account: Account) -> dict[str, str]:
    if request.method != "POST":
        return {}
    password = request.form.get("passwort", "")
    if problem := problem_with(password, account.email):
        return {"passwort": problem}
    return {}  # typed once: the switch "Passwort anzeigen" lets the citizen check it
