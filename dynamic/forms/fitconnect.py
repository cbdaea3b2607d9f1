"""FIT-Connect as a second delivery channel, the portal being the sender (an "Onlinedienst").

An office switched to FIT-Connect (`offices.channel`) gets each application as a submission to
its destination, pinned per office or found through the routing API by the service's LeiKa key
and the town's regional key. The flow follows FITKO's published Submission API (v1):

1. an OAuth2 access token for the portal's sender client (client credentials),
2. the destination (`GET /v1/destinations/{id}`): active, offering the service and our form's
   schema, and its encryption key (`GET …/keys/{kid}`) must be the office's registered key,
3. `POST /v1/submissions` announces the attachments (UUIDs we chose) and gives the submission
   and case ids,
4. `PUT /v1/submissions/{id}/attachments/{attachmentId}`: each attachment as its own JWE,
5. `PUT /v1/submissions/{id}` with `encryptedMetadata` (the metadata schema's contentStructure:
   the data's schema URI and SHA-512, each attachment's SHA-512, mime type and purpose) and
   `encryptedData` (the application's payload, our Fachdaten),
6. `GET /v1/cases/{caseId}/events`: security event tokens; the destination's
   accept-submission or reject-submission, signed by it (PS512), decides.

Everything sent is prepared while the application is stored (`queue`, in the same
transaction): the metadata and every file encrypted for the office's key, which the portal
cannot read afterwards, and the application's own JWE is the encrypted data. The outbox item
(`outbox`) then only talks to FIT-Connect, step by step, and records each step
(`FitConnectSubmission`, `FitConnectAttachment`), so a retry goes on where the last attempt
stopped instead of creating a second submission.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import requests
from flask import Flask
from joserfc import jwe, jws
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..platform.crypto import ALGORITHM, ENCRYPTION, REGISTRY, Unreadable, unseal
from ..platform.db import session_scope
from ..platform.models import (
    Application,
    FitConnectAttachment,
    FitConnectSubmission,
    Office,
    OutboxItem,
    utcnow,
)
from ..platform.outbox import NotYet

if TYPE_CHECKING:
    from ..platform.config import Settings

log = logging.getLogger(__name__)

CHANNEL = "fit-connect"
ROUTING = "routing"  # instead of a destination id: ask the routing API for every application
OUTBOX_KIND = "fitconnect"
LEIKA_URN = "urn:de:fim:leika:leistung:"
METADATA_SCHEMA = "https://schema.fitko.de/fit-connect/metadata/1.0.0/metadata.schema.json"
EVENTS = "https://schema.fitko.de/fit-connect/events/"
ACCEPTED, REJECTED = EVENTS + "accept-submission", EVENTS + "reject-submission"
SET_ALGORITHM = "PS512"
TIMEOUT = 30
FIRST_LOOK = dt.timedelta(minutes=1)  # the first look at the case's events after submitting
POLL = dt.timedelta(minutes=15)  # then this often
GIVE_UP = dt.timedelta(days=30)  # no decision after this long: stop asking (logged)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
BERLIN = ZoneInfo("Europe/Berlin")


class FitConnectError(Exception):
    """FIT-Connect answered with an error (retried by the outbox)."""


class Refused(FitConnectError):
    """The destination cannot take this application as prepared (not active, the service or
    schema not offered, or its key is not the one everything was encrypted for): nothing sent."""


# ---------------------------------------------------------------- the channel per office


def is_destination_id(value: str) -> bool:
    return bool(UUID.match(value.lower()))


def switch_channel(office: Office, destination: str | None) -> None:
    """FIT-Connect for this office (a destination id, or ROUTING), or back to our API (None).
    The caller commits. Applications already stored keep the way they were queued."""
    if destination is None:
        office.channel, office.fit_connect_destination = None, None
        return
    if destination != ROUTING and not is_destination_id(destination):
        raise ValueError(f"not a destination id (UUID) nor {ROUTING!r}: {destination!r}")
    office.channel = CHANNEL
    office.fit_connect_destination = None if destination == ROUTING else destination.lower()


def describe_channel(office: Office) -> str:
    if office.channel != CHANNEL:
        return "office API"
    if office.fit_connect_destination:
        return f"FIT-Connect, destination {office.fit_connect_destination}"
    return "FIT-Connect, destination found by the routing API (LeiKa key and regional key)"


# ---------------------------------------------------------------- preparing, at sending


def plain_bytes(payload: Mapping[str, Any]) -> bytes:
    """The bytes `crypto.encrypt_for` encrypts for a payload: what the data hash is taken of."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def encrypt_bytes(public_jwk: Mapping[str, Any], data: bytes, content_type: str) -> str:
    """A file (or the metadata) as JWE compact for the destination: RSA-OAEP-256 and A256GCM,
    with the key's kid, as our application JWEs."""
    header = {"alg": ALGORITHM, "enc": ENCRYPTION, "cty": content_type, "kid": str(public_jwk.get("kid", ""))}
    return jwe.encrypt_compact(header, data, RSAKey.import_key(dict(public_jwk)), registry=REGISTRY)


