"""Login sessions: levels, their lifetimes (TR-03160-1), step-up fallback, require_level."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask, g

from dynamic.platform import auth
from dynamic.platform.db import db
from dynamic.platform.models import Account, LoginSession


def kept_on_server(app: Flask, token: object) -> dict[str, object]:
    """The answers kept for the cookie's reference, decrypted from the `kept_forms` table."""
    from dynamic.platform.crypto import unseal
    from dynamic.platform.models import KeptForm

    assert isinstance(token, str)
    with app.app_context():
        row = db().get(KeptForm, auth.token_hash(token))
        assert row is not None
        kept: dict[str, object] = unseal(str(app.config["SECRET_KEY"]), row.data)
        return kept


def _account(app: Flask) -> int:
    with app.app_context():
        account = Account(email="kim.test@example.org")
        db().add(account)
        db().commit()
        return account.id


def _age(app: Flask, *, level_since: dt.timedelta = dt.timedelta(), idle: dt.timedelta = dt.timedelta()) -> None:
    with app.app_context():
        row = db().query(LoginSession).one()
        row.level_since -= level_since
        row.created_at -= level_since
        row.last_seen_at -= idle
        db().commit()


def _login_now(app: Flask, cookie_session: dict[str, object]) -> auth.Login | None:
    with app.test_request_context("/konto/"):
        from flask import session

        session.update(cookie_session)
        return auth.current_login()


def _start(app: Flask, account_id: int, level: str, means: str, cookie_session: dict[str, object]) -> None:
    with app.test_request_context("/konto/"):
        from flask import session

        session.update(cookie_session)
        account = db().get(Account, account_id)
        assert account is not None
        auth.start_login(account, level, means)
        cookie_session.clear()
        cookie_session.update(dict(session))


@pytest.mark.parametrize(("level", "absolute", "idle"), [
    ("basis", dt.timedelta(hours=12), dt.timedelta(minutes=60)),
    ("substantiell", dt.timedelta(hours=2), dt.timedelta(minutes=30)),
    ("hoch", dt.timedelta(minutes=30), dt.timedelta(minutes=5)),
])
def test_a_login_ends_after_its_levels_idle_and_absolute_time(app: Flask, level: str, absolute: dt.timedelta,
                                                              idle: dt.timedelta) -> None:
    account_id = _account(app)
    cookie: dict[str, object] = {}
    _start(app, account_id, level, "eid", cookie)
    _age(app, idle=idle - dt.timedelta(seconds=30))
    login = _login_now(app, cookie)
    assert login is not None and login.level == level
    _age(app, idle=idle + dt.timedelta(seconds=31))
    assert _login_now(app, cookie) is None

    _start(app, account_id, level, "eid", cookie)
    _age(app, level_since=absolute + dt.timedelta(seconds=1))
    assert _login_now(app, cookie) is None
    with app.app_context():
        assert db().query(LoginSession).count() == 0


def test_after_step_up_the_higher_level_expires_back_to_the_first_login(app: Flask) -> None:
    account_id = _account(app)
    cookie: dict[str, object] = {}
    _start(app, account_id, "basis", "konto", cookie)
    first_token = cookie["sid"]
    _start(app, account_id, "hoch", "eid", cookie)
    assert cookie["sid"] != first_token  # every login gets a new token
    login = _login_now(app, cookie)
    assert login is not None and (login.level, login.means) == ("hoch", "eid")
    with app.app_context():
        row = db().query(LoginSession).one()
        row.level_since -= dt.timedelta(minutes=31)
        db().commit()
    login = _login_now(app, cookie)
    assert login is not None and (login.level, login.means) == ("basis", "konto")


