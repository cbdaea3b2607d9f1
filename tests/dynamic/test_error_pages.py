"""Errors of the app's pages come in German, in the portal's look, with a way on; under a
municipality's address a missing page is that municipality's own 404 page."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import func, insert, select, text

from dynamic.platform.db import db
from dynamic.platform.models import Account


def heading(html: str) -> str:
    found = re.search(r"<h1>(.*?)</h1>", html)
    assert found, html[:200]
    return found.group(1)


@pytest.mark.parametrize("path", ["/stadt/termine/gibt-es-nicht/", "/stadt/antrag/gibt-es-nicht/",
                                  "/stadt/verwaltung/gibt-es-nicht"])
def test_a_missing_page_of_a_municipality_is_its_own_404_page(app: Flask, path: str) -> None:
    response = app.test_client().get(path)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert heading(html) == "Seite nicht gefunden"
    assert "Stadt Beispielstadt" in html  # its name and look
    assert '<html lang="de"' in html


@pytest.mark.parametrize("path", ["/konto/gibt-es-nicht", "/saml/gibt-es-nicht", "/gibt-es-nicht/termine/x/"])
def test_a_missing_page_of_the_portal_says_so_in_german(app: Flask, path: str) -> None:
    response = app.test_client().get(path)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert heading(html) == "Seite nicht gefunden"
    assert "Diese Seite gibt es nicht oder nicht mehr." in html
    assert '<a href="/">Zur Startseite</a>' in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_a_wrong_method_is_explained_and_names_the_allowed_ones(app: Flask) -> None:
    response = app.test_client().put("/konto/anmelden")
    assert response.status_code == 405
    assert heading(response.get_data(as_text=True)) == "Nicht möglich"
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"


def test_a_failure_in_the_app_shows_a_german_page_without_details(app: Flask) -> None:
    def broken() -> str:
        raise RuntimeError("secret detail: Erika Mustermann")

    app.add_url_rule("/konto/kaputt", "kaputt", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/konto/kaputt")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert heading(html) == "Ein Fehler ist aufgetreten"
    assert "Was Sie vorher gespeichert haben, ist nicht verloren." in html
    assert "secret detail" not in html and "Traceback" not in html


def test_a_database_that_stays_locked_gets_a_german_page_to_try_again(app: Flask) -> None:
    """Another connection holds a lock on the accounts table longer than the request may
    wait (here 0.1 s): the citizen gets a 503 that says to try again, and nothing was stored."""
    engine = app.extensions["db_engine"]
    sqlite = engine.dialect.name == "sqlite"

    def write() -> str:
        db().execute(text("PRAGMA busy_timeout=100" if sqlite else "SET LOCAL lock_timeout = '100ms'"))
        db().execute(insert(Account).values(email="wartend@example.org"))
        db().commit()
        return "gespeichert"

    app.add_url_rule("/konto/schreiben", "schreiben", write)
    with engine.connect() as holder:
        if sqlite:
            holder.exec_driver_sql("BEGIN EXCLUSIVE")
        else:
            holder.exec_driver_sql("LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE")
        response = app.test_client().get("/konto/schreiben")
        holder.rollback()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    html = response.get_data(as_text=True)
    assert heading(html) == "Gerade nicht erreichbar"
    assert "Bitte versuchen Sie es in einer Minute erneut." in html
    assert "locked" not in html and "Traceback" not in html
    with app.app_context():
        assert db().scalar(select(func.count()).select_from(Account)) == 0


def test_the_office_api_keeps_answering_in_json(app: Flask) -> None:
    response = app.test_client().get("/api/v1/gibt-es-nicht")
    assert response.is_json
