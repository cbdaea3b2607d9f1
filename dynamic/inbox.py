"""The citizen's inbox (Postfach): messages from every municipality, unread markers.

Mail never carries the content: it only says that a message is waiting.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from . import auth
from .db import db
from .mail import queue_mail
from .models import Account, Message, utcnow
from .render import page, remember_municipality

inbox = Blueprint("inbox", __name__, url_prefix="/postfach")


def deliver_message(account_id: int, slug: str | None, sender: str, subject: str, body: str,
                    link: str | None = None, notify: bool = True) -> Message:
    """Put a message into the inbox and (unless told not to) queue the notification mail.
    The caller commits."""
    message = Message(account_id=account_id, slug=slug, sender=sender, subject=subject, body=body, link=link)
    db().add(message)
    account = db().get(Account, account_id)
    if notify and account is not None and account.email and account.email_confirmed_at is not None:
        queue_mail(account.email, "neue-nachricht", account_id)
    return message


def unread_count(account_id: int) -> int:
    return int(db().scalar(select(func.count()).select_from(Message).where(
        Message.account_id == account_id, Message.read_at.is_(None))) or 0)


@inbox.get("/")
@auth.require_level("basis")
def index() -> tuple[str, int]:
    remember_municipality()
    login = auth.current_login()
    assert login is not None
    messages = db().scalars(select(Message).where(Message.account_id == login.account_id)
                            .order_by(Message.created_at.desc(), Message.id.desc())).all()
    return page("postfach/index.html", "Postfach", messages=messages,
                unread=sum(1 for m in messages if m.read_at is None))


def _own_message(message_id: int) -> Message:
    login = auth.current_login()
    message = db().get(Message, message_id)
    if login is None or message is None or message.account_id != login.account_id:
        abort(404)
    return message


@inbox.get("/<int:message_id>")
@auth.require_level("basis")
def read(message_id: int) -> tuple[str, int]:
    message = _own_message(message_id)
    if message.read_at is None:
        message.read_at = utcnow()
        db().commit()
    return page("postfach/nachricht.html", message.subject, parent=("Postfach", "/postfach/"), message=message)


@inbox.post("/<int:message_id>/loeschen")
@auth.require_level("basis")
def remove(message_id: int) -> Response:
    message = _own_message(message_id)
    db().delete(message)
    db().commit()
    return redirect(url_for("inbox.index", geloescht=1))
