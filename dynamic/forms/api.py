"""The office API under /api/v1/: an office fetches its applications (encrypted for it),
confirms receipt, reads the citizen's answers (encrypted too) and writes to the citizen's
inbox. Authenticated by the office's bearer token; an office sees only its own.
Described by the OpenAPI document at /api/v1/openapi.json, built from the same models
that check the requests.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from typing import Any, Literal

import filetype
from flask import Blueprint, Response, current_app, g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from ..db import db
from ..errors import BUSY_SECONDS
from ..inbox import deliver_message
from ..models import Application, ApplicationMessage, MessageAttachment, Office, utcnow
from ..security import csrf
from .delivery import mark_received, office_by_token

api = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api)

REFERENCE = r"^A-[0-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$"
ATTACHMENT_TYPES = {"application/pdf", "image/png", "image/jpeg"}
MAX_ATTACHMENT = 5 * 1024 * 1024


NO_CONTROL = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$"  # text may break lines, but holds no control characters


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


class ApplicationSummary(BaseModel):
    reference: str
    form: str
    submitted_at: dt.datetime
    status: Literal["new", "received"]
    received_at: dt.datetime | None = None


class ApplicationDetail(ApplicationSummary):
    jwe: str = Field(description="Der Antrag als JWE (RSA-OAEP-256, A256GCM) für den Schlüssel der Stelle")


class ApplicationList(BaseModel):
    applications: list[ApplicationSummary]


class MessageOut(BaseModel):
    id: int
    direction: Literal["office", "citizen"]
    subject: str
    created_at: dt.datetime
    jwe: str | None = Field(None, description="Text der Antwort der Bürgerin oder des Bürgers, verschlüsselt")


class MessageList(BaseModel):
    messages: list[MessageOut]


class Problem(BaseModel):
    error: str
    message: str


class ApiError(Exception):
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


@api.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    response = jsonify(error=(error.name or "error").lower().replace(" ", "_"), message=error.description or "")
    response.status_code = error.code or 500
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
    request.max_content_length = 40 * 1024 * 1024  # five attachments of 5 MB, base64
    if request.endpoint == "api.openapi":
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    office = office_by_token(db(), token.strip()) if scheme.lower() == "bearer" else None
    if office is None:
        raise ApiError(401, "unauthorized", "Ein gültiger Schlüssel der Stelle (Bearer-Token) fehlt.")
    g.office = office


def _mine(reference: str) -> Application:
    office: Office = g.office
    if re.fullmatch(REFERENCE[1:-1], reference) is None:
        raise ApiError(404, "not_found", "Diesen Antrag gibt es für Ihre Stelle nicht.")
    application = db().scalar(select(Application).where(Application.reference == reference))
    if application is None or application.office_id != office.id:
        raise ApiError(404, "not_found", "Diesen Antrag gibt es für Ihre Stelle nicht.")
    return application


def _summary(application: Application) -> dict[str, Any]:
    return ApplicationSummary(reference=application.reference, form=application.form_id,
                              submitted_at=application.submitted_at, status=application.status,  # type: ignore[arg-type]
                              received_at=application.received_at).model_dump(mode="json")


@api.get("/applications")
def applications() -> Response:
    status = request.args.get("status", "new")
    if status not in ("new", "received", "all"):
        raise ApiError(400, "bad_request", "status muss new, received oder all sein.")
    query = select(Application).where(Application.office_id == g.office.id)
    if status != "all":
        query = query.where(Application.status == status)
    found = db().scalars(query.order_by(Application.submitted_at, Application.id).limit(500)).all()
    return jsonify(applications=[_summary(a) for a in found])


@api.get("/applications/<reference>")
def application(reference: str) -> Response:
    found = _mine(reference)
    return jsonify({**_summary(found), "jwe": found.jwe})


@api.post("/applications/<reference>/receipt")
def confirm_receipt(reference: str) -> Response:
    found = _mine(reference)
    mark_received(found)
    db().commit()
    return jsonify(_summary(found))


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
    return jsonify(messages=[MessageOut(id=n.id, direction=n.direction, subject=n.subject,  # type: ignore[arg-type]
                                        created_at=n.created_at, jwe=n.jwe).model_dump(mode="json") for n in notes])


def _json_body() -> Any:
    """The request's JSON, or None when it is none: malformed, not UTF-8, or nested deeper than
    the parser's recursion allows (RecursionError, which Flask's silent parsing lets through)."""
    try:
        return json.loads(request.get_data(cache=False))
    except (ValueError, RecursionError):
        return None


@api.post("/applications/<reference>/messages")
def answer(reference: str) -> tuple[Response, int]:
    found = _mine(reference)
    body = _json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "Erwartet wird ein JSON-Objekt mit subject und body.")
    try:
        sent = NewMessage.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise ApiError(422, "invalid", f"{where}: {first['msg']}") from None
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
                              message_id=message.id)
    db().add(note)
    mark_received(found)
    db().commit()
    return jsonify(MessageOut(id=note.id, direction="office", subject=note.subject, created_at=note.created_at,
                              jwe=None).model_dump(mode="json")), 201


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


def _office_name(office: Office) -> str:
    from ..catalog import katalog

    found = katalog(office.slug) or {}
    unit = found.get("units", {}).get(office.unit_id, {})
    return str(unit.get("name") or office.unit_id)


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


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(ref_template="#/components/schemas/{model}")


def openapi_document() -> dict[str, Any]:
    components: dict[str, Any] = {}
    for model in (NewMessage, ApplicationSummary, ApplicationDetail, ApplicationList, MessageOut, MessageList,
                  Problem):
        schema = _schema(model)
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema

    def ref(name: str) -> dict[str, Any]:
        return {"$ref": f"#/components/schemas/{name}"}

    def answer_with(name: str, description: str) -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": ref(name)}}}

    problems = {str(code): answer_with("Problem", text) for code, text in
                ((401, "Kein oder ein ungültiger Schlüssel"), (404, "Kein Antrag dieser Stelle"))}
    reference = {"name": "reference", "in": "path", "required": True,
                 "schema": {"type": "string", "pattern": REFERENCE}, "description": "Vorgangsnummer"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Bürgerportal: Schnittstelle für Ämter", "version": "1.0.0",
                 "description": "Anträge abrufen (verschlüsselt für die Stelle), den Empfang bestätigen, "
                                "Nachrichten an die Antragstellenden senden und ihre Antworten lesen."},
        "servers": [{"url": current_app.config["PORTAL"].base_url or "/"}],
        "security": [{"amt": []}],
        "components": {"schemas": components,
                       "securitySchemes": {"amt": {"type": "http", "scheme": "bearer",
                                                   "description": "Schlüssel (Token) der Stelle"}}},
        "paths": {
            "/api/v1/applications": {"get": {
                "operationId": "listApplications", "summary": "Anträge der Stelle auflisten",
                "parameters": [{"name": "status", "in": "query", "required": False,
                                "schema": {"type": "string", "enum": ["new", "received", "all"], "default": "new"}}],
                "responses": {"200": answer_with("ApplicationList", "Die Anträge"),
                              "400": answer_with("Problem", "Unbekannter Status"),
                              "401": problems["401"]}}},
            "/api/v1/applications/{reference}": {"get": {
                "operationId": "getApplication", "summary": "Einen Antrag abrufen (verschlüsselt)",
                "parameters": [reference],
                "responses": {"200": answer_with("ApplicationDetail", "Der Antrag"), **problems}}},
            "/api/v1/applications/{reference}/receipt": {"post": {
                "operationId": "confirmReceipt", "summary": "Den Empfang bestätigen",
                "parameters": [reference],
                "responses": {"200": answer_with("ApplicationSummary", "Bestätigt"), **problems}}},
            "/api/v1/applications/{reference}/messages": {
                "get": {"operationId": "listMessages", "summary": "Nachrichten zu einem Antrag",
                        "parameters": [reference],
                        "responses": {"200": answer_with("MessageList", "Die Nachrichten"), **problems}},
                "post": {"operationId": "sendMessage", "summary": "Nachricht oder Bescheid an das Postfach senden",
                         "parameters": [reference],
                         "requestBody": {"required": True,
                                         "content": {"application/json": {"schema": ref("NewMessage")}}},
                         "responses": {"201": answer_with("MessageOut", "Zugestellt"),
                                       "400": answer_with("Problem", "Kein JSON-Objekt"),
                                       "409": answer_with("Problem", "Das Konto gibt es nicht mehr"),
                                       "413": answer_with("Problem", "Anhang zu groß"),
                                       "422": answer_with("Problem", "Ungültige Angaben"), **problems}}},
        },
    }


@api.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())

