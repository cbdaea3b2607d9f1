"""The office API under /api/v1/: an office fetches its applications (encrypted for it),
confirms receipt, reads the citizen's answers (encrypted too) and writes to the citizen's
inbox. Authenticated by the office's bearer token; an office sees only its own.
Described by the OpenAPI document at /api/v1/openapi.json, built from the same models
that check the requests.

The list comes in pages joined by an opaque cursor over (submitted_at, id), so nothing is
missed or doubled while applications arrive or are confirmed between pages. A message sent
with an `Idempotency-Key` is stored once per application and key (a unique constraint, so
also when retries race); a repeat gets the first answer. Refusals are German and name the
parameter or field.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
from typing import Any, Literal, TypeVar

import filetype
from flask import Blueprint, Response, current_app, g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from katalog import formschema
from katalog.models import Katalog
from portal.errors import PortalError
from portal.grammar import NameForms, forms_of, upper_first
from portal.levels import LEVELS

from ..inbox.views import deliver_message
from ..platform import config
from ..platform.crypto import MAX_JWE_BYTES, Unreadable, header_of, seal, unseal
from ..platform.db import db
from ..platform.errors import BUSY_SECONDS
from ..platform.models import (
    Application,
    ApplicationAttachment,
    ApplicationMessage,
    Message,
    MessageAttachment,
    Office,
    utcnow,
)
from ..platform.security import csrf
from .delivery import kid_of, mark_received, office_by_token, office_of

api = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api)

REFERENCE = r"^A-[0-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$"
REFERENCE_ANY_CASE = r"^[Aa]-[0-9]{4}-[A-Za-z2-9]{4}-[A-Za-z2-9]{4}$"  # what the paths accept (ASCII only)
ATTACHMENT_TYPES = {"application/pdf", "image/png", "image/jpeg"}
MAX_ATTACHMENT = 5 * 1024 * 1024


NO_CONTROL = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$"  # text may break lines, but holds no control characters

LIST_PARAMETERS = ("status", "limit", "after", "since")
DEFAULT_LIMIT, MAX_LIMIT = 100, 500
MAX_ID = 2**31 - 1  # the largest id the databases' integer columns hold
CURSOR = r"^[A-Za-z0-9_-]{1,200}$"
# RFC 3339 date-time (section 5.6): a date, T, a time, a fraction of a second, Z or an offset.
RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
                     r"([Zz]|[+-][0-9]{2}:[0-9]{2})")
# 1 to 200 printable ASCII characters; no space at either end, since HTTP would not keep it.
IDEMPOTENCY_KEY = r"^[\x21-\x7e]([\x20-\x7e]{0,198}[\x21-\x7e])?$"
MAX_REQUEST_MB = 40


ModelT = TypeVar("ModelT", bound=BaseModel)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)  # 0.0 is not false


class Attachment(Strict):
    name: str = Field(min_length=1, max_length=200, pattern=r"^[^/\\\x00-\x1f]+$", description="Dateiname")
    content_type: Literal["application/pdf", "image/png", "image/jpeg"]
    data: str = Field(min_length=4, description="Inhalt der Datei, Base64-kodiert (höchstens 5 MB vor der Kodierung)")


class NewMessage(Strict):
    subject: str = Field(min_length=1, max_length=200, pattern=NO_CONTROL,
                         description="Betreff, den die Bürgerin oder der Bürger liest (ohne Leerzeichen am Rand)")
    body: str = Field(min_length=1, max_length=20000, pattern=NO_CONTROL,
                      description="Text der Nachricht, ohne HTML (ohne Leerzeichen am Rand)")
    decision: bool = Field(False, description="Die Nachricht ist ein Bescheid: der Betreff beginnt im Postfach mit "
                                              "»Bescheid:«")
    attachments: list[Attachment] = Field(default_factory=list, max_length=5)


class Rejection(Strict):
    reason: str = Field(min_length=1, max_length=5000, pattern=NO_CONTROL,
                        description="Begründung der Ablehnung, die die Bürgerin oder der Bürger im Postfach liest "
                                    "(ohne HTML, ohne Leerzeichen am Rand)")


class ForwardedFile(Strict):
    id: str = Field(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]{16,64}$",
                    description="Kennung des Anhangs (aus GET /api/v1/applications/{reference}/attachments)")
    jwe: str = Field(min_length=1, max_length=MAX_JWE_BYTES,
                     description="Der entschlüsselte Anhang, neu verschlüsselt für den Schlüssel der Zielstelle")


class ForwardedMessage(Strict):
    message: str = Field(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]{16,64}$",
                         description="Kennung der Antwort (message aus GET /api/v1/applications/{reference}/messages)")
    jwe: str = Field(min_length=1, max_length=MAX_JWE_BYTES,
                     description="Die entschlüsselte Antwort, neu verschlüsselt für den Schlüssel der Zielstelle")


class Forwarding(Strict):
    unit: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
                      description="Kennung der zuständigen Stelle derselben Kommune (im Kreis auch einer "
                                  "kreisangehörigen Gemeinde), wie in GET /api/v1/offices/{unit}/key")
    jwe: str = Field(min_length=1, max_length=MAX_JWE_BYTES,
                     description="Der entschlüsselte Antrag, neu verschlüsselt für den Schlüssel der Zielstelle "
                                 "(JWE compact, RSA-OAEP-256 mit A256GCM, kid des Zielschlüssels im Header)")
    attachments: list[ForwardedFile] = Field(
        default_factory=list, max_length=50,
        description="Jeder Anhang des Antrags, ebenso neu verschlüsselt für die Zielstelle (alle, keiner doppelt)")
    messages: list[ForwardedMessage] = Field(
        default_factory=list, max_length=500,
        description="Jede Antwort der Bürgerin oder des Bürgers zu diesem Antrag, ebenso neu verschlüsselt für die "
                    "Zielstelle (alle, keine doppelt); bei der Zielstelle gelten sie als neu")


class Forwarded(BaseModel):
    reference: str
    unit: str = Field(description="Die Stelle, bei der der Antrag jetzt liegt (Status new)")
    name: str


class OfficeKey(BaseModel):
    unit: str
    name: str
    key: dict[str, Any] = Field(description="Öffentlicher Schlüssel der Stelle (JWK, RSA)")


class ApplicationSummary(BaseModel):
    reference: str
    form: str
    submitted_at: dt.datetime
    status: Literal["new", "received", "rejected"]
    received_at: dt.datetime | None = None


class ApplicationDetail(ApplicationSummary):
    jwe: str = Field(description="Der Antrag als JWE (RSA-OAEP-256, A256GCM) für den Schlüssel der Stelle")


class ApplicationFile(BaseModel):
    id: str = Field(description="Kennung des Anhangs (zufällig, nicht fortlaufend)")
    name: str = Field(description="Dateiname; das PDF des ganzen Antrags heißt Antrag-<Vorgangsnummer>.pdf")
    content_type: str
    size: int = Field(description="Größe in Bytes (vor der Verschlüsselung)")
    sha512: str = Field(pattern="^[0-9a-f]{128}$",
                        description="SHA-512 des Inhalts (hexadezimal), zu prüfen nach dem Entschlüsseln; derselbe "
                                    "Wert steht im Antrag unter attachments")


class ApplicationFileList(BaseModel):
    attachments: list[ApplicationFile]


class ApplicationFileDetail(ApplicationFile):
    jwe: str = Field(description="Der Anhang als JWE (RSA-OAEP-256, A256GCM) für den Schlüssel der Stelle: ein "
                                 "JSON-Objekt mit id, reference, field, name, content_type, size, sha512 und dem "
                                 "Inhalt data (Base64)")


class ApplicationList(BaseModel):
    applications: list[ApplicationSummary]
    next: str | None = Field(description="Cursor der nächsten Seite für den Parameter after; null auf der letzten "
                                         "Seite")


class MessageOut(BaseModel):
    id: int
    message: str = Field(description="Kennung der Nachricht wie im Webhook nachricht (message) und in "
                                     "GET /api/v1/messages; ändert sich nie")
    direction: Literal["office", "citizen"]
    subject: str
    created_at: dt.datetime
    jwe: str | None = Field(None, description="Text der Antwort der Bürgerin oder des Bürgers, verschlüsselt")
    body: str | None = Field(None, description="Nachrichten der Stelle: der Text, wie er im Postfach steht; null bei "
                                               "Antworten und wenn die Bürgerin oder der Bürger die Nachricht "
                                               "gelöscht hat")
    attachments: list[str] = Field(default_factory=list,
                                   description="Nachrichten der Stelle: die Dateinamen der Anhänge")
    read_at: dt.datetime | None = Field(
        None, description="Nachrichten der Stelle: wann die Bürgerin oder der Bürger sie zum ersten Mal im Postfach "
                          "geöffnet hat (Nachweis des Abrufs, § 41 Abs. 2a VwVfG); null, solange ungeöffnet. Der "
                          "Zeitpunkt ändert sich danach nicht mehr, auch nicht beim Löschen der Nachricht.")


class Reply(BaseModel):
    id: int = Field(description="Kennung der Antwort, wie in GET /api/v1/applications/{reference}/messages")
    reference: str = Field(description="Vorgangsnummer; die Antwort selbst (verschlüsselt) mit "
                                       "GET /api/v1/applications/{reference}/messages")
    message: str = Field(description="Kennung der Antwort wie im Webhook nachricht (message)")
    subject: str
    created_at: dt.datetime
    fetched_at: dt.datetime | None = Field(description="Wann Ihre Stelle die Antwort abgerufen hat; null: neu")


class ReplyList(BaseModel):
    messages: list[Reply]
    next: str | None = Field(description="Cursor der nächsten Seite für den Parameter after; null auf der letzten "
                                         "Seite")


class MessageList(BaseModel):
    messages: list[MessageOut]


class Problem(BaseModel):
    error: str
    message: str


class ApiError(PortalError):
    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


@api.errorhandler(ApiError)
def _api_error(error: ApiError) -> Response:
    response = jsonify(error=error.error, message=error.message)
    response.status_code = error.status
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="amt"'
    return response


GERMAN_HTTP = {
    400: "Die Anfrage ist fehlerhaft.",
    404: "Diese Adresse gibt es in der Schnittstelle nicht.",
    405: "Diese Methode ist hier nicht erlaubt.",
    413: f"Die Anfrage ist zu groß: höchstens {MAX_REQUEST_MB} MB sind erlaubt (fünf Anhänge zu 5 MB, "
         "Base64-kodiert).",
    415: "Erwartet wird JSON (Content-Type: application/json).",
    429: "Zu viele Anfragen. Bitte warten Sie etwas und versuchen Sie es dann erneut.",
}


@api.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    """Werkzeug's own descriptions are English: those are replaced by German ones; a description
    the portal gave itself (say, the refused NUL character) is kept."""
    code = error.code or 500
    own = error.description if error.description and error.description != type(error).description else None
    message = own or GERMAN_HTTP.get(code, "Die Anfrage konnte nicht bearbeitet werden.")
    response = jsonify(error=(error.name or "error").lower().replace(" ", "_"), message=message)
    response.status_code = code
    return response


@api.errorhandler(OperationalError)
def _database_busy(_error: OperationalError) -> Response:
    """As for the pages (errors.database_busy), in JSON: nothing was changed, try again."""
    response = jsonify(error="database_busy", message="Die Datenbank hat nicht rechtzeitig geantwortet. Es wurde "
                                                      "nichts geändert; bitte versuchen Sie es in einer Minute erneut.")
    response.status_code = 503
    response.headers["Retry-After"] = str(BUSY_SECONDS)
    return response


@api.before_request
def _authenticate() -> None:
    request.max_content_length = MAX_REQUEST_MB * 1024 * 1024  # five attachments of 5 MB, base64
    if request.endpoint == "api.openapi" or request.path.startswith("/api/v1/forms/"):  # public documents
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    office = office_by_token(db(), token.strip()) if scheme.lower() == "bearer" else None
    if office is None:
        raise ApiError(401, "unauthorized", "Ein gültiger Schlüssel der Stelle (Bearer-Token) fehlt.")
    g.office = office


def _mine(reference: str) -> Application:
    """The office's application by its reference, in any case (`a-2026-…` is `A-2026-…`)."""
    office: Office = g.office
    if re.fullmatch(REFERENCE_ANY_CASE[1:-1], reference) is None:
        raise ApiError(404, "not_found", "Diesen Antrag gibt es für Ihre Stelle nicht.")
    application = db().scalar(select(Application).where(Application.reference == reference.upper()))
    if application is None or application.office_id != office.id:
        raise ApiError(404, "not_found", "Diesen Antrag gibt es für Ihre Stelle nicht.")
    return application


