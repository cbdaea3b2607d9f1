"""Who works in a municipality's staff area, and the only way staff code reaches its rows.

A staff login is a row in `staff_sessions`, bound to one municipality; the cookie session
holds only a random token under "staff_sid" (never mixed with the citizens' "sid"). Every
query of the staff area goes through a `Scope`, which is built for the URL's municipality
from a login of that municipality only and filters every query by its slug: a clerk of one
municipality never reads or changes another's rows (ARCHITECTURE.md, "every query for staff
filters by it in one place").
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass

from flask import g, session
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ..appointments.claims import add_claims, taken_units, units
from ..platform.auth import token_hash
from ..platform.db import db
from ..platform.models import Appointment, Block, CalendarFeed, SlotClaim, StaffSession, StaffUser, utcnow

SESSION_KEY = "staff_sid"
IDLE = dt.timedelta(hours=1)  # a counter left alone locks itself
ABSOLUTE = dt.timedelta(hours=10)  # one working day
SHOWN = ("booked", "arrived", "done", "no_show", "cancelled")  # held ones are a citizen's, not yet the day's


# ---------------------------------------------------------------- login


def start_staff_login(user: StaffUser) -> None:
    """Log `user` in for their municipality; a previous staff login of this browser ends."""
    end_staff_login()
    session.pop("csrf_token", None)  # a fresh CSRF token for the new login
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db().add(StaffSession(token_hash=token_hash(token), staff_id=user.id, slug=user.slug,
                          created_at=now, last_seen_at=now))
    db().commit()
    session[SESSION_KEY] = token
    g.pop("staff_user", None)


def end_staff_login() -> None:
    token = session.pop(SESSION_KEY, None)
    if isinstance(token, str):
        db().execute(delete(StaffSession).where(StaffSession.token_hash == token_hash(token)))
        db().commit()
    g.pop("staff_user", None)


def staff_user() -> StaffUser | None:
    """The browser's logged-in clerk, of whichever municipality (None when none or expired)."""
    if "staff_user" not in g:
        g.staff_user = _load_staff_user()
    found: StaffUser | None = g.staff_user
    return found


def _load_staff_user() -> StaffUser | None:
    token = session.get(SESSION_KEY)
    if not isinstance(token, str):
        return None
    row = db().get(StaffSession, token_hash(token))
    now = utcnow()
    if row is None or now - row.created_at > ABSOLUTE or now - row.last_seen_at > IDLE:
        if row is not None:
            db().delete(row)
            db().commit()
        session.pop(SESSION_KEY, None)
        return None
    user = db().get(StaffUser, row.staff_id)
    if user is None or user.slug != row.slug:
        return None
    if now - row.last_seen_at > dt.timedelta(seconds=10):
        row.last_seen_at = now
        db().commit()
    return user


def staff_scope(slug: str) -> Scope | None:
    """The logged-in clerk's view of `slug`, or None when nobody of `slug` is logged in here."""
    user = staff_user()
    if user is None or user.slug != slug:
        return None
    return Scope(user.slug, db(), user)


# ---------------------------------------------------------------- scoped queries


