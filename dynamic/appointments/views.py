"""Citizens' booking under /<slug>/termine/: service → location → day → time → hold →
confirm; the appointment's own page with calendar file, move and cancel.

Every page works without JavaScript. Pages are found by the booking code plus either the
logged-in account, the browser that held it, or a signed link (from the mail), so links
keep working after logout.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, g, redirect, request, session
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from katalog.models import Katalog, Location, Service, ServiceBooking
from portal.levels import TrustLevel, at_least
from portal.text import fee_text

from ..inbox.views import deliver_message
from ..platform import auth, config, ratelimit
from ..platform.catalog import katalog_or_404
from ..platform.db import db
from ..platform.metrics import BOOKED
from ..platform.models import Account, Appointment
from ..platform.outbox import queue_mail
from ..platform.ratelimit import Limiter
from ..platform.render import page, remember_municipality
from . import booking
from .calendar_file import ics_for
from .page_cache import ALL, changed, slot_pages
from .slots import BERLIN, Slot, bookable_days, local_day, plausible_day

log = logging.getLogger(__name__)

appointments = Blueprint("appointments", __name__, url_prefix="/<slug>/termine")
Page = tuple[str, int] | BaseResponse

MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
          "November", "Dezember")
WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
STATUS = {"held": "reserviert", "booked": "gebucht", "cancelled": "abgesagt", "arrived": "erschienen",
          "done": "erledigt", "no_show": "nicht erschienen"}


def now() -> dt.datetime:
    """The current time; tests may set app.config["CLOCK"] to a function."""
    return config.now()


@appointments.url_value_preprocessor
def _municipality(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    slug = (values or {}).get("slug", "")
    g.katalog = katalog_or_404(slug)
    g.site_slug = slug


def long_date(day: dt.date) -> str:
    return f"{WEEKDAYS[day.weekday()]}, {day.day}. {MONTHS[day.month - 1]} {day.year}"


def clock_text(moment: dt.datetime) -> str:
    return moment.astimezone(BERLIN).strftime("%H:%M Uhr")


def _offer(service_id: str, location_id: str) -> booking.Offer:
    found = booking.offer_of(g.katalog, service_id, location_id)
    if found is None:
        abort(404)
    return found


def _town_name(location: Location) -> str | None:
    towns = {t.id: t.name for t in g.katalog.municipality.towns}
    return towns.get(location.town or "")


def _crumbs(*rest: tuple[str, str]) -> list[tuple[str, str]]:
    base = f"/{g.katalog.slug}/"
    return [("Startseite", base), ("Termine", base + "termine/"), *rest]


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="termin-verwalten")


def signature(code: str) -> str:
    return str(_signer().dumps(code))


def manage_path(appointment: Appointment, signed: bool = False) -> str:
    path = f"/{appointment.slug}/termine/termin/{appointment.code}"
    return path + ("?" + urlencode({"s": signature(appointment.code)}) if signed else "")


def _signed_for(code: str) -> bool:
    value = request.values.get("s")
    if not value:
        return False
    try:
        return bool(_signer().loads(value) == code)
    except BadSignature:
        return False


def _signature(code: str) -> dict[str, str]:
    """The signed link's parameter, to carry on to the next page, or nothing."""
    return {"s": request.values["s"]} if _signed_for(code) else {}


def _find(slug: str, code: str) -> Appointment:
    """The appointment, if this request may see it: its account, the browser that held it,
    or a signed link. Anyone else gets the same 404 as for a code that does not exist."""
    appointment = db().scalar(select(Appointment).where(Appointment.slug == slug, Appointment.code == code))
    if appointment is None:
        abort(404)
    login = auth.current_login()
    if login is not None and appointment.account_id == login.account_id:
        return appointment
    if code in session.get("holds", []) or _signed_for(code):
        return appointment
    abort(404)


# ---------------------------------------------------------------- choosing


@appointments.get("/")
def services(slug: str) -> Page:
    remember_municipality()
    bookable = [(sid, s) for sid, s in g.katalog.services.items() if s.booking]
    bookable.sort(key=lambda item: item[1].name)
    return page("termine/start.html", "Termin buchen", crumbs=_crumbs(), services=bookable)