def _summary(application: Application) -> dict[str, Any]:
    return ApplicationSummary(reference=application.reference, form=application.form_id,
                              submitted_at=application.submitted_at, status=application.status,  # type: ignore[arg-type]
                              received_at=application.received_at).model_dump(mode="json")


def _bad_parameter(name: str, message: str) -> ApiError:
    return ApiError(400, "bad_request", f"{name}: {message}")


def _timestamp(text: str) -> dt.datetime | None:
    """An RFC 3339 date-time as aware UTC, or None. Beyond the range of datetime once in UTC
    (0001-01-01T00:00:00+05:00) it is the earliest or latest moment there is."""
    if RFC3339.fullmatch(text) is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text.upper())
    except ValueError:
        return None
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        return (dt.datetime.min if value.year == 1 else dt.datetime.max).replace(tzinfo=dt.UTC)


def _cursor(application: Application) -> str:
    """Opaque to the office: base64url of the last listed application's (submitted_at, id)."""
    return _cursor_at(application.submitted_at, application.id)


def _cursor_at(when: dt.datetime, row_id: int) -> str:
    """Opaque to the office: base64url of the last listed row's (time, id)."""
    raw = json.dumps([when.isoformat(), row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _after(text: str) -> tuple[dt.datetime, int]:
    refused = _bad_parameter("after", "Dieser Cursor ist ungültig. Geben Sie unverändert den Wert von next aus der "
                                      "vorigen Antwort an.")
    if re.fullmatch(CURSOR[1:-1], text) is None:
        raise refused
    try:
        parts = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error):
        raise refused from None
    if not (isinstance(parts, list) and len(parts) == 2 and isinstance(parts[0], str)
            and type(parts[1]) is int and 1 <= parts[1] <= MAX_ID):
        raise refused
    when = _timestamp(parts[0])
    if when is None:
        raise refused
    return when, parts[1]


@api.get("/applications")
def applications() -> Response:
    """A page of the office's applications, oldest first, and the cursor of the next page."""
    for name in request.args:
        if name not in LIST_PARAMETERS:
            raise _bad_parameter(name[:50], "Diesen Parameter gibt es nicht; erlaubt sind status, limit, after und "
                                            "since.")
        if len(request.args.getlist(name)) > 1:
            raise _bad_parameter(name, "Geben Sie diesen Parameter nur einmal an.")
    since = None
    if "since" in request.args:
        since = _timestamp(request.args["since"])
        if since is None:
            raise _bad_parameter("since", "Geben Sie einen Zeitpunkt nach RFC 3339 mit Zeitzone an, etwa "
                                          "2026-03-01T08:00:00Z (ein + der Zeitzone als %2B kodiert).")
    status = request.args.get("status", "new" if since is None else "all")
    if status not in ("new", "received", "rejected", "all"):
        raise ApiError(400, "bad_request", "status muss new, received, rejected oder all sein.")
    limit_text = request.args.get("limit", str(DEFAULT_LIMIT))
    if re.fullmatch(r"[0-9]{1,3}", limit_text) is None or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise _bad_parameter("limit", f"Geben Sie eine ganze Zahl von 1 bis {MAX_LIMIT} an.")
    limit = int(limit_text)

    query = select(Application).where(Application.office_id == g.office.id)
    if status != "all":
        query = query.where(Application.status == status)
    if since is not None:
        query = query.where(Application.submitted_at >= since)
    if "after" in request.args:
        when, last_id = _after(request.args["after"])
        query = query.where(or_(Application.submitted_at > when,
                                and_(Application.submitted_at == when, Application.id > last_id)))
    found = db().scalars(query.order_by(Application.submitted_at, Application.id).limit(limit + 1)).all()
    shown = found[:limit]
    return jsonify(applications=[_summary(a) for a in shown],
                   next=_cursor(shown[-1]) if len(found) > limit else None)


REPLY_PARAMETERS = ("status", "limit", "after")


@api.get("/messages")
def replies() -> Response:
    """The citizens' answers across the office's applications, oldest first, in pages; by
    default the new ones (not fetched yet). Fetching them (GET …/<reference>/messages) marks
    them fetched."""
    from .delivery import event_id

    for name in request.args:
        if name not in REPLY_PARAMETERS:
            raise _bad_parameter(name[:50], "Diesen Parameter gibt es nicht; erlaubt sind status, limit und after.")
        if len(request.args.getlist(name)) > 1:
            raise _bad_parameter(name, "Geben Sie diesen Parameter nur einmal an.")
    status = request.args.get("status", "new")
    if status not in ("new", "fetched", "all"):
        raise _bad_parameter("status", "Erlaubt sind new, fetched und all.")
    limit_text = request.args.get("limit", str(DEFAULT_LIMIT))
    if re.fullmatch(r"[0-9]{1,3}", limit_text) is None or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise _bad_parameter("limit", f"Geben Sie eine ganze Zahl von 1 bis {MAX_LIMIT} an.")
    limit = int(limit_text)
    query = (select(ApplicationMessage, Application.reference)
             .join(Application, ApplicationMessage.application_id == Application.id)
             .where(Application.office_id == g.office.id, ApplicationMessage.direction == "citizen"))
    if status == "new":
        query = query.where(ApplicationMessage.fetched_at.is_(None))
    elif status == "fetched":
        query = query.where(ApplicationMessage.fetched_at.is_not(None))
    if "after" in request.args:
        when, last_id = _after(request.args["after"])
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
                   next=_cursor_at(last.created_at, last.id) if last is not None and len(found) > limit else None)


