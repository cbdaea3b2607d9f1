"""Preparing a submission while the application is stored: the metadata and every file
encrypted for the office's key, and the outbox item that sends them."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from joserfc import jwe
from joserfc.jwk import RSAKey
from sqlalchemy.orm import Session

from ...platform.crypto import ALGORITHM, ENCRYPTION, REGISTRY
from ...platform.models import Application, FitConnectAttachment, FitConnectSubmission, Office, OutboxItem
from .channel import BERLIN, LEIKA_URN, METADATA_SCHEMA, OUTBOX_KIND

log = logging.getLogger("dynamic.forms.fitconnect")  # one logger for the whole channel (docs/betrieb, tests)


def plain_bytes(payload: Mapping[str, Any]) -> bytes:
    """The bytes `crypto.encrypt_for` encrypts for a payload: what the data hash is taken of."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def encrypt_bytes(public_jwk: Mapping[str, Any], data: bytes, content_type: str) -> str:
    """A file (or the metadata) as JWE compact for the destination: RSA-OAEP-256 and A256GCM,
    with the key's kid, as our application JWEs."""
    header = {"alg": ALGORITHM, "enc": ENCRYPTION, "cty": content_type, "kid": str(public_jwk.get("kid", ""))}
    return jwe.encrypt_compact(header, data, RSAKey.import_key(dict(public_jwk)), registry=REGISTRY)


def queue(session: Session, office: Office, application: Application, payload: Mapping[str, Any],
          attachments: Sequence[Any], reply_email: str | None = None) -> FitConnectSubmission | None:
    """Prepare the submission of a stored application for an office on FIT-Connect and queue
    the outbox item that sends it. `attachments` are the files as sent (field, name,
    content_type, data, sha512; the application's PDF is the field "antrag-pdf"). None, and
    nothing queued, for a service without a LeiKa key (FIT-Connect needs one); the office still
    has the application through our API. `reply_email`: the citizen allowed the office to answer
    by e-mail to this address; the metadata is then prepared twice, with that reply channel and
    without, as the portal cannot read it again once the destination is known (`deliver`
    chooses). Flushed, not committed."""
    service = payload.get("service") or {}
    leika = str(service.get("leika") or "")
    if not leika:
        log.error("application %s: the service %s has no LeiKa key; not sent through FIT-Connect",
                  application.reference, service.get("id"))
        return None
    public_jwk = office.public_jwk
    schema_uri = str(payload["form"]["schema"])
    announced = [(str(uuid.uuid4()), attachment) for attachment in attachments]
    metadata = {
        "$schema": METADATA_SCHEMA,
        "publicServiceType": {"name": str(service.get("name") or service.get("id")),
                              "identifier": LEIKA_URN + leika},
        "contentStructure": {
            "data": {
                "hash": {"type": "sha512", "content": hashlib.sha512(plain_bytes(payload)).hexdigest()},
                "submissionSchema": {"schemaUri": schema_uri, "mimeType": "application/json"},
            },
            "attachments": [
                {"attachmentId": attachment_id, "hash": {"type": "sha512", "content": attachment.sha512},
                 "mimeType": attachment.content_type, "filename": attachment.name,
                 "purpose": "form" if attachment.field == "antrag-pdf" else "attachment"}
                for attachment_id, attachment in announced],
        },
        "additionalReferenceInfo": {"senderReference": application.reference,
                                    "applicationDate": f"{application.submitted_at.astimezone(BERLIN):%Y-%m-%d}"},
    }
    row = FitConnectSubmission(
        application_id=application.id, destination_id=office.fit_connect_destination, leika=LEIKA_URN + leika,
        region=payload.get("ags"), service_name=str(service.get("name") or service.get("id")),
        schema_uri=schema_uri, kid=str(public_jwk.get("kid", "")), status="queued",
        metadata_jwe=encrypt_bytes(public_jwk, plain_bytes(metadata), "application/json"),
        metadata_with_reply_jwe=None if not reply_email else encrypt_bytes(
            public_jwk, plain_bytes({**metadata, "replyChannel": {"eMail": {"address": reply_email}}}),
            "application/json"))
    session.add(row)
    session.flush()
    for attachment_id, attachment in announced:
        session.add(FitConnectAttachment(submission_row=row.id, attachment_id=attachment_id,
                                         jwe=encrypt_bytes(public_jwk, attachment.data, attachment.content_type)))
    # "routing": the destination and its delivery service come from a verified route, each attempt.
    session.add(OutboxItem(kind=OUTBOX_KIND, payload={"submission": row.id, "step": "send",
                                                      "routing": row.destination_id is None}))
    session.flush()
    return row