@appointments.get("/<service_id>/")
def locations(slug: str, service_id: str) -> Page:
    service = _bookable_service(service_id)
    current = now()
    places: list[dict[str, Any]] = []
    for offer in _offers(service_id):
        earliest = _earliest(offer, current, 1)
        places.append({"id": offer.location_id, "name": offer.location.name,
                       "address": offer.location.address or {}, "town": _town_name(offer.location),
                       "next": earliest[0] if earliest else None})
    places.sort(key=lambda p: (p["town"] or "", p["name"]))
    return page("termine/orte.html", service.name, crumbs=_crumbs((service.name, request.path)),
                service=service, service_id=service_id, places=places,
                is_district=g.katalog.municipality.is_district,
                level_label=TrustLevel(service_booking(service).trust_level).label, long_date=long_date,
                clock_text=clock_text, local_day=local_day)


def _bookable_service(service_id: str) -> Service:
    service = g.katalog.services.get(service_id)
    if service is None or service.booking is None:
        abort(404)
    return service


def service_booking(service: Service) -> ServiceBooking:
    """The booking block of a service _bookable_service returned."""
    assert service.booking is not None
    return service.booking


def _offers(service_id: str) -> list[booking.Offer]:
    """The service's offers at each of its locations that exist, in the order of the switch."""
    service = g.katalog.services[service_id]
    found = (booking.offer_of(g.katalog, service_id, lid) for lid in service_booking(service).locations)
    return [offer for offer in found if offer is not None]


def _earliest(offer: booking.Offer, current: dt.datetime, want: int,
              first_day: dt.date | None = None) -> list[Slot]:
    """The offer's first `want` free times, remembered per state of the location and minute."""
    name = f"earliest:{offer.service_id}:{want}:{first_day or ''}"
    found: list[Slot] = slot_pages().remembered(
        offer.slug, offer.location_id, name, _minute(current),
        lambda: booking.earliest_free(db(), offer, current, want, first_day))
    return found


EARLIEST_PER_LOCATION = 3  # free times looked up per location for the view across locations
EARLIEST_SHOWN = 12


@appointments.route("/<service_id>/frueheste-zeiten/", methods=["GET", "POST"])
def earliest(slug: str, service_id: str) -> Page:
    """The earliest free times across all locations of the service (in a district: of all its
    towns), from which the citizen picks one directly. At most EARLIEST_PER_LOCATION times per
    location are looked up, each lookup bounded by the location's horizon (see earliest_free)."""
    service = _bookable_service(service_id)
    offers = {offer.location_id: offer for offer in _offers(service_id)}
    current = now()
    today = local_day(current)
    first_day: dt.date | None = None
    if request.values.get("ab"):
        last_day = today + dt.timedelta(days=max((o.schedule.days_ahead for o in offers.values()), default=0))
        try:
            first_day = dt.date.fromisoformat(request.values["ab"])
        except ValueError:
            first_day = None
        if first_day is None or not today <= first_day <= last_day:
            return page("konto/hinweis.html", "Datum nicht möglich", status=400,
                        message=f"Termine gibt es vom {today:%d.%m.%Y} bis zum {last_day:%d.%m.%Y}. Wählen Sie "
                                "einen Tag in diesem Zeitraum.",
                        link=(f"/{slug}/termine/{service_id}/frueheste-zeiten/", "Früheste freie Zeit ab heute"))
    error: str | None = None
    status = 200
    kept = auth.kept_form() if request.method == "GET" else None
    kept_choice = (kept or {}).get("wahl") or []
    chosen = request.form.get("wahl") or (kept_choice[0] if kept_choice else None)
    if request.method == "POST":
        location_id, _, zeit = request.form.get("wahl", "").partition(" ")
        offer = offers.get(location_id)
        start = _moment(zeit)
        if offer is None or start is None:
            error, status = "Wählen Sie eine Uhrzeit.", 400
        else:
            outcome = _choose(offer, local_day(start), zeit, moving=False)
            if isinstance(outcome, BaseResponse):
                return outcome
            error, status = outcome
    times = sorted(((slot, offer) for offer in offers.values()
                    for slot in _earliest(offer, current, EARLIEST_PER_LOCATION, first_day)),
                   key=lambda item: (item[0].start, _town_name(item[1].location) or "", item[1].location.name))
    persons = _persons_of(service_booking(service))
    return page("termine/frueheste.html", f"{service.name}: früheste freie Zeit", status=status,
                errors={"wahl": error} if error else None,
                crumbs=_crumbs((service.name, f"/{slug}/termine/{service_id}/"),
                               ("Früheste freie Zeit", request.path)),
                service=service, service_id=service_id, times=times[:EARLIEST_SHOWN], chosen=chosen,
                kept=kept is not None, first_day=first_day, persons=persons, long_date=long_date,
                clock_text=clock_text, local_day=local_day, town_of=_town_name,
                is_district=g.katalog.municipality.is_district)