@api.get("/applications/<reference>")
def application(reference: str) -> Response:
    found = _mine(reference)
    return jsonify({**_summary(found), "jwe": found.jwe})


def _still_open(application: Application) -> None:
    """A rejected application is closed: it is neither confirmed, rejected nor forwarded again."""
    if application.status == "rejected":
        raise ApiError(409, "rejected", "Dieser Antrag wurde bereits abgelehnt und ist abgeschlossen.")


@api.post("/applications/<reference>/receipt")
def confirm_receipt(reference: str) -> Response:
    found = _mine(reference)
    _still_open(found)
    mark_received(found)
    db().commit()
    return jsonify(_summary(found))


ATTACHMENT_ID = r"^[A-Za-z0-9_-]{16,64}$"


def _listed(row: ApplicationAttachment) -> dict[str, Any]:
    return ApplicationFile(id=row.public_id, name=row.name, content_type=row.content_type, size=row.size,
                           sha512=row.sha512).model_dump(mode="json")


@api.get("/applications/<reference>/attachments")
def attachments(reference: str) -> Response:
    """The application's attachments (the citizen's uploads and the application's PDF)."""
    found = _mine(reference)
    rows = db().scalars(select(ApplicationAttachment).where(ApplicationAttachment.application_id == found.id)
                        .order_by(ApplicationAttachment.id)).all()
    return jsonify(attachments=[_listed(row) for row in rows])


@api.get("/applications/<reference>/attachments/<attachment_id>")
def attachment(reference: str, attachment_id: str) -> Response:
    """One attachment, encrypted for the office; only under its own application."""
    found = _mine(reference)
    row = None
    if re.fullmatch(ATTACHMENT_ID[1:-1], attachment_id) is not None:
        row = db().scalar(select(ApplicationAttachment).where(ApplicationAttachment.public_id == attachment_id,
                                                             ApplicationAttachment.application_id == found.id))
    if row is None:
        raise ApiError(404, "not_found", "Diesen Anhang gibt es zu diesem Antrag nicht.")
    return jsonify({**_listed(row), "jwe": row.jwe})


@api.get("/applications/<reference>/messages")
def messages(reference: str) -> Response:
    found = _mine(reference)
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
    from .delivery import event_id

    return MessageOut(id=note.id, message=event_id(str(current_app.config["SECRET_KEY"]), "message", note.id),
                      direction=note.direction, subject=note.subject,  # type: ignore[arg-type]
                      created_at=note.created_at, jwe=note.jwe, body=sent.body if sent is not None else None,
                      attachments=[a.name for a in sent.attachments] if sent is not None else [],
                      read_at=read_at).model_dump(mode="json")


def _json_body() -> Any:
    """The request's JSON, or None when it is none: malformed, not UTF-8, or nested deeper than
    the parser's recursion allows (RecursionError, which Flask's silent parsing lets through)."""
    try:
        return json.loads(request.get_data(cache=False))
    except (ValueError, RecursionError):
        return None


