"""Sending an application: encrypted for the receiving office, stored with everything that
must follow it (the office's notice, the push to its endpoint, the citizen's inbox message)
in one transaction, so that a crash loses and duplicates nothing. Offices and their keys.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from flask import Flask
from joserfc.errors import JoseError
from sqlalchemy import select
from sqlalchemy.orm import Session

from katalog.formschema import schema_url
from katalog.models import Form, Recipient
from portal.errors import PortalError

from ..platform import config
from ..platform.auth import token_hash
from ..platform.crypto import check_public_key, encrypt_for, new_office_key, seal
from ..platform.db import session_scope
from ..platform.models import (
    Application,
    ApplicationAttachment,
    ApplicationMessage,
    FormDraft,
    Office,
    OutboxItem,
    rfc3339,
    utcnow,
)
from . import fitconnect
from .receipt import application_pdf
from .values import machine_value

log = logging.getLogger(__name__)

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out on the phone
WEBHOOK_TIMEOUT = 10
# Version 2 of the application's format: files are attachments of their own (`files` entries
# carry id and sha512 instead of data; `attachments` lists them and the application's PDF).
PAYLOAD_VERSION = 2
APPLICATION_PDF = "antrag-pdf"  # the field of the application's own PDF among its attachments


class NoOffice(PortalError):
    """The receiving office has no key registered: the form cannot be sent online yet."""


# ---------------------------------------------------------------- offices


@dataclass
class Waiting:
    """What an office has not taken yet under one key: applications still "new" and citizens'
    answers not fetched, both readable only with that key's private half."""

    kid: str
    applications: int = 0
    messages: int = 0


class KeyConflict(PortalError):
    """The office is registered with another key; replacing it needs the operator's word."""

    def __init__(self, old_kid: str, new_kid: str, waiting: Waiting) -> None:
        super().__init__(f"registered with a different key (kid {old_kid}); the new one has kid {new_kid}")
        self.old_kid, self.new_kid, self.waiting = old_kid, new_kid, waiting


@dataclass
class OfficeChange:
    """What `change_office` did; `token` and `webhook_secret` are shown once, never stored."""

    office: Office
    created: bool = False
    key: str = "unchanged"  # "new" | "unchanged" | "replaced"
    old_kid: str | None = None
    waiting: Waiting | None = None  # under the old key, when it was replaced
    token: str | None = None  # a new token, if one was made
    webhook: str = "unchanged"  # "unchanged" | "set" | "removed"
    webhook_secret: str | None = None  # a new secret, when the address changed


def kid_of(public_jwk: dict[str, Any]) -> str:
    return str(public_jwk.get("kid") or "")


def same_key(one: dict[str, Any], other: dict[str, Any]) -> bool:
    """The same RSA key, whatever the kid or other members say."""
    return all(one.get(member) == other.get(member) for member in ("kty", "n", "e"))


def _header_kid(jwe: str | None) -> str | None:
    """The kid in a compact JWE's protected header (the key it was encrypted for)."""
    if not jwe:
        return None
    header = jwe.split(".", 1)[0]
    try:
        value = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except ValueError:
        return None
    return str(value.get("kid", "")) if isinstance(value, dict) else None


def waiting_under(session: Session, office: Office, kid: str) -> Waiting:
    """Applications with status "new" and citizens' answers not fetched that were encrypted for `kid`."""
    applications = session.scalars(
        select(Application.jwe).where(Application.office_id == office.id, Application.status == "new"))
    messages = session.scalars(
        select(ApplicationMessage.jwe).join(Application, ApplicationMessage.application_id == Application.id)
        .where(Application.office_id == office.id, ApplicationMessage.direction == "citizen",
               ApplicationMessage.fetched_at.is_(None)))
    return Waiting(kid, sum(_header_kid(jwe) == kid for jwe in applications),
                   sum(_header_kid(jwe) == kid for jwe in messages))


def _new_token(office: Office) -> str:
    token = "amt_" + secrets.token_urlsafe(32)
    office.token_hash = token_hash(token)
    return token


