"""Trusting a route of the Routing API: the self-service portal's destinationSignature and the
delivery service's detached destinationParametersSignature, their signing keys and (where
FITCONNECT_ROOT_CERTS is set) the keys' certificate chains, and what the signatures cover."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from .channel import (
    CLOCK_SKEW,
    JWKS_PATH,
    LEIKA_URN,
    METADATA_VERSION,
    RS_URN,
    SIGNATURE_ALGORITHM,
    TIMEOUT,
    Endpoints,
    FitConnectError,
    Refused,
    RouteRefused,
    is_destination_id,
    problem,
)

log = logging.getLogger("dynamic.forms.fitconnect")  # one logger for the whole channel (docs/betrieb, tests)


@dataclass(frozen=True)
class Route:
    """A destination found by the Routing API, both of its signatures verified."""

    destination_id: str
    submission_url: str  # the destination's delivery service, without /v1
    parameters: dict[str, Any] = field(repr=False)


class RouteVerifier:
    """The Routing API's part of the sender client (`Client`): finding a destination and
    trusting it only once its route verifies."""

    endpoints: Endpoints
    http: requests.Session
    _key_sets: dict[str, list[dict[str, Any]]]

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
            raise FitConnectError(f"routing answered {response.status_code}: {problem(response)}")
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
        if not submission_host or not re.fullmatch(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?", submission_host):
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
