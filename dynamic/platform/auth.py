"""Who is logged in, at which trust level, and pages that demand a level (step-up).

A login is a row in `login_sessions`; the session cookie carries only a random token whose
hash is the row's key. Logging in always issues a fresh token and a fresh cookie session
(no session fixation); "log out everywhere" deletes every row of the account.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import unquote, urlencode, urlsplit

from flask import Flask, Response, current_app, g, redirect, request, session
from sqlalchemy import delete
from werkzeug.wrappers import Response as BaseResponse

from portal.levels import TrustLevel, at_least, rank

from . import config
from .crypto import Unreadable, seal, unseal
from .db import db, session_scope
from .models import Account, KeptForm, LoginSession, utcnow

F = TypeVar("F", bound=Callable[..., Any])

# Keys of the cookie session that survive a login (everything else is dropped). "holds" are the
# appointment times this browser chose before the login that their booking needed.
KEPT_ACROSS_LOGIN = ("kommune", "kept_form", "login_ended_for", "holds")
# What a POST sent while the login had ended waits this long, encrypted in `kept_forms`.
KEPT_FOR = dt.timedelta(hours=2)
KEPT_VALUE_CHARS = 10_000  # more than any form field takes
KEPT_BYTES = 256 * 1024  # a larger POST is not kept (the forms' drafts keep what was saved)


def _kept_field(name: str) -> bool:
    """Fields worth keeping across a login. Passwords never wait in the cookie (it is signed,
    not encrypted), nor does the old CSRF token."""
    lowered = name.lower()
    return name != "csrf_token" and "passwort" not in lowered and "password" not in lowered


@dataclass(frozen=True)
class Login:
    account_id: int
    level: str
    means: str
    since: dt.datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def current_login() -> Login | None:
    """The request's login, with its level lowered or ended when its time is over."""
    if "login" in g:
        return cast(Login | None, g.login)
    g.login = _load_login()
    return cast(Login | None, g.login)


def _load_login() -> Login | None:
    token = session.get("sid")
    if not isinstance(token, str):
        return None
    row = db().get(LoginSession, token_hash(token))
    if row is None:
        session.pop("sid", None)
        return None
    now = utcnow()
    if _expired(row.level, row.level_since, row.last_seen_at, now):
        fallback_ok = row.fallback_level is not None and not _expired(
            row.fallback_level, row.created_at, row.last_seen_at, now)
        if not fallback_ok:
            db().delete(row)
            db().commit()
            session.pop("sid", None)
            session["login_ended_for"] = row.account_id  # typed data is offered back to this account only
            g.login_expired = True
            return None
        assert row.fallback_level is not None and row.fallback_means is not None
        row.level, row.means, row.level_since = row.fallback_level, row.fallback_means, row.created_at
        row.fallback_level = row.fallback_means = None
    if now - row.last_seen_at > dt.timedelta(seconds=30) or db().is_modified(row):
        row.last_seen_at = now
        g.login_touched = True  # committed with the request's own changes, or after it (commit_touch)
    return Login(row.account_id, row.level, row.means, row.level_since)


def commit_touch(response: Response) -> Response:
    """After the view: store a login's new last-seen time if the view did not commit it."""
    if g.pop("login_touched", False):
        db().commit()
    return response


def _expired(level: str, since: dt.datetime, last_seen: dt.datetime, now: dt.datetime) -> bool:
    lifetime = TrustLevel(level).lifetime
    return now - since > lifetime.absolute or now - last_seen > lifetime.idle


def start_login(account: Account, level: str, means: str) -> Login:
    """Log `account` in at `level`; a step-up keeps the lower login to fall back to."""
    previous = current_login()
    fallback: tuple[str, str] | None = None
    if previous is not None and previous.account_id == account.id and rank(level) > rank(previous.level):
        fallback = (previous.level, previous.means)
    old_token = session.get("sid")
    if isinstance(old_token, str):
        db().execute(delete(LoginSession).where(LoginSession.token_hash == token_hash(old_token)))
    kept = {key: session[key] for key in KEPT_ACROSS_LOGIN if key in session}
    session.clear()
    session.update(kept)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db().add(LoginSession(token_hash=token_hash(token), account_id=account.id, level=level, means=means,
                          fallback_level=fallback[0] if fallback else None,
                          fallback_means=fallback[1] if fallback else None,
                          created_at=now, level_since=now, last_seen_at=now))
    account.last_login_at = now
    db().commit()
    session["sid"] = token
    g.login = Login(account.id, level, means, now)
    return cast(Login, g.login)


def end_login() -> None:
    token = session.get("sid")
    if isinstance(token, str):
        db().execute(delete(LoginSession).where(LoginSession.token_hash == token_hash(token)))
        db().commit()
    kept = {"kommune": session["kommune"]} if "kommune" in session else {}
    session.clear()
    session.update(kept)
    g.login = None


def end_all_logins(account_id: int) -> int:
    result = db().execute(delete(LoginSession).where(LoginSession.account_id == account_id))
    db().commit()
    return int(getattr(result, "rowcount", 0) or 0)


def current_account() -> Account | None:
    login = current_login()
    return None if login is None else db().get(Account, login.account_id)