def _persons(offer: booking.Offer) -> int:
    return _persons_of(offer.booking)


def _persons_of(offered: ServiceBooking) -> int:
    try:
        persons = int(request.values.get("personen", "1"))
    except ValueError:
        persons = 1
    return min(max(persons, 1), offered.max_persons)


def _moving() -> dict[str, str]:
    """Query parameters that carry a move through the calendar (code and signature)."""
    code = request.values.get("verschieben")
    if not code:
        return {}
    extra = {"verschieben": code}
    if request.values.get("s"):
        extra["s"] = request.values["s"]
    return extra


@appointments.get("/<service_id>/<location_id>/")
def month(slug: str, service_id: str, location_id: str) -> Page:
    offer = _offer(service_id, location_id)
    current = now()
    if _moving():
        _moving_appointment(offer)
        return _month_page(offer, current), 200
    return slot_pages().page(slug, location_id, ALL, request.full_path, _minute(current),
                             lambda _token: _month_page(offer, current)), 200


def _minute(moment: dt.datetime) -> str:
    return moment.strftime("%Y%m%d%H%M")


def _month_page(offer: booking.Offer, current: dt.datetime) -> str:
    slug, service_id = offer.slug, offer.service_id
    days = bookable_days(offer.schedule, current)
    try:
        first = dt.date.fromisoformat(request.args.get("monat", "") + "-01")
    except ValueError:
        first = days[0].replace(day=1)
    first = min(max(first, days[0].replace(day=1)), days[-1].replace(day=1))
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    in_month = [d for d in days if first <= d <= last]
    counts = booking.free_day_counts(db(), offer, in_month, current)
    persons = _persons(offer)
    query = {"personen": str(persons), **_moving()}
    weeks = calendar.Calendar().monthdatescalendar(first.year, first.month)
    previous_month = (first - dt.timedelta(days=1)).replace(day=1)
    next_month = last + dt.timedelta(days=1)
    return page(
        "termine/kalender.html", f"{offer.service.name}: Tag wählen",
        crumbs=_crumbs((offer.service.name, f"/{slug}/termine/{service_id}/"),
                       (offer.location.name, request.path)),
        offer=offer, weeks=weeks, first=first, counts=counts, month_name=f"{MONTHS[first.month - 1]} {first.year}",
        previous_month=previous_month if previous_month >= days[0].replace(day=1) else None,
        next_month=next_month if next_month <= days[-1] else None, query=query, persons=persons,
        free_total=sum(counts.values()), long_date=long_date, town=_town_name(offer.location),
        phone=offer.location.phone)[0]


@appointments.route("/<service_id>/<location_id>/<day>/", methods=["GET", "POST"])
def day_view(slug: str, service_id: str, location_id: str, day: str) -> Page:
    offer = _offer(service_id, location_id)
    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        abort(404)
    if not plausible_day(date):
        abort(404)
    error: str | None = None
    status = 200
    kept = auth.kept_form() if request.method == "GET" else None
    if request.method == "POST":
        outcome = _choose(offer, date, request.form.get("zeit", ""), moving=bool(_moving()))
        if isinstance(outcome, BaseResponse):
            return outcome
        error, status = outcome
    current = now()
    moving = _moving()
    ignore = _moving_appointment(offer) if moving else None

    def render(csrf_token: Callable[[], str]) -> str:
        slots = booking.free_on(db(), offer, date, current, ignore=ignore)
        kept_time = (kept or {}).get("zeit") or []
        chosen = request.form.get("zeit") or (kept_time[0] if kept_time else None)
        return page(
            "termine/tag.html", f"{offer.service.name}: Uhrzeit wählen", status=status,
            errors={"zeit": error} if error else None,
            crumbs=_crumbs((offer.service.name, f"/{slug}/termine/{service_id}/"),
                           (offer.location.name, f"/{slug}/termine/{service_id}/{location_id}/"),
                           (long_date(date), request.path)),
            offer=offer, date=date, long_date=long_date(date), slots=slots, chosen=chosen, clock_text=clock_text,
            persons=_persons(offer), moving=moving, kept=kept is not None, csrf_token=csrf_token,
            month_link=f"/{slug}/termine/{service_id}/{location_id}/?" + urlencode(
                {"monat": date.strftime("%Y-%m"), "personen": _persons(offer), **moving}))[0]

    if request.method == "GET" and kept is None and not moving:
        return slot_pages().page(slug, location_id, date.isoformat(), request.full_path, _minute(current),
                                 render), 200
    return render(generate_csrf), status


