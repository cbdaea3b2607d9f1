"""A local stand-in for FIT-Connect (token service, Routing API, Submission API v1), served on
127.0.0.1 for the tests. It answers as FITKO's published OpenAPI describes and checks what a
sender gives it as a subscriber would: JWE compact with RSA-OAEP-256/A256GCM and the
destination's kid, every announced attachment uploaded once, the metadata decrypted and
checked against FITKO's published metadata schema, the data's and each attachment's
SHA-512. A successful submission gets the service's submit-submission event and the
destination's accept-submission (or, with problems, reject-submission), both as signed
security event tokens (PS512).

Its Routing API answers as FITKO's does: each route carries the addressing information as a
JWT signed by the self-service portal (`destinationSignature`: destination id, the services
and regions, the delivery service's host; the portal's JWKS under /ssp/.well-known/jwks.json,
its issuer this server's origin) and the destination's parameters with a detached JWS by the
delivery service (`destinationParametersSignature`, over the parameters' JSON without
whitespace and with sorted members; the delivery service's JWKS under /.well-known/jwks.json,
its key with the certificate chain a test gives in `delivery_x5c`). Tests forge and alter
routes through `sign_destination_with`, `sign_parameters_with` and `tamper`.

`new_ca` and `certify` make throwaway certificates (cryptography) for those chains."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from flask import Flask, Response, jsonify, request
from joserfc import jwe, jws
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from dynamic.platform.crypto import REGISTRY

EVENTS = "https://schema.fitko.de/fit-connect/events/"
LEIKA_URN = "urn:de:fim:leika:leistung:"
RS_URN = "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:"
SSP_JWKS_PATH = "/ssp/.well-known/jwks.json"  # the self-service portal's key set, on the double's host

# FITKO's published metadata schema 1.0.0, as published (tests/fixtures/fitconnect/README.md):
# a subscriber validates the decrypted metadata against it, formats included.
METADATA_SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "fixtures" / "fitconnect"
                              / "metadata.schema.v1.0.0.json").read_text(encoding="utf-8"))
METADATA_VALIDATOR = jsonschema.Draft202012Validator(
    METADATA_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@dataclass
class Submission:
    id: str
    case_id: str
    destination_id: str
    announced: list[str]
    service: dict[str, Any]
    attachments: dict[str, bytes] = field(default_factory=dict)
    metadata: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    submitted: bool = False


class FitConnectDouble:
    """One destination, served with its keys. `private_jwk` decrypts (the office's key pair);
    `fail_once_after_first_attachment` makes the second attachment upload answer 503 once."""

    def __init__(self, private_jwk: dict[str, Any], *, leika: str, region: str, schema_uris: list[str],
                 client_id: str = "portal-sender", client_secret: str = "geheim") -> None:
        self.private_jwk = private_jwk
        self.public_jwk = {k: v for k, v in private_jwk.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}
        self.public_jwk["key_ops"] = ["wrapKey"]
        self.destination_id = str(uuid.uuid4())
        self.status = "active"
        self.leika, self.region, self.schema_uris = leika, region, schema_uris
        self.client_id, self.client_secret = client_id, client_secret
        self.signing = RSAKey.generate_key(2048)  # the destination's (subscriber's) SET key
        self.signing_kid = self.signing.thumbprint()
        self.service_key = RSAKey.generate_key(2048)  # the Submission Service's own SET key
        self.ssp_key = RSAKey.generate_key(2048)  # the self-service portal's: signs destinationSignature
        self.ssp_kid = self.ssp_key.thumbprint()
        self.delivery_key = RSAKey.generate_key(2048)  # the delivery service's: signs destinationParameters
        self.delivery_kid = self.delivery_key.thumbprint()
        self.delivery_x5c: list[str] | None = None  # its certificate chain, when a test gives one
        self.sign_destination_with: RSAKey | None = None  # another key under the portal's kid (forgery)
        self.sign_parameters_with: RSAKey | None = None  # another key under the delivery service's kid
        self.signed_areas: list[str] | None = None  # regional keys signed instead of the destination's own
        self.tamper: Callable[[dict[str, Any]], None] | None = None  # alters a route after it was signed
        self.tokens: set[str] = set()
        self.submissions: dict[str, Submission] = {}
        self.events: dict[str, list[str]] = {}
        self.requests: list[tuple[str, str, int]] = []
        self.problems: list[str] = []
        self.decide = "accept"  # or "reject" (a well-formed submission rejected), "none": no decision
        self.fail_once_after_first_attachment = False
        # What the destination offers for answers (its replyChannels), in its document and route.
        self.reply_channels: dict[str, Any] = {}
        self.lock = threading.Lock()
        self.app = self._build()

    # -------------------------------------------------------------- helpers

    def _problem(self, status: int, kind: str, title: str) -> Response:
        response = jsonify({"type": f"https://schema.fitko.de/fit-connect/submission-api/problems/{kind}",
                            "title": title, "status": status, "detail": title})
        response.status_code = status
        response.content_type = "application/problem+json"
        return response

    def _authorized(self) -> bool:
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header[7:] in self.tokens

    def _decrypt(self, token: str, what: str) -> bytes | None:
        """Decrypt as the subscriber does, after checking the JWE's shape and header."""
        if token.count(".") != 4:
            self.problems.append(f"{what}: not a JWE in compact form")
            return None
        try:
            header = _b64json(token.split(".")[0])
        except ValueError:
            self.problems.append(f"{what}: header not readable")
            return None
        if header.get("alg") != "RSA-OAEP-256" or header.get("enc") != "A256GCM":
            self.problems.append(f"{what}: alg/enc {header.get('alg')}/{header.get('enc')}")
        if header.get("kid") != self.public_jwk["kid"]:
            self.problems.append(f"{what}: kid {header.get('kid')} is not the destination's encryption kid")
            return None
        try:
            return jwe.decrypt_compact(token, RSAKey.import_key(self.private_jwk), registry=REGISTRY).plaintext
        except (JoseError, ValueError) as error:
            self.problems.append(f"{what}: does not decrypt ({error})")
            return None

    def _event(self, submission: Submission, name: str, payload: dict[str, Any], key: RSAKey, kid: str) -> None:
        claims = {"iss": "https://fitconnect-double.invalid" if key is self.service_key else self.destination_id,
                  "iat": int(time.time()), "jti": str(uuid.uuid4()), "sub": f"submission:{submission.id}",
                  "txn": f"case:{submission.case_id}", "events": {EVENTS + name: payload}}
        token = jws.serialize_compact({"alg": "PS512", "typ": "secevent+jwt", "kid": kid},
                                      json.dumps(claims).encode(), key, algorithms=["PS512"])
        self.events.setdefault(submission.case_id, []).append(token)

    def _check(self, submission: Submission) -> list[str]:
        """What a subscriber checks after decrypting: metadata schema, hashes, the data's schema."""
        found: list[str] = []
        metadata, data_plain = submission.metadata, submission.data
        if metadata is None or data_plain is None:
            return ["metadata or data missing"]
        errors = sorted(METADATA_VALIDATOR.iter_errors(metadata), key=str)
        found += [f"metadata: {e.message} at {list(e.path)}" for e in errors]
        structure = metadata.get("contentStructure", {})
        listed = {a.get("attachmentId"): a for a in structure.get("attachments", [])}
        if set(listed) != set(submission.announced):
            found.append("metadata: the attachments are not the announced ones")
        for attachment_id, content in submission.attachments.items():
            entry = listed.get(attachment_id, {})
            if entry.get("hash", {}).get("content") != hashlib.sha512(content).hexdigest():
                found.append(f"attachment {attachment_id}: SHA-512 does not match the metadata")
        raw = data_plain.get("_raw", b"")
        if structure.get("data", {}).get("hash", {}).get("content") != hashlib.sha512(raw).hexdigest():
            found.append("data: SHA-512 does not match the metadata")
        schema_uri = structure.get("data", {}).get("submissionSchema", {}).get("schemaUri")
        if schema_uri not in self.schema_uris or data_plain.get("form", {}).get("schema") != schema_uri:
            found.append(f"data: schema {schema_uri} is not the destination's or not the data's")
        for channel in metadata.get("replyChannel") or {}:
            if channel not in self.reply_channels:
                found.append(f"metadata: reply channel {channel} is not offered by the destination")
            elif self.reply_channels[channel].get("usePgp") and not metadata["replyChannel"][channel].get(
                    "pgpPublicKey"):
                found.append(f"metadata: reply channel {channel} needs a PGP key")
        if metadata.get("publicServiceType", {}).get("identifier") != submission.service.get("identifier"):
            found.append("metadata: the service is not the one announced")
        return found

    # -------------------------------------------------------------- the API

    def _build(self) -> Flask:  # noqa: C901 - one function per endpoint, as the OpenAPI lists them
        app = Flask("fitconnect_double")

        @app.after_request
        def record(response: Response) -> Response:
            self.requests.append((request.method, request.path, response.status_code))
            return response

        @app.post("/token")
        def token() -> Any:
            form = request.form
            if form.get("grant_type") != "client_credentials":
                return jsonify({"error": "unsupported_grant_type"}), 400
            if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
                return jsonify({"error": "invalid_client"}), 401
            value = secrets.token_urlsafe(24)
            self.tokens.add(value)
            return jsonify({"access_token": value, "token_type": "Bearer", "expires_in": 1800,
                            "scope": "send:region:DE"})

        @app.get("/v1/routes")
        def routes() -> Any:
            leika = request.args.get("leikaKey", "")
            region = request.args.get("ars") or request.args.get("ags") or request.args.get("areaId")
            if not leika or not region:
                return self._problem(400, "missing-parameter", "leikaKey und ars, ags oder areaId fehlen")
            found = [] if (leika, region) != (self.leika, self.region) else [self.route(request.host_url)]
            return jsonify({"count": len(found), "offset": 0, "totalCount": len(found), "routes": found})

        @app.get(SSP_JWKS_PATH)
        def ssp_keys() -> Any:
            return jsonify({"keys": [{**self.ssp_key.as_dict(private=False), "kid": self.ssp_kid, "alg": "PS512",
                                      "use": "sig", "key_ops": ["verify"]}]})

        @app.get("/.well-known/jwks.json")
        def delivery_keys() -> Any:
            key = {**self.delivery_key.as_dict(private=False), "kid": self.delivery_kid, "alg": "PS512",
                   "key_ops": ["verify"]}
            if self.delivery_x5c is not None:
                key["x5c"] = self.delivery_x5c
            return jsonify({"keys": [key]})

        @app.get("/v1/destinations/<destination_id>")
        def destination(destination_id: str) -> Any:
            if not self._authorized():
                return self._problem(401, "unauthorized", "Kein gültiges Zugriffstoken")
            if destination_id != self.destination_id:
                return self._problem(404, "destination-not-found", "Zustellpunkt nicht gefunden")
            return jsonify({
                "destinationId": self.destination_id, "status": self.status,
                "services": [{"identifier": LEIKA_URN + self.leika, "regions": [f"DE{self.region[:2]}"],
                              "submissionSchemas": [{"schemaUri": u, "mimeType": "application/json"}
                                                    for u in self.schema_uris]}],
                "encryptionKid": self.public_jwk["kid"], "metadataVersions": ["1.0.0"], "replyChannels": self.reply_channels})

        @app.get("/v1/destinations/<destination_id>/keys/<kid>")
        def key(destination_id: str, kid: str) -> Any:
            if not self._authorized():
                return self._problem(401, "unauthorized", "Kein gültiges Zugriffstoken")
            if destination_id != self.destination_id:
                return self._problem(404, "destination-not-found", "Zustellpunkt nicht gefunden")
            if kid == self.public_jwk["kid"]:
                return jsonify(self.public_jwk)
            if kid == self.signing_kid:
                return jsonify({**self.signing.as_dict(private=False), "kid": self.signing_kid, "alg": "PS512",
                                "key_ops": ["verify"]})
            return self._problem(404, "key-not-found", "Schlüssel nicht gefunden")

        @app.post("/v1/submissions")
        def create() -> Any:
            if not self._authorized():
                return self._problem(401, "unauthorized", "Kein gültiges Zugriffstoken")
            body = request.get_json(silent=True) or {}
            if body.get("destinationId") != self.destination_id:
                return self._problem(404, "destination-not-found", "Zustellpunkt nicht gefunden")
            if self.status != "active":
                return self._problem(422, "destination-state-invalid", "Zustellpunkt nicht aktiv")
            announced = body.get("announcedAttachments") or []
            service = body.get("serviceType") or {}
            if not all(isinstance(a, str) and len(a) == 36 for a in announced) or len(set(announced)) != len(announced):
                return self._problem(422, "attachment-ids-invalid", "announcedAttachments müssen UUIDs sein")
            if service.get("identifier") != LEIKA_URN + self.leika:
                return self._problem(422, "service-mismatch", "Leistung wird hier nicht angeboten")
            with self.lock:
                submission = Submission(str(uuid.uuid4()), str(uuid.uuid4()), self.destination_id, announced,
                                        service)
                self.submissions[submission.id] = submission
            return jsonify({"destinationId": self.destination_id, "submissionId": submission.id,
                            "caseId": submission.case_id}), 201

        @app.put("/v1/submissions/<submission_id>/attachments/<attachment_id>")
        def upload(submission_id: str, attachment_id: str) -> Any:
            if not self._authorized():
                return self._problem(401, "unauthorized", "Kein gültiges Zugriffstoken")
            submission = self.submissions.get(submission_id)
            if submission is None:
                return self._problem(404, "submission-not-found", "Einreichung nicht gefunden")
            if attachment_id not in submission.announced:
                return self._problem(404, "attachment-not-found", "Anlage nicht angekündigt")
            if submission.submitted:
                return self._problem(409, "submission-state-invalid", "Einreichung bereits abgesendet")
            if request.mimetype != "application/jose":
                return self._problem(415, "unsupported-media-type", "application/jose erwartet")
            if self.fail_once_after_first_attachment and len(submission.attachments) == 1:
                self.fail_once_after_first_attachment = False
                return self._problem(503, "service-unavailable", "Vorübergehend nicht verfügbar")
            if attachment_id in submission.attachments:
                self.problems.append(f"attachment {attachment_id} uploaded twice")
            plain = self._decrypt(request.get_data(as_text=True), f"attachment {attachment_id}")
            if plain is None:
                return self._problem(422, "encryption-invalid", "Anlage nicht lesbar")
            submission.attachments[attachment_id] = plain
            return "", 204

        @app.put("/v1/submissions/<submission_id>")
        def submit(submission_id: str) -> Any:
            if not self._authorized():
                return self._problem(401, "unauthorized", "Kein gültiges Zugriffstoken")
            submission = self.submissions.get(submission_id)
            if submission is None:
                return self._problem(404, "submission-not-found", "Einreichung nicht gefunden")
            if submission.submitted:
                return self._problem(409, "submission-state-invalid", "Einreichung bereits abgesendet")
            if set(submission.attachments) != set(submission.announced):
                return self._problem(422, "missing-attachments", "Nicht alle angekündigten Anlagen hochgeladen")
            body = request.get_json(silent=True) or {}
            if not body.get("encryptedMetadata") or not body.get("encryptedData"):
                return self._problem(422, "missing-content", "encryptedMetadata und encryptedData fehlen")
            metadata = self._decrypt(body["encryptedMetadata"], "metadata")
            data = self._decrypt(body["encryptedData"], "data")
            if metadata is None or data is None:
                return self._problem(422, "encryption-invalid", "Metadaten oder Fachdaten nicht lesbar")
            submission.metadata = json.loads(metadata)
            submission.data = {**json.loads(data), "_raw": data}
            submission.submitted = True
            self._event(submission, "submit-submission", {}, self.service_key, "submission-service")
            found = self._check(submission)
            self.problems += found
            if not found and self.decide == "reject":
                found = ["Die Fachdaten passen nicht zum Fachverfahren"]
            if found:
                self._event(submission, "reject-submission",
                            {"problems": [{"type": "urn:double:invalid", "title": p} for p in found]},
                            self.signing, self.signing_kid)
            elif self.decide == "accept":
                self._event(submission, "accept-submission", {}, self.signing, self.signing_kid)
            return jsonify({"destinationId": self.destination_id, "submissionId": submission.id,
                            "caseId": submission.case_id}), 202

        @app.get("/v1/cases/<case_id>/events")
        def events(case_id: str) -> Any:
            if not self._authorized():
                return self._problem(401, "unauthorized", "Kein gültiges Zugriffstoken")
            if not any(s.case_id == case_id for s in self.submissions.values()):
                return self._problem(404, "case-not-found", "Vorgang nicht gefunden")
            return jsonify({"eventLog": self.events.get(case_id, [])})

        return app

    def route(self, host_url: str) -> dict[str, Any]:
        """The destination's route as the Routing API gives it, signed by the self-service portal
        (destinationSignature) and the delivery service (destinationParametersSignature)."""
        base = host_url.rstrip("/")
        ars = self.region if len(self.region) == 12 else self.region[:5] + "0000" + self.region[5:]
        parameters = {
            "encryptionKid": self.public_jwk["kid"], "status": self.status, "metadataVersions": ["1.0.0"],
            "publicKeys": {"keys": [self.public_jwk]}, "replyChannels": self.reply_channels,
            "submissionSchemas": [{"schemaUri": u, "mimeType": "application/json"} for u in self.schema_uris],
            "submissionUrl": base}
        claims = {"submissionHost": urlsplit(base).netloc, "iss": base, "destinationId": self.destination_id,
                  "services": [{"gebietIDs": [RS_URN + a for a in (self.signed_areas or [ars])],
                                "leistungIDs": [LEIKA_URN + self.leika]}],
                  "iat": int(time.time()), "jti": str(uuid.uuid4())}
        destination_signature = jws.serialize_compact(
            {"alg": "PS512", "kid": self.ssp_kid, "typ": "JWT"}, json.dumps(claims).encode(),
            self.sign_destination_with or self.ssp_key, algorithms=["PS512"])
        canonical = json.dumps(parameters, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        header, _payload, signature = jws.serialize_compact(
            {"alg": "PS512", "kid": self.delivery_kid}, canonical, self.sign_parameters_with or self.delivery_key,
            algorithms=["PS512"]).split(".")
        route = {"destinationId": self.destination_id, "destinationName": "Bürgeramt (Testdouble)",
                 "destinationSignature": destination_signature, "destinationParameters": parameters,
                 "destinationParametersSignature": f"{header}..{signature}"}
        if self.tamper is not None:
            self.tamper(route)
        return route

    def created(self) -> int:
        """How many submissions were created (POST /v1/submissions answered 201)."""
        return sum(1 for method, path, status in self.requests
                   if (method, path, status) == ("POST", "/v1/submissions", 201))


def _b64json(part: str) -> dict[str, Any]:
    value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value


# ---------------------------------------------------------------- throwaway certificates


@dataclass
class Authority:
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Testdouble")])


def new_ca(common_name: str, issuer: Authority | None = None) -> Authority:
    """A CA: self-signed (a root), or issued by `issuer` (an intermediate)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = certify(key.public_key(), common_name, issuer, ca=True, self_key=key)
    return Authority(certificate, key)


def certify(public_key: Any, common_name: str, issuer: Authority | None, *, ca: bool = False,
            self_key: rsa.RSAPrivateKey | None = None, not_before: dt.datetime | None = None,
            not_after: dt.datetime | None = None) -> x509.Certificate:
    """A certificate for `public_key`, issued by `issuer` (or self-signed with `self_key`),
    valid from a day ago for a year unless told otherwise."""
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(common_name))
               .issuer_name(issuer.certificate.subject if issuer else _name(common_name))
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(not_before or now - dt.timedelta(days=1))
               .not_valid_after(not_after or now + dt.timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    signer = issuer.key if issuer else self_key
    assert signer is not None
    return builder.sign(signer, hashes.SHA256())


def x5c(*certificates: x509.Certificate) -> list[str]:
    """A JWK's x5c: base64 (not URL-safe) DER, the key's own certificate first."""
    return [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in certificates]
