"""Error pages in German and in the municipality's look, for every HTTP error the app's
pages answer with (the office API answers in JSON itself, see forms/api/errors.py).

Under /<slug>/… a page that does not exist gets that municipality's own 404 page from the
build, the same one the web server shows for a missing static page."""

from __future__ import annotations

import logging

from flask import Flask, make_response, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from .sites import municipality_404

log = logging.getLogger(__name__)

HOME = ("/", "Zur Startseite")
BUSY_SECONDS = 60
MESSAGES = {
    400: ("Anfrage nicht verständlich", "Diese Anfrage konnten wir nicht bearbeiten. Bitte gehen Sie zurück und "
                                        "versuchen Sie es noch einmal."),
    403: ("Kein Zugriff", "Diese Seite können Sie nicht aufrufen."),
    404: ("Seite nicht gefunden", "Diese Seite gibt es nicht oder nicht mehr. Prüfen Sie die Adresse oder "
                                  "beginnen Sie auf der Startseite."),
    405: ("Nicht möglich", "So lässt sich diese Seite nicht aufrufen. Bitte gehen Sie zurück und versuchen Sie "
                           "es noch einmal."),
    410: ("Nicht mehr verfügbar", "Diese Seite gibt es nicht mehr."),
    413: ("Zu groß", "Was Sie senden wollten, ist zu groß. Bitte gehen Sie zurück und senden Sie weniger."),
    429: ("Zu viele Anfragen", "Von Ihrem Anschluss kamen in kurzer Zeit zu viele Anfragen. Bitte warten Sie "
                               "einige Minuten und versuchen Sie es dann erneut."),
    500: ("Ein Fehler ist aufgetreten", "Das hat leider nicht geklappt. Was Sie vorher gespeichert haben, ist "
                                        "nicht verloren. Bitte versuchen Sie es in einigen Minuten erneut."),
    503: ("Gerade nicht erreichbar", "Das Bürgerportal kann Ihre Anfrage gerade nicht bearbeiten. Was Sie vorher "
                                     "gespeichert haben, ist nicht verloren. Bitte versuchen Sie es in einer Minute "
                                     "erneut."),
}


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_error)  # unhandled exceptions too, as a 500
    app.register_error_handler(OperationalError, database_busy)


def database_busy(error: OperationalError) -> Response:
    """The database did not answer in time (SQLite still locked after its busy timeout, a lock
    or connection timeout in PostgreSQL): nothing of this request was stored, and trying
    again shortly works. A 503 that says so, not a 500. The request's session rolls back
    when the request ends."""
    log.warning("database busy or unreachable: %s", type(error.orig).__name__)
    return _notice(503, {"Retry-After": str(BUSY_SECONDS)})


def _notice(code: int, headers: dict[str, str]) -> Response:
    """The portal's German page for this status, with these headers."""
    from .render import page

    title, message = MESSAGES.get(code, MESSAGES[400] if code < 500 else MESSAGES[500])
    html, status = page("konto/hinweis.html", title, status=code, message=message, link=HOME)
    response = make_response(html, status)
    response.headers.update(headers)
    return response


def http_error(error: HTTPException) -> Response | HTTPException:
    code = error.code or 500
    if code < 400:
        return error  # redirects that routing raises
    if code == 404 and (own := municipality_404(request.path)) is not None:
        return own
    # Allow (405), Retry-After (429)
    return _notice(code, {name: value for name, value in error.get_headers() if name.lower() != "content-type"})
