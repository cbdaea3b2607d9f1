"""Periodic appointment jobs: reminders the day before (a mail through the outbox that only
links to the appointment), forgetting addresses, and removing expired holds."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from itsdangerous import URLSafeSerializer
from sqlalchemy import delete, select, update

from ..platform import config
from ..platform.db import session_scope
from ..platform.models import Account, Appointment, OutboxItem
from .slots import day_window, local_day


def queue_reminders(app: Flask, now: dt.datetime | None = None) -> int:
    """Queue one reminder for every booked appointment of tomorrow (local date) not yet reminded."""
    now = now or config.now(app)
    start, end = day_window(local_day(now) + dt.timedelta(days=1))
    signer = URLSafeSerializer(app.config["SECRET_KEY"], salt="termin-verwalten")
    queued = 0
    with session_scope(app) as session, app.test_request_context("/"):
        due = session.scalars(select(Appointment).where(
            Appointment.status == "booked", Appointment.reminded_at.is_(None),
            Appointment.starts_at >= start, Appointment.starts_at < end)).all()
        for appointment in due:
            address = appointment.email
            if appointment.account_id is not None:
                account = session.get(Account, appointment.account_id)
                address = account.email if account is not None and account.email_confirmed_at else None
            appointment.reminded_at = now
            if not address:
                continue
            from flask import render_template

            from ..platform.outbox import municipality_name

            link = f"/{appointment.slug}/termine/termin/{appointment.code}?s={signer.dumps(appointment.code)}"
            text = render_template("mail/termin-erinnerung.txt", base_url=config.settings(app).base_url, link=link)
            subject, _, body = text.strip().partition("\n")
            session.add(OutboxItem(kind="mail", account_id=appointment.account_id, payload={
                "to": address, "subject": subject.strip(), "body": body.strip() + "\n",
                "template": "termin-erinnerung",
                **({"sender": sender} if (sender := municipality_name(appointment.slug)) else {})}))
            queued += 1
    return queued


def forget_past_addresses(app: Flask, now: dt.datetime | None = None) -> int:
    """Bookings without an account keep their e-mail address only until the day after the
    appointment: after that nobody needs to be reminded or told of a change."""
    now = now or config.now(app)
    with session_scope(app) as session:
        result = session.execute(
            update(Appointment)
            .where(Appointment.email.is_not(None), Appointment.ends_at < now - dt.timedelta(days=1))
            .values(email=None))
        return int(getattr(result, "rowcount", 0) or 0)


def remove_expired_holds(app: Flask, now: dt.datetime | None = None) -> int:
    """Holds nobody confirmed in time already count as free for every reader and are deleted
    by a booking they stand in the way of; this removes the rest (their claims go with them)."""
    now = now or config.now(app)
    with session_scope(app) as session:
        result = session.execute(delete(Appointment).where(Appointment.status == "held", Appointment.held_until < now))
        return int(getattr(result, "rowcount", 0) or 0)