@dataclass(frozen=True)
class Scope:
    """A municipality as its staff see it. Every staff query is a method here and filters by slug.

    Made only by `staff_scope` (a clerk of that municipality is logged in) or `feed_scope`
    (the location's feed secret was given; then `user` is None).
    """

    slug: str
    session: Session
    user: StaffUser | None = None

    def appointments(self, location_id: str, start: dt.datetime, end: dt.datetime,
                     statuses: tuple[str, ...] = SHOWN) -> list[Appointment]:
        """Appointments at a location starting in [start, end), by time and counter."""
        return list(self.session.scalars(
            select(Appointment)
            .where(Appointment.slug == self.slug, Appointment.location_id == location_id,
                   Appointment.starts_at >= start, Appointment.starts_at < end, Appointment.status.in_(statuses))
            .order_by(Appointment.starts_at, Appointment.counter, Appointment.id)))

    def overlapping(self, location_id: str, start: dt.datetime, end: dt.datetime, counters: list[int],
                    statuses: tuple[str, ...] = ("booked", "arrived")) -> list[Appointment]:
        """Appointments of these counters whose time overlaps [start, end)."""
        return list(self.session.scalars(
            select(Appointment)
            .where(Appointment.slug == self.slug, Appointment.location_id == location_id,
                   Appointment.starts_at < end, Appointment.ends_at > start,
                   Appointment.counter.in_(counters), Appointment.status.in_(statuses))
            .order_by(Appointment.starts_at, Appointment.counter)))

    def appointment(self, appointment_id: int) -> Appointment | None:
        return self.session.scalar(
            select(Appointment).where(Appointment.id == appointment_id, Appointment.slug == self.slug))

    def change_status(self, appointment: Appointment, old: str, new: str) -> bool:
        """Set the status only if nobody changed it meanwhile (two clerks clicking at once)."""
        result = self.session.execute(
            update(Appointment)
            .where(Appointment.id == appointment.id, Appointment.slug == self.slug, Appointment.status == old)
            .values(status=new, marked_at=None if new == "booked" else utcnow()))
        self.session.commit()
        return bool(getattr(result, "rowcount", 0))

    def blocks(self, location_id: str, start: dt.datetime, end: dt.datetime) -> list[Block]:
        """Blocks at a location overlapping [start, end)."""
        return list(self.session.scalars(
            select(Block)
            .where(Block.slug == self.slug, Block.location_id == location_id,
                   Block.starts_at < end, Block.ends_at > start)
            .order_by(Block.starts_at, Block.counter, Block.id)))

    def block(self, block_id: int) -> Block | None:
        return self.session.scalar(select(Block).where(Block.id == block_id, Block.slug == self.slug))

    def new_block(self, location_id: str, counter: int | None, start: dt.datetime, end: dt.datetime,
                  reason: str) -> Block:
        block = Block(slug=self.slug, location_id=location_id, counter=counter, starts_at=start, ends_at=end,
                      reason=reason)
        self.session.add(block)
        self.session.flush()
        return block

    def claim_free_units(self, block: Block, counters: list[int]) -> None:
        """Claim, for the block, every unit of these counters that nothing else holds yet (the
        caller commits; an IntegrityError means a booking took a unit meanwhile: try again)."""
        taken = taken_units(self.session, self.slug, block.location_id, block.starts_at, block.ends_at)
        for counter in counters:
            run_start: dt.datetime | None = None
            for unit in [*units(block.starts_at, block.ends_at), block.ends_at]:
                free = unit < block.ends_at and (counter, unit) not in taken
                if free and run_start is None:
                    run_start = unit
                elif not free and run_start is not None:
                    add_claims(self.session, self.slug, block.location_id, counter, run_start, unit,
                               block_id=block.id)
                    run_start = None

    def delete_block(self, block: Block) -> None:
        """Remove a block and free its units at once (also where the database lacks cascades)."""
        self.session.execute(delete(SlotClaim).where(SlotClaim.block_id == block.id, SlotClaim.slug == self.slug))
        self.session.execute(delete(Block).where(Block.id == block.id, Block.slug == self.slug))
        self.session.commit()

    def feed(self, location_id: str) -> CalendarFeed | None:
        return self.session.scalar(
            select(CalendarFeed).where(CalendarFeed.slug == self.slug, CalendarFeed.location_id == location_id))

    def rotate_feed(self, location_id: str) -> str:
        """A new secret for the location's feed; the old address stops working. Only the hash is kept."""
        secret = secrets.token_urlsafe(32)
        feed = self.feed(location_id)
        if feed is None:
            feed = CalendarFeed(slug=self.slug, location_id=location_id)
            self.session.add(feed)
        feed.secret_hash = token_hash(secret)
        feed.created_at = utcnow()
        self.session.commit()
        return secret

    def end_feed(self, location_id: str) -> None:
        self.session.execute(delete(CalendarFeed).where(CalendarFeed.slug == self.slug,
                                                        CalendarFeed.location_id == location_id))
        self.session.commit()


def feed_scope(slug: str, location_id: str, secret: str) -> Scope | None:
    """The municipality's scope when `secret` opens this location's feed (the secret is the
    protection, no login): looked up by slug and location, compared in constant time."""
    feed = db().scalar(select(CalendarFeed).where(CalendarFeed.slug == slug, CalendarFeed.location_id == location_id))
    if feed is None or not hmac.compare_digest(feed.secret_hash, token_hash(secret)):
        return None
    return Scope(slug, db())
