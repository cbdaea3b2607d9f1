"""Holding, booking, cancelling and moving appointments.

Every change to who holds which time goes through the claims table in one transaction
(claims.py), so capacity holds under any number of concurrent requests. A hold is a booking
in state "held" with an expiry; an expired hold is released before the next search.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, Select, and_, delete, func, insert, literal, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached

from katalog.models import Katalog, Location, Service, ServiceBooking
from portal.errors import PortalError

from ..platform.models import Appointment, SlotClaim
from .claims import add_claims, taken_units, units
from .slots import Schedule, Slot, bookable_days, day_window, first_free, free_slots, local_day, schedule_of, spans_on

HOLD = dt.timedelta(minutes=10)  # time to confirm a chosen slot
EMAIL_HOLD = dt.timedelta(minutes=30)  # from the hold: time to open the confirmation link (without an account)
MAILS_PER_HOLD = 3  # confirmation mails for one hold (a mistyped address can be corrected twice)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out on the phone


class BookingError(PortalError):
    """A booking step that cannot be done; `message` is what the citizen reads."""

    status = 409

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SlotGone(BookingError):
    pass


class LimitReached(BookingError):
    status = 429


class TooLate(BookingError):
    status = 403


SLOT_GONE = "Dieser Termin ist leider nicht mehr frei. Bitte wählen Sie eine andere Uhrzeit."
HOLD_EXPIRED = ("Ihre Reservierung ist abgelaufen und der Termin wurde wieder freigegeben. "
                "Bitte wählen Sie erneut eine Uhrzeit.")


@dataclass(frozen=True)
class Offer:
    """A service bookable at a location of a municipality, with everything from katalog.json."""

    slug: str
    service_id: str
    location_id: str
    service: Service
    location: Location
    booking: ServiceBooking  # the service's "booking" block
    schedule: Schedule

    @property
    def duration(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.booking.duration)


def offer_of(katalog: Katalog, service_id: str, location_id: str) -> Offer | None:
    service = katalog.services.get(service_id)
    booking = service.booking if service is not None else None
    if service is None or booking is None or location_id not in booking.locations:
        return None
    location = katalog.locations.get(location_id)
    if location is None:
        return None
    return Offer(katalog.slug, service_id, location_id, service, location, booking, schedule_of(location))


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def free_on(session: Session, offer: Offer, day: dt.date, now: dt.datetime,
            ignore: Appointment | None = None) -> list[Slot]:
    """Free times on a local day; `ignore` treats an appointment's own time as free (moving)."""
    start, end = day_window(day)
    taken = taken_units(session, offer.slug, offer.location_id, start, end, now)
    if ignore is not None:
        own = session.execute(select(SlotClaim.counter, SlotClaim.unit_start)
                              .where(SlotClaim.appointment_id == ignore.id))
        taken -= {(counter, unit) for counter, unit in own}
    return free_slots(offer.schedule, day, offer.duration, taken, now)


def free_day_counts(session: Session, offer: Offer, days: list[dt.date], now: dt.datetime) -> dict[dt.date, int]:
    """How many start times are free on each of `days` (one query for the whole range)."""
    if not days:
        return {}
    start, _ = day_window(days[0])
    _, end = day_window(days[-1])
    taken = taken_units(session, offer.slug, offer.location_id, start, end, now)
    return {day: len(free_slots(offer.schedule, day, offer.duration, taken, now)) for day in days}


LOOKAHEAD_DAYS = 14  # days of claims read by one query while looking for the earliest free time


def earliest_free(session: Session, offer: Offer, now: dt.datetime, want: int = 1,
                  first_day: dt.date | None = None) -> list[Slot]:
    """The first `want` free times at the offer's location, from `first_day` (default today)
    to the booking horizon. Claims are read two weeks at a time and the search stops where
    enough are found: an office with free time tomorrow costs one query, a fully booked one
    at most days_ahead / LOOKAHEAD_DAYS + 1 (the horizon is at most 365 days)."""
    days = [day for day in bookable_days(offer.schedule, now)
            if (first_day is None or day >= first_day) and spans_on(offer.schedule, day)]
    found: list[Slot] = []
    for index in range(0, len(days), LOOKAHEAD_DAYS):
        chunk = days[index:index + LOOKAHEAD_DAYS]
        start, _ = day_window(chunk[0])
        _, end = day_window(chunk[-1])
        taken = taken_units(session, offer.slug, offer.location_id, start, end, now)
        found.extend(first_free(offer.schedule, chunk, offer.duration, taken, now, want - len(found)))
        if len(found) >= want:
            break
    return found


