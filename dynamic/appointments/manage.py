"""The appointment's own page: what, when and where, its calendar file, and cancelling
(moving goes through the calendar of choose.py with the booking code)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, abort, g, redirect, request

from katalog.models import Service
from portal.text import fee_text

from ..platform import config
from ..platform.db import db
from ..platform.render import page
from . import booking
from .calendar_file import ics_for
from .common import (
    STATUS,
    Page,
    appointments,
    carried_signature,
    clock_text,
    crumbs,
    find_appointment,
    long_date,
    manage_path,
    now,
    service_name,
    signed_for,
    tell,
)
from .page_cache import changed
from .slots import local_day

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
    appointment = find_appointment(slug, code)
    service = g.katalog.services.get(appointment.service_id)
    location = g.katalog.locations.get(appointment.location_id)
    offer = booking.offer_of(g.katalog, appointment.service_id, appointment.location_id)
    changeable = booking.changeable(appointment, offer.schedule if offer else None, now())
    signed = carried_signature(code)
    return page("termine/termin.html", f"Ihr Termin: {service_name(g.katalog, appointment.service_id, '')}",
                crumbs=crumbs(("Ihr Termin", request.path)), a=appointment, service=service, location=location,
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
    appointment = find_appointment(slug, code)
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
    appointment = find_appointment(slug, code)
    offer = booking.offer_of(g.katalog, appointment.service_id, appointment.location_id)
    schedule = offer.schedule if offer else None
    if request.method == "GET":
        link_signature = carried_signature(code)
        back = manage_path(appointment, signed=bool(link_signature))
        if not booking.changeable(appointment, schedule, now()):
            return redirect(back, code=303)  # the appointment's page says what is still possible
        service = g.katalog.services.get(appointment.service_id)
        location = g.katalog.locations.get(appointment.location_id)
        return page("termine/absagen.html", "Termin absagen?", crumbs=crumbs(("Termin absagen", request.path)),
                    a=appointment, service=service, location=location, signed=link_signature, back=back,
                    long_date=long_date(local_day(appointment.starts_at)), clock_text=clock_text)
    try:
        if schedule is None:
            raise booking.TooLate("Dieser Termin kann nicht online abgesagt werden. Bitte rufen Sie uns an.")
        booking.cancel(db(), appointment, schedule, now())
        changed(slug, appointment.location_id, local_day(appointment.starts_at))
    except booking.BookingError as error:
        return page("konto/hinweis.html", "Absagen nicht möglich", status=error.status, message=error.message,
                    link=(manage_path(appointment, signed=signed_for(code)), "Zurück zum Termin"))
    tell(appointment, "Termin abgesagt", "Ihr Termin wurde abgesagt:")
    signed = signed_for(code)
    return redirect(manage_path(appointment, signed=signed) + ("&" if signed else "?") + "hinweis=abgesagt", code=303)