def _moving_appointment(offer: booking.Offer) -> Appointment:
    """The appointment being moved, which must be one of this page's location and service:
    a move goes to another time of the same place, never through another location's page."""
    appointment = _find(offer.slug, request.values["verschieben"])
    if (appointment.location_id, appointment.service_id) != (offer.location_id, offer.service_id):
        abort(404)
    return appointment


def _moment(value: str) -> dt.datetime | None:
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


def _choose(offer: booking.Offer, date: dt.date, zeit: str, moving: bool) -> tuple[str, int] | BaseResponse:
    """The POST of the day page and of the earliest times: hold the chosen time (or move a
    booking to it, from the day page only)."""
    start = _moment(zeit)
    if start is None or local_day(start) != date:
        return "Wählen Sie eine Uhrzeit.", 400
    current = now()
    if moving:
        appointment = _moving_appointment(offer)
        old_day = local_day(appointment.starts_at)
        try:
            booking.move(db(), appointment, offer, start, current)
        except booking.BookingError as error:
            return error.message, error.status
        changed(offer.slug, offer.location_id, old_day, date)
        _tell(appointment, "Termin verschoben", "Ihr Termin wurde verschoben.")
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
        appointment = booking.hold(db(), offer, start, _persons(offer), current,
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
    service = _service_name(known, appointment.service_id, "")
    return auth.KeptPlace(
        target=f"{target}?" + urlencode({"s": signature(code)}),
        message=f"Ihr Termin „{service}“ am {long_date(local_day(appointment.starts_at))} um "
                f"{clock_text(appointment.starts_at)} bleibt bis {clock_text(until)} für Sie reserviert. "
                "Bestätigen Sie Ihre E-Mail-Adresse bis dahin, dann buchen Sie ihn mit einem Klick.")


# ---------------------------------------------------------------- hold and confirm


def _offer_of(appointment: Appointment) -> booking.Offer:
    found = booking.offer_of(g.katalog, appointment.service_id, appointment.location_id)
    if found is None:
        abort(404)  # switched off since: the appointment page still shows it (see termin)
    return found


@appointments.route("/reservierung/<code>", methods=["GET", "POST"])
def held(slug: str, code: str) -> Page:
    appointment = _find(slug, code)
    if appointment.status != "held":
        return redirect(manage_path(appointment, signed=_signed_for(code)), code=303)
    offer = _offer_of(appointment)
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
                crumbs=_crumbs(("Termin prüfen und buchen", request.path)), a=appointment, offer=offer,
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
    if not _signed_for(code):
        abort(404)
    appointment = _find(slug, code)
    if appointment.status == "booked":
        return redirect(manage_path(appointment, signed=True), code=303)
    if request.method == "GET":
        # A button makes the booking, not the link: mail scanners open links too.
        return page("termine/email_bestaetigen.html", "Termin verbindlich buchen", a=appointment,
                    crumbs=_crumbs(("Termin bestätigen", request.path)), signature=request.values["s"],
                    long_date=long_date(local_day(appointment.starts_at)), clock_text=clock_text)
    offer = _offer_of(appointment)
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


def _tell(appointment: Appointment, subject: str, text: str) -> None:
    if appointment.account_id is None:
        return
    deliver_message(appointment.account_id, appointment.slug, g.katalog.municipality.name,
                    f"{subject}: {_service_name(g.katalog, appointment.service_id)}",
                    f"{text} {long_date(local_day(appointment.starts_at))}, {clock_text(appointment.starts_at)}."
                    f"\n\nBuchungsnummer: {appointment.code}", link=manage_path(appointment), notify=False)
    db().commit()


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

# ---------------------------------------------------------------- the appointment


NOTICES = {
    "gebucht": "Ihr Termin ist gebucht. Eine Bestätigung liegt in Ihrem Postfach; per E-Mail bekommen Sie "
               "nur einen Hinweis mit dem Link zu dieser Seite.",
    "verschoben": "Ihr Termin wurde verschoben.",
    "abgesagt": "Ihr Termin ist abgesagt. Die Zeit ist für andere wieder frei.",
}
GUEST_NOTICES = {  # a booking without an account has no inbox: the mail's link is the way back
    **NOTICES,
    "gebucht": "Ihr Termin ist gebucht. Wir haben Ihnen eine E-Mail mit dem Link zu dieser Seite geschickt. Bitte "
               "bewahren Sie die E-Mail auf: Nur über diesen Link können Sie den Termin ansehen, verschieben oder "
               "absagen.",
}


def _service_name(known: Katalog, service_id: str, missing: str | None = None) -> str:
    """The service's name; `missing` (else its id) for one no longer in the katalog."""
    service = known.services.get(service_id)
    return service.name if service is not None else (service_id if missing is None else missing)


def _fees(service: Service | None) -> list[tuple[str, str, str | None]]:
    """The service's fees as (what for, amount, note), as the service page shows them."""
    rows = []
    for fee in service.fees if service is not None else []:
        amount = fee_text(fee)
        note = fee.note if fee.note and (fee.amount is not None or fee.amount_min is not None) else None
        rows.append((fee.label, amount, note))
    return rows


@appointments.get("/termin/<code>")
def appointment_page(slug: str, code: str) -> Page:
    appointment = _find(slug, code)
    service = g.katalog.services.get(appointment.service_id)
    location = g.katalog.locations.get(appointment.location_id)
    offer = booking.offer_of(g.katalog, appointment.service_id, appointment.location_id)
    changeable = booking.changeable(appointment, offer.schedule if offer else None, now())
    signed = _signature(code)
    return page("termine/termin.html", f"Ihr Termin: {_service_name(g.katalog, appointment.service_id, '')}",
                crumbs=_crumbs(("Ihr Termin", request.path)), a=appointment, service=service, location=location,
                long_date=long_date(local_day(appointment.starts_at)), clock_text=clock_text,
                status_label=STATUS[appointment.status], changeable=changeable, signed=signed,
                notice=(NOTICES if appointment.account_id is not None else GUEST_NOTICES).get(
                    request.args.get("hinweis", "")),
                just_booked=request.args.get("hinweis") == "gebucht" and appointment.status == "booked",
                documents=service.documents if service is not None else [], fees=_fees(service),
                cancel_hours=int(offer.schedule.cancel_before.total_seconds() // 3600) if offer else None,
                move_link=(f"/{slug}/termine/{appointment.service_id}/{appointment.location_id}/?" + urlencode(
                    {"personen": appointment.persons, "verschieben": appointment.code, **signed})))


@appointments.get("/termin/<code>/termin.ics")
def calendar_file(slug: str, code: str) -> Response:
    appointment = _find(slug, code)
    if appointment.status not in ("booked", "arrived", "cancelled"):
        abort(404)
    service = g.katalog.services.get(appointment.service_id)
    location = g.katalog.locations.get(appointment.location_id)
    # A calendar opens the link without the citizen's login or holding cookie: like the
    # mail, it carries the signature.
    body = ics_for(appointment, service, location, g.katalog.municipality.name,
                   config.settings().base_url + manage_path(appointment, signed=True))
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="termin-{appointment.code}.ics"'})


@appointments.route("/termin/<code>/absagen", methods=["GET", "POST"])
def cancel(slug: str, code: str) -> Page:
    """GET asks first (the time goes to others at once, there is no undo); POST cancels."""
    appointment = _find(slug, code)
    offer = booking.offer_of(g.katalog, appointment.service_id, appointment.location_id)
    schedule = offer.schedule if offer else None
    if request.method == "GET":
        link_signature = _signature(code)
        back = manage_path(appointment, signed=bool(link_signature))
        if not booking.changeable(appointment, schedule, now()):
            return redirect(back, code=303)  # the appointment's page says what is still possible
        service = g.katalog.services.get(appointment.service_id)
        location = g.katalog.locations.get(appointment.location_id)
        return page("termine/absagen.html", "Termin absagen?", crumbs=_crumbs(("Termin absagen", request.path)),
                    a=appointment, service=service, location=location, signed=link_signature, back=back,
                    long_date=long_date(local_day(appointment.starts_at)), clock_text=clock_text)
    try:
        if schedule is None:
            raise booking.TooLate("Dieser Termin kann nicht online abgesagt werden. Bitte rufen Sie uns an.")
        booking.cancel(db(), appointment, schedule, now())
        changed(slug, appointment.location_id, local_day(appointment.starts_at))
    except booking.BookingError as error:
        return page("konto/hinweis.html", "Absagen nicht möglich", status=error.status, message=error.message,
                    link=(manage_path(appointment, signed=_signed_for(code)), "Zurück zum Termin"))
    _tell(appointment, "Termin abgesagt", "Ihr Termin wurde abgesagt:")
    signed = _signed_for(code)
    return redirect(manage_path(appointment, signed=signed) + ("&" if signed else "?") + "hinweis=abgesagt", code=303)

