"""Registering with e-mail confirmation.

A registration on the way (from a login that interrupted a booking or a form) keeps the
citizen's place: the page they came from travels through the registration form, waits with
the confirmation token (never in the mailed link), and the confirmation leads back there.
The password is typed once: the link confirms at once in the browser that registered (it
holds the token's hash); in any other browser it asks for the chosen password, so that
nobody can confirm an account someone else registered with their address. The answer is the
same whether or not the address has an account; the mail tells the owner the rest."""

from __future__ import annotations

import hmac
import logging
import secrets

from flask import redirect, request, session, url_for
from sqlalchemy import select

from ..platform import config
from ..platform.auth import (
    KeptPlace,
    keep_kept_form_longer,
    registration_hooks,
    safe_return,
    safe_target,
    start_login,
    token_hash,
)
from ..platform.db import db
from ..platform.models import Account, utcnow
from ..platform.outbox import queue_mail
from ..platform.passwords import hash_password, problem_with, verify_password
from ..platform.ratelimit import limiter
from ..platform.render import current_site, page
from .common import (
    ACCOUNT,
    CONFIRM_HOURS,
    REGISTERED_HERE,
    REGISTRATION_MAILS_PER_ADDRESS,
    Page,
    accounts,
    client_address,
    email_problem,
    issue_token,
    link_expired,
    normalise_email,
    too_many,
    valid_token,
    with_target,
)

log = logging.getLogger("dynamic.accounts.views")  # the name the log lines have always carried


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
                target=target, login_link=with_target("/konto/anmelden", target))


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
