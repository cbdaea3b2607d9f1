"""Holding and confirming: the chosen time is held for the account or the browser, the
login its booking needs comes on the way, and the reservation page books it (a guest
confirms by the link of a mail)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any
from urllib.parse import urlencode

from flask import abort, g, redirect, request, session
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from portal.levels import at_least

from ..inbox.views import deliver_message
from ..platform import auth, config, ratelimit
from ..platform.db import db
from ..platform.metrics import BOOKED
from ..platform.models import Account, Appointment
from ..platform.outbox import queue_mail
from ..platform.ratelimit import Limiter
from ..platform.render import page
from . import booking
from .common import (
    Page,
    appointments,
    clock_text,
    crumbs,
    find_appointment,
    long_date,
    manage_path,
    moving_appointment,
    now,
    offer_of_appointment,
    persons_for,
    service_name,
    signature,
    signed_for,
    tell,
)
from .page_cache import changed
from .slots import local_day

# The name the log lines had before the pages were split (views.py); log filters may use it.
log = logging.getLogger("dynamic.appointments.views")


def form_moment(value: str) -> dt.datetime | None:
    """A time with its zone from a form, or None: not a time, no zone, or at the calendar's
    edge (9999-12-31T23:59Z has no local day)."""
    try:
        moment = dt.datetime.fromisoformat(value)
        if moment.tzinfo is None:
            return None
        local_day(moment)
    except (ValueError, OverflowError):
        return None
    return moment


def hold_or_move(offer: booking.Offer, date: dt.date, zeit: str, moving: bool) -> tuple[str, int] | BaseResponse:
    """The POST of the day page and of the earliest times: hold the chosen time (or move a
    booking to it, from the day page only)."""
    start = form_moment(zeit)
    if start is None or local_day(start) != date:
        return "Wählen Sie eine Uhrzeit.", 400
    current = now()
    if moving:
        appointment = moving_appointment(offer)
        old_day = local_day(appointment.starts_at)
        try:
            booking.move(db(), appointment, offer, start, current)
        except booking.BookingError as error:
            return error.message, error.status
        changed(offer.slug, offer.location_id, old_day, date)
        tell(appointment, "Termin verschoben", "Ihr Termin wurde verschoben.")
        return redirect(manage_path(appointment, signed=bool(request.values.get("s"))) +
                        ("&" if request.values.get("s") else "?") + "hinweis=verschoben", code=303)
    login = auth.current_login()
    needed = offer.booking.trust_level
    # Without the login the booking needs, the time is held for this browser first and the
    # citizen logs in (or registers) on the way to it: nobody takes it meanwhile.
    must_log_in = _must_log_in(offer, login)
    limiter: Limiter = ratelimit.limiter()
    if not limiter.hit(config.settings().booking_limit_address, "booking", request.remote_addr or "-"):
        return ("Von Ihrem Anschluss kamen in kurzer Zeit zu viele Buchungsversuche. "
                "Bitte warten Sie eine Stunde und versuchen Sie es dann erneut."), 429
    try:
        appointment = booking.hold(db(), offer, start, persons_for(offer), current,
                                   account_id=login.account_id if login and not must_log_in else None)
    except booking.BookingError as error:
        log.info("hold refused: %s", type(error).__name__)
        return error.message, error.status
    changed(offer.slug, offer.location_id, date)
    if login is None or must_log_in:
        session["holds"] = [*session.get("holds", [])[-4:], appointment.code]
    reservation = f"/{offer.slug}/termine/reservierung/{appointment.code}"
    return redirect(auth.login_url(needed, reservation) if must_log_in else reservation, code=303)


def _must_log_in(offer: booking.Offer, login: auth.Login | None) -> bool:
    """Does booking this offer need a login (or a higher level) that the citizen has not?"""
    if login is None and offer.booking.without_account:
        return False
    return login is None or not at_least(login.level, offer.booking.trust_level)


def _held_for_login(appointment: Appointment, offer: booking.Offer) -> Page | None:
    """A time held before the login its booking needs: to the login and back here, then the
    hold becomes the account's. A guest's hold (booking without an account) stays as it is."""
    if appointment.account_id is not None:
        return None
    login = auth.current_login()
    if _must_log_in(offer, login):
        return redirect(auth.login_url(offer.booking.trust_level, request.path), code=303)
    if login is None:
        return None  # a guest (booking without an account)
    try:
        booking.adopt(db(), appointment, offer, login.account_id, now())
    except booking.BookingError as error:
        title = "Reservierung abgelaufen" if isinstance(error, booking.SlotGone) else "Buchen nicht möglich"
        return page("konto/hinweis.html", title, status=error.status, message=error.message,
                    link=(f"/{offer.slug}/termine/{offer.service_id}/{offer.location_id}/", "Neue Uhrzeit wählen"))
    return None


@appointments.record_once
def _keep_holds_for_registration(state: Any) -> None:
    auth.add_registration_hook(state.app, hold_while_registering)


def hold_while_registering(target: str) -> auth.KeptPlace | None:
    """Registration on the way (accounts.register): a hold of this browser that `target`
    leads to waits for the confirmation mail as a guest's does (booking.keep_for_login), and
    the return address becomes the signed link, which also works in another browser."""
    from ..platform.catalog import katalog

    # The reservation itself, or its signed link (the reservation page's "Anmelden oder Konto
    # anlegen" sends that one); either way the hold must be this browser's.
    found = re.fullmatch(r"/([a-z0-9-]+)/termine/reservierung/([A-Z0-9-]+)", target.split("?", 1)[0])
    if found is None or found[2] not in session.get("holds", []):
        return None
    target = found[0]
    slug, code = found[1], found[2]
    appointment = db().scalar(select(Appointment).where(Appointment.slug == slug, Appointment.code == code))
    known = katalog(slug)
    if appointment is None or known is None or appointment.account_id is not None:
        return None
    try:
        booking.keep_for_login(db(), appointment, now())
    except booking.SlotGone:
        return None
    until = appointment.held_until
    assert until is not None
    service = service_name(known, appointment.service_id, "")
    return auth.KeptPlace(
        target=f"{target}?" + urlencode({"s": signature(code)}),
        message=f"Ihr Termin „{service}“ am {long_date(local_day(appointment.starts_at))} um "
                f"{clock_text(appointment.starts_at)} bleibt bis {clock_text(until)} für Sie reserviert. "
                "Bestätigen Sie Ihre E-Mail-Adresse bis dahin, dann buchen Sie ihn mit einem Klick.")


@appointments.route("/reservierung/<code>", methods=["GET", "POST"])
def held(slug: str, code: str) -> Page:
    appointment = find_appointment(slug, code)
    if appointment.status != "held":
        return redirect(manage_path(appointment, signed=signed_for(code)), code=303)
    offer = offer_of_appointment(appointment)
    choose_again = (f"/{slug}/termine/{offer.service_id}/{offer.location_id}/", "Neue Uhrzeit wählen")
    if (to_login := _held_for_login(appointment, offer)) is not None:
        return to_login
    current = now()
    if appointment.held_until is not None and appointment.held_until < current:
        booking.release(db(), appointment)
        return page("konto/hinweis.html", "Reservierung abgelaufen", status=410, message=booking.HOLD_EXPIRED,
                    link=choose_again)
    errors: dict[str, str] = {}
    email = ""
    # Logged in on the way from this page, the account has taken the hold over (_held_for_login).
    login = auth.current_login()
    if request.method == "POST":
        if request.form.get("aktion") == "freigeben":
            booking.release(db(), appointment)
            changed(slug, appointment.location_id, local_day(appointment.starts_at))
            return redirect(choose_again[0], code=303)
        if request.form.get("aktion") == "anmelden" and appointment.account_id is None:
            try:
                booking.keep_for_login(db(), appointment, current)
            except booking.SlotGone as error:
                return page("konto/hinweis.html", "Reservierung abgelaufen", status=410, message=error.message,
                            link=choose_again)
            return redirect(_login_from_reservation(appointment), code=303)
        if appointment.account_id is not None:
            try:
                booking.confirm(db(), appointment, current)
            except booking.BookingError as error:
                return page("konto/hinweis.html", "Reservierung abgelaufen", status=error.status,
                            message=error.message,
                            link=choose_again)
            _booked(appointment, offer)
            return redirect(manage_path(appointment) + "?hinweis=gebucht", code=303)
        email = booking.normal_email(request.form.get("email", ""))
        from ..accounts.views import email_problem

        if problem := email_problem(email):
            errors["email"] = problem
        elif not _may_mail_confirmation(email):
            errors["email"] = ("An diese E-Mail-Adresse oder von Ihrem Anschluss aus haben wir in kurzer Zeit zu "
                               "viele Bestätigungen verschickt. Bitte warten Sie eine Stunde und versuchen Sie es "
                               "dann erneut.")
        else:
            try:
                booking.confirm_address(db(), appointment, offer, email, current)
            except booking.SlotGone as error:
                return page("konto/hinweis.html", "Reservierung abgelaufen", status=410, message=error.message,
                            link=choose_again)
            except booking.BookingError as error:
                errors["email"] = error.message
            else:
                _count_confirmation_mail(email)
                token = signature(appointment.code)
                queue_mail(email, "termin-bestaetigen", None,
                           link=f"/{slug}/termine/bestaetigen/{appointment.code}?" + urlencode({"s": token}))
                db().commit()
                minutes = int((appointment.held_until - current).total_seconds() // 60) if appointment.held_until else 0
                return page("konto/hinweis.html", "Bitte bestätigen Sie Ihre E-Mail-Adresse",
                            message="Wir haben Ihnen eine E-Mail mit einem Link geschickt. Ihr Termin ist gebucht, "
                                    "sobald Sie den Link geöffnet und bestätigt haben. Bis dahin halten wir ihn "
                                    f"noch {max(minutes, 1)} Minuten für Sie frei.")
    return page("termine/reservierung.html", "Termin prüfen und buchen", errors=errors,
                crumbs=crumbs(("Termin prüfen und buchen", request.path)), a=appointment, offer=offer,
                long_date=long_date(local_day(appointment.starts_at)), clock_text=clock_text, email=email,
                needs_email=appointment.account_id is None,
                may_log_in=appointment.account_id is None and login is None, login_hold=booking.EMAIL_HOLD)


def _login_from_reservation(appointment: Appointment) -> str:
    """The login that comes back to this reservation (where the account takes the hold over;
    the hold lasts meanwhile as long as for a confirmation mail, see booking.keep_for_login).
    `ohne_konto` names the way back for the login page's "Ohne Konto weiter mit Ihrer
    E-Mail-Adresse"; it is a path of this portal, checked there like `weiter`."""
    # Signed: a login starts a new cookie session, without the holds of this browser.
    here = f"/{appointment.slug}/termine/reservierung/{appointment.code}?" + urlencode(
        {"s": signature(appointment.code)})
    return auth.login_url("basis", here) + "&" + urlencode({"ohne_konto": here + "#ohne-konto"})


