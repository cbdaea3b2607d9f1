"""Backup and restore as the operators' handbook describes it: dump, wipe, restore; the
portal works again and nothing is missing (PostgreSQL with pg_dump/pg_restore, SQLite with
its online backup)."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from clerk import Client
from dynamic import create_app
from dynamic.platform.db import make_engine, migrate, session_scope
from dynamic.platform.models import Base
from tests.dynamic.browserlike import Browser
from tests.dynamic.conftest import fresh_postgres_database, make_settings
from tests.dynamic.forms_fixtures import Office, fill_meldebescheinigung, office, reference_on, send, served
from tests.dynamic.test_profile import identity, log_in, make_account


@pytest.fixture
def database_url() -> str:
    """Each test here makes its own database; the shared ones are not used."""
    return "sqlite://"


def counts(app: Flask) -> dict[str, int]:
    with session_scope(app) as session:
        return {table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
                for table in Base.metadata.sorted_tables}


def some_of_everything(app: Flask) -> tuple[Office, int, str]:
    """An account with verified data, a draft, a sent application and its inbox message."""
    amt = office(app)
    browser = Browser(app.test_client())
    account_id = make_account(app, email="sicherung@example.org", password="Ein-Sicheres-Passwort-2026")
    identity(app, account_id, {"given_name": "Erika", "family_name": "Sicherung"})
    log_in(browser.client, app, account_id)
    fill_meldebescheinigung(browser)
    send(browser, erklaerung="ja")
    return amt, account_id, reference_on(browser.text)


def still_works(app: Flask, amt: Office, account_id: int, reference: str) -> None:
    """After the restore: the citizen logs in with the password and sees the receipt and the
    message; the office fetches and decrypts the application with its key."""
    browser = Browser(app.test_client())
    browser.get("/konto/anmelden")
    browser.submit("/konto/anmelden", email="sicherung@example.org", passwort="Ein-Sicheres-Passwort-2026")
    assert browser.url.endswith("/konto/"), browser.text[:500]
    browser.get(f"/stadt/antrag/meldebescheinigung/eingang/{reference}/")
    assert reference in browser.text and "Musterweg 5" in browser.text
    browser.get("/postfach/")
    assert "Antrag eingegangen: Meldebescheinigung beantragen" in browser.text
    with served(app) as url:
        received = Client(url, amt.token, amt.private_jwk).application(reference)
        assert received["content"]["reference"] == reference


def portal_on(url: str, app_settings: dict[str, Any]) -> tuple[dict[str, Any], Flask]:
    """A migrated database at `url` and the portal on it, with its settings."""
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    settings = {**app_settings, "database_url": url}
    return settings, create_app(make_settings(**settings))


def test_postgresql_dump_wipe_restore(app_settings: dict[str, Any], tmp_path: Path) -> None:
    with fresh_postgres_database("portal_backup") as url:
        settings, app = portal_on(url, app_settings)
        amt, account_id, reference = some_of_everything(app)
        before = counts(app)
        app.extensions["db_engine"].dispose()
        plain = url.replace("postgresql+psycopg://", "postgresql://")
        dump = tmp_path / "portal.dump"
        subprocess.run(["pg_dump", "-Fc", "-f", str(dump), plain], check=True)
        wipe = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
        with wipe.connect() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        wipe.dispose()
        with pytest.raises(Exception, match="migrate"):
            create_app(make_settings(**settings))  # a wiped database is refused, with the fix named
        subprocess.run(["pg_restore", "--no-owner", "-d", plain, str(dump)], check=True)
        restored = create_app(make_settings(**settings))
        try:
            assert counts(restored) == before
            still_works(restored, amt, account_id, reference)
        finally:
            restored.extensions["db_engine"].dispose()


def test_sqlite_online_backup_wipe_restore(app_settings: dict[str, Any], tmp_path: Path) -> None:
    database = tmp_path / "portal.sqlite3"
    settings, app = portal_on(f"sqlite:///{database}", app_settings)
    amt, account_id, reference = some_of_everything(app)
    before = counts(app)
    copy = tmp_path / "sicherung.sqlite3"
    with sqlite3.connect(database) as source, sqlite3.connect(copy) as target:
        source.backup(target)  # consistent while the portal runs (WAL)
    app.extensions["db_engine"].dispose()
    for leftover in tmp_path.glob("portal.sqlite3*"):
        leftover.unlink()
    copy.rename(database)
    restored = create_app(make_settings(**settings))
    try:
        assert counts(restored) == before
        still_works(restored, amt, account_id, reference)
    finally:
        restored.extensions["db_engine"].dispose()