def change_office(session: Session, slug: str, unit_id: str, *, public_jwk: dict[str, Any] | None = None,
                  replace_key: bool = False, new_token: bool = False, webhook_url: str | None = None,
                  remove_webhook: bool = False) -> OfficeChange:
    """Register an office, or change what is asked of a registered one and nothing else.

    A new office needs `public_jwk` (else NoOffice) and gets a token. For a registered one, a
    different key raises KeyConflict (nothing changed) unless `replace_key`; the same key is
    kept as it is stored. `new_token` makes a new token (the old one is dead at once);
    `webhook_url` sets the push address (a new secret only when the address changes),
    `remove_webhook` removes it; without either the webhook stays. Flushed, not committed.
    Raises ValueError for a key that is not an RSA public key of at least 2048 bits."""
    key = check_public_key(public_jwk) if public_jwk is not None else None
    office = office_of(session, slug, unit_id)
    if office is None:
        if key is None:
            raise NoOffice(f"{slug}/{unit_id} is not registered yet")
        office = Office(slug=slug, unit_id=unit_id, public_jwk=key)
        change = OfficeChange(office, created=True, key="new", token=_new_token(office))
        session.add(office)
    else:
        change = OfficeChange(office)
        if key is not None and not same_key(office.public_jwk, key):
            old_kid = kid_of(office.public_jwk)
            waiting = waiting_under(session, office, old_kid)
            if not replace_key:
                raise KeyConflict(old_kid, kid_of(key), waiting)
            office.public_jwk = key
            change.key, change.old_kid, change.waiting = "replaced", old_kid, waiting
        if new_token:
            change.token = _new_token(office)
    if remove_webhook and office.webhook_url is not None:
        office.webhook_url, office.webhook_secret = None, None
        change.webhook = "removed"
    elif webhook_url is not None and webhook_url != office.webhook_url:
        change.webhook_secret = secrets.token_urlsafe(32)
        office.webhook_url, office.webhook_secret = webhook_url, change.webhook_secret
        change.webhook = "set"
    session.flush()
    return change


def register_office(session: Session, slug: str, unit_id: str, public_jwk: dict[str, Any],
                    webhook_url: str | None = None) -> tuple[Office, str]:
    """Register or re-key an office outright (tests, local runs): this key, a new API token
    (returned, shown only once) and this webhook (none without one). Committed."""
    change = change_office(session, slug, unit_id, public_jwk=public_jwk, replace_key=True, new_token=True,
                           webhook_url=webhook_url, remove_webhook=webhook_url is None)
    session.commit()
    assert change.token is not None
    return change.office, change.token


def office_by_token(session: Session, token: str) -> Office | None:
    if not token:
        return None
    return session.scalar(select(Office).where(Office.token_hash == token_hash(token)))


def office_of(session: Session, slug: str, unit_id: str) -> Office | None:
    return session.scalar(select(Office).where(Office.slug == slug, Office.unit_id == unit_id))


