"""Refusals of the office API: JSON problem details in German that name the parameter or
field, for its own errors, Werkzeug's, a busy database and every path it does not have.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from flask import Response, current_app, jsonify, request
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from portal.errors import PortalError

from ...platform.errors import BUSY_SECONDS
from . import api
from .models import MAX_REQUEST_MB

ModelT = TypeVar("ModelT", bound=BaseModel)


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


def json_body() -> Any:
    """The request's JSON, or None when it is none: malformed, not UTF-8, or nested deeper than
    the parser's recursion allows (RecursionError, which Flask's silent parsing lets through)."""
    try:
        return json.loads(request.get_data(cache=False))
    except (ValueError, RecursionError):
        return None


def german(error: ErrorDetails, allowed_fields: str = "subject, body, decision und attachments") -> str:
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


def validated(model: type[ModelT], allowed_fields: str) -> ModelT:
    """The request's JSON object as `model`, or a 400 (no object) or 422 naming the field."""
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", f"Erwartet wird ein JSON-Objekt mit {allowed_fields}.")
    try:
        return model.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise ApiError(422, "invalid", f"{where}: {german(first, allowed_fields)}") from None


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