def test_require_level_sends_to_login_at_that_level_and_keeps_the_form(app: Flask) -> None:
    @app.route("/test/nur-hoch", methods=["GET", "POST"])
    @auth.require_level("hoch")
    def only_high() -> str:
        return "drin"

    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    response = client.post("/test/nur-hoch?x=1", data={"name": "Kim", "csrf_token": "abc"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/konto/anmelden?stufe=hoch&weiter=%2Ftest%2Fnur-hoch%3Fx%3D1"
    with client.session_transaction() as cookie:
        token = cookie["kept_form"]
        assert "Kim" not in str(dict(cookie))  # the cookie holds only a reference
    assert kept_on_server(app, token) == {"path": "/test/nur-hoch", "data": {"name": ["Kim"]}, "account": None}
    with app.test_request_context("/test/nur-hoch"):
        from flask import session

        session["kept_form"] = token
        assert auth.kept_form() == {"name": ["Kim"]}
        assert auth.kept_form() is None  # offered once
        g.pop("login", None)


@pytest.mark.parametrize(("value", "expected"), [
    ("/muenster/leistungen/x/?a=1", "/muenster/leistungen/x/?a=1"),
    ("https://boese.example/", "/konto/"),
    ("//boese.example", "/konto/"),
    ("/\\boese.example", "/konto/"),
    ("/konto/\r\nSet-Cookie: x=1", "/konto/"),
    ("javascript:alert(1)", "/konto/"),
    ("", "/konto/"),
    (None, "/konto/"),
])
def test_safe_return(value: str | None, expected: str) -> None:
    assert auth.safe_return(value) == expected


def test_typed_data_kept_after_a_timeout_is_offered_to_the_same_account_only(app: Flask) -> None:
    @app.route("/test/formular", methods=["GET", "POST"])
    @auth.require_level("basis")
    def form_page() -> str:
        return repr(auth.kept_form())

    app.config["WTF_CSRF_ENABLED"] = False
    owner, other = _account(app), None
    with app.app_context():
        account = Account(email="jemand.anders@example.org")
        db().add(account)
        db().commit()
        other = account.id
    client = app.test_client()
    cookie: dict[str, object] = {}
    _start(app, owner, "basis", "konto", cookie)
    with client.session_transaction() as session:
        session.update(cookie)
    _age(app, idle=dt.timedelta(minutes=61))
    response = client.post("/test/formular", data={"strasse": "Am Markt 1", "passwort": "geheim geheim"})
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert kept_on_server(app, session["kept_form"]) == {
            "path": "/test/formular", "data": {"strasse": ["Am Markt 1"]}, "account": owner}
        saved = dict(session)
    # The same kept answers under a second reference, as if the browser had kept them twice:
    # whoever else logs in consumes (deletes) them, so the owner's turn needs its own copy.
    from dynamic.platform.models import KeptForm

    with app.app_context():
        row = db().get(KeptForm, auth.token_hash(str(saved["kept_form"])))
        assert row is not None
        db().add(KeptForm(token_hash=auth.token_hash("second-copy"), data=row.data, created_at=row.created_at))
        db().commit()

    def log_in_as(account_id: int, reference: str | None = None) -> str:
        with client.session_transaction() as session:
            session.clear()
            session.update(saved)
            if reference:
                session["kept_form"] = reference
        state = dict(saved, kept_form=reference or saved["kept_form"])
        _start(app, account_id, "basis", "konto", state)
        with client.session_transaction() as session:
            session.clear()
            session.update(state)
        return client.get("/test/formular").get_data(as_text=True)

    assert log_in_as(other) == "None"
    assert log_in_as(owner) == "None"  # another person logged in on this browser: the answers are gone
    assert log_in_as(owner, "second-copy") == "{'strasse': ['Am Markt 1']}"


@pytest.mark.parametrize(("level", "says"), [
    ("niedrig", "Sie brauchen ein Servicekonto mit Benutzername und Passwort."),
    ("substantiell", "Sie brauchen ein ELSTER-Zertifikat oder den Online-Ausweis."),
    ("hoch", "Sie brauchen den Online-Ausweis (Personalausweis, elektronischen Aufenthaltstitel oder eID-Karte, "
             "jeweils mit PIN)."),
])
def test_the_login_page_tells_what_a_higher_level_needs(app: Flask, level: str, says: str) -> None:
    # The sentence comes from the level's row in portal/levels.py, as on the service pages.
    from tests.dynamic.test_plain_words import visible_text

    text = visible_text(app.test_client().get(f"/konto/anmelden?stufe={level}").get_data(as_text=True))
    assert says in text, text