def _german(error: ErrorDetails, allowed_fields: str = "subject, body, decision und attachments") -> str:
    """What pydantic found wrong, said in German (its own texts are English)."""
    kind, context, where = error["type"], error.get("ctx") or {}, error["loc"]
    in_attachment = len(where) > 1 and where[0] == "attachments"
    if kind == "missing":
        return "Diese Angabe fehlt."
    if kind == "extra_forbidden":
        allowed = "name, content_type und data" if in_attachment else allowed_fields
        return f"Dieses Feld ist unbekannt; erlaubt sind {allowed}."
    if kind == "string_too_short":
        return (f"Der Text ist zu kurz: mindestens {context.get('min_length')} Zeichen (Leerzeichen am Anfang und "
                "Ende zählen nicht).")
    if kind == "string_too_long":
        return f"Der Text ist zu lang: höchstens {context.get('max_length')} Zeichen."
    if kind == "string_pattern_mismatch":
        if in_attachment and where[-1] == "name":
            return "Der Dateiname darf weder / noch \\ noch Steuerzeichen enthalten."
        return "Der Text enthält ein Steuerzeichen, das hier nicht erlaubt ist."
    if kind == "literal_error":
        return f"Erlaubt ist nur {str(context.get('expected', '')).replace(' or ', ' oder ')}."
    if kind == "too_long":
        return f"Höchstens {context.get('max_length')} Einträge sind erlaubt."
    if kind == "too_short":
        return f"Mindestens {context.get('min_length')} Einträge sind nötig."
    expected = {"bool_type": "true oder false", "bool_parsing": "true oder false", "string_type": "ein Text",
                "list_type": "eine Liste", "model_type": "ein JSON-Objekt", "dict_type": "ein JSON-Objekt",
                "model_attributes_type": "ein JSON-Objekt"}
    if kind in expected:
        return f"Erwartet wird {expected[kind]}."
    return "Dieser Wert ist ungültig."


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
    found = _mine(reference)
    key = request.headers.get("Idempotency-Key")
    if key is not None and re.fullmatch(IDEMPOTENCY_KEY[1:-1], key) is None:
        raise ApiError(400, "bad_request", "Idempotency-Key: Geben Sie 1 bis 200 druckbare ASCII-Zeichen an (ohne "
                                           "Umlaute, Steuerzeichen und Leerzeichen am Rand).")
    body = _json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "Erwartet wird ein JSON-Objekt mit subject und body.")
    try:
        sent = NewMessage.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise ApiError(422, "invalid", f"{where}: {_german(first)}") from None
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
    katalog_name = _office_name(office)
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


def _validated(model: type[ModelT], allowed_fields: str) -> ModelT:
    """The request's JSON object as `model`, or a 400 (no object) or 422 naming the field."""
    body = _json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", f"Erwartet wird ein JSON-Objekt mit {allowed_fields}.")
    try:
        return model.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise ApiError(422, "invalid", f"{where}: {_german(first, allowed_fields)}") from None


UNIT = r"^[a-z0-9]+(-[a-z0-9]+)*$"


def _colleague(unit: str) -> Office | None:
    """Another registered office of the same municipality (in a district also a member town's);
    never one of another municipality."""
    if len(unit) > 100 or re.fullmatch(UNIT[1:-1], unit) is None:
        return None
    return office_of(db(), g.office.slug, unit)


@api.get("/offices/<unit>/key")
def office_key(unit: str) -> Response:
    """The public key of another office of the same municipality, to forward an application."""
    target = _colleague(unit)
    if target is None:
        raise ApiError(404, "not_found", "Diese Stelle gibt es in Ihrer Kommune nicht, oder sie empfängt keine "
                                         "Anträge online.")
    return jsonify(OfficeKey(unit=target.unit_id, name=_office_name(target),
                             key=target.public_jwk).model_dump(mode="json"))


def _jwe_header(token: str) -> dict[str, Any] | None:
    """The protected header of a compact JWE as the portal writes them, or None."""
    try:
        header = header_of(token)
    except Unreadable:
        return None
    if token.count(".") != 4 or header.get("alg") != "RSA-OAEP-256" or header.get("enc") != "A256GCM":
        return None
    return header


def _for_key(token: str, kid: str) -> bool:
    header = _jwe_header(token)
    return header is not None and header.get("kid") == kid


@api.post("/applications/<reference>/forward")
def forward(reference: str) -> Response:
    """A misrouted application goes to the responsible office of the same municipality: the
    office decrypted it and sends it re-encrypted for the target's key. It is "new" there,
    gone here; the citizen learns where it is now."""
    from ..platform.catalog import katalog
    from ..platform.models import OutboxItem
    from ..platform.outbox import queue_mail

    found = _mine(reference)
    sent = _validated(Forwarding, "unit, jwe, attachments und messages")
    _still_open(found)
    target = _colleague(sent.unit)
    if target is None:
        raise ApiError(422, "invalid", "unit: Diese Stelle gibt es in Ihrer Kommune nicht, oder sie empfängt keine "
                                       "Anträge online.")
    if target.id == found.office_id:
        raise ApiError(422, "invalid", "unit: Der Antrag liegt bereits bei dieser Stelle.")
    kid = kid_of(target.public_jwk)
    header = _jwe_header(sent.jwe)
    if header is None:
        raise ApiError(422, "invalid", "jwe: Erwartet wird ein JWE in kompakter Form (RSA-OAEP-256 mit A256GCM).")
    if header.get("kid") != kid:
        raise ApiError(422, "invalid", f"jwe: Der Antrag ist nicht für den Schlüssel der Zielstelle verschlüsselt "
                                       f"(erwartet kid {kid}); holen Sie ihn mit GET /api/v1/offices/{target.unit_id}"
                                       "/key.")
    files = {row.public_id: row for row in db().scalars(
        select(ApplicationAttachment).where(ApplicationAttachment.application_id == found.id))}
    given = [file.id for file in sent.attachments]
    if sorted(given) != sorted(files):
        raise ApiError(422, "invalid", "attachments: Senden Sie jeden Anhang des Antrags genau einmal mit, neu "
                                       "verschlüsselt für die Zielstelle; erwartet: "
                                       f"{', '.join(sorted(files)) or 'keiner'}.")
    for number, file in enumerate(sent.attachments):
        if not _for_key(file.jwe, kid):
            raise ApiError(422, "invalid", f"attachments.{number}.jwe: Der Anhang ist nicht für den Schlüssel der "
                                           f"Zielstelle verschlüsselt (erwartet kid {kid}).")
        files[file.id].jwe = file.jwe
    _forward_replies(found, sent.messages, kid)
    old_name, new_name = _office_name(g.office), _office_name(target)
    old_named, new_named = _office_forms(g.office), _office_forms(target)
    secret_key = str(current_app.config["SECRET_KEY"])
    try:
        copy = unseal(secret_key, found.citizen_copy)
        found.citizen_copy = seal(secret_key, {**copy, "office": new_name})  # the receipt names the new office
    except Unreadable:
        pass
    found.office_id, found.jwe, found.status, found.received_at = target.id, sent.jwe, "new", None
    katalog_found = katalog(found.slug)
    title = _form_title(katalog_found, found.form_id)
    if found.account_id is not None:
        message = deliver_message(
            found.account_id, found.slug, old_name, f"Ihr Antrag wurde weitergeleitet: {title}"[:200],
            f"Für Ihren Antrag »{title}« ist nicht {old_named.nominative} zuständig, sondern "
            f"{new_named.nominative}. Wir haben ihn deshalb {new_named.to} weitergeleitet; Sie müssen nichts weiter "
            f"tun.\n\nVorgangsnummer: {found.reference} (bleibt gleich)\n\n{upper_first(new_named.nominative)} "
            "meldet sich bei Ihnen hier im Postfach.")
        message.application_id = found.id
    db().flush()
    if target.webhook_url:
        db().add(OutboxItem(kind="webhook", payload={"application": found.id, "event": "antrag"}))
    unit = katalog_found.units.get(target.unit_id) if katalog_found else None
    if unit is not None and unit.email:
        queue_mail(unit.email, "antrag-fuer-amt", None, reference=found.reference, title=title)
    db().commit()
    return jsonify(Forwarded(reference=found.reference, unit=target.unit_id, name=new_name).model_dump(mode="json"))