def safe_return(value: str | None, default: str = "/konto/") -> str:
    """A return address after login: a path on this portal, never another site."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ord(char) < 32 or char == "\\" for char in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


# Portal-wide areas a registration may lead back to from any municipality: the citizen's own.
PORTAL_AREAS = ("konto", "postfach")
TARGET_CHARS = 2000


def safe_target(value: str | None, slug: str | None) -> str | None:
    """Where a registration on the way may lead back to after the mailed link, else None: a
    path on this portal (safe_return), within the municipality `slug` the citizen registers
    from, or in their own account or inbox. Stricter than a login's return address, since
    the browser resolves what we send: no dot segments, also percent-encoded ("%2e%2e"),
    no empty segment ("/muenster//x"), no control or format character (bidi overrides)."""
    if not value or len(value) > TARGET_CHARS or safe_return(value, "") != value:
        return None
    decoded = unquote(value)
    if "\\" in decoded or any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in decoded):
        return None
    segments = unquote(urlsplit(value).path).split("/")[1:]
    if any(segment in (".", "..") for segment in segments) or "" in segments[:-1]:
        return None
    if segments[0] in PORTAL_AREAS or (slug is not None and segments[0] == slug):
        return value
    return None


@dataclass(frozen=True)
class LoginAlternative:
    """Another way on than logging in, offered on the login page (konto/anmelden.html, block
    "login_alternative"): booking without an account, named by the login address's
    `ohne_konto`."""

    href: str
    label: str
    heading: str = "Ohne Konto"
    text: str | None = None


@dataclass(frozen=True)
class KeptPlace:
    """What a registration on the way keeps for the citizen while the confirmation mail is on
    its way: added by add_registration_hook as a function (target) → KeptPlace | None.
    `target` replaces the return address (for example a signed link that works in any browser);
    `message` is shown after registering."""

    target: str
    message: str


def add_registration_hook(app: Flask, hook: Callable[[str], KeptPlace | None]) -> None:
    """`hook` (target) may keep the citizen's place while a registration is confirmed (see KeptPlace)."""
    app.extensions.setdefault("registration_hooks", []).append(hook)


def registration_hooks() -> list[Callable[[str], KeptPlace | None]]:
    hooks: list[Callable[[str], KeptPlace | None]] = current_app.extensions.get("registration_hooks", [])
    return hooks


def login_url(level: str, return_to: str) -> str:
    return "/konto/anmelden?" + urlencode({"stufe": level, "weiter": return_to})


def require_level(level: str) -> Callable[[F], F]:
    """Demand a trust level. Below it, the citizen logs in at that level and comes back here;
    what they had sent in a form is kept and offered again (see `kept_form`)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            login = current_login()
            if login is not None and at_least(login.level, level):
                return view(*args, **kwargs)
            return ask_to_log_in(level, request.full_path.rstrip("?"))

        return cast(F, guarded)

    return decorate


def ask_to_log_in(level: str, return_to: str, code: int = 302) -> BaseResponse:
    """Send the citizen to log in at `level` and back to `return_to`, keeping what a POST sent:
    encrypted on the server, the cookie (signed, not encrypted) holds only a random reference."""
    if request.method == "POST":
        login = current_login()
        data = {key: [value[:KEPT_VALUE_CHARS] for value in values]
                for key, values in request.form.lists() if _kept_field(key)}
        owner = login.account_id if login is not None else session.get("login_ended_for")
        _forget_kept()
        sealed = seal(_secret(), {"path": request.path, "data": data, "account": owner})
        if len(sealed) <= KEPT_BYTES:
            token = secrets.token_urlsafe(32)
            db().add(KeptForm(token_hash=token_hash(token), data=sealed, created_at=utcnow()))
            db().commit()
            session["kept_form"] = token
    return redirect(login_url(level, return_to), code=code)


def kept_form(path: str | None = None) -> dict[str, list[str]] | None:
    """What the citizen had sent to this page before they had to log in, once."""
    token = session.get("kept_form")
    if not isinstance(token, str):
        session.pop("kept_form", None)  # an old cookie that still carries the answers: dropped
        return None
    row = db().get(KeptForm, token_hash(token))
    if row is None or utcnow() - row.created_at > KEPT_FOR:
        _forget_kept()
        return None
    try:
        kept = unseal(_secret(), row.data)
    except Unreadable:  # SECRET_KEY was changed
        _forget_kept()
        return None
    if kept.get("path") != (path or request.path):
        return None
    _forget_kept()
    login = current_login()
    owner = kept.get("account")
    if owner is not None and (login is None or login.account_id != owner):
        return None  # someone else logged in on this browser: they must not see it
    data = kept.get("data")
    return data if isinstance(data, dict) else None


def keep_kept_form_longer() -> None:
    """A registration on the way: the answers this browser sent before the login wait
    KEPT_FOR from now, for the confirmation mail to arrive."""
    token = session.get("kept_form")
    if not isinstance(token, str):
        return
    row = db().get(KeptForm, token_hash(token))
    if row is not None and utcnow() - row.created_at <= KEPT_FOR:
        row.created_at = utcnow()
        db().commit()


def _forget_kept() -> None:
    """Delete this browser's kept answers, if any, and their reference in the cookie."""
    token = session.pop("kept_form", None)
    if isinstance(token, str):
        db().execute(delete(KeptForm).where(KeptForm.token_hash == token_hash(token)))
        db().commit()


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def forget_kept_forms(app: Flask, now: dt.datetime | None = None) -> int:
    """Periodic job: kept answers nobody came back for are deleted after KEPT_FOR."""
    now = now or config.now(app)
    with session_scope(app) as session_:
        result = session_.execute(delete(KeptForm).where(KeptForm.created_at < now - KEPT_FOR))
        return int(getattr(result, "rowcount", 0) or 0)
