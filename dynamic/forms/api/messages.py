"""Messages about an application: the citizens' answers across the office's applications,
the messages of one application, and the office's own message or decision to the
citizen's inbox, stored once per Idempotency-Key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any

import filetype
from flask import Response, current_app, g, jsonify, request
from pydantic import ValidationError
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from ...inbox.views import deliver_message
from ...platform.db import db
from ...platform.models import Application, ApplicationMessage, Message, MessageAttachment, Office, utcnow
from ..delivery import mark_received
from . import api
from .errors import ApiError, german, json_body
from .models import DEFAULT_LIMIT, IDEMPOTENCY_KEY, MAX_ATTACHMENT, MAX_LIMIT, Attachment, MessageOut, NewMessage, Reply
from .offices import mine, office_name
from .paging import after, bad_parameter, cursor_at

REPLY_PARAMETERS = ("status", "limit", "after")


@api.get("/messages")
def replies() -> Response:
    """The citizens' answers across the office's applications, oldest first, in pages; by
    default the new ones (not fetched yet). Fetching them (GET …/<reference>/messages) marks
    them fetched."""
    from ..delivery import event_id

    for name in request.args:
        if name not in REPLY_PARAMETERS:
            raise bad_parameter(name[:50], "Diesen Parameter gibt es nicht; erlaubt sind status, limit und after.")
        if len(request.args.getlist(name)) > 1:
            raise bad_parameter(name, "Geben Sie diesen Parameter nur einmal an.")
    status = request.args.get("status", "new")
    if status not in ("new", "fetched", "all"):
        raise bad_parameter("status", "Erlaubt sind new, fetched und all.")
    limit_text = request.args.get("limit", str(DEFAULT_LIMIT))
    if re.fullmatch(r"[0-9]{1,3}", limit_text) is None or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise bad_parameter("limit", f"Geben Sie eine ganze Zahl von 1 bis {MAX_LIMIT} an.")
    limit = int(limit_text)
    query = (select(ApplicationMessage, Application.reference)
             .join(Application, ApplicationMessage.application_id == Application.id)
             .where(Application.office_id == g.office.id, ApplicationMessage.direction == "citizen"))
    if status == "new":
        query = query.where(ApplicationMessage.fetched_at.is_(None))
    elif status == "fetched":
        query = query.where(ApplicationMessage.fetched_at.is_not(None))
    if "after" in request.args:
        when, last_id = after(request.args["after"])
        query = query.where(or_(ApplicationMessage.created_at > when,
                                and_(ApplicationMessage.created_at == when, ApplicationMessage.id > last_id)))
    found = db().execute(query.order_by(ApplicationMessage.created_at, ApplicationMessage.id).limit(limit + 1)).all()
    shown = found[:limit]
    secret_key = str(current_app.config["SECRET_KEY"])
    listed = [Reply(id=note.id, reference=reference, message=event_id(secret_key, "message", note.id),
                    subject=note.subject, created_at=note.created_at,
                    fetched_at=note.fetched_at).model_dump(mode="json") for note, reference in shown]
    last = shown[-1][0] if shown else None
    return jsonify(messages=listed,
                   next=cursor_at(last.created_at, last.id) if last is not None and len(found) > limit else None)


@api.get("/applications/<reference>/messages")
def messages(reference: str) -> Response:
    found = mine(reference)
    notes = db().scalars(select(ApplicationMessage).where(ApplicationMessage.application_id == found.id)
                         .order_by(ApplicationMessage.id)).all()
    now = utcnow()
    for note in notes:
        if note.direction == "citizen" and note.fetched_at is None:
            note.fetched_at = now
    db().commit()
    return jsonify(messages=[_message_out(n) for n in notes])


def _message_out(note: ApplicationMessage) -> dict[str, Any]:
    """A message about the application; for the office's own, what the inbox holds of it and
    when the citizen first opened it (kept in `fetched_at`, which outlives the inbox message)."""
    sent = db().get(Message, note.message_id) if note.direction == "office" and note.message_id else None
    read_at = (sent.read_at if sent is not None else None) or note.fetched_at if note.direction == "office" else None
    from ..delivery import event_id

    return MessageOut(id=note.id, message=event_id(str(current_app.config["SECRET_KEY"]), "message", note.id),
                      direction=note.direction, subject=note.subject,  # type: ignore[arg-type]
                      created_at=note.created_at, jwe=note.jwe, body=sent.body if sent is not None else None,
                      attachments=[a.name for a in sent.attachments] if sent is not None else [],
                      read_at=read_at).model_dump(mode="json")


def _replay(note: ApplicationMessage, digest: str) -> tuple[Response, int]:
    """The answer to the first request with this key, if this one asks the same."""
    if note.request_hash != digest:
        raise ApiError(422, "idempotency_key_reused", "Idempotency-Key: Unter diesem Schlüssel wurde bereits eine "
                                                      "Nachricht mit einem anderen Inhalt gesendet. Für eine neue "
                                                      "Nachricht verwenden Sie bitte einen neuen Schlüssel.")
    response = jsonify(_message_out(note))
    response.headers["Idempotent-Replayed"] = "true"
    return response, 201


@api.post("/applications/<reference>/messages")
def answer(reference: str) -> tuple[Response, int]:
    found = mine(reference)
    key = request.headers.get("Idempotency-Key")
    if key is not None and re.fullmatch(IDEMPOTENCY_KEY[1:-1], key) is None:
        raise ApiError(400, "bad_request", "Idempotency-Key: Geben Sie 1 bis 200 druckbare ASCII-Zeichen an (ohne "
                                           "Umlaute, Steuerzeichen und Leerzeichen am Rand).")
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "Erwartet wird ein JSON-Objekt mit subject und body.")
    try:
        sent = NewMessage.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise ApiError(422, "invalid", f"{where}: {german(first)}") from None
    # Hashed once valid: then the body is as shallow as the model, and its keys' order does not count.
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    application_id = found.id
    if key is not None:
        earlier = db().scalar(select(ApplicationMessage).where(ApplicationMessage.application_id == application_id,
                                                               ApplicationMessage.idempotency_key == key))
        if earlier is not None:
            return _replay(earlier, digest)
    files = [_attachment(a) for a in sent.attachments]
    if found.account_id is None:
        raise ApiError(409, "gone", "Die Antragstellerin oder der Antragsteller hat das Konto gelöscht.")
    office: Office = g.office
    katalog_name = office_name(office)
    marked = not sent.decision or re.search(r"\bBescheid\b", sent.subject, re.IGNORECASE)
    subject = sent.subject if marked else f"Bescheid: {sent.subject}"
    message = deliver_message(found.account_id, found.slug, katalog_name, subject[:200],
                              sent.body + f"\n\nVorgangsnummer: {found.reference}")
    message.application_id = found.id
    message.attachments = [MessageAttachment(name=name, content_type=kind, data=data) for name, kind, data in files]
    db().flush()
    note = ApplicationMessage(application_id=found.id, direction="office", subject=subject[:200],
                              message_id=message.id, idempotency_key=key,
                              request_hash=digest if key is not None else None)
    db().add(note)
    mark_received(found)
    try:
        db().commit()
    except IntegrityError:
        # A request with the same key was faster: the unique constraint refused this one, whose
        # message, mail and all are rolled back; it answers with the winner's answer.
        db().rollback()
        winner = None if key is None else db().scalar(select(ApplicationMessage).where(
            ApplicationMessage.application_id == application_id, ApplicationMessage.idempotency_key == key))
        if winner is None:
            raise
        return _replay(winner, digest)
    return jsonify(_message_out(note)), 201


def _attachment(sent: Attachment) -> tuple[str, str, bytes]:
    try:
        data = base64.b64decode(sent.data, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "invalid", f"attachments: {sent.name} ist kein gültiges Base64.") from None
    if len(data) > MAX_ATTACHMENT:
        raise ApiError(413, "too_large", f"attachments: {sent.name} ist größer als 5 MB.")
    guessed = filetype.guess(data)
    if guessed is None or guessed.mime != sent.content_type:
        raise ApiError(422, "invalid", f"attachments: der Inhalt von {sent.name} ist kein {sent.content_type}.")
    return sent.name, sent.content_type, data
