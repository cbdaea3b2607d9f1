"""The staff area of a municipality under /<slug>/verwaltung/: login, the day's appointments
per location and counter (printable), marking arrived / done / no-show, blocked times, and
an iCalendar feed per location behind a secret address.

Every row is reached through a `Scope` (staff_scope.py), which exists only for a clerk of
the URL's municipality: a clerk of another municipality is not logged in here.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    get_flashed_messages,
    make_response,
    redirect,
    request,
    url_for,
)
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from katalog.models import BookingSettings, Katalog, Location

from ..appointments.page_cache import changed
from ..appointments.slots import BERLIN, day_window, local_day
from ..platform import config, ratelimit
from ..platform.catalog import katalog_or_404
from ..platform.db import db
from ..platform.models import Block, StaffUser, utcnow
from ..platform.passwords import hash_password, needs_rehash, verify_password
from ..platform.ratelimit import Limiter
from ..platform.render import page, site_for
from .calendar import counter_text, location_feed
from .forms import (
    ACTIONS,
    MARKS,
    STATUS_LABELS,
    BlockRequest,
    day_text,
    parse_day,
    read_block_form,
    status_change_problem,
)
from .scope import Scope, end_staff_login, feed_scope, staff_scope, staff_user, start_staff_login

log = logging.getLogger(__name__)

staff = Blueprint("staff", __name__, url_prefix="/<slug>/verwaltung")

Page = tuple[str, int] | Response
F = TypeVar("F", bound=Callable[..., Any])

WRONG_LOGIN = "Benutzername oder Passwort sind nicht richtig."
TOO_MANY = "Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie 15 Minuten und versuchen Sie es dann erneut."


@staff.before_request
def _municipality() -> None:
    slug = (request.view_args or {}).get("slug", "")
    katalog_or_404(slug)
    g.site_slug = slug


def staff_only(view: F) -> F:
    """The view gets the clerk's Scope; without a login of this municipality: the login page."""

    @wraps(view)
    def guarded(slug: str, **kwargs: Any) -> Any:
        scope = staff_scope(slug)
        if scope is None:
            back = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("staff.login", slug=slug, weiter=back), 303)
        return view(scope, **kwargs)

    return cast(F, guarded)


# ---------------------------------------------------------------- the municipality's katalog


def booking_locations(katalog: Katalog) -> list[str]:
    """Locations that take appointments: a `booking` block, or named by an appointments feature."""
    locations = katalog.locations
    named = [lid for feature in katalog.municipality.features.appointments for lid in feature.locations]
    found = [lid for lid, location in locations.items() if location.booking]
    return [lid for lid in dict.fromkeys([*found, *named]) if lid in locations]


def location_or_404(katalog: Katalog, location_id: str) -> Location:
    location = katalog.locations.get(location_id)
    if location is None:
        abort(404)
    return location


def booking_settings(location: Location) -> BookingSettings:
    """The location's booking settings (the defaults where it has none)."""
    return location.booking or BookingSettings()


def service_names(katalog: Katalog) -> dict[str, str]:
    return {sid: service.name for sid, service in katalog.services.items()}


def today() -> dt.date:
    return local_day(utcnow())


def clock(moment: dt.datetime) -> str:
    return moment.astimezone(BERLIN).strftime("%H:%M")


def day_url(slug: str, location_id: str, day: dt.date, anchor: str | None = None) -> str:
    return url_for("staff.day", slug=slug, location_id=location_id, tag=day.isoformat(), _anchor=anchor)


def staff_page(template: str, title: str, slug: str, trail: list[tuple[str, str]] | None = None,
               status: int = 200, errors: dict[str, str] | None = None, **context: Any) -> tuple[str, int]:
    site = site_for(slug)
    home = [] if title == "Verwaltung" else [("Verwaltung", url_for("staff.overview", slug=slug))]
    crumbs = [("Startseite", site.base), *home, *(trail or []), (title, request.full_path.rstrip("?"))]
    notices = get_flashed_messages(with_categories=True)
    return page(template, title, status=status, errors=errors, crumbs=crumbs, slug=slug, clerk=staff_user(),
                notices=notices, **context)