def _forward_replies(found: Application, given: list[ForwardedMessage], kid: str) -> None:
    """The citizen's answers so far, re-encrypted by the old office for the target: every one,
    or the target could not read what the citizen already told. New for the target."""
    from .delivery import event_id

    secret_key = str(current_app.config["SECRET_KEY"])
    replies = {event_id(secret_key, "message", note.id): note for note in db().scalars(
        select(ApplicationMessage).where(ApplicationMessage.application_id == found.id,
                                         ApplicationMessage.direction == "citizen",
                                         ApplicationMessage.jwe.is_not(None)))}
    if sorted(m.message for m in given) != sorted(replies):
        raise ApiError(422, "invalid", "messages: Senden Sie jede Antwort der Bürgerin oder des Bürgers genau einmal "
                                       "mit, neu verschlüsselt für die Zielstelle; erwartet: "
                                       f"{', '.join(sorted(replies)) or 'keine'}.")
    for number, reply in enumerate(given):
        if not _for_key(reply.jwe, kid):
            raise ApiError(422, "invalid", f"messages.{number}.jwe: Die Antwort ist nicht für den Schlüssel der "
                                           f"Zielstelle verschlüsselt (erwartet kid {kid}).")
    for reply in given:
        replies[reply.message].jwe, replies[reply.message].fetched_at = reply.jwe, None


@api.post("/applications/<reference>/reject")
def reject(reference: str) -> Response:
    """The office refuses the application: closed as "rejected"; the citizen reads the reason
    in the inbox, with a link that opens the form again with their answers (files are
    uploaded again)."""
    from ..platform.catalog import katalog
    from .views import restart_link

    found = _mine(reference)
    sent = _validated(Rejection, "reason")
    _still_open(found)
    if found.account_id is None:
        raise ApiError(409, "gone", "Die Antragstellerin oder der Antragsteller hat das Konto gelöscht.")
    known = katalog(found.slug)
    form = known.forms.get(found.form_id) if known else None
    title = _form_title(known, found.form_id)
    subject = f"Ablehnung Ihres Antrags: {title}"[:200]
    again = (" Über »Antrag korrigieren und erneut senden« öffnen Sie das Formular mit Ihren bisherigen Angaben, "
             "können sie korrigieren und den Antrag erneut senden. Hochgeladene Dateien werden nicht übernommen: "
             "Bitte laden Sie sie erneut hoch." if form is not None else "")
    body = (f"Ihr Antrag »{title}« wurde abgelehnt.\n\nBegründung:\n{sent.reason}\n\n"
            f"Vorgangsnummer: {found.reference}" + (f"\n\n{again.strip()}" if again else ""))
    secret_key = str(current_app.config["SECRET_KEY"])
    message = deliver_message(found.account_id, found.slug, _office_name(g.office), subject, body,
                              link=restart_link(secret_key, found) if form is not None else None)
    message.application_id = found.id
    db().flush()
    db().add(ApplicationMessage(application_id=found.id, direction="office", subject=subject, message_id=message.id))
    now = utcnow()
    found.status = "rejected"
    found.received_at = found.received_at or now
    db().commit()
    return jsonify(_summary(found))


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


def _office_forms(office: Office) -> NameForms:
    """The office's name declined („an das Steueramt“), from the published katalog."""
    from ..platform.catalog import grammar_of, katalog

    found = katalog(office.slug)
    unit = found.units.get(office.unit_id) if found else None
    return forms_of(grammar_of(unit) if unit is not None else {"name": office.unit_id})


def _office_name(office: Office) -> str:
    from ..platform.catalog import katalog

    found = katalog(office.slug)
    unit = found.units.get(office.unit_id) if found else None
    return unit.name if unit is not None and unit.name else office.unit_id


def _form_title(found: Katalog | None, form_id: str) -> str:
    """A form's title from the municipality's katalog; its id where the form is gone."""
    form = found.forms.get(form_id) if found else None
    return form.title if form is not None and form.title else form_id


@api.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def elsewhere(rest: str) -> Response:
    """Every other path or method under /api/v1/ answers in JSON, never with a site's page."""
    adapter = current_app.url_map.bind("")
    allowed = []
    for method in ("GET", "POST"):
        try:
            endpoint, _values = adapter.match(request.path, method=method)
        except HTTPException:
            continue
        if endpoint.startswith("api.") and endpoint != "api.elsewhere":
            allowed.append(method)
    if allowed:
        response = jsonify(error="method_not_allowed", message=f"Erlaubt ist hier: {', '.join(allowed)}.")
        response.status_code = 405
        response.headers["Allow"] = ", ".join(allowed)
        return response
    raise ApiError(404, "not_found", "Diese Adresse gibt es in der Schnittstelle nicht.")


# ---------------------------------------------------------------- OpenAPI


def _webhooks() -> dict[str, Any]:
    """The push to an office's endpoint (dynamic.forms.delivery.push_webhook): one webhook per
    event, ids only, signed over timestamp and body."""
    opaque = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}
    signed = ("Das Portal sendet nur Kennungen; den Antrag (oder die Antwort) holen Sie über die Schnittstelle ab. "
              "Prüfen Sie vor allem anderen die Signatur: HMAC-SHA512 über den Zeitstempel aus "
              "X-Buergerportal-Timestamp, einen Punkt und den unveränderten Körper (<Zeitstempel>.<Körper>), mit dem "
              "Webhook-Geheimnis der Stelle, verglichen in konstanter Zeit. Lehnen Sie jede Meldung ab, deren "
              "Zeitstempel mehr als fünf Minuten von Ihrer Uhr abweicht, und verarbeiten Sie jede id nur einmal: "
              "Dieselbe id mit neuem Zeitstempel ist eine Wiederholung des Portals (mit 2xx bestätigen, nicht noch "
              "einmal verarbeiten), dieselbe Signatur ein zweites Mal ist eine Wiederholung durch Dritte (ablehnen). "
              "Antwortet Ihr Endpunkt nicht mit 2xx, versucht das Portal es mit wachsenden Abständen erneut, "
              "insgesamt bis zu acht Mal; ist der Antrag schon bestätigt (die Antwort schon abgeholt), sendet es "
              "nichts mehr. Unbekannte Felder ignorieren Sie.")

    def hook(event: str, summary: str, properties: dict[str, Any]) -> dict[str, Any]:
        body = {"type": "object", "required": ["event", *properties], "properties": {
            "event": {"const": event, "description": "Art des Ereignisses"}, **properties}}
        headers = [
            {"name": "X-Buergerportal-Timestamp", "in": "header", "required": True,
             "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"},
             "description": "Zeitpunkt des Sendens in Unix-Sekunden; mehr als fünf Minuten alt (oder voraus): "
                            "ablehnen"},
            {"name": "X-Buergerportal-Signature", "in": "header", "required": True,
             "schema": {"type": "string", "pattern": "^sha512=[0-9a-f]{128}$"},
             "description": "sha512= und der HMAC-SHA512 (hexadezimal) über <Zeitstempel>.<Körper> mit dem "
                            "Webhook-Geheimnis der Stelle"},
            {"name": "X-Buergerportal-Event", "in": "header", "required": True,
             "schema": {"type": "string", "pattern": f"^{event}$"}, "description": "Wie event im Körper"},
        ]
        return {"post": {
            "operationId": f"webhook{event.capitalize()}", "summary": summary, "description": signed,
            "security": [], "parameters": headers,
            "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
            "responses": {"2XX": {"description": "Angenommen (auch eine schon bekannte id)"},
                          "default": {"description": "Nicht angenommen: das Portal versucht es später erneut"}}}}

    reference = {"type": "string", "pattern": REFERENCE, "description": "Vorgangsnummer; Abruf mit "
                                                                       "GET /api/v1/applications/{reference}"}
    return {
        "antrag": hook("antrag", "Ein neuer Antrag wartet", {
            "id": {**opaque, "description": "Kennung des Ereignisses, bei jeder Wiederholung dieselbe"},
            "reference": reference,
            "time": {"type": "string", "format": "date-time", "description": "Zeitpunkt des Absendens"}}),
        "nachricht": hook("nachricht", "Eine Antwort der Bürgerin oder des Bürgers wartet", {
            "id": {**opaque, "description": "Kennung des Ereignisses, bei jeder Wiederholung dieselbe"},
            "reference": {**reference, "description": "Vorgangsnummer; Abruf der Antworten mit "
                                                      "GET /api/v1/applications/{reference}/messages"},
            "message": {**opaque, "description": "Kennung der Antwort"},
            "time": {"type": "string", "format": "date-time", "description": "Zeitpunkt der Antwort"}}),
    }


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(ref_template="#/components/schemas/{model}")


