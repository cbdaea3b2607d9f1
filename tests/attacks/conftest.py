"""Attacks run through HTTP against the running app: the app of tests/dynamic (on SQLite and
on PostgreSQL) served by a real WSGI server on 127.0.0.1, driven by `requests`. Attacks that
need several processes start gunicorn themselves (tests/dynamic/gunicorn_server.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask

from tests.conftest import _free_port
from tests.dynamic import conftest as dynamic_fixtures
from tests.dynamic.browserlike import Browser

# The dynamic tier's fixtures, for the attacks too: the app on SQLite and PostgreSQL, real SMTP.
app = dynamic_fixtures.app
app_settings = dynamic_fixtures.app_settings
database_url = dynamic_fixtures.database_url
fixture_output = dynamic_fixtures.fixture_output
mailbox = dynamic_fixtures.mailbox
postgresql_engine = dynamic_fixtures.postgresql_engine
send_mail = dynamic_fixtures.send_mail
smtp_server = dynamic_fixtures.smtp_server
sqlite_engine = dynamic_fixtures.sqlite_engine


class HttpResponse:
    """A `requests` response with the part of Werkzeug's TestResponse that Browser reads."""

    def __init__(self, response: requests.Response) -> None:
        self.raw = response
        self.status_code = response.status_code
        self.headers = response.headers
        self.data = response.content

    def get_data(self, as_text: bool = False) -> str | bytes:
        return self.raw.text if as_text else self.data


class HttpClient:
    """Flask's test-client calls (get/post with a path) as real HTTP requests to `base`."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()

    def get(self, path: str, query_string: Any = None, **kwargs: Any) -> HttpResponse:
        return HttpResponse(self.session.get(self.base + path, params=query_string, allow_redirects=False,
                                             timeout=60, **kwargs))

    def post(self, path: str, data: Any = None, **kwargs: Any) -> HttpResponse:
        return HttpResponse(self.session.post(self.base + path, data=data, allow_redirects=False, timeout=60,
                                              **kwargs))


@pytest.fixture
def live(app: Flask) -> Iterator[str]:
    """The test app behind a threaded WSGI server on a free local port; yields its base URL."""
    from werkzeug.serving import make_server

    port = _free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


@pytest.fixture
def visitor(live: str) -> Browser:
    """A browser without JavaScript over real HTTP (a fresh cookie jar)."""
    return http_browser(live)


def http_browser(base: str) -> Browser:
    """Another browser (its own cookies) against the same running app."""
    browser = Browser(HttpClient(base))  # type: ignore[arg-type]
    browser.url = base + "/"
    return browser


def signed_in_cookie(app: Flask, account_id: int, level: str = "basis") -> tuple[str, str]:
    """A login session row for the account and the signed session cookie that carries its
    token, as the login page would set it; returns (cookie value, CSRF token)."""
    import secrets

    from flask import session
    from flask_wtf.csrf import generate_csrf

    from dynamic.platform.auth import token_hash
    from dynamic.platform.db import session_scope
    from dynamic.platform.models import LoginSession

    token = secrets.token_urlsafe(32)
    with session_scope(app) as db_session:
        db_session.add(LoginSession(token_hash=token_hash(token), account_id=account_id, level=level,
                                    means="eid" if level == "hoch" else "konto"))
    with app.test_request_context("/"):
        session["sid"] = token
        csrf = generate_csrf()
        cookie = app.session_interface.get_signing_serializer(app).dumps(dict(session))  # type: ignore[attr-defined]
    return cookie, csrf


def signed_in_visitor(app: Flask, base: str, account_id: int, level: str = "basis") -> Browser:
    """A browser over real HTTP, logged in to the account."""
    browser = http_browser(base)
    cookie, _csrf = signed_in_cookie(app, account_id, level)
    browser.client.session.cookies.set(app.config["SESSION_COOKIE_NAME"], cookie)  # type: ignore[attr-defined]
    return browser
