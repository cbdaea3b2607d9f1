"""Helpers for the application tests: a registered office with its key pair, the app served
on a real local port for the clerk client, and a form's way from start to receipt."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.serving import make_server

from dynamic.forms.delivery import register_office
from dynamic.platform.crypto import new_office_key
from dynamic.platform.db import session_scope
from tests.conftest import ROOT
from tests.dynamic.browserlike import Browser

# The smallest files that are what they say, by content.
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
VALID_IBAN = "DE89 3704 0044 0532 0130 00"


@dataclass
class Office:
    slug: str
    unit: str
    token: str
    private_jwk: dict[str, Any]


def office(app: Flask, slug: str = "stadt", unit: str = "buergeramt", webhook: str | None = None) -> Office:
    private, public = new_office_key()
    with session_scope(app) as session:
        _row, token = register_office(session, slug, unit, public, webhook)
    return Office(slug, unit, token, private)


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """The app on a real local port (werkzeug's threaded server), for HTTP clients."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def portal_environment(app_settings: dict[str, Any], var_dir: Path) -> dict[str, str]:
    """The environment the portal itself runs with (same database, built sites, secret and mail),
    for the clerk client or build.py as a subprocess; none of the caller's BUERGERPORTAL_* settings."""
    inherited = {k: v for k, v in os.environ.items()
                 if not k.startswith(("BUERGERPORTAL_", "PORTAL_", "DATABASE_URL", "SECRET_KEY", "MAIL_"))}
    return {**inherited, "PYTHONPATH": str(ROOT), "DATABASE_URL": app_settings["database_url"],
            "PORTAL_OUTPUT_DIR": str(app_settings["output_dir"]), "SECRET_KEY": app_settings["secret_key"],
            "PORTAL_VAR_DIR": str(var_dir), "MAIL_URL": app_settings["mail_url"]}


def upload(data: bytes, name: str) -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), name


def reference_on(text: str) -> str:
    found = re.search(r'<strong class="code">(A-[0-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})</strong>', text)
    assert found, "no reference number on the page"
    return found.group(1)


def send(browser: Browser, button: str | None = None, **values: Any) -> None:
    """Submit the page's own form (the one that posts back to this page), not the header search."""
    browser.submit(urlsplit(browser.url).path, button=button, **values)


def fill_meldebescheinigung(browser: Browser, art: str = "einfach") -> None:
    """Start the fixture form and answer every step correctly (an existing draft is discarded)."""
    browser.get("/stadt/antrag/meldebescheinigung/")
    send(browser, aktion="neu")
    send(browser, vorname="Lena", nachname="Beispiel", geburtsdatum__tag="3", geburtsdatum__monat="4",
                   geburtsdatum__jahr="1990", anschrift__strasse="Musterweg 5", anschrift__plz="48143",
                   anschrift__ort="Beispielstadt", email="lena.antrag@example.org", telefon="")
    send(browser, art=art, zweck="Für den Vermieter", anzahl="2", weitere="nein")
    if art == "erweitert":  # the payment step follows
        send(browser, iban=VALID_IBAN, kennzeichen="")


def valid_answer(field: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """POST values that answer `field` correctly, for any form: the field's example where its
    rules need one, else a value every rule of its kind accepts. Yes/no is answered "ja" and
    a choice with its first option, so that conditional steps and fields are reached."""
    name, kind = field["id"], field["type"]
    if kind == "date":
        day = today + dt.timedelta(days=30) if field.get("future") else dt.date(2001, 2, 3)
        return {f"{name}-tag": str(day.day), f"{name}-monat": str(day.month), f"{name}-jahr": str(day.year)}
    if kind == "address":
        return {f"{name}-strasse": "Musterweg 5", f"{name}-plz": "48143", f"{name}-ort": "Musterstadt"}
    if kind == "choice":
        return {name: field["options"][0]["value"]}
    if kind == "file":
        accept = field.get("accept") or ["pdf", "jpeg", "png"]
        return {name: upload(PDF, "nachweis.pdf") if "pdf" in accept else upload(PNG, "foto.png")}
    simple = {"yesno": "ja", "email": "antrag@example.org", "phone": "0251 1234567", "iban": VALID_IBAN}
    if kind in simple:
        return {name: simple[kind]}
    if kind == "number":
        low = field.get("min")
        return {name: str(int(low) if low is not None and float(low).is_integer() else low) if low is not None else "1"}
    text = field.get("example") or ("Eine Beispielangabe für dieses Feld, lang genug für jede Mindestlänge."
                                    if kind == "textarea" else "Beispiel")
    longest = field.get("max_length") or (2000 if kind == "textarea" else 200)
    return {name: text[:longest]}