def queue(session: Session, office: Office, application: Application, payload: Mapping[str, Any],
          attachments: Sequence[Any]) -> FitConnectSubmission | None:
    """Prepare the submission of a stored application for an office on FIT-Connect and queue
    the outbox item that sends it. `attachments` are the files as sent (field, name,
    content_type, data, sha512; the application's PDF is the field "antrag-pdf"). None, and
    nothing queued, for a service without a LeiKa key (FIT-Connect needs one); the office still
    has the application through our API. Flushed, not committed."""
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
        metadata_jwe=encrypt_bytes(public_jwk, plain_bytes(metadata), "application/json"))
    session.add(row)
    session.flush()
    for attachment_id, attachment in announced:
        session.add(FitConnectAttachment(submission_row=row.id, attachment_id=attachment_id,
                                         jwe=encrypt_bytes(public_jwk, attachment.data, attachment.content_type)))
    session.add(OutboxItem(kind=OUTBOX_KIND, payload={"submission": row.id, "step": "send"}))
    session.flush()
    return row


# ---------------------------------------------------------------- the client


@dataclass(frozen=True)
class Endpoints:
    token_url: str
    submission_url: str
    routing_url: str
    client_id: str
    client_secret: str

    @classmethod
    def of(cls, settings: Settings) -> Endpoints:
        return cls(settings.fitconnect_token_url, settings.fitconnect_submission_url.rstrip("/"),
                   settings.fitconnect_routing_url.rstrip("/"), settings.fitconnect_client_id,
                   settings.fitconnect_client_secret)


@dataclass
class Decision:
    status: str  # "accepted" | "rejected"
    problems: list[str]  # the titles of a rejection's problems