def _payload_schema() -> dict[str, Any]:
    """The decrypted application (the JWE's content), as dynamic.forms.delivery.send builds it."""
    text: dict[str, Any] = {"type": "string"}
    nullable: dict[str, Any] = {"type": ["string", "null"]}
    ags = {"type": ["string", "null"], "pattern": "^[0-9]{8}$", "description": "Amtlicher Gemeindeschlüssel"}

    def obj(properties: dict[str, Any], description: str | None = None) -> dict[str, Any]:
        return {"type": "object", "properties": properties, "required": list(properties),
                **({"description": description} if description else {})}

    payload = obj({
        "type": {"const": "antrag"},
        "version": {"enum": [1, 2], "description": "Version dieses Umschlags; neue Schlüssel kommen ohne neue "
                                                  "Version hinzu, keiner wird umbenannt. Version 2: die Dateien "
                                                  "stehen nicht mehr im Antrag (files ohne data, dafür mit id und "
                                                  "sha512), sondern sind Anhänge, einzeln abzurufen mit GET "
                                                  "/api/v1/applications/{reference}/attachments/{id}; attachments "
                                                  "listet sie samt dem PDF des ganzen Antrags"},
        "reference": {"type": "string", "pattern": REFERENCE},
        "submitted_at": {"type": "string", "format": "date-time"},
        "municipality": {"type": "string", "description": "Kennung (Slug) der Kommune"},
        "municipality_name": nullable,
        "ags": {**ags, "description": "Amtlicher Gemeindeschlüssel der zuständigen Stadt oder Gemeinde: im Kreis "
                                      "der der kreisangehörigen Gemeinde, sonst der der Kommune"},
        "town": {"oneOf": [{"type": "null"}, obj({"id": text, "name": text, "ags": ags})],
                 "description": "Die kreisangehörige Gemeinde, in einem Kreis; sonst null"},
        "office": obj({"unit": text, "name": text}, "Die empfangende Stelle"),
        "service": obj({"id": text, "name": nullable,
                        "leika": {"type": ["string", "null"], "pattern": "^99[0-9]{12}$",
                                  "description": "LeiKa-Leistungsschlüssel; null, wo die Leistung keinen hat"}}),
        "form": obj({"id": text, "title": text, "service": text, "version": {"type": "integer", "minimum": 1},
                     "schema": {"type": "string", "format": "uri",
                                "description": "Adresse des JSON Schemas, das data beschreibt"}}),
        "identification": obj({"trust_level": {"enum": list(LEVELS)},
                               "means": text}),
        "data": {"type": "object", "description": "Maschinenwerte: Kennung des Feldes → Wert, nach form.schema"},
        "answers": {"type": "array", "description": "Die Angaben zum Lesen: Beschriftung, Schritt, Text",
                    "items": obj({"id": text, "label": text, "step": text, "type": text, "value": {},
                                  "text": text, "verified": {"type": "boolean"}})},
        "files": {"type": "array", "description": "Die hochgeladenen Dateien, je Feld",
                  "items": {**obj({"field": text, "name": text, "content_type": text, "size": {"type": "integer"}}),
                            "properties": {"field": text, "name": text, "content_type": text,
                                           "size": {"type": "integer"},
                                           "id": {**text, "description": "Version 2: Kennung des Anhangs"},
                                           "sha512": {"type": "string", "pattern": "^[0-9a-f]{128}$",
                                                      "description": "Version 2: SHA-512 des Inhalts"},
                                           "data": {"type": "string", "contentEncoding": "base64",
                                                    "description": "Nur Version 1: der Inhalt"}}}},
        "attachments": {"type": "array", "description": "Ab Version 2: alle Anhänge (die Dateien und das PDF des "
                                                        "ganzen Antrags), einzeln abzurufen",
                        "items": obj({"id": text, "name": text, "content_type": text, "size": {"type": "integer"},
                                      "sha512": {"type": "string", "pattern": "^[0-9a-f]{128}$"}})},
    }, "Der entschlüsselte Antrag (Inhalt von jwe)")
    payload["required"].remove("attachments")  # not in version 1
    return payload


def _reply_schema() -> dict[str, Any]:
    """What a citizen's reply holds once decrypted (the jwe of listMessages, direction citizen)."""
    upload = {"type": "object", "required": ["name", "content_type", "size", "data"], "properties": {
        "name": {"type": "string"}, "content_type": {"enum": ["application/pdf", "image/jpeg", "image/png"]},
        "size": {"type": "integer", "minimum": 0}, "data": {"type": "string", "contentEncoding": "base64"}}}
    return {"type": "object", "description": "Die entschlüsselte Antwort der Antragstellerin oder des "
                                             "Antragstellers (Inhalt von jwe in listMessages, Richtung citizen); "
                                             "files fehlt in Antworten von vor der Möglichkeit, Dateien anzuhängen",
            "required": ["type", "reference", "subject", "body", "sent_at"],
            "properties": {"type": {"const": "nachricht"}, "reference": {"type": "string", "pattern": REFERENCE},
                           "subject": {"type": "string", "maxLength": 200}, "body": {"type": "string"},
                           "sent_at": {"type": "string", "format": "date-time"},
                           "files": {"type": "array", "maxItems": 3, "items": upload}}}


