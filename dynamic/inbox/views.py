"""The citizen's inbox (Postfach): messages from every municipality, unread markers.

Mail never carries the content: it only says that a message is waiting. Replies to an office
are limited per account (REPLY_LIMIT_ACCOUNT), since each one also mails the office.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, abort, redirect, request, url_for
from sqlalchemy import func, select, update
from werkzeug.wrappers import Response

from katalog.models import FormField
from portal.grammar import NameForms, forms_of

from ..platform import auth, config, ratelimit
from ..platform.db import db
from ..platform.models import (
    Account,
    Application,
    ApplicationMessage,
    Message,
    MessageAttachment,
    Office,
    OutboxItem,
    rfc3339,
    utcnow,
)
from ..platform.outbox import queue_mail
from ..platform.ratelimit import Limiter, window
from ..platform.render import page, remember_municipality

inbox = Blueprint("inbox", __name__, url_prefix="/postfach")


def deliver_message(account_id: int, slug: str | None, sender: str, subject: str, body: str,
                    link: str | None = None, notify: bool = True) -> Message:
    """Put a message into the inbox and (unless told not to) queue the notification mail.
    The caller commits."""
    message = Message(account_id=account_id, slug=slug, sender=sender, subject=subject, body=body, link=link)
    db().add(message)
    account = db().get(Account, account_id)
    if notify and account is not None and account.email and account.email_confirmed_at is not None:
        queue_mail(account.email, "neue-nachricht", account_id, slug=slug)
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
        mark_read(message)
    return _message_page(message)


def mark_read(message: Message) -> None:
    """The first opening counts, once: it is the office's evidence of retrieval (§ 41 (2a)
    VwVfG). Set only where none is set yet, in one statement, so a second tab or a retry never
    moves it; kept also on the office's copy (ApplicationMessage.fetched_at, which for an
    office's message means "retrieved by the citizen"), which outlives a deleted message."""
    now = utcnow()
    db().execute(update(Message).where(Message.id == message.id, Message.read_at.is_(None)).values(read_at=now))
    db().execute(update(ApplicationMessage).where(ApplicationMessage.message_id == message.id,
                                                  ApplicationMessage.direction == "office",
                                                  ApplicationMessage.fetched_at.is_(None)).values(fetched_at=now))
    db().commit()
    db().refresh(message)


def _message_page(message: Message, errors: dict[str, str] | None = None, text: str = "",
                  status: int = 200) -> tuple[str, int]:
    replies: Sequence[ApplicationMessage] = []
    if message.application_id is not None:
        replies = db().scalars(select(ApplicationMessage).where(
            ApplicationMessage.application_id == message.application_id, ApplicationMessage.direction == "citizen")
            .order_by(ApplicationMessage.id)).all()
    return page("postfach/nachricht.html", message.subject, status=status, errors=errors,
                parent=("Postfach", "/postfach/"), message=message, replies=replies, text=text,
                answered=request.args.get("beantwortet") == "1", sender=sender_forms(message.slug, message.sender))


def sender_forms(slug: str | None, sender: str) -> NameForms:
    """The sending office's name declined („an das Steueramt“): its unit in the municipality's
    katalog where the name is found there, else the forms its name shows."""
    from ..platform.catalog import grammar_of, katalog

    found = katalog(slug) if slug else None
    unit = next((u for u in found.units.values() if u.name == sender), None) if found else None
    return forms_of(grammar_of(unit) if unit is not None else {"name": sender})


