"""What every booking page shares: the blueprint, dates and times in German, the offer a
page is about, and finding an appointment by its code together with the account, the
browser that held it or a signed link (from the mail), so links keep working after logout."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, g, request, session
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from katalog.models import Katalog, Location, ServiceBooking

from ..inbox.views import deliver_message
from ..platform import auth, config
from ..platform.catalog import katalog_or_404
from ..platform.db import db
from ..platform.models import Appointment
from . import booking
from .slots import BERLIN, local_day

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


def offer_or_404(service_id: str, location_id: str) -> booking.Offer:
    found = booking.offer_of(g.katalog, service_id, location_id)
    if found is None:
        abort(404)
    return found


def town_name(location: Location) -> str | None:
    towns = {t.id: t.name for t in g.katalog.municipality.towns}
    return towns.get(location.town or "")


def crumbs(*rest: tuple[str, str]) -> list[tuple[str, str]]:
    base = f"/{g.katalog.slug}/"
    return [("Startseite", base), ("Termine", base + "termine/"), *rest]


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="termin-verwalten")


def signature(code: str) -> str:
    return str(_signer().dumps(code))


def manage_path(appointment: Appointment, signed: bool = False) -> str:
    path = f"/{appointment.slug}/termine/termin/{appointment.code}"
    return path + ("?" + urlencode({"s": signature(appointment.code)}) if signed else "")


def signed_for(code: str) -> bool:
    value = request.values.get("s")
    if not value:
        return False
    try:
        return bool(_signer().loads(value) == code)
    except BadSignature:
        return False


def carried_signature(code: str) -> dict[str, str]:
    """The signed link's parameter, to carry on to the next page, or nothing."""
    return {"s": request.values["s"]} if signed_for(code) else {}


def find_appointment(slug: str, code: str) -> Appointment:
    """The appointment, if this request may see it: its account, the browser that held it,
    or a signed link. Anyone else gets the same 404 as for a code that does not exist."""
    appointment = db().scalar(select(Appointment).where(Appointment.slug == slug, Appointment.code == code))
    if appointment is None:
        abort(404)
    login = auth.current_login()
    if login is not None and appointment.account_id == login.account_id:
        return appointment
    if code in session.get("holds", []) or signed_for(code):
        return appointment
    abort(404)


def persons_for(offer: booking.Offer) -> int:
    return persons_of(offer.booking)


def persons_of(offered: ServiceBooking) -> int:
    try:
        persons = int(request.values.get("personen", "1"))
    except ValueError:
        persons = 1
    return min(max(persons, 1), offered.max_persons)


def moving_query() -> dict[str, str]:
    """Query parameters that carry a move through the calendar (code and signature)."""
    code = request.values.get("verschieben")
    if not code:
        return {}
    extra = {"verschieben": code}
    if request.values.get("s"):
        extra["s"] = request.values["s"]
    return extra


def minute(moment: dt.datetime) -> str:
    return moment.strftime("%Y%m%d%H%M")


def moving_appointment(offer: booking.Offer) -> Appointment:
    """The appointment being moved, which must be one of this page's location and service:
    a move goes to another time of the same place, never through another location's page."""
    appointment = find_appointment(offer.slug, request.values["verschieben"])
    if (appointment.location_id, appointment.service_id) != (offer.location_id, offer.service_id):
        abort(404)
    return appointment


def offer_of_appointment(appointment: Appointment) -> booking.Offer:
    found = booking.offer_of(g.katalog, appointment.service_id, appointment.location_id)
    if found is None:
        abort(404)  # switched off since: the appointment page still shows it (see termin)
    return found


def tell(appointment: Appointment, subject: str, text: str) -> None:
    if appointment.account_id is None:
        return
    deliver_message(appointment.account_id, appointment.slug, g.katalog.municipality.name,
                    f"{subject}: {service_name(g.katalog, appointment.service_id)}",
                    f"{text} {long_date(local_day(appointment.starts_at))}, {clock_text(appointment.starts_at)}."
                    f"\n\nBuchungsnummer: {appointment.code}", link=manage_path(appointment), notify=False)
    db().commit()


def service_name(known: Katalog, service_id: str, missing: str | None = None) -> str:
    """The service's name; `missing` (else its id) for one no longer in the katalog."""
    service = known.services.get(service_id)
    return service.name if service is not None else (service_id if missing is None else missing)
