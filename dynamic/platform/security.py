"""Security for every response: headers, CSRF on every POST, cookies, request logs without
personal data."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, abort, current_app, g, request
from flask_wtf.csrf import CSRFError, CSRFProtect

from .config import Settings

log = logging.getLogger("dynamic.requests")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

csrf = CSRFProtect()


def init_app(app: Flask, settings: Settings) -> None:
    secure = settings.secure_cookies
    app.config.update(
        # The __Host- prefix makes the browser refuse the cookie unless it is Secure, for this
        # host only and for every path: no subdomain can plant or read it.
        SESSION_COOKIE_NAME="__Host-sitzung" if secure else "sitzung",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/",
        PREFERRED_URL_SCHEME="https" if secure else "http",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session; a timeout would lose input
        WTF_CSRF_SSL_STRICT=True,
    )
    csrf.init_app(app)
    app.before_request(_start_timer)
    app.before_request(_refuse_nul)
    app.after_request(add_security_headers)
    app.after_request(_log_request)
    app.register_error_handler(CSRFError, _csrf_failed)


def _csrf_failed(error: CSRFError) -> tuple[str, int]:
    from .render import page

    log.info("CSRF check failed: %s", error.description)
    return page("konto/fehler.html", "Formular abgelaufen", status=400,
                message="Das Formular war veraltet oder unvollständig, deshalb haben wir es nicht angenommen. "
                        "Bitte laden Sie die Seite neu und senden Sie es noch einmal.")


def add_security_headers(response: Response) -> Response:
    policy = current_app.config.get("CONTENT_SECURITY_POLICY", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("Content-Security-Policy", policy)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.blueprint not in (None, "sites"):
        response.headers.setdefault("Cache-Control", "no-store")  # personal pages stay out of caches
    return response


NUL_REFUSED = "Die Anfrage enthält ein Steuerzeichen (NUL), das in keiner Angabe vorkommen darf."


def _refuse_nul() -> None:
    """A NUL character is never part of what a person types; PostgreSQL cannot store it in text."""
    if "\x00" in request.path or any("\x00" in value for value in request.args.values()):
        abort(400, NUL_REFUSED)
    forms = ("application/x-www-form-urlencoded", "multipart/form-data")
    if request.method == "POST" and request.mimetype in forms and any(
            "\x00" in value for _key, values in request.form.lists() for value in values):
        abort(400, NUL_REFUSED)


def _start_timer() -> None:
    g.started = time.perf_counter()


def _log_request(response: Response) -> Response:
    # The route pattern, never the path: paths and query strings can hold tokens and names.
    # No client address either: it is personal data.
    rule = request.url_rule.rule if request.url_rule is not None else "-"
    elapsed = (time.perf_counter() - g.started) * 1000 if "started" in g else 0.0
    log.info("%s %s %s %.1fms", request.method, rule, response.status_code, elapsed,
             extra={"method": request.method, "route": rule, "status": response.status_code, "ms": round(elapsed, 1)})
    return response
