"""Claims on the slot grid: the database constraint that makes double booking impossible.

Time at a location is cut into units of UNIT on each counter. An appointment or a staff
block inserts one `SlotClaim` row per unit it covers, in the same transaction as itself;
the unique constraint (slug, location, counter, unit_start) lets only one of two racing
transactions commit, whatever the process or the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..platform.models import Appointment, SlotClaim

UNIT = dt.timedelta(minutes=5)


def units(start: dt.datetime, end: dt.datetime) -> Iterator[dt.datetime]:
    """The unit starts covering [start, end); both lie on the grid (whole minutes, multiples of UNIT)."""
    moment = start
    while moment < end:
        yield moment
        moment += UNIT


def add_claims(session: Session, slug: str, location_id: str, counter: int, start: dt.datetime,
               end: dt.datetime, *, appointment_id: int | None = None, block_id: int | None = None) -> None:
    """Insert the claims (the caller flushes or commits; an IntegrityError means: taken)."""
    for unit in units(start, end):
        session.add(SlotClaim(slug=slug, location_id=location_id, counter=counter, unit_start=unit,
                              appointment_id=appointment_id, block_id=block_id))


def taken_units(session: Session, slug: str, location_id: str, start: dt.datetime,
                end: dt.datetime, now: dt.datetime | None = None) -> set[tuple[int, dt.datetime]]:
    """(counter, unit_start) of every claimed unit in [start, end). With `now`, units of holds
    that expired before it count as free: readers need not delete them (a write on every
    page view); the next booking does, in its own transaction."""
    query = (select(SlotClaim.counter, SlotClaim.unit_start)
             .where(SlotClaim.slug == slug, SlotClaim.location_id == location_id,
                    SlotClaim.unit_start >= start, SlotClaim.unit_start < end))
    if now is not None:
        expired = (select(Appointment.id)
                   .where(Appointment.status == "held", Appointment.held_until < now)
                   .scalar_subquery())
        query = query.where(or_(SlotClaim.appointment_id.is_(None), SlotClaim.appointment_id.not_in(expired)))
    # Through the session's connection, not the ORM: plain rows, a third of the overhead.
    return {(counter, unit) for counter, unit in session.connection().execute(query)}