class Client:
    """FIT-Connect's Submission and Routing APIs, as a sender."""

    def __init__(self, endpoints: Endpoints, http: requests.Session | None = None) -> None:
        self.endpoints = endpoints
        self.http = http or requests.Session()
        self._token: tuple[str, float] | None = None

    def token(self) -> str:
        """An access token for the sender client (OAuth2 client credentials), kept until shortly
        before it expires."""
        if self._token is not None and self._token[1] > time.monotonic():
            return self._token[0]
        if not (self.endpoints.client_id and self.endpoints.client_secret):
            raise FitConnectError("FITCONNECT_CLIENT_ID and FITCONNECT_CLIENT_SECRET are not set")
        response = self.http.post(self.endpoints.token_url, timeout=TIMEOUT, allow_redirects=False, data={
            "grant_type": "client_credentials", "client_id": self.endpoints.client_id,
            "client_secret": self.endpoints.client_secret})
        if response.status_code != 200:
            # Never the body: it may echo the secret.
            raise FitConnectError(f"token endpoint answered {response.status_code}")
        answer = response.json()
        lifetime = float(answer.get("expires_in") or 300)
        self._token = (str(answer["access_token"]), time.monotonic() + max(lifetime - 30, 1))
        return self._token[0]

    def _call(self, method: str, path: str, expected: tuple[int, ...], *, json_body: Any = None,
              data: str | None = None, content_type: str | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token()}", "User-Agent": "Buergerportal"}
        if content_type:
            headers["Content-Type"] = content_type
        response = self.http.request(method, self.endpoints.submission_url + path, json=json_body,
                                     data=data.encode() if data is not None else None, headers=headers,
                                     timeout=TIMEOUT, allow_redirects=False)
        if response.status_code not in expected:
            raise FitConnectError(f"{method} {path} answered {response.status_code}: {_problem(response)}")
        return response

    # routing and destinations

    def route(self, leika: str, region: str | None) -> str:
        """The destination for a service (LeiKa key) in a region: `ars` for a 12-digit regional
        key, `ags` for an 8-digit municipality key. The Routing API needs no token."""
        if not region:
            raise Refused("routing needs the town's regional key (ARS or AGS), and the application has none")
        params = {"leikaKey": leika.removeprefix(LEIKA_URN), ("ars" if len(region) == 12 else "ags"): region}
        response = self.http.get(self.endpoints.routing_url + "/v1/routes", params=params, timeout=TIMEOUT,
                                 allow_redirects=False)
        if response.status_code != 200:
            raise FitConnectError(f"routing answered {response.status_code}: {_problem(response)}")
        routes = response.json().get("routes") or []
        if not routes:
            raise Refused(f"no destination for {leika} in {region}")
        return str(routes[0]["destinationId"])

    def destination(self, destination_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/destinations/{destination_id}", (200,)).json())

    def key(self, destination_id: str, kid: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/destinations/{destination_id}/keys/{kid}", (200,)).json())

    def check_destination(self, destination_id: str, leika: str, schema_uri: str,
                          public_jwk: Mapping[str, Any]) -> None:
        """Refused unless the destination is active, offers the service (and, where it lists
        schemas, our form's), and publishes as its encryption key the office's key, by kid and
        by value, for RSA-OAEP-256 key wrapping."""
        found = self.destination(destination_id)
        if found.get("status") != "active":
            raise Refused(f"destination {destination_id} is {found.get('status')!r}, not active")
        services = [s for s in found.get("services") or [] if s.get("identifier") == leika]
        if not services:
            raise Refused(f"destination {destination_id} does not offer {leika}")
        schemas = [schema.get("schemaUri") for s in services for schema in s.get("submissionSchemas") or []]
        if schemas and schema_uri not in schemas:
            raise Refused(f"destination {destination_id} does not take the schema {schema_uri}")
        kid = str(public_jwk.get("kid", ""))
        if found.get("encryptionKid") != kid:
            raise Refused(f"destination {destination_id} encrypts for kid {found.get('encryptionKid')!r}, "
                          f"the office's key is kid {kid!r}")
        key = self.key(destination_id, kid)
        if key.get("alg", ALGORITHM) != ALGORITHM or "wrapKey" not in (key.get("key_ops") or ["wrapKey"]):
            raise Refused(f"the key kid {kid} is not for {ALGORITHM} key wrapping")
        if not all(key.get(member) == public_jwk.get(member) for member in ("kty", "n", "e")):
            raise Refused(f"the destination's key kid {kid} is not the office's registered key")

    # the submission

    def create_submission(self, destination_id: str, leika: str, service_name: str,
                          attachment_ids: list[str]) -> tuple[str, str]:
        answer = self._call("POST", "/v1/submissions", (201,), json_body={
            "destinationId": destination_id, "announcedAttachments": attachment_ids,
            "serviceType": {"name": service_name, "identifier": leika}}).json()
        return str(answer["submissionId"]), str(answer["caseId"])

    def upload(self, submission_id: str, attachment_id: str, token: str) -> None:
        self._call("PUT", f"/v1/submissions/{submission_id}/attachments/{attachment_id}", (204,), data=token,
                   content_type="application/jose")

    def submit(self, submission_id: str, encrypted_metadata: str, encrypted_data: str) -> None:
        self._call("PUT", f"/v1/submissions/{submission_id}", (200, 202), json_body={
            "encryptedMetadata": encrypted_metadata, "encryptedData": encrypted_data})

    # the case's events

    def events(self, case_id: str) -> list[str]:
        return [str(e) for e in self._call("GET", f"/v1/cases/{case_id}/events", (200,)).json().get("eventLog", [])]

    def decision(self, destination_id: str, submission_id: str, case_id: str) -> Decision | None:
        """The destination's accept or reject event for this submission, each checked against
        the destination's signing key (by the token's kid); None while there is none."""
        for token in self.events(case_id):
            claims = self._verified(destination_id, token)
            if claims is None or claims.get("sub") != f"submission:{submission_id}" \
                    or claims.get("txn") != f"case:{case_id}":
                continue
            events = claims.get("events") or {}
            if ACCEPTED in events:
                return Decision("accepted", [])
            if REJECTED in events:
                problems = (events[REJECTED] or {}).get("problems") or []
                return Decision("rejected", [str(p.get("title") or p.get("detail") or p.get("type"))
                                             for p in problems if isinstance(p, dict)])
        return None

    def _verified(self, destination_id: str, token: str) -> dict[str, Any] | None:
        """The claims of a security event token that names only accept or reject events and is
        signed (PS512) with a key the destination publishes; None otherwise (others, such as
        the service's own submit-submission, are not what decides)."""
        try:
            header = jws.extract_compact(token.encode()).protected
            claims = json.loads(jws.extract_compact(token.encode()).payload)
        except (JoseError, ValueError):
            log.warning("case event is not a JWS in compact form")
            return None
        if not isinstance(claims, dict) or not {ACCEPTED, REJECTED} & set(claims.get("events") or {}):
            return None
        if header.get("alg") != SET_ALGORITHM or header.get("typ") != "secevent+jwt" or not header.get("kid"):
            log.warning("case event with alg %s, typ %s: not a signed SET", header.get("alg"), header.get("typ"))
            return None
        try:
            key = RSAKey.import_key(self.key(destination_id, str(header["kid"])))
            jws.deserialize_compact(token, key, algorithms=[SET_ALGORITHM])
        except (JoseError, ValueError) as error:
            log.warning("case event signed with kid %s does not verify: %s", header.get("kid"), error)
            return None
        return claims


def _problem(response: requests.Response) -> str:
    """The title of an RFC 7807 problem, or nothing (never a whole body)."""
    try:
        answer = response.json()
    except ValueError:
        return "no problem details"
    return str(answer.get("title") or answer.get("type") or "")[:200] if isinstance(answer, dict) else ""


# ---------------------------------------------------------------- the outbox steps


def outbox(app: Flask, item: OutboxItem) -> None:
    """Outbox kind "fitconnect": step "send" delivers a prepared submission, step "status"
    looks for the destination's decision. A failure is raised and retried by the outbox; the
    next attempt goes on from what is recorded."""
    client = Client(Endpoints.of(app.config["PORTAL"]))
    if item.payload.get("step") == "status":
        look_for_decision(app, client, int(item.payload["submission"]))
    else:
        deliver(app, client, int(item.payload["submission"]))


def deliver(app: Flask, client: Client, row_id: int) -> None:
    with session_scope(app) as session:
        row = session.get(FitConnectSubmission, row_id)
        if row is None or row.submitted_at is not None:
            return
        application = session.get(Application, row.application_id)
        office = session.get(Office, application.office_id) if application is not None else None
        if application is None or office is None:
            return
        if row.destination_id is None:
            row.destination_id = client.route(row.leika, row.region)
        destination, leika, schema_uri, kid = row.destination_id, row.leika, row.schema_uri, row.kid
        submission_id, public_jwk = row.submission_id, dict(office.public_jwk)
        attachments = [(a.id, a.attachment_id, a.uploaded_at is not None) for a in session.scalars(
            select(FitConnectAttachment).where(FitConnectAttachment.submission_row == row.id)
            .order_by(FitConnectAttachment.id))]
        service_name = row.service_name
    if str(public_jwk.get("kid", "")) != kid:
        raise Refused(f"the office's key changed (kid {public_jwk.get('kid')}); this submission was encrypted for "
                      f"kid {kid}")
    client.check_destination(destination, leika, schema_uri, public_jwk)
    if submission_id is None:
        submission_id, case_id = client.create_submission(destination, leika, service_name,
                                                          [a[1] for a in attachments])
        with session_scope(app) as session:
            row = session.get(FitConnectSubmission, row_id)
            assert row is not None
            row.submission_id, row.case_id = submission_id, case_id
        log.info("FIT-Connect submission %s created for row %s", submission_id, row_id)
    for attachment_row, attachment_id, uploaded in attachments:
        if uploaded:
            continue
        with session_scope(app) as session:
            token = session.get(FitConnectAttachment, attachment_row).jwe  # type: ignore[union-attr]
        client.upload(submission_id, attachment_id, token)
        with session_scope(app) as session:
            session.get(FitConnectAttachment, attachment_row).uploaded_at = utcnow()  # type: ignore[union-attr]
    with session_scope(app) as session:
        row = session.get(FitConnectSubmission, row_id)
        application = session.get(Application, row.application_id) if row is not None else None
        assert row is not None and application is not None
        client.submit(submission_id, row.metadata_jwe, application.jwe)
        now = utcnow()
        row.submitted_at, row.status = now, "submitted"
        for attachment in session.scalars(select(FitConnectAttachment)
                                          .where(FitConnectAttachment.submission_row == row.id)):
            attachment.jwe = ""  # sent: no second copy of the files is kept
        session.add(OutboxItem(kind=OUTBOX_KIND, payload={"submission": row.id, "step": "status"},
                               not_before=now + FIRST_LOOK))
    log.info("FIT-Connect submission %s submitted", submission_id)


def look_for_decision(app: Flask, client: Client, row_id: int) -> None:
    with session_scope(app) as session:
        row = session.get(FitConnectSubmission, row_id)
        if row is None or row.status != "submitted" or not (row.submission_id and row.case_id and row.destination_id):
            return
        destination, submission_id, case_id = row.destination_id, row.submission_id, row.case_id
        submitted_at = row.submitted_at or utcnow()
    decision = client.decision(destination, submission_id, case_id)
    # A request context for the notice mail's template, as the reminders have.
    with app.test_request_context("/"), session_scope(app) as session:
        row = session.get(FitConnectSubmission, row_id)
        application = session.get(Application, row.application_id) if row is not None else None
        if row is None or application is None:
            return
        now = utcnow()
        if decision is None:
            if now - submitted_at > GIVE_UP:
                log.error("FIT-Connect submission %s: no decision after %s days; no longer asked",
                          submission_id, GIVE_UP.days)
                return
            raise NotYet(now + POLL)  # the same outbox item looks again
        row.status, row.decided_at = decision.status, now
        if decision.status == "accepted":
            if application.status == "new":
                application.status, application.received_at = "received", now
        else:
            application.status = "rejected"
        _tell_citizen(app, session, application, decision)


def _tell_citizen(app: Flask, session: Session, application: Application, decision: Decision) -> None:
    """The decision into the citizen's inbox (German), with the receipt's link."""
    from ..inbox.views import deliver_message

    if application.account_id is None:
        return
    try:
        copy = unseal(app.config["PORTAL"].secret_key, application.citizen_copy)
    except Unreadable:
        copy = {}
    office, title = str(copy.get("office") or "Die zuständige Stelle"), str(copy.get("title") or "Ihr Antrag")
    link = f"/{application.slug}/antrag/{application.form_id}/eingang/{application.reference}/"
    if decision.status == "accepted":
        subject = f"Antrag angenommen: {title}"
        body = (f"{office} hat Ihren Antrag »{title}« über FIT-Connect erhalten und angenommen.\n\n"
                f"Vorgangsnummer: {application.reference}\n\nDie Stelle meldet sich bei Ihnen, wenn sie "
                "weitere Angaben braucht oder entschieden hat.")
    else:
        reasons = "".join(f"\n- {problem}" for problem in decision.problems)
        subject = f"Antrag nicht angenommen: {title}"
        body = (f"{office} konnte Ihren Antrag »{title}« nicht annehmen."
                + (f"\n\nGründe:{reasons}" if reasons else "")
                + f"\n\nVorgangsnummer: {application.reference}\n\nBitte wenden Sie sich an die Stelle oder stellen "
                "Sie den Antrag erneut.")
    # deliver_message uses the request's session (db()): hand it ours for this context.
    from flask import g

    g.db = session
    try:
        message = deliver_message(application.account_id, application.slug, office, subject, body, link=link)
        message.application_id = application.id
    finally:
        g.pop("db", None)
