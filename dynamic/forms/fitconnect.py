"""FIT-Connect as a second delivery channel, the portal being the sender (an "Onlinedienst").

An office switched to FIT-Connect (`offices.channel`) gets each application as a submission to
its destination, pinned per office or found through the routing API by the service's LeiKa key
and the town's regional key. The flow follows FITKO's published Submission API (v1):

1. an OAuth2 access token for the portal's sender client (client credentials),
2. the destination (`GET /v1/destinations/{id}`): active, offering the service and our form's
   schema, and its encryption key (`GET …/keys/{kid}`) must be the office's registered key.
   A destination found through the Routing API is trusted only once both of the route's
   signatures verify (`Client.verified_route`): the self-service portal's `destinationSignature`
   (a JWT, PS512, with a key from the portal's published JWKS, FITCONNECT_SSP_JWKS_URL) names
   the destination, the service and region it serves and the host of its delivery service;
   the delivery service's `destinationParametersSignature` (a detached JWS, PS512, with a key
   from that host's JWKS, chained to FITCONNECT_ROOT_CERTS where configured) covers the
   parameters: status, keys, schemas and the `submissionUrl` the submission then goes to,
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

import base64
import datetime as dt
import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from flask import Flask
from joserfc import jwe, jws
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.errors import PortalError

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
METADATA_VERSION = "1.0.0"
METADATA_SCHEMA = f"https://schema.fitko.de/fit-connect/metadata/{METADATA_VERSION}/metadata.schema.json"
EVENTS = "https://schema.fitko.de/fit-connect/events/"
ACCEPTED, REJECTED = EVENTS + "accept-submission", EVENTS + "reject-submission"
SET_ALGORITHM = "PS512"
SIGNATURE_ALGORITHM = "PS512"  # what FIT-Connect signs routes with (destination and parameters)
RS_URN = "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:"  # a region in destinationSignature
JWKS_PATH = "/.well-known/jwks.json"
CLOCK_SKEW = 300  # seconds a signature's iat may lie ahead of our clock
TIMEOUT = 30
FIRST_LOOK = dt.timedelta(minutes=1)  # the first look at the case's events after submitting
POLL = dt.timedelta(minutes=15)  # then this often
GIVE_UP = dt.timedelta(days=30)  # no decision after this long: stop asking (logged)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
BERLIN = ZoneInfo("Europe/Berlin")


class FitConnectError(PortalError):
    """FIT-Connect answered with an error (retried by the outbox)."""


class Refused(FitConnectError):
    """The destination cannot take this application as prepared (not active, the service or
    schema not offered, or its key is not the one everything was encrypted for): nothing sent."""


class RouteRefused(Refused):
    """The Routing API's answer does not verify (a signature, a signing key or its certificate,
    or what the signatures cover): nothing is sent to that destination."""


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
    # "routing": the destination and its delivery service come from a verified route, each attempt.
    session.add(OutboxItem(kind=OUTBOX_KIND, payload={"submission": row.id, "step": "send",
                                                      "routing": row.destination_id is None}))
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
    ssp_jwks_url: str = ""
    root_certs: tuple[x509.Certificate, ...] = ()
    allow_http: bool = False  # outside production: a route's submissionUrl may be http:// (the test double)

    @classmethod
    def of(cls, settings: Settings) -> Endpoints:
        roots = tuple(x509.load_pem_x509_certificates(Path(settings.fitconnect_root_certs).read_bytes())) \
            if settings.fitconnect_root_certs else ()
        return cls(settings.fitconnect_token_url, settings.fitconnect_submission_url.rstrip("/"),
                   settings.fitconnect_routing_url.rstrip("/"), settings.fitconnect_client_id,
                   settings.fitconnect_client_secret, settings.fitconnect_ssp_jwks_url, roots,
                   allow_http=not settings.production)


@dataclass(frozen=True)
class Route:
    """A destination found by the Routing API, both of its signatures verified."""

    destination_id: str
    submission_url: str  # the destination's delivery service, without /v1
    parameters: dict[str, Any] = field(repr=False)


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
        self._key_sets: dict[str, list[dict[str, Any]]] = {}

    def at(self, submission_url: str) -> Client:
        """The same sender client, talking to another delivery service (a route's submissionUrl)."""
        other = Client(replace(self.endpoints, submission_url=submission_url.rstrip("/")), self.http)
        other._token, other._key_sets = self._token, self._key_sets
        return other

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

    def route(self, leika: str, region: str | None) -> Route:
        """The destination for a service (LeiKa key) in a region: `ars` for a 12-digit regional
        key, `ags` for an 8-digit municipality key. The Routing API needs no token; what it
        answers counts only once its signatures verify (`verified_route`)."""
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
        try:
            return self.verified_route(routes[0], leika, region)
        except RouteRefused as error:
            log.error("FIT-Connect route for %s in %s refused, nothing sent: %s", leika, region, error)
            raise

    def verified_route(self, route: Mapping[str, Any], leika: str, region: str) -> Route:
        """A route of the Routing API, trusted once (1) its destinationSignature verifies with a
        key of the self-service portal and names this destination, service and region, and (2)
        its destinationParametersSignature verifies over the parameters with a key of the
        delivery service on the host that (1) names. RouteRefused otherwise."""
        destination_id = str(route.get("destinationId") or "")
        if not is_destination_id(destination_id):
            raise RouteRefused("the route has no destination id (UUID)")
        claims = self._addressing(str(route.get("destinationSignature") or ""))
        if claims.get("destinationId") != destination_id:
            raise RouteRefused(f"destinationSignature is for destination {claims.get('destinationId')!r}, "
                               f"the route names {destination_id}")
        if not _serves(claims.get("services"), leika, region):
            raise RouteRefused(f"destinationSignature does not sign {leika} in region {region} for destination "
                               f"{destination_id}")
        parameters = route.get("destinationParameters")
        if parameters is None and not route.get("destinationParametersSignature"):
            # The Routing API 2.x may name only the destination and its signed delivery service:
            # the parameters are then read from that service (`check_destination`), not the route.
            return Route(destination_id, self._signed_host(str(claims.get("submissionHost") or "")), {})
        if not isinstance(parameters, dict):
            raise RouteRefused("the route has no destinationParameters")
        submission_url = self._parameters(parameters, str(route.get("destinationParametersSignature") or ""),
                                          str(claims.get("submissionHost") or ""))
        return Route(destination_id, submission_url, dict(parameters))

    def _addressing(self, token: str) -> dict[str, Any]:
        """The claims of a destinationSignature, verified with the self-service portal's key."""
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError):
            raise RouteRefused("destinationSignature is not a JWS in compact form") from None
        kid = str(header.get("kid") or "")
        if header.get("alg") != SIGNATURE_ALGORITHM or not kid:
            raise RouteRefused(f"destinationSignature is signed with {header.get('alg')!r}, not "
                               f"{SIGNATURE_ALGORITHM} with a kid")
        jwks_url = self.endpoints.ssp_jwks_url
        key = _signing_key(self._key_set(jwks_url, "the self-service portal"), kid, "the self-service portal")
        try:
            claims = json.loads(jws.deserialize_compact(token, key, algorithms=[SIGNATURE_ALGORITHM]).payload)
        except (JoseError, ValueError) as error:
            raise RouteRefused(f"destinationSignature does not verify with the self-service portal's key {kid}: "
                               f"{type(error).__name__}") from None
        if not isinstance(claims, dict):
            raise RouteRefused("destinationSignature carries no claims")
        issuer = _origin(jwks_url)
        if claims.get("iss") != issuer:
            raise RouteRefused(f"destinationSignature was issued by {claims.get('iss')!r}, not by {issuer}")
        issued = claims.get("iat")
        if not isinstance(issued, int) or issued > time.time() + CLOCK_SKEW:
            raise RouteRefused("destinationSignature has no issue time (iat) or one in the future")
        return claims

    def _signed_host(self, submission_host: str) -> str:
        """The delivery service the self-service portal signed, reached as the Routing API is
        (https://, or the test double's http:// outside production)."""
        if not submission_host or not re.fullmatch(r"[A-Za-z0-9.-]+(:\d{1,5})?", submission_host):
            raise RouteRefused(f"destinationSignature names no usable submissionHost ({submission_host!r})")
        scheme = urlsplit(self.endpoints.routing_url).scheme if self.endpoints.allow_http else "https"
        return f"{scheme if scheme in ('http', 'https') else 'https'}://{submission_host}"

    def _parameters(self, parameters: Mapping[str, Any], signature: str, submission_host: str) -> str:
        """The verified parameters' submissionUrl: on the host the self-service portal signed,
        and the parameters signed (detached JWS over their canonical JSON: no whitespace,
        members sorted) by that delivery service's key."""
        submission_url = str(parameters.get("submissionUrl") or "").rstrip("/")
        parts = urlsplit(submission_url)
        if parts.scheme != "https" and not (self.endpoints.allow_http and parts.scheme == "http"):
            raise RouteRefused(f"submissionUrl {submission_url!r} is not an https:// address")
        if not submission_host or parts.netloc.lower() != submission_host.lower():
            raise RouteRefused(f"submissionUrl {submission_url!r} is not on the delivery service the self-service "
                               f"portal signed ({submission_host!r})")
        pieces = signature.split(".")
        if len(pieces) != 3 or pieces[1] or not pieces[0] or not pieces[2]:
            raise RouteRefused("destinationParametersSignature is not a detached JWS (header..signature)")
        try:
            header = json.loads(_b64decode(pieces[0]))
        except ValueError:
            raise RouteRefused("destinationParametersSignature has no readable header") from None
        kid = str(header.get("kid") or "") if isinstance(header, dict) else ""
        if not isinstance(header, dict) or header.get("alg") != SIGNATURE_ALGORITHM or not kid:
            raise RouteRefused(f"destinationParametersSignature is not signed with {SIGNATURE_ALGORITHM} and a kid")
        who = f"the delivery service {parts.netloc}"
        jwk = _find_key(self._key_set(submission_url + JWKS_PATH, who), kid, who)
        if self.endpoints.root_certs:
            _check_chain(jwk, self.endpoints.root_certs, kid)
        key = _signing_key([jwk], kid, who)
        canonical = json.dumps(parameters, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        token = f"{pieces[0]}.{_b64encode(canonical)}.{pieces[2]}"
        try:
            jws.deserialize_compact(token, key, algorithms=[SIGNATURE_ALGORITHM])
        except (JoseError, ValueError) as error:
            raise RouteRefused(f"destinationParametersSignature does not verify with {who}'s key {kid}: "
                               f"{type(error).__name__}") from None
        return submission_url

    def _key_set(self, url: str, who: str) -> list[dict[str, Any]]:
        """A published JWKS, fetched once per client."""
        if url not in self._key_sets:
            response = self.http.get(url, timeout=TIMEOUT, allow_redirects=False)
            if response.status_code != 200:
                raise FitConnectError(f"the key set of {who} answered {response.status_code}")
            try:
                keys = response.json().get("keys")
            except (ValueError, AttributeError):
                keys = None
            if not isinstance(keys, list):
                raise RouteRefused(f"the key set of {who} is not a JWKS")
            self._key_sets[url] = [k for k in keys if isinstance(k, dict)]
        return self._key_sets[url]

    def check_parameters(self, route: Route, schema_uri: str, public_jwk: Mapping[str, Any]) -> None:
        """What the verified parameters say must fit what was prepared: active, our metadata
        version and form schema (where listed), and the office's key as encryption key."""
        parameters, destination = route.parameters, route.destination_id
        if not parameters:
            return  # a route without parameters: the destination itself is checked (check_destination)
        if parameters.get("status") != "active":
            raise Refused(f"destination {destination} is {parameters.get('status')!r}, not active")
        versions = parameters.get("metadataVersions") or []
        if versions and METADATA_VERSION not in versions:
            raise Refused(f"destination {destination} does not take metadata {METADATA_VERSION}")
        schemas = [schema.get("schemaUri") for schema in parameters.get("submissionSchemas") or []
                   if isinstance(schema, dict)]
        if schemas and schema_uri not in schemas:
            raise Refused(f"destination {destination} does not take the schema {schema_uri}")
        kid = str(public_jwk.get("kid", ""))
        if parameters.get("encryptionKid") != kid:
            raise Refused(f"destination {destination} encrypts for kid {parameters.get('encryptionKid')!r}, "
                          f"the office's key is kid {kid!r}")
        keys = (parameters.get("publicKeys") or {}).get("keys") or []
        if not any(isinstance(key, dict) and key.get("kid") == kid
                   and all(key.get(member) == public_jwk.get(member) for member in ("kty", "n", "e"))
                   for key in keys):
            raise Refused(f"destination {destination} does not publish the office's key kid {kid}")

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


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _region_covered(key: str, region: str) -> bool:
    """Whether a signed area (a regional key: Land, Regierungsbezirk, Kreis, Gemeindeverband or
    Gemeinde) covers the town. An ARS starts with the key of every area around it; an AGS lacks
    the Gemeindeverband's four digits, so it is compared with a Gemeinde's ARS without them, and
    a Gemeindeverband (nine digits) cannot be told from it."""
    if len(region) == 12:
        return region.startswith(key)
    if len(key) <= 5:
        return region.startswith(key)
    return len(key) == 12 and key[:5] + key[9:] == region


def _serves(services: Any, leika: str, region: str) -> bool:
    """Whether the signed addressing information lists the service (LeiKa URN) in an area that
    covers the region."""
    if not isinstance(services, list):
        return False
    for service in services:
        if not isinstance(service, dict) or leika not in (service.get("leistungIDs") or []):
            continue
        if any(isinstance(area, str) and area.startswith(RS_URN) and _region_covered(area.removeprefix(RS_URN), region)
               for area in service.get("gebietIDs") or []):
            return True
    return False


def _find_key(keys: list[dict[str, Any]], kid: str, who: str) -> dict[str, Any]:
    found = [key for key in keys if key.get("kid") == kid]
    if len(found) != 1:
        raise RouteRefused(f"{who} publishes no (single) key {kid}")
    return found[0]


def _signing_key(keys: list[dict[str, Any]], kid: str, who: str) -> RSAKey:
    """A published RSA key for PS512 signatures, by kid."""
    jwk = _find_key(keys, kid, who)
    if jwk.get("kty") != "RSA" or jwk.get("alg", SIGNATURE_ALGORITHM) != SIGNATURE_ALGORITHM \
            or "verify" not in (jwk.get("key_ops") or ["verify"]) or jwk.get("use", "sig") != "sig":
        raise RouteRefused(f"the key {kid} of {who} is not an RSA key for {SIGNATURE_ALGORITHM} signatures")
    try:
        return RSAKey.import_key({k: v for k, v in jwk.items() if k in ("kty", "n", "e", "kid")})
    except (JoseError, ValueError):
        raise RouteRefused(f"the key {kid} of {who} is not readable") from None


def _check_chain(jwk: Mapping[str, Any], roots: Sequence[x509.Certificate], kid: str) -> None:
    """The key's certificate chain (x5c: its own certificate first) must be valid now, each
    certificate issued by the next by a CA, the last one a configured root or issued by one,
    and the first one certify this very key."""
    chain = jwk.get("x5c")
    if not isinstance(chain, list) or not chain or not all(isinstance(c, str) for c in chain):
        raise RouteRefused(f"the signing key {kid} has no certificate chain (x5c); FITCONNECT_ROOT_CERTS asks for one")
    try:
        certificates = [x509.load_der_x509_certificate(base64.b64decode(c, validate=True)) for c in chain]
    except ValueError:
        raise RouteRefused(f"the certificate chain (x5c) of the signing key {kid} is not readable") from None
    leaf = certificates[0].public_key()
    if not isinstance(leaf, RSAPublicKey) or [leaf.public_numbers().n, leaf.public_numbers().e] != [
            int.from_bytes(_b64decode(str(jwk.get(member, ""))), "big") for member in ("n", "e")]:
        raise RouteRefused(f"the certificate in x5c of the signing key {kid} is for another key")
    now = dt.datetime.now(dt.UTC)
    for certificate in certificates:
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise RouteRefused(f"the certificate {certificate.subject.rfc4514_string()} of the signing key {kid} is "
                               f"not valid now (valid {certificate.not_valid_before_utc:%Y-%m-%d} to "
                               f"{certificate.not_valid_after_utc:%Y-%m-%d})")
    for child, parent in zip(certificates, certificates[1:], strict=False):
        if not _issued_by(child, parent):
            raise RouteRefused(f"the certificate {child.subject.rfc4514_string()} of the signing key {kid} is not "
                               f"issued by the next one in its chain")
    last = certificates[-1]
    valid_roots = [root for root in roots if root.not_valid_before_utc <= now <= root.not_valid_after_utc]
    if not any(last == root or _issued_by(last, root) for root in valid_roots):
        raise RouteRefused(f"the certificate chain of the signing key {kid} does not lead to a root in "
                           f"FITCONNECT_ROOT_CERTS (it ends at {last.issuer.rfc4514_string()})")


def _issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    try:
        constraints = parent.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    if not constraints.ca:
        return False
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


# ---------------------------------------------------------------- the outbox steps


def outbox(app: Flask, item: OutboxItem) -> None:
    """Outbox kind "fitconnect": step "send" delivers a prepared submission, step "status"
    looks for the destination's decision. A failure is raised and retried by the outbox; the
    next attempt goes on from what is recorded."""
    client = Client(Endpoints.of(app.config["PORTAL"]))
    if item.payload.get("step") == "status":
        if item.payload.get("submission_url"):  # a routed destination's own delivery service
            client = client.at(str(item.payload["submission_url"]))
        look_for_decision(app, client, int(item.payload["submission"]))
    else:
        deliver(app, client, int(item.payload["submission"]), routing=item.payload.get("routing"))


def deliver(app: Flask, client: Client, row_id: int, routing: bool | None = None) -> None:
    """Send a prepared submission. `routing`: the destination comes from the Routing API (None:
    as the row says, for items queued before this was recorded). A routed destination is looked
    up and verified on every attempt, and everything goes to its delivery service; a pinned one
    is sent to FITCONNECT_SUBMISSION_URL."""
    with session_scope(app) as session:
        row = session.get(FitConnectSubmission, row_id)
        if row is None or row.submitted_at is not None:
            return
        application = session.get(Application, row.application_id)
        office = session.get(Office, application.office_id) if application is not None else None
        if application is None or office is None:
            return
        routed = row.destination_id is None if routing is None else bool(routing)
        destination, leika, schema_uri, kid = row.destination_id, row.leika, row.schema_uri, row.kid
        submission_id, public_jwk, region = row.submission_id, dict(office.public_jwk), row.region
        attachments = [(a.id, a.attachment_id, a.uploaded_at is not None) for a in session.scalars(
            select(FitConnectAttachment).where(FitConnectAttachment.submission_row == row.id)
            .order_by(FitConnectAttachment.id))]
        service_name = row.service_name
    if str(public_jwk.get("kid", "")) != kid:
        raise Refused(f"the office's key changed (kid {public_jwk.get('kid')}); this submission was encrypted for "
                      f"kid {kid}")
    submission_url = None
    if routed:
        route = client.route(leika, region)
        if submission_id is not None and route.destination_id != destination:
            raise Refused(f"the route now names destination {route.destination_id}; submission {submission_id} "
                          f"was created at {destination}")
        client.check_parameters(route, schema_uri, public_jwk)
        destination, submission_url = route.destination_id, route.submission_url
        client = client.at(submission_url)
        with session_scope(app) as session:
            row = session.get(FitConnectSubmission, row_id)
            assert row is not None
            row.destination_id = destination
    assert destination is not None
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
        status: dict[str, Any] = {"submission": row.id, "step": "status"}
        if submission_url is not None:
            status["submission_url"] = submission_url
        session.add(OutboxItem(kind=OUTBOX_KIND, payload=status, not_before=now + FIRST_LOOK))
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