# ---------------------------------------------------------------- login and logout


def limiter() -> Limiter:
    found: Limiter = ratelimit.limiter()
    return found


def safe_staff_return(slug: str, value: str | None) -> str:
    """Back to where the clerk was, only within this municipality's staff area."""
    home = url_for("staff.overview", slug=slug)
    if not value or not value.startswith(home) or any(ord(char) < 32 or char == "\\" for char in value):
        return home
    return value


@staff.route("/anmelden", methods=["GET", "POST"])
def login(slug: str) -> Page:
    back = safe_staff_return(slug, request.values.get("weiter"))
    if staff_scope(slug) is not None and request.method == "GET":
        return redirect(back)
    errors: dict[str, str] = {}
    status = 200
    username = ""
    if request.method == "POST":
        username = request.form.get("benutzername", "").strip()
        outcome = _password_login(slug, username, request.form.get("passwort", ""))
        if outcome is None:
            return redirect(back, 303)
        errors, status = outcome
    other = staff_user()
    elsewhere = site_for(other.slug).grammar.genitive if other is not None and other.slug != slug else None
    return staff_page("verwaltung/anmelden.html", "Anmelden für die Verwaltung", slug, status=status,
                      errors=errors, username=username, back=back, elsewhere=elsewhere,
                      logged_out=request.args.get("abgemeldet") == "1")


def _password_login(slug: str, username: str, password: str) -> tuple[dict[str, str], int] | None:
    """Log a clerk in; None on success, else the errors and the HTTP status. An unknown name
    and a wrong password get the same answer, limited per name and per address."""
    if not username:
        return {"benutzername": "Geben Sie Ihren Benutzernamen an."}, 200
    settings = config.settings()
    address = request.remote_addr or "unbekannt"
    account_key = f"{slug}\0{username.lower()}"
    if not (limiter().allowed(settings.login_limit_account, "staff-login-account", account_key)
            and limiter().allowed(settings.login_limit_address, "staff-login-address", address)):
        log.info("staff login refused: too many failed attempts")
        return {"benutzername": TOO_MANY}, 429
    user = db().scalar(select(StaffUser).where(StaffUser.slug == slug, StaffUser.username == username))
    if not verify_password(user.password_hash if user else None, password) or user is None:
        limiter().hit(settings.login_limit_account, "staff-login-account", account_key)
        limiter().hit(settings.login_limit_address, "staff-login-address", address)
        log.info("staff login failed")
        return {"benutzername": WRONG_LOGIN}, 200
    limiter().reset(settings.login_limit_account, "staff-login-account", account_key)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    start_staff_login(user)
    return None


@staff.post("/abmelden")
def logout(slug: str) -> Response:
    end_staff_login()
    return redirect(url_for("staff.login", slug=slug, abgemeldet=1), 303)


# ---------------------------------------------------------------- overview and day view


@staff.get("/")
@staff_only
def overview(scope: Scope) -> Page:
    katalog = katalog_or_404(scope.slug)
    locations = [(lid, katalog.locations[lid]) for lid in booking_locations(katalog)]
    return staff_page("verwaltung/index.html", "Verwaltung", scope.slug, locations=locations,
                      today=today())


@staff.get("/termine/<location_id>/")
@staff_only
def day(scope: Scope, location_id: str) -> Page:
    katalog = katalog_or_404(scope.slug)
    location_or_404(katalog, location_id)
    errors: dict[str, str] = {}
    raw = request.args.get("tag", "")
    chosen = parse_day(raw) if raw else today()
    if chosen is None:
        errors["datum"] = "Geben Sie ein gültiges Datum an, zum Beispiel 30.11.2026."
    return day_page(scope, katalog, location_id, chosen or today(), nav_errors=errors,
                    status=400 if errors else 200)


