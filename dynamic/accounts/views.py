"""The portal account: register with e-mail confirmation, log in and out (also everywhere),
reset and change the password, change the e-mail address.

Answers never tell whether an address has an account: registration, password reset and
address change say the same thing either way, and the mail tells the owner the rest. Nor
does their time: every path of a login, a registration, a reset or an address change does
exactly one argon2 operation (see passwords.py).

A registration on the way (from a login that interrupted a booking or a form) keeps the
citizen's place: the page they came from travels through the registration form, waits with
the confirmation token (never in the mailed link), and the confirmation leads back there.
The password is typed once: the link confirms at once in the browser that registered (it
holds the token's hash); in any other browser it asks for the chosen password, so that
nobody can confirm an account someone else registered with their address.

Failed logins are counted per account and client address (LOGIN_LIMIT_ACCOUNT), so that
someone guessing from elsewhere does not lock the owner out; per account over all addresses
(LOGIN_LIMIT_ACCOUNT_TOTAL, higher), against guessing from many addresses, where the owner
still gets in by the reset link; and per address (LOGIN_LIMIT_ADDRESS). Wrong current
passwords on the password and address pages count per account like failed logins.
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import logging
import re
import secrets
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, g, redirect, request, session, url_for
from sqlalchemy import delete, select
from werkzeug.wrappers import Response

from portal.levels import LEVELS, TrustLevel, at_least, is_level, means_label

from ..inbox.views import unread_count
from ..platform import config
from ..platform.auth import (
    KeptPlace,
    LoginAlternative,
    current_account,
    current_login,
    end_all_logins,
    end_login,
    keep_kept_form_longer,
    registration_hooks,
    require_level,
    safe_return,
    safe_target,
    start_login,
    token_hash,
)
from ..platform.db import db
from ..platform.models import Account, Appointment, EmailToken, utcnow
from ..platform.outbox import queue_mail
from ..platform.passwords import hash_password, needs_rehash, prepare, problem_with, same_work, verify_password
from ..platform.ratelimit import limiter, window
from ..platform.render import current_site, page, remember_municipality

log = logging.getLogger(__name__)

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


# ---------------------------------------------------------------- login and logout


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
    return page("konto/anmelden.html", "Anmelden", status=status, errors=errors, parent=ACCOUNT,
                level=level, level_label=TrustLevel(level).label, back=back, email=email, expired=expired,
                register_link=_with_target("/konto/registrieren", back), alternative=_login_alternative(level))


def _with_target(path: str, target: str | None) -> str:
    """`path` carrying the page the citizen returns to (weiter=), where there is one."""
    if not target or target == "/konto/":
        return path
    return path + "?" + urlencode({"weiter": target})


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


def _login_limits(email: str) -> list[tuple[str, tuple[str, ...]]]:
    """The counters a failed login adds to: (rule, key parts)."""
    settings = config.settings()
    address = client_address()
    return [(settings.login_limit_account, ("login-account", email, address)),
            (settings.login_limit_account_total, ("login-account-total", email)),
            (settings.login_limit_address, ("login-address", address))]


def _password_login(email: str, password: str) -> tuple[dict[str, str], int] | None:
    """Log in by e-mail and password; None on success, else the errors and HTTP status."""
    limits = _login_limits(email)
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


# ---------------------------------------------------------------- registration


@accounts.route("/registrieren", methods=["GET", "POST"])
def register() -> Page:
    errors: dict[str, str] = {}
    email = ""
    target = safe_target(request.values.get("weiter"), _municipality_for(request.values.get("weiter")))
    if request.method == "POST":
        email = normalise_email(request.form.get("email", ""))
        password = request.form.get("passwort", "")
        if problem := email_problem(email):
            errors["email"] = problem
        if problem := problem_with(password, email):
            errors["passwort"] = problem
        if not request.form.get("datenschutz"):
            errors["datenschutz"] = "Bestätigen Sie, dass Sie die Datenschutzhinweise gelesen haben."
        if not errors:
            if not limiter().hit(config.settings().request_limit_address, "register", client_address()):
                return too_many()
            kept = _keep_place(target)
            _register(email, password, kept.target if kept else target)
            session["registriert-hinweis"] = [*([kept.message] if kept else []),
                                              SAME_DEVICE_BACK if target else SAME_DEVICE]
            return redirect(url_for("accounts.registered"))
    return page("konto/registrieren.html", "Konto anlegen", errors=errors, parent=ACCOUNT, email=email,
                target=target, login_link=_with_target("/konto/anmelden", target))


def _municipality_for(target: str | None) -> str | None:
    """The municipality a registration belongs to: the one the citizen came from (whose look
    the page wears); where none is known (a form opened from a search engine's link), the
    one the target lies in, which the page then wears: no more than `?kommune=` could do."""
    from ..platform.catalog import katalog

    known = current_site().slug
    if known:
        return known
    first = (target or "").lstrip("/").split("/", 1)[0]
    if first and safe_target(target, first) and katalog(first) is not None:
        session["kommune"] = first
        return first
    return None


def _keep_place(target: str | None) -> KeptPlace | None:
    """Let the part of the portal that `target` belongs to keep the citizen's place (a held
    appointment time) while the confirmation mail is on its way; answers the same whether
    or not the address has an account. Answers a form sent before the login wait too."""
    if target is None:
        return None
    keep_kept_form_longer()
    for hook in registration_hooks():
        if (kept := hook(target)) is not None:
            return kept
    return None


def _register(email: str, password: str, target: str | None) -> None:
    # The browser learns the hash of a confirmation token either way, so its cookie does not
    # tell whether the address had an account (a random one matches no token).
    existing = db().scalar(select(Account).where(Account.email == email))
    if existing is not None and existing.email_confirmed_at is not None:
        hash_password(password)  # thrown away: as long as registering a new address
        session[REGISTERED_HERE] = token_hash(secrets.token_urlsafe(32))
        if _may_mail(email):
            queue_mail(email, "konto-existiert", existing.id)
        db().commit()
        return
    if existing is None:
        existing = Account(email=email)
        db().add(existing)
    # An unconfirmed account takes the newest password; confirming in another browser asks
    # for it, so only the person who chose it and reads the mail can complete the registration.
    existing.password_hash = hash_password(password)
    db().flush()
    token = issue_token(existing, "confirm", CONFIRM_HOURS, return_to=target)
    session[REGISTERED_HERE] = token_hash(token)
    if _may_mail(email):
        queue_mail(email, "konto-bestaetigen", existing.id, link=f"/konto/bestaetigen/{token}")
    db().commit()


def _may_mail(email: str) -> bool:
    """Registration mails to one address are bounded wherever they are asked for from: a
    stranger cannot flood someone's mailbox. Over the limit the answer stays the same."""
    allowed = limiter().hit(REGISTRATION_MAILS_PER_ADDRESS, "register-mail", email)
    if not allowed:
        log.info("registration mail not sent: too many for one address")
    return allowed


