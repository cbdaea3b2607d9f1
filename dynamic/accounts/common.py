"""The account blueprint and what its pages share: e-mail addresses, one-time link tokens,
the client address rate limits count by, the login limits and the current-password check.

Answers never tell whether an address has an account (see views.py)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import re
import secrets
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, request
from sqlalchemy import delete, select
from werkzeug.wrappers import Response

from ..platform import config
from ..platform.auth import token_hash
from ..platform.db import db
from ..platform.models import Account, EmailToken, utcnow
from ..platform.passwords import prepare, verify_password
from ..platform.ratelimit import limiter, window
from ..platform.render import page, remember_municipality

log = logging.getLogger("dynamic.accounts.views")  # the name the log lines have always carried

accounts = Blueprint("accounts", __name__, url_prefix="/konto")
accounts.record_once(lambda _state: prepare())  # the dummy hash at start, not in a request

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CONFIRM_HOURS, RESET_HOURS, CHANGE_HOURS = 24, 1, 24
REGISTRATION_MAILS_PER_ADDRESS = "5/hour"  # confirmation mails to one address, from anywhere
REGISTERED_HERE = "registrierung"  # session key: the hash of this browser's newest confirmation token

Page = tuple[str, int] | Response
ACCOUNT = ("Mein Konto", "/konto/")


@accounts.before_request
def _note_municipality() -> None:
    remember_municipality()


def client_address() -> str:
    """The client's address for rate limits; an IPv6 address by its /64 network, which one
    connection usually holds whole (else every address in it would count on its own)."""
    address = request.remote_addr or "unbekannt"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return address


def normalise_email(value: str) -> str:
    return value.strip().lower()


def email_problem(value: str) -> str | None:
    if not value:
        return "Geben Sie Ihre E-Mail-Adresse an."
    if len(value) > 254 or not EMAIL.match(value):
        return "Geben Sie eine E-Mail-Adresse in der richtigen Form an, zum Beispiel name@beispiel.de."
    return None


def issue_token(account: Account, purpose: str, hours: int, new_email: str | None = None,
                return_to: str | None = None) -> str:
    """A one-time link token; earlier unused tokens of the same purpose stop working."""
    db().execute(delete(EmailToken).where(EmailToken.account_id == account.id, EmailToken.purpose == purpose,
                                          EmailToken.used_at.is_(None)))
    token = secrets.token_urlsafe(32)
    db().add(EmailToken(token_hash=token_hash(token), purpose=purpose, account_id=account.id, new_email=new_email,
                        return_to=return_to, expires_at=utcnow() + dt.timedelta(hours=hours)))
    return token


def valid_token(token: str, purpose: str) -> EmailToken | None:
    row = db().scalar(select(EmailToken).where(EmailToken.token_hash == token_hash(token),
                                               EmailToken.purpose == purpose))
    if row is None or row.used_at is not None or row.expires_at < utcnow():
        return None
    return row


def link_expired(what: str) -> tuple[str, int]:
    return page("konto/hinweis.html", "Link nicht mehr gültig", status=410,
                message=f"Dieser Link ist abgelaufen oder wurde schon benutzt. {what}")


def too_many() -> tuple[str, int]:
    return page("konto/hinweis.html", "Zu viele Versuche", status=429,
                message="Von Ihrem Anschluss kamen in kurzer Zeit zu viele Anfragen. "
                        "Bitte warten Sie eine Stunde und versuchen Sie es dann erneut.")



def with_target(path: str, target: str | None) -> str:
    """`path` carrying the page the citizen returns to (weiter=), where there is one."""
    if not target or target == "/konto/":
        return path
    return path + "?" + urlencode({"weiter": target})



def login_limits(email: str) -> list[tuple[str, tuple[str, ...]]]:
    """The counters a failed login adds to: (rule, key parts)."""
    settings = config.settings()
    address = client_address()
    return [(settings.login_limit_account, ("login-account", email, address)),
            (settings.login_limit_account_total, ("login-account-total", email)),
            (settings.login_limit_address, ("login-address", address))]



def current_password_allowed(account: Account) -> bool:
    """May the logged-in citizen try their current password again? Wrong ones count per
    account like failed logins (someone at an unattended, logged-in browser guessing it)."""
    return limiter().allowed(config.settings().login_limit_account, "current-password", str(account.id))


def current_password_right(account: Account, password: str) -> bool:
    """Check the current password (against the dummy hash where there is none); count a wrong one."""
    right = verify_password(account.password_hash, password)
    if not right and account.password_hash:
        limiter().hit(config.settings().login_limit_account, "current-password", str(account.id))
        log.info("wrong current password")
    return right


def too_many_wrong_passwords(template: str, title: str, **context: Any) -> tuple[str, int]:
    wait = window(config.settings().login_limit_account)
    return page(template, title, status=429, parent=ACCOUNT, errors={
        "passwort" if template == "konto/email.html" else "aktuelles_passwort":
            f"Sie haben zu oft ein falsches Passwort eingegeben. Bitte warten Sie {wait} und versuchen Sie es "
            "dann erneut."}, **context)
