"""Mail through the outbox: queued in the same transaction as the change that causes it, sent
by the worker over SMTP (or into a folder under var/ for a local run).

A mail never carries personal data: it says that something is waiting and links to the
portal. The only personal datum is the recipient address, and the outbox row with it is
deleted with the account.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import smtplib
import threading
import time
from collections.abc import Callable
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import Flask, g, render_template
from sqlalchemy import or_, select, update

from portal.errors import PortalError

from . import config
from .db import db, session_scope
from .models import OutboxItem, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


class NotYet(PortalError):  # noqa: N818 - not an error: the handler asks to be called again later
    """Raised by an outbox handler that has nothing to do yet (a decision not made yet): the
    same item comes again at `when`, without counting as a failed attempt."""

    def __init__(self, when: dt.datetime) -> None:
        super().__init__(when.isoformat())
        self.when = when


def queue_mail(to: str, template: str, account_id: int | None, slug: str | None = None, **context: str) -> None:
    """Queue a mail from `site_templates/templates/mail/<template>.txt` (first line: subject).
    The caller commits, so the mail goes out only if its cause was stored. A mail about a
    municipality's matter (`slug`, else the site of the current page) names it as sender."""
    text = render_template(f"mail/{template}.txt", base_url=config.settings().base_url, **context)
    subject, _, body = text.strip().partition("\n")
    payload = {"to": to, "subject": subject.strip(), "body": body.strip() + "\n", "template": template}
    sender = municipality_name(slug or g.get("site_slug"))
    if sender:
        payload["sender"] = sender
    db().add(OutboxItem(kind="mail", account_id=account_id, payload=payload))


def municipality_name(slug: str | None) -> str | None:
    """„Stadt Münster“ for "muenster", from its published katalog; None for the portal."""
    from .catalog import katalog

    found = katalog(slug) if slug else None
    return found.municipality.name if found else None


def sender_address(mail_from: str, municipality: str | None) -> Address:
    """The From header: MAIL_FROM's address, shown as „Stadt Münster – Bürgerportal“ for a
    municipality's mail. The header registry encodes the name per RFC 2047."""
    name, address = parseaddr(mail_from)
    display = f"{municipality} – Bürgerportal" if municipality else name
    return Address(display_name=display, addr_spec=address)


def process_outbox(app: Flask, limit: int = 50) -> int:
    """Send what is due; returns how many items were done. Safe to run in several workers."""
    done = 0
    for _ in range(limit):
        with session_scope(app) as session:
            now = utcnow()
            item = session.scalar(
                select(OutboxItem)
                .where(OutboxItem.done_at.is_(None), OutboxItem.not_before <= now,
                       OutboxItem.attempts < MAX_ATTEMPTS,
                       or_(OutboxItem.claimed_until.is_(None), OutboxItem.claimed_until < now))
                .order_by(OutboxItem.id).limit(1))
            if item is None:
                break
            # Claim it: only one worker wins the update, the others look for the next item.
            claimed = session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == item.id,
                       or_(OutboxItem.claimed_until.is_(None), OutboxItem.claimed_until < now))
                .values(claimed_until=now + dt.timedelta(minutes=5)))
            session.commit()
            if getattr(claimed, "rowcount", 0) != 1:
                continue
            try:
                deliver(app, item)
            except NotYet as later:
                item.claimed_until, item.not_before = None, later.when
                session.merge(item)
                continue
            except Exception as error:  # noqa: BLE001 - any failure is retried later
                item.attempts += 1
                item.claimed_until = None
                item.not_before = utcnow() + dt.timedelta(seconds=30 * 2 ** item.attempts)
                item.last_error = type(error).__name__
                log.warning("outbox item %s (%s) failed, attempt %s: %s", item.id, item.kind, item.attempts,
                            type(error).__name__)
                session.merge(item)
                continue
            item.done_at = utcnow()
            item.attempts += 1
            item.payload = {"template": item.payload.get("template", "")}  # forget the address once sent
            session.merge(item)
            done += 1
    return done


def add_handler(app: Flask, kind: str, handler: Callable[[Flask, OutboxItem], None]) -> None:
    """Items of `kind` are delivered by `handler` (app, item) instead of being sent as mail."""
    app.extensions.setdefault("outbox_handlers", {})[kind] = handler


def add_periodic_job(app: Flask, job: Callable[[Flask], object]) -> None:
    """`job` (app) runs before each pass of the worker, e.g. to queue appointment reminders."""
    app.extensions.setdefault("periodic_jobs", []).append(job)


def deliver(app: Flask, item: OutboxItem) -> None:
    handler = app.extensions.get("outbox_handlers", {}).get(item.kind)
    if handler is not None:
        handler(app, item)
        return
    if item.kind != "mail":
        raise ValueError(f"unknown outbox kind {item.kind}")
    settings = config.settings(app)
    message = EmailMessage()
    message["From"] = sender_address(settings.mail_from, item.payload.get("sender"))
    message["To"] = item.payload["to"]
    message["Subject"] = item.payload["subject"]
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="buergerportal.invalid")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(item.payload["body"])
    url = urlsplit(settings.mail_url)
    if url.scheme == "file":
        # Only the owner may read the local mail (it holds addresses and login links).
        folder = Path(unquote(url.path))
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = folder / f"{utcnow():%Y%m%d-%H%M%S}-{item.id}.eml"
        with open(os.open(target, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600), "wb") as file:
            file.write(bytes(message))
        return
    if url.scheme not in ("smtp", "smtps"):
        raise ValueError(f"MAIL_URL scheme {url.scheme!r} is not smtp, smtps or file")
    client_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    with client_class(url.hostname or "127.0.0.1", url.port or (465 if url.scheme == "smtps" else 25),
                      timeout=30) as client:
        if settings.mail_starttls:
            client.starttls()
        if settings.mail_user:
            client.login(settings.mail_user, settings.mail_password)
        client.send_message(message)


def run_periodic_jobs(app: Flask) -> None:
    """Jobs that put work into the outbox (e.g. appointment reminders), added by add_periodic_job."""
    for job in app.extensions.get("periodic_jobs", []):
        job(app)


def start_worker_thread(app: Flask, interval: float = 1.0) -> threading.Thread:
    """For `build.py serve`: the outbox worker in the same process."""

    def loop() -> None:
        while True:
            try:
                run_periodic_jobs(app)
                process_outbox(app)
            except Exception:  # noqa: BLE001 - keep the local worker alive
                log.exception("outbox worker failed")
            time.sleep(interval)

    thread = threading.Thread(target=loop, name="outbox-worker", daemon=True)
    thread.start()
    return thread


def run_worker(app: Flask, interval: float = 2.0) -> None:
    """`python build.py worker`: process the outbox until stopped."""
    log.info("outbox worker started")
    while True:
        run_periodic_jobs(app)
        process_outbox(app)
        time.sleep(interval)