def open_count(session: Session, offer: Offer, now: dt.datetime, account_id: int | None,
               email: str | None) -> int:
    if _owner_key(account_id, email) is None:
        return 0
    return int(session.scalar(_open_appointments(offer, now, account_id, email)) or 0)


def hold(session: Session, offer: Offer, start: dt.datetime, persons: int, now: dt.datetime, *,
         account_id: int | None = None, email: str | None = None) -> Appointment:
    """Hold `start` for the citizen for HOLD; raises SlotGone or LimitReached.

    The common case costs two reads (the claims of this time) and one transaction of two
    inserts: the appointment row is inserted only while the citizen has fewer than the
    allowed open appointments (the limit is part of the INSERT, not a separate count), then
    its claims; the claims' unique constraint decides between racing requests."""
    if not 1 <= persons <= offer.booking.max_persons:
        raise BookingError(f"Für diese Leistung können höchstens {offer.booking.max_persons} Personen "
                           "in einem Termin kommen.")
    limit = offer.booking.max_open
    if email is not None:
        email = normal_email(email)
    owner = _owner_key(account_id, email)
    slot, counters = free_counters_at(session, offer, start, now)
    if slot is None or not counters:
        raise SlotGone(SLOT_GONE)
    released = False
    for counter in counters:
        while True:
            values = dict(slug=offer.slug, location_id=offer.location_id, service_id=offer.service_id,
                          starts_at=slot.start, ends_at=slot.end, counter=counter, persons=persons,
                          status="held", code=new_code(), account_id=account_id, email=email,
                          held_until=now + HOLD, created_at=now)
            try:
                _hold_need_not_wait_for_disk(session)
                if owner is not None:
                    _lock_owner(session, offer, owner)
                new_id = session.execute(_insert_if_under_limit(values, limit, offer, now)).scalar()
                if new_id is None:
                    session.rollback()
                    raise _limit_reached(limit)
                session.execute(insert(SlotClaim), [
                    dict(slug=offer.slug, location_id=offer.location_id, counter=counter, unit_start=unit,
                         appointment_id=new_id) for unit in units(slot.start, slot.end)])
                session.commit()
            except IntegrityError:
                session.rollback()  # taken by another request, or by a hold that has expired
                if not released and _release_expired_in(session, offer, slot, now):
                    released = True
                    continue  # expired holds were in the way: once more on the same counter
                break  # another request took this counter first; try the next
            appointment = Appointment(id=new_id, **values)
            make_transient_to_detached(appointment)
            session.add(appointment)
            return appointment
    raise SlotGone(SLOT_GONE)


def _limit_reached(limit: int) -> LimitReached:
    return LimitReached(
        f"Sie haben für diese Leistung schon {limit} offene{'n' if limit == 1 else ''} "
        f"Termin{'' if limit == 1 else 'e'}. Sagen Sie einen ab oder verschieben Sie ihn, bevor Sie neu buchen.")


def normal_email(address: str) -> str:
    """The form in which a guest's address is stored and counted (case and spaces do not count)."""
    return address.strip().lower()


def _owner_key(account_id: int | None, email: str | None) -> str | None:
    if account_id is not None:
        return f"account:{account_id}"
    return f"email:{email}" if email else None


def _open_appointments(offer: Offer, now: dt.datetime, account_id: int | None, email: str | None,
                       besides: int | None = None) -> Select[Any]:
    """Count the owner's open appointments for the offer's service: by account, or by the
    confirmed address of a guest. A guest without an address yet owns nothing: comparing
    with NULL would count every booking made with an account."""
    if account_id is not None:
        owner = Appointment.account_id == account_id
    elif email:
        owner = and_(Appointment.account_id.is_(None), Appointment.email == email)
    else:
        raise ValueError("an owner needs an account or an address")
    query = (select(func.count()).select_from(Appointment)
             .where(owner, Appointment.slug == offer.slug, Appointment.service_id == offer.service_id,
                    Appointment.starts_at > now,
                    or_(Appointment.status == "booked",
                        and_(Appointment.status == "held", Appointment.held_until >= now))))
    return query.where(Appointment.id != besides) if besides is not None else query