@appointments.route("/bestaetigen/<code>", methods=["GET", "POST"])
def confirm_by_mail(slug: str, code: str) -> Page:
    if not signed_for(code):
        abort(404)
    appointment = find_appointment(slug, code)
    if appointment.status == "booked":
        return redirect(manage_path(appointment, signed=True), code=303)
    if request.method == "GET":
        # A button makes the booking, not the link: mail scanners open links too.
        return page("termine/email_bestaetigen.html", "Termin verbindlich buchen", a=appointment,
                    crumbs=crumbs(("Termin bestätigen", request.path)), signature=request.values["s"],
                    long_date=long_date(local_day(appointment.starts_at)), clock_text=clock_text)
    offer = offer_of_appointment(appointment)
    try:
        booking.confirm(db(), appointment, now())
    except booking.BookingError as error:
        return page("konto/hinweis.html", "Reservierung abgelaufen", status=error.status, message=error.message,
                    link=(f"/{slug}/termine/{offer.service_id}/{offer.location_id}/", "Neue Uhrzeit wählen"))
    _booked(appointment, offer)
    return redirect(manage_path(appointment, signed=True) + "&hinweis=gebucht", code=303)


def _booked(appointment: Appointment, offer: booking.Offer) -> None:
    """After booking: a message in the inbox (accounts) and a mail that only links to it."""
    BOOKED.labels(appointment.slug).inc()
    link = manage_path(appointment, signed=True)
    if appointment.account_id is not None:
        when = f"{long_date(local_day(appointment.starts_at))}, {clock_text(appointment.starts_at)}"
        deliver_message(
            appointment.account_id, appointment.slug, g.katalog.municipality.name,
            f"Termin gebucht: {offer.service.name}",
            f"Ihr Termin ist gebucht: {when}, {offer.location.name}.\n\nBuchungsnummer: {appointment.code}",
            link=manage_path(appointment), notify=False)
    address = appointment.email or _account_email(appointment.account_id)
    if address:
        queue_mail(address, "termin-gebucht", appointment.account_id, link=link,
                   guest="ja" if appointment.account_id is None else "")
    db().commit()


def _account_email(account_id: int | None) -> str | None:
    account = db().get(Account, account_id) if account_id is not None else None
    return account.email if account is not None and account.email_confirmed_at is not None else None


def _may_mail_confirmation(address: str) -> bool:
    """Confirmation mails are bounded per hold (booking.MAILS_PER_HOLD), per address and per
    client address: a stranger cannot make the portal mail anyone again and again."""
    limiter: Limiter = ratelimit.limiter()
    return (limiter.allowed(CONFIRMATIONS_PER_ADDRESS, "booking-mail", address)
            and limiter.allowed(config.settings().booking_limit_address, "booking-mail-client",
                                request.remote_addr or "-"))


def _count_confirmation_mail(address: str) -> None:
    limiter: Limiter = ratelimit.limiter()
    limiter.hit(CONFIRMATIONS_PER_ADDRESS, "booking-mail", address)
    limiter.hit(config.settings().booking_limit_address, "booking-mail-client", request.remote_addr or "-")


CONFIRMATIONS_PER_ADDRESS = "5/hour"
