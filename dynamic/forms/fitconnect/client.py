"""The sender client for FIT-Connect's Submission API: the access token, the destination and
its key, creating and filling a submission, and the case's events that decide it. The
Routing API's part is routing.RouteVerifier."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import requests
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from ...platform.crypto import ALGORITHM
from .channel import ACCEPTED, REJECTED, SET_ALGORITHM, TIMEOUT, Endpoints, FitConnectError, Refused, problem
from .routing import RouteVerifier

log = logging.getLogger("dynamic.forms.fitconnect")  # one logger for the whole channel (docs/betrieb, tests)


@dataclass
class Decision:
    status: str  # "accepted" | "rejected"
    problems: list[str]  # the titles of a rejection's problems


class Client(RouteVerifier):
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
            raise FitConnectError(f"{method} {path} answered {response.status_code}: {problem(response)}")
        return response

    def destination(self, destination_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/destinations/{destination_id}", (200,)).json())

    def key(self, destination_id: str, kid: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/destinations/{destination_id}/keys/{kid}", (200,)).json())

    def check_destination(self, destination_id: str, leika: str, schema_uri: str,
                          public_jwk: Mapping[str, Any]) -> dict[str, Any]:
        """Refused unless the destination is active, offers the service (and, where it lists
        schemas, our form's), and publishes as its encryption key the office's key, by kid and
        by value, for RSA-OAEP-256 key wrapping. The destination as it was read."""
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
        return found

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