def openapi_document() -> dict[str, Any]:
    components: dict[str, Any] = {}
    models: tuple[type[BaseModel], ...] = (NewMessage, ApplicationSummary, ApplicationDetail, ApplicationList,
                                           MessageOut, MessageList, Problem, ApplicationFile, ApplicationFileList,
                                           ApplicationFileDetail)
    for model in models:
        schema = _schema(model)
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    components["ApplicationPayload"] = _payload_schema()
    components["ReplyPayload"] = _reply_schema()
    for model in CLOSING_MODELS:
        components[model.__name__] = _schema(model)

    def ref(name: str) -> dict[str, Any]:
        return {"$ref": f"#/components/schemas/{name}"}

    def answer_with(name: str, description: str) -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": ref(name)}}}

    problems = {str(code): answer_with("Problem", text) for code, text in
                ((401, "Kein oder ein ungültiger Schlüssel"), (404, "Kein Antrag dieser Stelle"))}
    reference = {"name": "reference", "in": "path", "required": True,
                 "schema": {"type": "string", "pattern": REFERENCE_ANY_CASE},
                 "description": "Vorgangsnummer (Groß- oder Kleinschreibung gleich)"}
    listing = [
        {"name": "status", "in": "query", "required": False,
         "schema": {"type": "string", "enum": ["new", "received", "rejected", "all"]},
         "description": "Welche Anträge: ohne since nur neue (new), mit since alle (all)"},
        {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
         "description": "Höchstens so viele Anträge auf einer Seite"},
        {"name": "after", "in": "query", "required": False,
         "schema": {"type": "string", "pattern": CURSOR},
         "description": "Der Wert von next aus der vorigen Antwort (unverändert): die nächste Seite"},
        {"name": "since", "in": "query", "required": False,
         "schema": {"type": "string", "format": "date-time"},
         "description": "Nur Anträge, die zu diesem Zeitpunkt (RFC 3339 mit Zeitzone) oder später eingegangen sind; "
                        "zum Abgleich"},
    ]
    idempotency_key = {
        "name": "Idempotency-Key", "in": "header", "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": IDEMPOTENCY_KEY},
        "description": "Frei gewählter Schlüssel je Nachricht (1 bis 200 druckbare ASCII-Zeichen). Eine Wiederholung "
                       "mit demselben Schlüssel und Inhalt stellt nichts ein zweites Mal zu und erhält die erste "
                       "Antwort; derselbe Schlüssel mit anderem Inhalt wird mit 422 abgelehnt. Gilt je Antrag."}
    # Public, without a token (security: []): anyone importing applications may read it.
    form_schema_path = {"get": {
        "operationId": "getFormSchema", "security": [],
        "summary": "JSON Schema der Angaben (data) eines Formulars in einer Version, ohne Anmeldung",
        "description": "Die Adresse steht in jedem Antrag unter form.schema; $id ist diese Adresse.",
        "parameters": [{"name": "form_id", "in": "path", "required": True,
                        "schema": {"type": "string", "pattern": FORM_ID}},
                       {"name": "version", "in": "path", "required": True,
                        "schema": {"type": "integer", "minimum": 1}}],
        "responses": {"200": {"description": "Das Schema (JSON Schema 2020-12)",
                              "content": {"application/schema+json": {"schema": {"type": "object"}}}},
                      "404": answer_with("Problem", "Kein Formular in dieser Version")}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Bürgerportal: Schnittstelle für Ämter", "version": "1.0.0",
                 "description": "Anträge abrufen (verschlüsselt für die Stelle), den Empfang bestätigen, "
                                "Nachrichten an die Antragstellenden senden und ihre Antworten lesen."},
        "servers": [{"url": config.settings().base_url or "/"}],
        "security": [{"amt": []}],
        "webhooks": _webhooks(),
        "components": {"schemas": components,
                       "securitySchemes": {"amt": {"type": "http", "scheme": "bearer",
                                                   "description": "Schlüssel (Token) der Stelle"}}},
        "paths": {
            "/api/v1/forms/{form_id}/{version}/schema.json": form_schema_path,
            "/api/v1/applications": {"get": {
                "operationId": "listApplications",
                "summary": "Anträge der Stelle auflisten, die ältesten zuerst, seitenweise",
                "description": "Ist next nicht null, folgt eine weitere Seite: dieselbe Anfrage mit after=next. "
                               "Andere Parameter als die genannten werden mit 400 abgelehnt.",
                "parameters": listing,
                "responses": {"200": answer_with("ApplicationList", "Eine Seite der Anträge"),
                              "400": answer_with("Problem", "Unbekannter Parameter oder ungültiger Wert"),
                              "401": problems["401"]}}},
            "/api/v1/applications/{reference}": {"get": {
                "operationId": "getApplication", "summary": "Einen Antrag abrufen (verschlüsselt)",
                "parameters": [reference],
                "responses": {"200": answer_with("ApplicationDetail", "Der Antrag"), **problems}}},
            "/api/v1/applications/{reference}/receipt": {"post": {
                "operationId": "confirmReceipt", "summary": "Den Empfang bestätigen",
                "parameters": [reference],
                "responses": {"200": answer_with("ApplicationSummary", "Bestätigt"),
                              "409": answer_with("Problem", "Der Antrag wurde abgelehnt"), **problems}}},
            "/api/v1/applications/{reference}/attachments": {"get": {
                "operationId": "listAttachments",
                "summary": "Anhänge eines Antrags auflisten: die hochgeladenen Dateien und das PDF des ganzen Antrags",
                "description": "Ab Version 2 des Antrags stehen die Dateien nicht mehr im Antrag selbst; jede ist "
                               "einzeln verschlüsselt und mit ihrer Kennung abzurufen.",
                "parameters": [reference],
                "responses": {"200": answer_with("ApplicationFileList", "Die Anhänge"), **problems}}},
            "/api/v1/applications/{reference}/attachments/{attachment_id}": {"get": {
                "operationId": "getAttachment", "summary": "Einen Anhang abrufen (verschlüsselt)",
                "description": "Nach dem Entschlüsseln den SHA-512 des Inhalts mit sha512 im Antrag vergleichen; "
                               "weicht er ab, ist der Anhang nicht zu verwenden.",
                "parameters": [reference, {"name": "attachment_id", "in": "path", "required": True,
                                           "schema": {"type": "string", "pattern": ATTACHMENT_ID},
                                           "description": "Kennung des Anhangs aus der Liste oder aus dem Antrag"}],
                "responses": {"200": answer_with("ApplicationFileDetail", "Der Anhang"),
                              "401": problems["401"],
                              "404": answer_with("Problem", "Kein Antrag dieser Stelle, oder kein Anhang mit "
                                                            "dieser Kennung zu diesem Antrag")}}},
            "/api/v1/applications/{reference}/messages": {
                "get": {"operationId": "listMessages", "summary": "Nachrichten zu einem Antrag",
                        "parameters": [reference],
                        "responses": {"200": answer_with("MessageList", "Die Nachrichten"), **problems}},
                "post": {"operationId": "sendMessage", "summary": "Nachricht oder Bescheid an das Postfach senden",
                         "parameters": [reference, idempotency_key],
                         "requestBody": {"required": True,
                                         "content": {"application/json": {"schema": ref("NewMessage")}}},
                         "responses": {"201": {**answer_with("MessageOut", "Zugestellt (oder schon zuvor unter "
                                                                           "diesem Idempotency-Key)"),
                                               "headers": {"Idempotent-Replayed": {
                                                   "description": "true: die Antwort auf die erste Anfrage mit "
                                                                  "diesem Idempotency-Key",
                                                   "schema": {"type": "string", "enum": ["true"]}}}},
                                       "400": answer_with("Problem", "Kein JSON-Objekt oder ungültiger "
                                                                     "Idempotency-Key"),
                                       "409": answer_with("Problem", "Das Konto gibt es nicht mehr"),
                                       "413": answer_with("Problem", "Anhang oder Anfrage zu groß"),
                                       "422": answer_with("Problem", "Ungültige Angaben, oder der Idempotency-Key "
                                                                     "gehört zu einer anderen Nachricht"),
                                       **problems}}},
            **_closing_paths(reference),
        },
    }


