"""Choosing a time: service → location → month → day → time, and the earliest free times
across all locations of a service. The chosen time is held (or a booking moved to it) by
hold.hold_or_move."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import abort, g, request
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response as BaseResponse

from katalog.models import Service, ServiceBooking
from portal.levels import TrustLevel

from ..platform import auth
from ..platform.db import db
from ..platform.render import page, remember_municipality
from . import booking
from .common import (
    MONTHS,
    Page,
    appointments,
    clock_text,
    crumbs,
    long_date,
    minute,
    moving_appointment,
    moving_query,
    now,
    offer_or_404,
    persons_for,
    persons_of,
    town_name,
)
from .hold import form_moment, hold_or_move
from .page_cache import ALL, slot_pages
from .slots import Slot, bookable_days, local_day, plausible_day


@appointments.get("/")
def services(slug: str) -> Page:
    remember_municipality()
    bookable = [(sid, s) for sid, s in g.katalog.services.items() if s.booking]
    bookable.sort(key=lambda item: item[1].name)
    return page("termine/start.html", "Termin buchen", crumbs=crumbs(), services=bookable)


@appointments.get("/<service_id>/")
def locations(slug: str, service_id: str) -> Page:
    service = _bookable_service(service_id)
    current = now()
    places: list[dict[str, Any]] = []
    for offer in _offers(service_id):
        earliest = _earliest(offer, current, 1)
        places.append({"id": offer.location_id, "name": offer.location.name,
                       "address": offer.location.address or {}, "town": town_name(offer.location),
                       "next": earliest[0] if earliest else None})
    places.sort(key=lambda p: (p["town"] or "", p["name"]))
    return page("termine/orte.html", service.name, crumbs=crumbs((service.name, request.path)),
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
        offer.slug, offer.location_id, name, minute(current),
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
        start = form_moment(zeit)
        if offer is None or start is None:
            error, status = "Wählen Sie eine Uhrzeit.", 400
        else:
            outcome = hold_or_move(offer, local_day(start), zeit, moving=False)
            if isinstance(outcome, BaseResponse):
                return outcome
            error, status = outcome
    times = sorted(((slot, offer) for offer in offers.values()
                    for slot in _earliest(offer, current, EARLIEST_PER_LOCATION, first_day)),
                   key=lambda item: (item[0].start, town_name(item[1].location) or "", item[1].location.name))
    persons = persons_of(service_booking(service))
    return page("termine/frueheste.html", f"{service.name}: früheste freie Zeit", status=status,
                errors={"wahl": error} if error else None,
                crumbs=crumbs((service.name, f"/{slug}/termine/{service_id}/"),
                               ("Früheste freie Zeit", request.path)),
                service=service, service_id=service_id, times=times[:EARLIEST_SHOWN], chosen=chosen,
                kept=kept is not None, first_day=first_day, persons=persons, long_date=long_date,
                clock_text=clock_text, local_day=local_day, town_of=town_name,
                is_district=g.katalog.municipality.is_district)


@appointments.get("/<service_id>/<location_id>/")
def month(slug: str, service_id: str, location_id: str) -> Page:
    offer = offer_or_404(service_id, location_id)
    current = now()
    if moving_query():
        moving_appointment(offer)
        return _month_page(offer, current), 200
    return slot_pages().page(slug, location_id, ALL, request.full_path, minute(current),
                             lambda _token: _month_page(offer, current)), 200


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
    persons = persons_for(offer)
    query = {"personen": str(persons), **moving_query()}
    weeks = calendar.Calendar().monthdatescalendar(first.year, first.month)
    previous_month = (first - dt.timedelta(days=1)).replace(day=1)
    next_month = last + dt.timedelta(days=1)
    return page(
        "termine/kalender.html", f"{offer.service.name}: Tag wählen",
        crumbs=crumbs((offer.service.name, f"/{slug}/termine/{service_id}/"),
                       (offer.location.name, request.path)),
        offer=offer, weeks=weeks, first=first, counts=counts, month_name=f"{MONTHS[first.month - 1]} {first.year}",
        previous_month=previous_month if previous_month >= days[0].replace(day=1) else None,
        next_month=next_month if next_month <= days[-1] else None, query=query, persons=persons,
        free_total=sum(counts.values()), long_date=long_date, town=town_name(offer.location),
        phone=offer.location.phone)[0]


@appointments.route("/<service_id>/<location_id>/<day>/", methods=["GET", "POST"])
def day_view(slug: str, service_id: str, location_id: str, day: str) -> Page:
    offer = offer_or_404(service_id, location_id)
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
        outcome = hold_or_move(offer, date, request.form.get("zeit", ""), moving=bool(moving_query()))
        if isinstance(outcome, BaseResponse):
            return outcome
        error, status = outcome
    current = now()
    moving = moving_query()
    ignore = moving_appointment(offer) if moving else None

    def render(csrf_token: Callable[[], str]) -> str:
        slots = booking.free_on(db(), offer, date, current, ignore=ignore)
        kept_time = (kept or {}).get("zeit") or []
        chosen = request.form.get("zeit") or (kept_time[0] if kept_time else None)
        return page(
            "termine/tag.html", f"{offer.service.name}: Uhrzeit wählen", status=status,
            errors={"zeit": error} if error else None,
            crumbs=crumbs((offer.service.name, f"/{slug}/termine/{service_id}/"),
                           (offer.location.name, f"/{slug}/termine/{service_id}/{location_id}/"),
                           (long_date(date), request.path)),
            offer=offer, date=date, long_date=long_date(date), slots=slots, chosen=chosen, clock_text=clock_text,
            persons=persons_for(offer), moving=moving, kept=kept is not None, csrf_token=csrf_token,
            month_link=f"/{slug}/termine/{service_id}/{location_id}/?" + urlencode(
                {"monat": date.strftime("%Y-%m"), "personen": persons_for(offer), **moving}))[0]

    if request.method == "GET" and kept is None and not moving:
        return slot_pages().page(slug, location_id, date.isoformat(), request.full_path, minute(current),
                                 render), 200
    return render(generate_csrf), status
