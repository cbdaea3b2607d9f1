"""The database: one engine per app, one SQLAlchemy session per request, Alembic migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, g
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from portal.errors import PortalError

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
MIGRATE_COMMAND = "python build.py migrate"


class NotMigrated(PortalError):
    """The database lacks tables or migrations; the message says which command fixes it."""


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record):  # type: ignore[no-untyped-def]
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True)


def alembic_config(engine: Engine) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (creates it when empty)."""
    command.upgrade(alembic_config(engine), "head")


def ensure_migrated(engine: Engine) -> None:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current != head:
        state = "has no tables yet" if current is None else f"is at migration {current}, the code needs {head}"
        raise NotMigrated(f"The database {engine.url.render_as_string(hide_password=True)} {state}. "
                          f"Run `{MIGRATE_COMMAND}` (with the same DATABASE_URL) to migrate it.")


def init_app(app: Flask, engine: Engine) -> None:
    app.extensions["db_engine"] = engine
    app.extensions["db_sessions"] = sessionmaker(engine, expire_on_commit=False)

    @app.teardown_appcontext
    def _close(_error: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()


def engine(app: Flask) -> Engine:
    """The app's database engine."""
    found: Engine = app.extensions["db_engine"]
    return found


def db() -> Session:
    """The request's database session (opened on first use, closed at the end of the request)."""
    from flask import current_app

    if "db" not in g:
        g.db = current_app.extensions["db_sessions"]()
    session: Session = g.db
    return session


@contextmanager
def session_scope(app: Flask) -> Iterator[Session]:
    """A session outside a request (worker, commands), committed on success."""
    session: Session = app.extensions["db_sessions"]()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable" for /healthz
        return False