CLOSING_MODELS: tuple[type[BaseModel], ...] = (Rejection, ForwardedFile, Forwarding, Forwarded, OfficeKey, Reply,
                                                ReplyList)


def _closing_paths(reference: dict[str, Any]) -> dict[str, Any]:
    """The operations that close or pass on a case, and the office's feeds of its messages."""
    def answer_with(name: str, description: str) -> dict[str, Any]:
        return {"description": description,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}

    def body(name: str) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}

    problems = {"401": answer_with("Problem", "Kein oder ein ungültiger Schlüssel"),
                "404": answer_with("Problem", "Kein Antrag dieser Stelle")}
    paging = [
        {"name": "status", "in": "query", "required": False,
         "schema": {"type": "string", "enum": ["new", "fetched", "all"], "default": "new"},
         "description": "Welche Antworten: neue (noch nicht abgerufen), abgerufene oder alle"},
        {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
         "description": "Höchstens so viele Antworten auf einer Seite"},
        {"name": "after", "in": "query", "required": False, "schema": {"type": "string", "pattern": CURSOR},
         "description": "Der Wert von next aus der vorigen Antwort (unverändert): die nächste Seite"},
    ]
    return {
        "/api/v1/messages": {"get": {
            "operationId": "listReplies",
            "summary": "Antworten der Bürgerinnen und Bürger über alle Anträge der Stelle, die ältesten zuerst, "
                       "seitenweise",
            "description": "Je Antwort die Vorgangsnummer und die Kennung; den Text (verschlüsselt) holen Sie mit "
                           "GET /api/v1/applications/{reference}/messages, das die Antworten als abgerufen markiert "
                           "(fetched_at). Ist next nicht null, folgt eine weitere Seite: dieselbe Anfrage mit "
                           "after=next. Andere Parameter als die genannten werden mit 400 abgelehnt.",
            "parameters": paging,
            "responses": {"200": answer_with("ReplyList", "Eine Seite der Antworten"),
                          "400": answer_with("Problem", "Unbekannter Parameter oder ungültiger Wert"),
                          "401": problems["401"]}}},
        "/api/v1/applications/{reference}/reject": {"post": {
            "operationId": "rejectApplication", "summary": "Den Antrag ablehnen",
            "description": "Der Antrag erhält den Status rejected und ist abgeschlossen. Die Bürgerin oder der Bürger "
                           "liest die Begründung (reason) im Postfach, mit einem Link, der das Formular mit den "
                           "bisherigen Angaben erneut öffnet (hochgeladene Dateien sind erneut hochzuladen). Ein "
                           "abgelehnter Antrag kann weder bestätigt noch erneut abgelehnt oder weitergeleitet werden "
                           "(409).",
            "parameters": [reference], "requestBody": body("Rejection"),
            "responses": {"200": answer_with("ApplicationSummary", "Abgelehnt"),
                          "400": answer_with("Problem", "Kein JSON-Objekt"),
                          "409": answer_with("Problem", "Schon abgelehnt, oder das Konto gibt es nicht mehr"),
                          "422": answer_with("Problem", "Ungültige Angaben"), **problems}}},
        "/api/v1/applications/{reference}/forward": {"post": {
            "operationId": "forwardApplication",
            "summary": "Einen falsch zugeordneten Antrag an die zuständige Stelle weiterleiten",
            "description": "Für eine andere Stelle derselben Kommune (im Kreis auch einer kreisangehörigen Gemeinde): "
                           "Entschlüsseln Sie den Antrag, verschlüsseln Sie ihn neu für den Schlüssel der Zielstelle "
                           "(GET /api/v1/offices/{unit}/key) und senden Sie ihn als jwe. Danach liegt er bei der "
                           "Zielstelle (Status new, mit Webhook und E-Mail-Hinweis wie bei einem neuen Antrag), Ihre "
                           "Stelle sieht ihn nicht mehr (404), und die Bürgerin oder der Bürger erfährt im Postfach, "
                           "welche Stelle jetzt zuständig ist. Die Vorgangsnummer bleibt gleich.",
            "parameters": [reference], "requestBody": body("Forwarding"),
            "responses": {"200": answer_with("Forwarded", "Weitergeleitet"),
                          "400": answer_with("Problem", "Kein JSON-Objekt"),
                          "409": answer_with("Problem", "Der Antrag wurde abgelehnt"),
                          "422": answer_with("Problem", "Unbekannte Stelle, die eigene Stelle, oder jwe nicht für den "
                                                        "Schlüssel der Zielstelle"), **problems}}},
        "/api/v1/offices/{unit}/key": {"get": {
            "operationId": "getOfficeKey",
            "summary": "Öffentlicher Schlüssel einer anderen Stelle derselben Kommune (zum Weiterleiten)",
            "parameters": [{"name": "unit", "in": "path", "required": True,
                            "schema": {"type": "string", "pattern": UNIT, "maxLength": 100},
                            "description": "Kennung der Stelle"}],
            "responses": {"200": answer_with("OfficeKey", "Der Schlüssel"),
                          "401": problems["401"],
                          "404": answer_with("Problem", "Keine registrierte Stelle dieser Kommune")}}},
    }


@api.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


# ---------------------------------------------------------------- application format

FORM_ID = r"^[a-z0-9]+(-[a-z0-9]+)*$"


@api.get("/forms/<form_id>/<version>/schema.json")
def form_schema(form_id: str, version: str) -> Response:
    """The JSON Schema of a form's data at a version, public: from the built catalogues for
    the current version, else from the published snapshot in the repository."""
    from ..platform.catalog import katalog

    unknown = ApiError(404, "not_found", "Dieses Formular gibt es in dieser Version nicht.")
    # A form id is at most 100 characters (the database's form_id): a longer one would be a file name
    # too long for the disk (OSError) when the published snapshot is looked up.
    if (len(form_id) > 100 or re.fullmatch(FORM_ID[1:-1], form_id) is None
            or re.fullmatch(r"[1-9][0-9]{0,5}", version) is None):
        raise unknown
    number, url = int(version), formschema.schema_url(config.settings().base_url, form_id, int(version))
    found: dict[str, Any] | None = None
    for path in sorted(config.output_dir().glob("[!.]*/katalog.json")):
        known = katalog(path.parent.name)
        form = known.forms.get(form_id) if known else None
        data = {**form.model_dump(mode="json"), "id": form_id} if form is not None else None
        if data is not None and formschema.version_of(data) == number:
            found = formschema.form_schema(data, url)
            break
    if found is None:
        snapshot = formschema.REPOSITORY_SNAPSHOTS / formschema.snapshot_name(form_id, number)
        if not snapshot.is_file():
            raise unknown
        found = {**json.loads(snapshot.read_text(encoding="utf-8")), "$id": url}
    response = current_app.response_class(json.dumps(found, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                                          mimetype="application/schema+json")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