SAME_DEVICE = "Öffnen Sie den Link am besten auf diesem Gerät: Dann sind Sie gleich angemeldet."
SAME_DEVICE_BACK = ("Öffnen Sie den Link am besten auf diesem Gerät: Dann sind Sie gleich angemeldet und kommen "
                    "ohne neue Eingabe dorthin zurück, wo Sie waren.")


@accounts.get("/registriert")
def registered() -> Page:
    notes = session.pop("registriert-hinweis", None)
    if not isinstance(notes, list) or not all(isinstance(note, str) for note in notes):
        notes = [SAME_DEVICE]
    return page("konto/hinweis.html", "Fast geschafft",
                message="Wir haben Ihnen eine E-Mail geschickt. Öffnen Sie den Link darin innerhalb von 24 Stunden, "
                        "um Ihr Konto zu bestätigen. Keine E-Mail bekommen? Sehen Sie auch im Spam-Ordner nach.",
                more=notes)


@accounts.route("/bestaetigen/<token>", methods=["GET", "POST"])
def confirm(token: str) -> Page:
    row = valid_token(token, "confirm")
    if row is None:
        return link_expired("Registrieren Sie sich mit Ihrer E-Mail-Adresse noch einmal; Sie bekommen dann einen "
                            "neuen Link.")
    account = db().get(Account, row.account_id)
    assert account is not None
    errors: dict[str, str] = {}
    # In the browser that registered, the link is enough (mail scanners open links too, but
    # without that browser's cookie); elsewhere the chosen password proves who registered.
    here = session.get(REGISTERED_HERE)
    same_browser = isinstance(here, str) and hmac.compare_digest(here, row.token_hash)
    if not same_browser and request.method == "GET":
        return page("konto/bestaetigen.html", "E-Mail-Adresse bestätigen", errors=errors)
    if not same_browser and not verify_password(account.password_hash, request.form.get("passwort", "")):
        errors["passwort"] = "Das Passwort ist nicht richtig. Geben Sie das Passwort ein, das Sie bei der " \
                             "Registrierung gewählt haben."
        return page("konto/bestaetigen.html", "E-Mail-Adresse bestätigen", errors=errors)
    row.used_at = account.email_confirmed_at = utcnow()
    db().commit()
    start_login(account, "basis", "konto")
    target = safe_return(row.return_to, "") if row.return_to else ""
    return redirect(target or url_for("accounts.overview", hinweis="bestaetigt"))


# ---------------------------------------------------------------- password


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
            for rule, key in _login_limits(account.email)[:2]:
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


def _new_password_errors(account: Account) -> dict[str, str]:
    if request.method != "POST":
        return {}
    password = request.form.get("passwort", "")
    if problem := problem_with(password, account.email):
        return {"passwort": problem}
    return {}  # typed once: the switch "Passwort anzeigen" lets the citizen check it


# ---------------------------------------------------------------- e-mail address


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

