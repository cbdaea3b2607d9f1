"""Fixtures for the dynamic tier: the app on SQLite and (where reachable) on PostgreSQL, a
real SMTP server that collects mail, and a browser-like client."""

from __future__ import annotations

import email
import email.policy
import os
import re
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import Engine, text

from dynamic import create_app
from dynamic.platform.config import settings_from_env
from dynamic.platform.db import make_engine, migrate
from dynamic.platform.models import Base
from dynamic.platform.outbox import process_outbox
from generator.pipeline import build
from tests.conftest import FIXTURE_CONTENT, TODAY
from tests.dynamic.browserlike import Browser

# The PostgreSQL server's maintenance database: the tests create (and drop) their own databases
# through it, so a stock PostgreSQL needs nothing prepared. TEST_POSTGRES_URL points elsewhere.
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# The tests write to this Redis database only keys under a prefix of their own (REDIS_PREFIX),
# and delete only those: a developer's keys in the same database stay.
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def postgres_reachable() -> bool:
    return _reachable(POSTGRES_ADMIN_URL, 5432)


def redis_reachable() -> bool:
    return _reachable(REDIS_TEST_URL, 6379)


@contextmanager
def redis_prefix() -> Iterator[str]:
    """A key prefix of its own for one test in the test Redis database, its keys deleted afterwards."""
    import redis

    prefix = f"buergerportal-test-{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(REDIS_TEST_URL)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def need_service(reachable: bool, name: str) -> None:
    """Skip where the service is absent; in CI it must be there, so its absence fails."""
    if reachable:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not reachable, but CI must run its tests")
    pytest.skip(f"{name} is not reachable on 127.0.0.1")


@pytest.fixture(scope="session")
def fixture_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dyn") / "output"
    build(FIXTURE_CONTENT, out, today=TODAY, show_progress=False)
    return out


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal.sqlite3'}")
    migrate(engine)
    return engine


@contextmanager
def fresh_postgres_database(prefix: str = "portal_test") -> Iterator[str]:
    """A new, empty PostgreSQL database for the duration of the block (dropped afterwards)."""
    need_service(postgres_reachable(), "PostgreSQL")
    admin = make_engine(POSTGRES_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgresql_engine() -> Iterator[Engine]:
    with fresh_postgres_database() as url:
        engine = make_engine(url)
        migrate(engine)
        yield engine
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    return engine.url.render_as_string(hide_password=False)


class Mailbox:
    """Messages a real SMTP server (aiosmtpd) received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []  # the bytes as they came over SMTP, for header encodings
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
            self.raw.append(bytes(envelope.content))
        return "250 OK"

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.raw.clear()

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def link(self, address: str, path_start: str) -> str:
        """The last link to `path_start…` in a mail to `address`, as a path."""
        for message in reversed(self.to(address)):
            body = message.get_content()
            found = re.findall(r"https?://[^/\s]+(" + re.escape(path_start) + r"\S*)", body)
            if found:
                return str(found[-1])
        raise AssertionError(f"no mail to {address} links to {path_start}")


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


@pytest.fixture
def mailbox(smtp_server: tuple[Mailbox, int]) -> Mailbox:
    smtp_server[0].clear()
    return smtp_server[0]


def make_settings(**overrides: Any) -> Any:
    return settings_from_env({}, **overrides)


@pytest.fixture
def app_settings(database_url: str, fixture_output: Path, tmp_path: Path,
                 smtp_server: tuple[Mailbox, int]) -> dict[str, Any]:
    """Keyword overrides for the test app; a test may change them before asking for `app`."""
    return {
        "database_url": database_url,
        "output_dir": fixture_output,
        "var_dir": tmp_path / "var",
        "base_url": "http://localhost",
        "mail_url": f"smtp://127.0.0.1:{smtp_server[1]}",
        "secret_key": "test-secret-key-" + "x" * 32,
    }


@pytest.fixture
def app(app_settings: dict[str, Any]) -> Iterator[Flask]:
    application = create_app(make_settings(**app_settings))
    application.config["TESTING"] = True
    yield application
    application.extensions["db_engine"].dispose()


@pytest.fixture
def browser(app: Flask) -> Browser:
    return Browser(app.test_client())


@pytest.fixture
def send_mail(app: Flask) -> Any:
    """Run the outbox worker once, as `build.py worker` would."""
    return lambda: process_outbox(app)