def _local_key_pair(target: Path) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The key pair under `target`, if both files are there and belong together."""
    try:
        private = json.loads((target / "private.jwk").read_text(encoding="utf-8"))
        public = json.loads((target / "public.jwk").read_text(encoding="utf-8"))
        if not (isinstance(private, dict) and isinstance(public, dict) and "d" in private
                and same_key(private, public)):
            return None
        return private, check_public_key(public)
    except (OSError, ValueError, TypeError, KeyError, JoseError):
        return None


def _write_secret(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)


def _provision_local_office(session: Session, slug: str, unit_id: str, target: Path) -> bool:
    """Make `target` (key pair, token) fit the database; whether anything was written."""
    office = office_of(session, slug, unit_id)
    pair = _local_key_pair(target)
    token_file = target / "token"
    token = token_file.read_text(encoding="utf-8").strip() if token_file.is_file() else ""
    key_fits = pair is not None and (office is None or same_key(office.public_jwk, pair[1]))
    if office is not None and key_fits and token and token_hash(token) == office.token_hash:
        return False
    target.mkdir(parents=True, exist_ok=True)
    if pair is None or not key_fits:
        pair = new_office_key()
        _write_secret(target / "private.jwk", json.dumps(pair[0]))
        (target / "public.jwk").write_text(json.dumps(pair[1]), encoding="utf-8")
    change = change_office(session, slug, unit_id, public_jwk=pair[1], replace_key=True, new_token=True)
    assert change.token is not None
    _write_secret(token_file, change.token + "\n")
    return True


def provision_local_offices(app: Flask, folder: Path, recipients: Mapping[str, list[str]]) -> list[Path]:
    """For a local run (`build.py serve`): every receiving office gets a key pair and a token
    under `folder/<slug>/<unit>/` (private.jwk, public.jwk, token), so the clerk client can
    fetch and decrypt. Stale files are repaired: a token the database does not know (it was
    reset, or the office got a new token) is replaced by a new one; key files that are missing
    or do not match the registered key give a new pair, registered. Folders written are
    returned. Never in production."""
    if config.settings(app).production:
        return []
    written = []
    with session_scope(app) as session:
        for slug, units in recipients.items():
            for unit_id in units:
                target = folder / slug / unit_id
                if _provision_local_office(session, slug, unit_id, target):
                    written.append(target)
    return written


# ---------------------------------------------------------------- sending


def new_reference(now: dt.datetime) -> str:
    raw = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"A-{now:%Y}-{raw[:4]}-{raw[4:]}"


def send(session: Session, *, slug: str, form: Form, recipient: Recipient,
         account_id: int, level: str, means: str, token: str, answers: list[dict[str, Any]],
         files: list[dict[str, Any]], now: dt.datetime, secret_key: str,
         reply_email: str | None = None) -> tuple[Application, bool]:
    """Store the application for `recipient` (a katalog recipient) once per `token`:
    (application, True) when it was stored now, (the earlier one, False) on a repeat.
    `reply_email`: the citizen allows answers by e-mail there (FIT-Connect's reply channel).
    The caller adds the citizen's message and commits."""
    earlier = session.scalar(select(Application).where(Application.submission_token == token))
    if earlier is not None:
        return earlier, False
    office = office_of(session, slug, recipient.unit)
    if office is None:
        raise NoOffice(recipient.unit)
    reference = new_reference(now)
    version = form.version
    uploads = [_Attachment(f["field"], f["name"], f["content_type"], base64.b64decode(f["data"])) for f in files]
    payload = {
        "type": "antrag", "version": PAYLOAD_VERSION, "reference": reference, "submitted_at": rfc3339(now),
        "municipality": slug, "office": {"unit": recipient.unit, "name": recipient.name},
        "form": {"id": form.id, "title": form.title, "service": form.service, "version": version,
                 "schema": schema_url(config.settings().base_url, form.id, version)},
        "identification": {"trust_level": level, "means": means},
        "answers": answers,
        "files": [{"field": u.field, "name": u.name, "content_type": u.content_type, "size": len(u.data),
                   "id": u.id, "sha512": u.sha512} for u in uploads],
        **_responsible(slug, form, recipient),
        "data": machine_data(answers, files),
    }
    pdf = _Attachment(APPLICATION_PDF, f"Antrag-{reference}.pdf", "application/pdf", application_pdf(payload))
    attachments = [*uploads, pdf]
    payload["attachments"] = [a.listed() for a in attachments]
    application = Application(
        reference=reference, slug=slug, form_id=form.id, office_id=office.id, account_id=account_id,
        submission_token=token, jwe=encrypt_for(office.public_jwk, payload),
        citizen_copy=seal(secret_key, {"reference": reference, "answers": answers,
                                       "files": [{k: f[k] for k in ("field", "name", "size")} for f in files],
                                       "office": recipient.name, "title": form.title}),
        status="new", submitted_at=now)
    session.add(application)
    session.flush()
    for attachment in attachments:
        session.add(ApplicationAttachment(
            application_id=application.id, public_id=attachment.id, field=attachment.field, name=attachment.name,
            content_type=attachment.content_type, size=len(attachment.data), sha512=attachment.sha512,
            jwe=encrypt_for(office.public_jwk, attachment.content(reference)), created_at=now))
    session.flush()
    if office.webhook_url:
        session.add(OutboxItem(kind="webhook", payload={"application": application.id, "event": "antrag"}))
    if office.channel == fitconnect.CHANNEL:
        fitconnect.queue(session, office, application, payload, attachments, reply_email=reply_email)
    return application, True


@dataclass
class _Attachment:
    """A file of an application before it is stored: an upload, or the application's PDF."""

    field: str  # the form's field id, or APPLICATION_PDF
    name: str
    content_type: str
    data: bytes
    id: str = ""  # opaque, random: what the office asks for

    def __post_init__(self) -> None:
        self.id = self.id or secrets.token_urlsafe(24)
        self.sha512 = hashlib.sha512(self.data).hexdigest()

    def listed(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "content_type": self.content_type, "size": len(self.data),
                "sha512": self.sha512}

    def content(self, reference: str) -> dict[str, Any]:
        """What is encrypted for the office: the file with what ties it to its application."""
        return {"type": "anhang", "version": 1, "reference": reference, "field": self.field, **self.listed(),
                "data": base64.b64encode(self.data).decode()}


def _responsible(slug: str, form: Form, recipient: Recipient) -> dict[str, Any]:
    """The service (with its LeiKa key) and the town responsible, from the municipality's
    katalog.json: in a district the member town the recipient belongs to, else the
    municipality itself, each with its official municipality key (AGS; null where none)."""
    from ..platform.catalog import katalog

    found = katalog(slug)
    municipality = found.municipality if found else None
    service = found.services.get(form.service) if found else None
    town = next((t for t in municipality.towns if recipient.town and t.id == recipient.town),
                None) if municipality else None
    return {
        "service": {"id": form.service, "name": service.name if service else None,
                    "leika": service.leika if service else None},
        "municipality_name": municipality.name if municipality else None,
        "town": {"id": town.id, "name": town.name, "ags": town.ags} if town else None,
        "ags": town.ags if town else (municipality.ags if municipality else None),
    }


def machine_data(answers: list[dict[str, Any]], files: list[dict[str, Any]]) -> dict[str, Any]:
    """Field id → compact machine value (the `data` the form's JSON Schema describes)."""
    contents = {f["field"]: f for f in files}
    return {answer["id"]: machine_value(answer["type"], answer["value"], contents.get(answer["id"]))
            for answer in answers}


def forget_draft(session: Session, account_id: int, slug: str, form_id: str) -> None:
    draft = session.scalar(select(FormDraft).where(FormDraft.account_id == account_id, FormDraft.slug == slug,
                                                   FormDraft.form_id == form_id))
    if draft is not None:
        session.delete(draft)


# ---------------------------------------------------------------- pushing to the office


def event_id(secret_key: str, kind: str, row_id: int) -> str:
    """An opaque, stable id for a row (a webhook event, a citizen's message): HMAC-SHA256 of
    kind and row number under a key derived from SECRET_KEY, so the same event keeps its id
    over retries and nobody learns row numbers or can count up to the next one."""
    key = hmac.new(secret_key.encode(), b"buergerportal-webhook-ids", hashlib.sha256).digest()
    return hmac.new(key, f"{kind}:{row_id}".encode(), hashlib.sha256).hexdigest()[:32]


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """FIT-Connect style: HMAC-SHA512 over "<timestamp>.<body>" with the office's webhook
    secret, so neither the body nor the time can be changed or replayed later unnoticed."""
    signed = str(timestamp).encode() + b"." + body
    return "sha512=" + hmac.new(secret.encode(), signed, hashlib.sha512).hexdigest()


def push_webhook(app: Flask, item: OutboxItem) -> None:
    """Outbox kind "webhook": tell the office's endpoint that an application (or a citizen's
    answer) waits: ids only, the office fetches it by API. Signed over a timestamp and the
    body with the office's webhook secret (headers X-Buergerportal-Timestamp and
    X-Buergerportal-Signature); a retry is signed anew, with the same event id. Nothing is
    sent once the office has it by API (the application confirmed, the answer fetched). Any
    answer but 2xx is retried by the outbox; after its last attempt the item stays undone
    and counts as given up in /metrics."""
    secret_key = config.settings(app).secret_key
    with session_scope(app) as session:
        if "message" in item.payload:
            note = session.get(ApplicationMessage, item.payload["message"])
            application = session.get(Application, note.application_id) if note is not None else None
            if note is None or application is None or note.fetched_at is not None:
                return  # gone, or the office fetched it already
            event: dict[str, Any] = {
                "event": "nachricht", "id": event_id(secret_key, "nachricht", note.id),
                "reference": application.reference, "message": event_id(secret_key, "message", note.id),
                "time": rfc3339(note.created_at)}
        else:
            application = session.get(Application, item.payload["application"])
            if application is None or application.status != "new":
                return  # gone, or the office confirmed it already
            event = {"event": "antrag", "id": event_id(secret_key, "antrag", application.id),
                     "reference": application.reference, "time": rfc3339(application.submitted_at)}
        office = session.get(Office, application.office_id)
        if office is None or not office.webhook_url or not office.webhook_secret:
            return
        url, secret = office.webhook_url, office.webhook_secret
    body = json.dumps(event, separators=(",", ":")).encode()
    timestamp = int(time.time())
    response = requests.post(url, data=body, timeout=WEBHOOK_TIMEOUT, allow_redirects=False, headers={
        "Content-Type": "application/json", "X-Buergerportal-Event": str(event["event"]),
        "X-Buergerportal-Timestamp": str(timestamp), "X-Buergerportal-Signature": signature(secret, timestamp, body),
        "User-Agent": "Buergerportal"})
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"webhook answered {response.status_code}")


def mark_received(application: Application, now: dt.datetime | None = None) -> None:
    if application.status == "new":
        application.status = "received"
        application.received_at = now or utcnow()
