"""Logging in with e-mail and password, logging out (also everywhere).

Failed logins are counted per account and client address (LOGIN_LIMIT_ACCOUNT), so that
someone guessing from elsewhere does not lock the owner out; per account over all addresses
(LOGIN_LIMIT_ACCOUNT_TOTAL, higher), against guessing from many addresses, where the owner
still gets in by the reset link; and per address (LOGIN_LIMIT_ADDRESS). A login does exactly
one argon2 operation on every path (see passwords.py)."""

from __future__ import annotations

import logging

from flask import g, redirect, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from portal.levels import TrustLevel, at_least, is_level

from ..platform.auth import (
    LoginAlternative,
    current_login,
    end_all_logins,
    end_login,
    require_level,
    safe_return,
    start_login,
)
from ..platform.db import db
from ..platform.models import Account
from ..platform.passwords import hash_password, needs_rehash, verify_password
from ..platform.ratelimit import limiter, window
from ..platform.render import page
from .common import ACCOUNT, Page, accounts, login_limits, normalise_email, with_target

log = logging.getLogger("dynamic.accounts.views")  # the name the log lines have always carried


@accounts.route("/anmelden", methods=["GET", "POST"])
def login() -> Page:
    level = request.values.get("stufe", "basis")
    if not is_level(level):
        level = "basis"
    back = safe_return(request.values.get("weiter"))
    current = current_login()
    if current is not None and at_least(current.level, level) and request.method == "GET":
        return redirect(back)
    errors: dict[str, str] = {}
    email = ""
    status = 200
    if request.method == "POST" and level == "basis":
        email = normalise_email(request.form.get("email", ""))
        password = request.form.get("passwort", "")
        outcome = _password_login(email, password)
        if outcome is None:
            return redirect(back)
        errors, status = outcome
    expired = bool(g.get("login_expired")) or (request.args.get("abgelaufen") == "1")
    wanted = TrustLevel(level)
    return page("konto/anmelden.html", "Anmelden", status=status, errors=errors, parent=ACCOUNT,
                level=level, level_label=wanted.label, level_needs=wanted.row.needs, back=back, email=email,
                expired=expired, register_link=with_target("/konto/registrieren", back),
                alternative=_login_alternative(level))


def _login_alternative(level: str) -> LoginAlternative | None:
    """Another way on than a login, where the page that sent the citizen here names one:
    `ohne_konto=<path>` (booking without an account, at level basis), a path of this portal
    checked like the return address."""
    way = safe_return(request.values.get("ohne_konto"), "")
    if not way or level != "basis":
        return None
    return LoginAlternative(href=way, label="Ohne Konto weiter mit Ihrer E-Mail-Adresse",
                            text="Sie können auch ohne Konto buchen. Wir schicken Ihnen dann einen Link zur "
                                 "Bestätigung an Ihre E-Mail-Adresse.")


def _password_login(email: str, password: str) -> tuple[dict[str, str], int] | None:
    """Log in by e-mail and password; None on success, else the errors and HTTP status."""
    limits = login_limits(email)
    refused = next((rule for rule, key in limits if not limiter().allowed(rule, *key)), None)
    if refused is not None:
        log.info("login refused: too many failed attempts")
        return {"email": f"Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie {window(refused)} und "
                         "versuchen Sie es dann erneut. Haben Sie Ihr Passwort vergessen? Über „Passwort "
                         "vergessen?“ bekommen Sie einen Link per E-Mail, mit dem Sie ein neues Passwort wählen "
                         "und gleich angemeldet sind."}, 429
    account = db().scalar(select(Account).where(Account.email == email)) if email else None
    # Checked on every path, also without an account or a password (against the dummy hash).
    right = verify_password(account.password_hash if account is not None else None, password)
    if account is None or not right:
        for rule, key in limits:
            limiter().hit(rule, *key)
        log.info("login failed")
        return {"email": "E-Mail-Adresse oder Passwort sind nicht richtig."}, 200
    if account.email_confirmed_at is None:
        return {"email": "Bitte bestätigen Sie zuerst Ihre E-Mail-Adresse mit dem Link aus unserer E-Mail. "
                         "Keine E-Mail bekommen? Registrieren Sie sich mit derselben Adresse noch einmal."}, 200
    rule, key = limits[0]
    limiter().reset(rule, *key)
    if account.password_hash and needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    start_login(account, "basis", "konto")
    return None


@accounts.route("/abmelden", methods=["GET", "POST"])
def logout() -> Page:
    if request.method == "GET":
        if current_login() is None:
            return redirect(url_for("accounts.logged_out"))
        return page("konto/abmelden.html", "Abmelden", parent=ACCOUNT)
    login = current_login()
    idp_url = None
    if login is not None:
        from ..saml import sp

        idp_url = sp.idp_logout_url(login)
    end_login()
    return redirect(idp_url or url_for("accounts.logged_out"))


@accounts.post("/ueberall-abmelden")
@require_level("basis")
def logout_everywhere() -> Response:
    login = current_login()
    assert login is not None
    count = end_all_logins(login.account_id)
    end_login()
    log.info("logged out everywhere (%s sessions)", count)
    return redirect(url_for("accounts.logged_out", ueberall=1))


@accounts.get("/abgemeldet")
def logged_out() -> Page:
    everywhere = request.args.get("ueberall") == "1"
    message = ("Sie sind jetzt auf allen Geräten abgemeldet." if everywhere else "Sie sind abgemeldet.")
    return page("konto/hinweis.html", "Abgemeldet", message=message, link=("/konto/anmelden", "Wieder anmelden"))
