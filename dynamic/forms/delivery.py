"""Sending an application: encrypted for the receiving office, stored with everything that
must follow it (the office's notice, the push to its endpoint, the citizen's inbox message)
in one transaction, so that a crash loses and duplicates nothing. Offices and their keys.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth import token_hash
from ..db import session_scope
from ..models import Application, ApplicationMessage, FormDraft, Office, OutboxItem, utcnow
from .crypto import check_public_key, encrypt_for, new_office_key, seal

log = logging.getLogger(__name__)

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out on the phone
WEBHOOK_TIMEOUT = 10


class NoOffice(Exception):
    """The receiving office has no key registered: the form cannot be sent online yet."""


# ---------------------------------------------------------------- offices


def register_office(session: Session, slug: str, unit_id: str, public_jwk: dict[str, Any],
                    webhook_url: str | None = None) -> tuple[Office, str]:
    """Register (or re-key) an office; returns it and its new API token, shown only once."""
    key = check_public_key(public_jwk)
    token = "amt_" + secrets.token_urlsafe(32)
    office = session.scalar(select(Office).where(Office.slug == slug, Office.unit_id == unit_id))
    if office is None:
        office = Office(slug=slug, unit_id=unit_id, public_jwk=key, token_hash=token_hash(token))
        session.add(office)
    office.public_jwk, office.token_hash = key, token_hash(token)
    office.webhook_url = webhook_url
    office.webhook_secret = secrets.token_urlsafe(32) if webhook_url else None
    session.commit()
    return office, token


def office_by_token(session: Session, token: str) -> Office | None:
    if not token:
        return None
    return session.scalar(select(Office).where(Office.token_hash == token_hash(token)))


def office_of(session: Session, slug: str, unit_id: str) -> Office | None:
    return session.scalar(select(Office).where(Office.slug == slug, Office.unit_id == unit_id))


def provision_local_offices(app: Flask, folder: Path, recipients: Mapping[str, list[str]]) -> list[Path]:
    """For a local run (`build.py serve`): give every receiving office without a key a fresh
    key pair and token under `folder/<slug>/<unit>/` (private.jwk, public.jwk, token), so
    the clerk client can fetch and decrypt. Never used in production."""
    written = []
    with session_scope(app) as session:
        for slug, units in recipients.items():
            for unit_id in units:
                target = folder / slug / unit_id
                if office_of(session, slug, unit_id) is not None and (target / "token").is_file():
                    continue
                private, public = new_office_key()
                _, token = register_office(session, slug, unit_id, public)
                target.mkdir(parents=True, exist_ok=True)
                (target / "private.jwk").write_text(json.dumps(private), encoding="utf-8")
                (target / "private.jwk").chmod(0o600)
                (target / "public.jwk").write_text(json.dumps(public), encoding="utf-8")
                (target / "token").write_text(token + "\n", encoding="utf-8")
                (target / "token").chmod(0o600)
                written.append(target)
    return written


# ---------------------------------------------------------------- sending


def new_reference(now: dt.datetime) -> str:
    raw = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"A-{now:%Y}-{raw[:4]}-{raw[4:]}"


def send(session: Session, *, slug: str, form: Mapping[str, Any], recipient: Mapping[str, Any],
         account_id: int, level: str, means: str, token: str, answers: list[dict[str, Any]],
         files: list[dict[str, Any]], now: dt.datetime, secret_key: str) -> tuple[Application, bool]:
    """Store the application for `recipient` (a katalog recipient) once per `token`:
    (application, True) when it was stored now, (the earlier one, False) on a repeat.
    The caller adds the citizen's message and commits."""
    earlier = session.scalar(select(Application).where(Application.submission_token == token))
    if earlier is not None:
        return earlier, False
    office = office_of(session, slug, recipient["unit"])
    if office is None:
        raise NoOffice(recipient["unit"])
    reference = new_reference(now)
    payload = {
        "type": "antrag", "version": 1, "reference": reference, "submitted_at": now.isoformat(),
        "municipality": slug, "office": {"unit": recipient["unit"], "name": recipient["name"]},
        "form": {"id": form["id"], "title": form["title"], "service": form["service"]},
        "identification": {"trust_level": level, "means": means},
        "answers": answers, "files": files,
    }
    application = Application(
        reference=reference, slug=slug, form_id=form["id"], office_id=office.id, account_id=account_id,
        submission_token=token, jwe=encrypt_for(office.public_jwk, payload),
        citizen_copy=seal(secret_key, {"reference": reference, "answers": answers,
                                       "files": [{k: f[k] for k in ("field", "name", "size")} for f in files],
                                       "office": recipient["name"], "title": form["title"]}),
        status="new", submitted_at=now)
    session.add(application)
    session.flush()
    if office.webhook_url:
        session.add(OutboxItem(kind="webhook", payload={"application": application.id, "event": "antrag"}))
    return application, True


def forget_draft(session: Session, account_id: int, slug: str, form_id: str) -> None:
    draft = session.scalar(select(FormDraft).where(FormDraft.account_id == account_id, FormDraft.slug == slug,
                                                   FormDraft.form_id == form_id))
    if draft is not None:
        session.delete(draft)


# ---------------------------------------------------------------- pushing to the office


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def push_webhook(app: Flask, item: OutboxItem) -> None:
    """Outbox kind "webhook": POST the encrypted application (or a citizen's encrypted
    message) to the office's endpoint, signed with the office's webhook secret. Any answer
    but 2xx is retried by the outbox; the office deduplicates by `id`."""
    with session_scope(app) as session:
        if "message" in item.payload:
            note = session.get(ApplicationMessage, item.payload["message"])
            if note is None:
                return
            application = session.get(Application, note.application_id)
            event = {"event": "nachricht", "id": f"message-{note.id}", "reference": application.reference if
                     application else None, "jwe": note.jwe, "sent_at": note.created_at.isoformat()}
        else:
            application = session.get(Application, item.payload["application"])
            if application is None:
                return
            event = {"event": "antrag", "id": f"application-{application.id}", "reference": application.reference,
                     "form": application.form_id, "submitted_at": application.submitted_at.isoformat(),
                     "jwe": application.jwe}
        if application is None:
            return
        office = session.get(Office, application.office_id)
        if office is None or not office.webhook_url or not office.webhook_secret:
            return
        url, secret = office.webhook_url, office.webhook_secret
    body = json.dumps(event, separators=(",", ":")).encode()
    response = requests.post(url, data=body, timeout=WEBHOOK_TIMEOUT, allow_redirects=False, headers={
        "Content-Type": "application/json", "X-Buergerportal-Signature": signature(secret, body),
        "X-Buergerportal-Event": str(event["event"]), "User-Agent": "Buergerportal"})
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"webhook answered {response.status_code}")


def mark_received(application: Application, now: dt.datetime | None = None) -> None:
    if application.status == "new":
        application.status = "received"
        application.received_at = now or utcnow()
