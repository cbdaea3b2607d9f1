"""The outbox: mail is queued with its cause, sent by the worker, retried, never twice."""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path
from typing import Any

from flask import Flask

from dynamic import create_app
from dynamic.platform.db import db
from dynamic.platform.models import OutboxItem, utcnow
from dynamic.platform.outbox import process_outbox, queue_mail
from tests.dynamic.conftest import Mailbox, make_settings


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _queue(app: Flask, to: str = "a.b@example.org") -> None:
    with app.test_request_context("/"):
        queue_mail(to, "konto-existiert", None)
        db().commit()


def test_mail_waits_in_the_outbox_while_smtp_is_down_and_goes_out_once(
        app_settings: dict[str, Any], mailbox: Mailbox) -> None:
    down = create_app(make_settings(**{**app_settings, "mail_url": f"smtp://127.0.0.1:{_closed_port()}"}))
    _queue(down)
    assert process_outbox(down) == 0
    with down.app_context():
        item = db().query(OutboxItem).one()
        assert (item.attempts, item.last_error, item.done_at) == (1, "ConnectionRefusedError", None)
        assert item.not_before > utcnow()
        item.not_before = utcnow() - dt.timedelta(seconds=1)
        db().commit()
    down.extensions["db_engine"].dispose()

    up = create_app(make_settings(**app_settings))
    assert process_outbox(up) == 1
    assert process_outbox(up) == 0
    assert [m["Subject"] for m in mailbox.messages] == ["Sie haben bereits ein Konto im Bürgerportal"]
    with up.app_context():
        item = db().query(OutboxItem).one()
        assert item.done_at is not None and "to" not in item.payload  # the address is forgotten once sent
    up.extensions["db_engine"].dispose()


def test_without_smtp_mail_lands_in_a_folder_under_var(app_settings: dict[str, Any], tmp_path: Path) -> None:
    settings = {**app_settings}
    settings.pop("mail_url")
    app = create_app(make_settings(**settings))
    _queue(app, "c.d@example.org")
    assert process_outbox(app) == 1
    [mail] = list((tmp_path / "var" / "mail").glob("*.eml"))
    assert b"To: c.d@example.org" in mail.read_bytes()
    assert b"Auto-Submitted: auto-generated" in mail.read_bytes()
    app.extensions["db_engine"].dispose()


def _raw_from(raw: bytes) -> str:
    """The From header exactly as it crossed SMTP (folded lines joined)."""
    head = raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ").replace(b"\r\n\t", b" ")
    [line] = [h for h in head.split(b"\r\n") if h.lower().startswith(b"from:")]
    return line.decode("ascii")


def test_a_municipalitys_mail_names_it_as_sender_encoded_per_rfc_2047(app: Flask, mailbox: Mailbox) -> None:
    from email.header import decode_header, make_header
    from email.utils import parseaddr

    from flask import g

    with app.test_request_context("/stadt/termine/"):
        g.site_slug = "stadt"
        queue_mail("a.b@example.org", "termin-gebucht", None, link="/stadt/termine/termin/X")
        db().commit()
    _queue(app, "c.d@example.org")  # a portal-wide mail (the account)
    assert process_outbox(app) == 2

    [city, portal] = mailbox.raw
    header = _raw_from(city)
    assert header.isascii() and "=?utf-8?" in header.lower()  # the umlauts and the dash are encoded
    name, address = parseaddr(str(make_header(decode_header(header[len("From:"):].strip()))))
    assert (name, address) == ("Stadt Beispielstadt – Bürgerportal", "noreply@buergerportal.invalid")
    assert mailbox.messages[0]["From"].addresses[0].display_name == "Stadt Beispielstadt – Bürgerportal"
    assert _raw_from(portal) == "From: Buergerportal <noreply@buergerportal.invalid>"