def _lock_owner(session: Session, offer: Offer, owner: str) -> None:
    """Serialise the transactions that count one owner's open appointments for one service.

    PostgreSQL: a transaction-scoped advisory lock, taken before the counting statement, so
    under READ COMMITTED that statement sees every appointment a racing request committed
    (without it twelve simultaneous holds for a limit of 2 gave up to 8). SQLite needs none:
    the counting statement is itself a write (INSERT … SELECT, UPDATE … WHERE), which takes
    the database's single write lock before it reads."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"open-appointments\0{offer.slug}\0{offer.service_id}\0{owner}".encode()).digest()
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                    {"key": int.from_bytes(digest[:8], "big", signed=True)})


def _insert_if_under_limit(values: dict[str, Any], limit: int, offer: Offer, now: dt.datetime) -> Insert:
    """INSERT … SELECT the new appointment WHERE the owner's open appointments < limit, RETURNING id."""
    columns = [getattr(Appointment, name) for name in values]
    row = select(*(literal(value, column.type) for value, column in zip(values.values(), columns, strict=True)))
    if _owner_key(values["account_id"], values["email"]) is not None:
        counted = _open_appointments(offer, now, values["account_id"], values["email"]).scalar_subquery()
        row = row.where(counted < limit)
    # A guest without an address yet is limited when the address is given (confirm_address).
    return insert(Appointment).from_select(list(values), row).returning(Appointment.id)


def _release_expired_in(session: Session, offer: Offer, slot: Slot, now: dt.datetime) -> bool:
    """Delete the expired holds whose claims lie in `slot`'s time (their claims go with them)."""
    expired = (select(SlotClaim.appointment_id)
               .join(Appointment, Appointment.id == SlotClaim.appointment_id)
               .where(SlotClaim.slug == offer.slug, SlotClaim.location_id == offer.location_id,
                      SlotClaim.unit_start >= slot.start, SlotClaim.unit_start < slot.end,
                      Appointment.status == "held", Appointment.held_until < now))
    ids = set(session.scalars(expired))
    if ids:
        session.execute(delete(Appointment).where(Appointment.id.in_(ids)))
    session.commit()
    return bool(ids)


def free_counters_at(session: Session, offer: Offer, start: dt.datetime, now: dt.datetime,
                     ignore: Appointment | None = None) -> tuple[Slot | None, list[int]]:
    """Is `start` a time the schedule offers now, and which counters are free for the whole
    appointment? Reads only the claims of that appointment's own time, not the whole day."""
    offered = free_slots(offer.schedule, local_day(start), offer.duration, (), now)
    slot = next((s for s in offered if s.start == start), None)
    if slot is None:
        return None, []
    taken = taken_units(session, offer.slug, offer.location_id, slot.start, slot.end, now)
    if ignore is not None:
        own = session.execute(select(SlotClaim.counter, SlotClaim.unit_start)
                              .where(SlotClaim.appointment_id == ignore.id))
        taken -= {(counter, unit) for counter, unit in own}
    busy = {counter for counter, _unit in taken}
    return slot, [c for c in range(1, offer.schedule.counters + 1) if c not in busy]