def day_page(scope: Scope, katalog: Katalog, location_id: str, shown: dt.date,
             nav_errors: dict[str, str] | None = None, block_errors: dict[str, str] | None = None,
             block_form: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    location = katalog.locations[location_id]
    start, end = day_window(shown)
    appointments = scope.appointments(location_id, start, end)
    blocks = scope.blocks(location_id, start, end)
    counters = max([booking_settings(location).counters, *(a.counter for a in appointments)])
    names = service_names(katalog)
    tables = []
    for counter in range(1, counters + 1):
        rows: list[dict[str, Any]] = [
            {"start": a.starts_at, "appointment": a, "service": names.get(a.service_id, a.service_id),
             "actions": ACTIONS.get(a.status, ())}
            for a in appointments if a.counter == counter and a.status != "cancelled"]
        rows += [{"start": b.starts_at, "block": b} for b in blocks if b.counter in (None, counter)]
        rows.sort(key=lambda row: row["start"])
        tables.append((counter, rows))
    cancelled = [(a, names.get(a.service_id, a.service_id)) for a in appointments if a.status == "cancelled"]
    errors = {**(nav_errors or {}), **(block_errors or {})}
    form = block_form or {"tag": shown.isoformat(), "von": "", "bis": "", "schalter": "alle", "grund": ""}
    title = f"Termine {location.name}"
    return staff_page("verwaltung/tag.html", title, scope.slug, status=status, errors=errors,
                      location_id=location_id, location=location, shown=shown, shown_text=day_text(shown),
                      today=today(), day_text=day_text, tables=tables, cancelled=cancelled, blocks=blocks,
                      counters=counters,
                      form=form, labels=STATUS_LABELS, clock=clock, counter_text=counter_text,
                      previous=shown - dt.timedelta(days=1), following=shown + dt.timedelta(days=1))


# ---------------------------------------------------------------- marking


@staff.post("/termine/<int:appointment_id>/status")
@staff_only
def mark(scope: Scope, appointment_id: int) -> Response:
    appointment = scope.appointment(appointment_id)
    if appointment is None:
        abort(404)
    new = request.form.get("status", "")
    if new not in MARKS:
        abort(400)
    old = appointment.status
    when = local_day(appointment.starts_at)
    back = day_url(scope.slug, appointment.location_id, when, f"schalter-{appointment.counter}")
    problem = status_change_problem(old, new, when, today())
    if problem:
        flash(problem, "error")
    elif not scope.change_status(appointment, old, new):
        flash("Der Termin wurde inzwischen geändert. Bitte prüfen Sie den angezeigten Stand.", "error")
    elif new == "booked":
        flash(f"Die Markierung von Termin {appointment.code} ist zurückgesetzt. Er gilt wieder als „gebucht“.",
              "notice")
    else:
        flash(f"Termin {appointment.code} um {clock(appointment.starts_at)} Uhr ist als „{STATUS_LABELS[new]}“ "
              "markiert.", "notice")
    return redirect(back, 303)


# ---------------------------------------------------------------- blocks


@staff.post("/termine/<location_id>/sperren")
@staff_only
def add_block(scope: Scope, location_id: str) -> Page:
    katalog = katalog_or_404(scope.slug)
    location = location_or_404(katalog, location_id)
    counters = booking_settings(location).counters
    form = {name: request.form.get(name, "") for name in ("tag", "von", "bis", "schalter", "grund")}
    wanted, errors = read_block_form(form, counters, today())
    if wanted is None:
        shown = parse_day(form["tag"]) or today()
        return day_page(scope, katalog, location_id, shown, block_errors=errors, block_form=form, status=400)
    block = _save_block(scope, location_id, wanted, counters)
    if block is None:
        flash("Die Sperre wurde nicht gespeichert, weil gleichzeitig Termine gebucht wurden. "
              "Bitte versuchen Sie es noch einmal.", "error")
        return redirect(day_url(scope.slug, location_id, wanted.day), 303)
    whom = "alle Schalter" if wanted.counter is None else f"Schalter {wanted.counter}"
    flash(f"Die Zeit von {clock(block.starts_at)} bis {clock(block.ends_at)} Uhr am {day_text(wanted.day)} ist "
          f"für {whom} gesperrt.", "notice")
    staying = scope.overlapping(location_id, block.starts_at, block.ends_at, wanted.counters(counters))
    if staying:
        listed = "; ".join(f"{clock(a.starts_at)} Uhr, Schalter {a.counter}, Buchungscode {a.code}" for a in staying)
        if len(staying) == 1:
            flash(f"1 Termin liegt in dieser Zeit und bleibt bestehen: {listed}.", "warning")
        else:
            flash(f"{len(staying)} Termine liegen in dieser Zeit und bleiben bestehen: {listed}.", "warning")
    return redirect(day_url(scope.slug, location_id, wanted.day, "sperren"), 303)


def _save_block(scope: Scope, location_id: str, wanted: BlockRequest, counters: int) -> Block | None:
    """The block with claims on its free units, in one transaction; retried when a booking
    takes a unit between reading and writing."""
    for _attempt in range(3):
        try:
            block = scope.new_block(location_id, wanted.counter, wanted.starts_at, wanted.ends_at, wanted.reason)
            scope.claim_free_units(block, wanted.counters(counters))
            scope.session.commit()
            changed(scope.slug, location_id, local_day(block.starts_at))
            return block
        except IntegrityError:
            scope.session.rollback()
    return None


@staff.post("/sperren/<int:block_id>/aufheben")
@staff_only
def remove_block(scope: Scope, block_id: int) -> Response:
    block = scope.block(block_id)
    if block is None:
        abort(404)
    location_id, when = block.location_id, local_day(block.starts_at)
    start, end = clock(block.starts_at), clock(block.ends_at)
    scope.delete_block(block)
    changed(scope.slug, location_id, when)
    flash(f"Die Sperre von {start} bis {end} Uhr ist aufgehoben. Die Zeiten sind wieder frei.", "notice")
    return redirect(day_url(scope.slug, location_id, when, "sperren"), 303)


# ---------------------------------------------------------------- calendar feed


def feed_path(slug: str, location_id: str, secret: str) -> str:
    return url_for("staff.feed", slug=slug, location_id=location_id, secret=secret)


@staff.route("/kalender/<location_id>", methods=["GET", "POST"])
@staff_only
def calendar(scope: Scope, location_id: str) -> Page:
    katalog = katalog_or_404(scope.slug)
    location = location_or_404(katalog, location_id)
    new_url = None
    if request.method == "POST":
        if request.form.get("aktion") == "abschalten":
            scope.end_feed(location_id)
            flash("Die Feed-Adresse ist abgeschaltet. Kalender, die sie abonniert hatten, "
                  "erhalten keine Termine mehr.", "notice")
            return redirect(url_for("staff.calendar", slug=scope.slug, location_id=location_id), 303)
        secret = scope.rotate_feed(location_id)
        new_url = config.settings().base_url + feed_path(scope.slug, location_id, secret)
        log.info("calendar feed address renewed")
    title = f"Kalender-Feed {location.name}"
    trail = [(f"Termine {location.name}", url_for("staff.day", slug=scope.slug, location_id=location_id))]
    return staff_page("verwaltung/kalender.html", title, scope.slug, trail=trail, location_id=location_id,
                      location=location, feed=scope.feed(location_id), new_url=new_url,
                      days_ahead=booking_settings(location).days_ahead)


@staff.get("/kalender/<location_id>/<secret>.ics")
def feed(slug: str, location_id: str, secret: str) -> Response:
    katalog = katalog_or_404(slug)
    location = location_or_404(katalog, location_id)
    scope = feed_scope(slug, location_id, secret)
    if scope is None:
        abort(404)
    first = today()
    start = day_window(first)[0]
    end = day_window(first + dt.timedelta(days=booking_settings(location).days_ahead))[1]
    appointments = scope.appointments(location_id, start, end, statuses=("booked", "arrived"))
    blocks = scope.blocks(location_id, start, end)
    host = urlsplit(config.settings().base_url).hostname or "localhost"
    body = location_feed(location.name, appointments, blocks, service_names(katalog), host, utcnow())
    response = make_response(body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="termine-{location_id}.ics"'
    return response
