"""The OpenAPI document of the office API at /api/v1/openapi.json, built from the same models
that check the requests, with the webhooks and the decrypted payloads.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from pydantic import BaseModel

from portal.levels import LEVELS

from ...platform import config
from . import api
from .models import (
    ATTACHMENT_ID,
    CURSOR,
    DEFAULT_LIMIT,
    FORM_ID,
    IDEMPOTENCY_KEY,
    MAX_LIMIT,
    REFERENCE,
    REFERENCE_ANY_CASE,
    UNIT,
    ApplicationDetail,
    ApplicationFile,
    ApplicationFileDetail,
    ApplicationFileList,
    ApplicationList,
    ApplicationSummary,
    Forwarded,
    ForwardedFile,
    Forwarding,
    MessageList,
    MessageOut,
    NewMessage,
    OfficeKey,
    Problem,
    Rejection,
    Reply,
    ReplyList,
)


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