def _hold_need_not_wait_for_disk(session: Session) -> None:
    """A hold lives ten minutes. Should PostgreSQL crash right after committing one, losing it
    only frees the time again (the citizen is told the reservation expired), so its commit
    need not wait for the WAL to reach the disk. Booking (confirm) keeps the default."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def confirm(session: Session, appointment: Appointment, now: dt.datetime) -> None:
    """Book a held time. One conditional UPDATE decides, so a hold that expired or was removed
    meanwhile (the worker, a booking that took its expired time) is never booked."""
    if appointment.status == "booked":
        return  # a double click or a retried request books once
    changed = session.execute(
        update(Appointment)
        .where(Appointment.id == appointment.id, Appointment.status == "held", Appointment.held_until >= now)
        .values(status="booked", booked_at=now, held_until=None)
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    session.commit()
    if changed == 1:
        session.refresh(appointment)
        return
    current = session.get(Appointment, appointment.id, populate_existing=True)
    if current is not None and current.status == "booked":
        return  # booked by a request of the same citizen at the same moment
    if current is not None and current.status == "held":
        session.delete(current)  # expired: its time goes back at once
        session.commit()
    raise SlotGone(HOLD_EXPIRED)


class TooManyMails(LimitReached):
    pass


def confirm_address(session: Session, appointment: Appointment, offer: Offer, email: str, now: dt.datetime) -> None:
    """A booking without an account: the hold gets the guest's address and waits for its
    confirmation until EMAIL_HOLD after the hold began, however often an address is sent
    (the expiry never moves on). One statement decides, under the owner's lock: the address
    has fewer open appointments for the service than allowed, and this hold has had fewer
    than MAILS_PER_HOLD confirmation mails. Raises LimitReached or TooManyMails; the caller
    sends the mail and commits."""
    email = normal_email(email)
    limit = offer.booking.max_open
    _lock_owner(session, offer, f"email:{email}")
    counted = _open_appointments(offer, now, None, email, besides=appointment.id).scalar_subquery()
    changed = session.execute(
        update(Appointment)
        .where(Appointment.id == appointment.id, Appointment.status == "held", Appointment.account_id.is_(None),
               Appointment.held_until >= now, Appointment.confirmation_mails < MAILS_PER_HOLD, counted < limit)
        .values(email=email, held_until=appointment.created_at + EMAIL_HOLD,
                confirmation_mails=Appointment.confirmation_mails + 1)
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    if changed != 1:
        session.rollback()
        session.refresh(appointment)
        if appointment.confirmation_mails >= MAILS_PER_HOLD:
            raise TooManyMails("Für diese Reservierung haben wir schon mehrere E-Mails verschickt. Bitte öffnen "
                               "Sie den Link in einer davon oder wählen Sie eine neue Uhrzeit.")
        if appointment.status != "held" or appointment.held_until is None or appointment.held_until < now:
            raise SlotGone(HOLD_EXPIRED)
        raise LimitReached("Für diese E-Mail-Adresse gibt es schon einen offenen Termin für diese Leistung. "
                           "Sagen Sie ihn ab, bevor Sie neu buchen.")
    session.refresh(appointment)


def adopt(session: Session, appointment: Appointment, offer: Offer, account_id: int, now: dt.datetime) -> None:
    """A guest's hold taken over by the account they logged in with on the way (from the
    reservation's "mit Ihrem Konto"): it then books like any hold of that account. One
    statement decides, under the owner's lock, that the account has fewer open appointments
    for the service than allowed. Raises SlotGone or LimitReached."""
    limit = offer.booking.max_open
    _lock_owner(session, offer, f"account:{account_id}")
    counted = _open_appointments(offer, now, account_id, None, besides=appointment.id).scalar_subquery()
    changed = session.execute(
        update(Appointment)
        .where(Appointment.id == appointment.id, Appointment.status == "held", Appointment.account_id.is_(None),
               Appointment.held_until >= now, counted < limit)
        .values(account_id=account_id)
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    session.commit()
    session.refresh(appointment)
    if changed == 1 or appointment.account_id == account_id:
        return
    if appointment.status != "held" or appointment.held_until is None or appointment.held_until < now:
        raise SlotGone(HOLD_EXPIRED)
    if appointment.account_id is not None:
        raise SlotGone(SLOT_GONE)  # taken over by another account in the meantime
    raise _limit_reached(limit)


def keep_for_login(session: Session, appointment: Appointment, now: dt.datetime) -> None:
    """A guest goes to log in or register from the reservation: the hold stays as long as
    it would while a confirmation mail is on its way (EMAIL_HOLD after the hold began, never
    longer, however often asked). Raises SlotGone if it has expired."""
    changed = session.execute(
        update(Appointment)
        .where(Appointment.id == appointment.id, Appointment.status == "held", Appointment.account_id.is_(None),
               Appointment.held_until >= now)
        .values(held_until=appointment.created_at + EMAIL_HOLD)
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    session.commit()
    session.refresh(appointment)
    if changed != 1:
        raise SlotGone(HOLD_EXPIRED)


def release(session: Session, appointment: Appointment) -> None:
    if appointment.status == "held":
        session.delete(appointment)
        session.commit()


def changeable_until(offer_schedule: Schedule, appointment: Appointment) -> dt.datetime:
    return appointment.starts_at - offer_schedule.cancel_before


def changeable(appointment: Appointment, schedule: Schedule | None, now: dt.datetime) -> bool:
    """Whether the citizen can still move or cancel it online."""
    return schedule is not None and appointment.status == "booked" and now <= changeable_until(schedule, appointment)


def _hold_booked(session: Session, appointment: Appointment) -> bool:
    """Start a change of a booking: a no-op UPDATE of its row, only while it is booked. It
    takes the row's lock in PostgreSQL (and SQLite's write lock), so a cancel and a move of the
    same appointment at the same moment run one after the other, and the later one sees what
    the earlier did instead of acting on what it read before."""
    return bool(session.execute(
        update(Appointment).where(Appointment.id == appointment.id, Appointment.status == "booked")
        .values(status=Appointment.status)
        .execution_options(synchronize_session=False)).rowcount == 1)  # type: ignore[attr-defined]


def cancel(session: Session, appointment: Appointment, schedule: Schedule, now: dt.datetime) -> None:
    """Cancel a booking; its time is free again at once."""
    if appointment.status == "cancelled":
        return
    if appointment.status != "booked":
        raise BookingError("Dieser Termin kann nicht mehr abgesagt werden.")
    if now > changeable_until(schedule, appointment):
        raise TooLate(_too_late(schedule, "absagen"))
    if not _hold_booked(session, appointment):
        session.rollback()
        session.refresh(appointment)
        if appointment.status == "cancelled":
            return  # cancelled by another request of the same citizen at the same moment
        raise BookingError("Dieser Termin kann nicht mehr abgesagt werden.")
    session.execute(delete(SlotClaim).where(SlotClaim.appointment_id == appointment.id))
    session.execute(update(Appointment).where(Appointment.id == appointment.id)
                    .values(status="cancelled", cancelled_at=now, sequence=Appointment.sequence + 1)
                    .execution_options(synchronize_session=False))
    session.commit()
    session.refresh(appointment)


def move(session: Session, appointment: Appointment, offer: Offer, new_start: dt.datetime,
         now: dt.datetime) -> None:
    """Move a booking to another free time of its own location and service, in one
    transaction: on failure the old one stays. (The claims' foreign key to the appointment's
    place refuses claims elsewhere in any case.)"""
    if (appointment.slug, appointment.location_id, appointment.service_id) != (
            offer.slug, offer.location_id, offer.service_id):
        raise BookingError("Ein Termin lässt sich nur zu einer anderen Uhrzeit am selben Ort verschieben. "
                           "Für einen anderen Ort sagen Sie ihn ab und buchen neu.")
    if appointment.status != "booked":
        raise BookingError("Nur gebuchte Termine können verschoben werden.")
    if now > changeable_until(offer.schedule, appointment):
        raise TooLate(_too_late(offer.schedule, "verschieben"))
    slot, counters = free_counters_at(session, offer, new_start, now, ignore=appointment)
    if slot is None or not counters:
        raise SlotGone(SLOT_GONE)
    appointment_id = appointment.id
    released = False
    for counter in counters:
        while True:
            if not _hold_booked(session, appointment):
                session.rollback()
                raise BookingError("Dieser Termin ist nicht mehr gebucht und kann nicht verschoben werden.")
            session.execute(delete(SlotClaim).where(SlotClaim.appointment_id == appointment_id))
            appointment.starts_at, appointment.ends_at, appointment.counter = slot.start, slot.end, counter
            appointment.reminded_at = None
            appointment.sequence = Appointment.sequence + 1  # type: ignore[assignment]  # in SQL: no lost count
            try:
                session.flush()
                add_claims(session, offer.slug, offer.location_id, counter, slot.start, slot.end,
                           appointment_id=appointment_id)
                session.commit()
                return
            except IntegrityError:
                session.rollback()  # the old time stays booked
                if not released and _release_expired_in(session, offer, slot, now):
                    released = True
                    continue
                break
    raise SlotGone(SLOT_GONE)


def _too_late(schedule: Schedule, verb: str) -> str:
    hours = int(schedule.cancel_before.total_seconds() // 3600)
    return (f"Sie können diesen Termin nur bis {hours} Stunden vorher online {verb}. "
            "Bitte rufen Sie uns an.")