@inbox.get("/<int:message_id>/anhang/<int:attachment_id>")
@auth.require_level("basis")
def attachment(message_id: int, attachment_id: int) -> Response:
    message = _own_message(message_id)
    found = next((a for a in message.attachments if a.id == attachment_id), None)
    if found is None:
        abort(404)
    return Response(found.data, mimetype=found.content_type, headers={
        "Content-Disposition": f'attachment; filename="{_safe_name(found)}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})


def _safe_name(found: MessageAttachment) -> str:
    return "".join(c if c.isalnum() or c in "._- " else "_" for c in found.name)[:120] or "anhang"


REPLY_LIMIT = 5000
REPLY_FILES, REPLY_FILE_MB = 3, 5
# A field like a form's file field, for the shared upload checks (content, size, PDF, image).
REPLY_FILE_FIELD = FormField(id="anhang", type="file", label="Dateien anhängen", max_size_mb=REPLY_FILE_MB)


@inbox.url_value_preprocessor
def _request_size(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """A reply may carry files: its request may be as large as they are (set before the CSRF
    check reads the form, as the form pages do)."""
    if endpoint == "inbox.reply":
        request.max_content_length = (REPLY_FILES * REPLY_FILE_MB + 1) * 1024 * 1024


def _reply_files() -> tuple[list[dict[str, Any]], str | None]:
    """The files sent with a reply, checked like a form's uploads: (files, None) or ([], error)."""
    from werkzeug.datastructures import MultiDict

    from ..forms.fields import read_upload

    sent = [f for f in request.files.getlist("anhang") if f.filename]
    if len(sent) > REPLY_FILES:
        return [], f"Hängen Sie höchstens {REPLY_FILES} Dateien an. Wählen Sie die Dateien bitte erneut aus."
    files = []
    for one in sent:
        upload, error = read_upload(REPLY_FILE_FIELD, MultiDict({"anhang": one}))
        if error or upload is None:
            name = "".join(c if c.isalnum() or c in "._- " else "_" for c in (one.filename or ""))[:120]
            return [], (f"{name}: {error or 'Die Datei ist leer.'} Wählen Sie die Dateien bitte erneut aus."
                        .replace("Die Datei bei »Dateien anhängen«", "Die Datei"))
        files.append(upload.as_dict())
    return files, None


@inbox.post("/<int:message_id>/antworten")
@auth.require_level("basis")
def reply(message_id: int) -> Response | tuple[str, int]:
    """The citizen answers an office's message: encrypted for that office like the
    application; the office hears by mail (without content) and through its endpoint."""
    from ..platform.crypto import encrypt_for

    message = _own_message(message_id)
    application = db().get(Application, message.application_id) if message.application_id else None
    if application is None:
        abort(404)
    text = request.form.get("antwort", "").strip()
    files, file_error = _reply_files()
    errors = {}
    if not text:
        errors["antwort"] = "Schreiben Sie Ihre Antwort in das Feld."
    elif len(text) > REPLY_LIMIT:
        errors["antwort"] = f"Kürzen Sie Ihre Antwort auf höchstens {REPLY_LIMIT} Zeichen."
    if file_error:
        errors["anhang"] = file_error
    elif errors and files:
        errors["anhang"] = "Wählen Sie Ihre Dateien bitte erneut aus: Sie wurden nicht gesendet."
    if errors:
        return _message_page(message, errors, text, 400)
    rule = config.settings().reply_limit_account
    limiter: Limiter = ratelimit.limiter()
    if not limiter.hit(rule, "reply", str(message.account_id)):
        return _message_page(message, {"antwort": f"Sie haben in kurzer Zeit zu viele Antworten geschickt. Bitte "
                                                  f"warten Sie {window(rule)} und senden Sie Ihre Antwort dann "
                                                  "erneut. Ihr Text steht noch im Feld."}, text, 429)
    office = db().get(Office, application.office_id)
    assert office is not None
    now = utcnow()
    subject = f"Antwort zu: {message.subject}"[:200]
    note = ApplicationMessage(application_id=application.id, direction="citizen", subject=subject, created_at=now,
                              jwe=encrypt_for(office.public_jwk, {
                                  "type": "nachricht", "reference": application.reference, "subject": subject,
                                  "body": text, "sent_at": rfc3339(now), "files": files}))
    db().add(note)
    db().flush()
    if office.webhook_url:
        db().add(OutboxItem(kind="webhook", payload={"message": note.id}))
    from ..platform.catalog import katalog

    found = katalog(office.slug)
    unit = found.units.get(office.unit_id) if found else None
    if unit is not None and unit.email:
        queue_mail(unit.email, "nachricht-fuer-amt", None, reference=application.reference)
    db().commit()
    return redirect(url_for("inbox.read", message_id=message.id, beantwortet=1) + "#antworten")


@inbox.post("/<int:message_id>/loeschen")
@auth.require_level("basis")
def remove(message_id: int) -> Response:
    message = _own_message(message_id)
    db().delete(message)
    db().commit()
    return redirect(url_for("inbox.index", geloescht=1))
