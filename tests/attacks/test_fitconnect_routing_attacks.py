"""Attacks on the way the portal finds an office's FIT-Connect destination (issue 24).

The Routing API's answer passes through systems the portal does not trust (the Portalverbund,
the routing service, the network). A route counts only when the self-service portal's
`destinationSignature` and the delivery service's detached `destinationParametersSignature`
verify, with the keys those two publish (the portal's JWKS configured by
FITCONNECT_SSP_JWKS_URL; the delivery service's key chained to FITCONNECT_ROOT_CERTS). Every
forgery below must leave the application unsent, the outbox item failed with `RouteRefused`,
and the worker's log saying why; the good route must deliver, to the route's own
submissionUrl, not to the configured one. Against the local double of FIT-Connect
(tests/dynamic/fitconnect_double.py) with a throwaway CA made here."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from joserfc.jwk import RSAKey
from sqlalchemy import select

from dynamic.forms.fitconnect import ROUTING
from dynamic.platform.crypto import new_office_key
from dynamic.platform.db import session_scope
from dynamic.platform.models import OutboxItem
from dynamic.platform.outbox import process_outbox
from tests.dynamic.fitconnect_double import Authority, FitConnectDouble, certify, new_ca, x5c
from tests.dynamic.forms_fixtures import served
from tests.dynamic.test_clerk_cli import citizen_sends_with_proof
from tests.dynamic.test_fitconnect import AGS, LEIKA, SCHEMA, make_due, row_of, start, status_of
from tests.dynamic.test_office_api import new_citizen

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

NOWHERE = "http://127.0.0.1:9"  # the configured Submission API: a routed destination must not need it


@dataclass
class Routed:
    app: Flask
    double: FitConnectDouble
    url: str  # where the double serves, and so the route's submissionUrl
    root: Authority
    intermediate: Authority


@pytest.fixture
def routed(app_settings: dict[str, Any], tmp_path: Path) -> Iterator[Routed]:
    """An office on routing; the double's delivery service signs with a key certified by an
    intermediate of a root the portal trusts (FITCONNECT_ROOT_CERTS). The configured Submission
    API is a dead address: whatever reaches the double went to the route's submissionUrl."""
    private, public = new_office_key()
    double = FitConnectDouble(private, leika=LEIKA, region=AGS, schema_uris=[SCHEMA])
    root = new_ca("Test-Wurzel")
    intermediate = new_ca("Test-Zwischen-CA", issuer=root)
    double.delivery_x5c = x5c(certify(double.delivery_key.public_key, "Zustelldienst", intermediate),
                              intermediate.certificate)
    roots = tmp_path / "fit-connect-roots.pem"
    roots.write_bytes(root.pem())
    with served(double.app) as url:
        app = start(app_settings, double, url, public, ROUTING, fitconnect_root_certs=str(roots),
                    fitconnect_submission_url=NOWHERE)
        yield Routed(app, double, url, root, intermediate)
        app.extensions["db_engine"].dispose()


def refused(routed: Routed, caplog: pytest.LogCaptureFixture) -> str:
    """Send an application and return the log's reason for refusing the route; nothing may have
    reached the Submission API."""
    with caplog.at_level(logging.ERROR, logger="dynamic.forms.fitconnect"):
        citizen_sends_with_proof(new_citizen(routed.app))
        process_outbox(routed.app)
    double = routed.double
    assert double.created() == 0 and not double.submissions
    assert not [r for r in double.requests if r[1].startswith("/v1/submissions") or r[1].startswith("/v1/dest")]
    with session_scope(routed.app) as session:
        item = session.scalar(select(OutboxItem).where(OutboxItem.kind == "fitconnect"))
        assert item is not None and item.last_error == "RouteRefused" and item.done_at is None
    assert row_of(routed.app).status == "queued" and row_of(routed.app).submission_id is None
    [line] = [r.getMessage() for r in caplog.records if "route for" in r.getMessage()]
    assert line.startswith(f"FIT-Connect route for urn:de:fim:leika:leistung:{LEIKA} in {AGS} refused, nothing sent: ")
    return line


# ---------------------------------------------------------------- the good route


def test_a_verified_route_delivers_end_to_end_through_its_own_submission_url(routed: Routed) -> None:
    app, double = routed.app, routed.double
    reference = citizen_sends_with_proof(new_citizen(app))

    process_outbox(app)

    assert double.problems == [] and double.created() == 1
    paths = [path for _method, path, _status in double.requests]
    assert paths[:3] == ["/v1/routes", "/ssp/.well-known/jwks.json", "/.well-known/jwks.json"]
    row = row_of(app)
    assert (row.status, row.destination_id) == ("submitted", double.destination_id)
    with session_scope(app) as session:
        status = session.scalar(select(OutboxItem).where(OutboxItem.kind == "fitconnect", OutboxItem.done_at.is_(None)))
        assert status is not None and status.payload["submission_url"] == routed.url
    make_due(app)
    process_outbox(app)  # the decision is read at the route's delivery service too
    assert row_of(app).status == "accepted" and status_of(app, reference) == "received"


# ---------------------------------------------------------------- forged or altered routes


def test_altered_destination_parameters_break_their_signature(routed: Routed, caplog: pytest.LogCaptureFixture) -> None:
    attacker = RSAKey.generate_key(2048).as_dict(private=False)

    def add_key(route: dict[str, Any]) -> None:
        attacker_key = {**attacker, "kid": "angreifer", "alg": "RSA-OAEP-256", "key_ops": ["wrapKey"]}
        route["destinationParameters"]["publicKeys"]["keys"].append(attacker_key)
        route["destinationParameters"]["encryptionKid"] = "angreifer"

    routed.double.tamper = add_key
    assert "destinationParametersSignature does not verify" in refused(routed, caplog)


def test_a_submission_url_elsewhere_than_the_signed_host_is_refused(routed: Routed,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    def elsewhere(route: dict[str, Any]) -> None:
        route["destinationParameters"]["submissionUrl"] = "https://zustelldienst.angreifer.example"

    routed.double.tamper = elsewhere
    assert "is not on the delivery service the self-service portal signed" in refused(routed, caplog)


def test_a_route_naming_another_destination_than_signed_is_refused(routed: Routed,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    def other(route: dict[str, Any]) -> None:
        route["destinationId"] = "0c438057-ec3e-4ce0-b154-1683b5d3c2e8"

    routed.double.tamper = other
    assert "destinationSignature is for destination" in refused(routed, caplog)


def test_a_destination_signature_by_a_foreign_key_is_refused(routed: Routed, caplog: pytest.LogCaptureFixture) -> None:
    routed.double.sign_destination_with = RSAKey.generate_key(2048)  # under the portal's kid
    assert "destinationSignature does not verify with the self-service portal's key" in refused(routed, caplog)


def test_parameters_signed_by_a_foreign_key_are_refused(routed: Routed, caplog: pytest.LogCaptureFixture) -> None:
    routed.double.sign_parameters_with = RSAKey.generate_key(2048)  # under the delivery service's kid
    assert "destinationParametersSignature does not verify with the delivery service" in refused(routed, caplog)


def test_a_route_signed_for_another_region_is_refused(routed: Routed, caplog: pytest.LogCaptureFixture) -> None:
    routed.double.signed_areas = ["091620000000"]  # München: the routing answered for our town with it
    assert f"does not sign urn:de:fim:leika:leistung:{LEIKA} in region {AGS}" in refused(routed, caplog)


def test_an_unsigned_route_is_refused(routed: Routed, caplog: pytest.LogCaptureFixture) -> None:
    def strip(route: dict[str, Any]) -> None:
        route["destinationParametersSignature"] = ""

    routed.double.tamper = strip
    assert "is not a detached JWS" in refused(routed, caplog)


def without_parameters(route: dict[str, Any]) -> None:
    """A route as the Routing API 2.x may give it: the destination and its signature only."""
    del route["destinationParameters"], route["destinationParametersSignature"]


def test_a_route_without_parameters_is_sent_to_the_signed_delivery_service(routed: Routed) -> None:
    routed.double.tamper = without_parameters
    app, double = routed.app, routed.double
    citizen_sends_with_proof(new_citizen(app))
    process_outbox(app)
    assert double.problems == [] and double.created() == 1
    # The destination is read from the delivery service the self-service portal signed.
    assert ("GET", f"/v1/destinations/{double.destination_id}", 200) in double.requests
    assert row_of(app).status == "submitted"


def test_a_route_without_parameters_to_an_inactive_destination_sends_nothing(routed: Routed) -> None:
    routed.double.tamper = without_parameters
    routed.double.status = "inactive"
    citizen_sends_with_proof(new_citizen(routed.app))
    process_outbox(routed.app)
    assert routed.double.created() == 0 and row_of(routed.app).status == "queued"


def test_parameters_without_their_signature_are_refused(routed: Routed, caplog: pytest.LogCaptureFixture) -> None:
    def unsigned(route: dict[str, Any]) -> None:
        del route["destinationParametersSignature"]

    routed.double.tamper = unsigned
    assert "is not a detached JWS" in refused(routed, caplog)


# ---------------------------------------------------------------- the signing key's certificate


def test_an_expired_certificate_of_the_parameters_signing_key_is_refused(routed: Routed,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    now = dt.datetime.now(dt.UTC)
    leaf = certify(routed.double.delivery_key.public_key, "Zustelldienst", routed.intermediate,
                   not_before=now - dt.timedelta(days=400), not_after=now - dt.timedelta(days=35))
    routed.double.delivery_x5c = x5c(leaf, routed.intermediate.certificate)
    line = refused(routed, caplog)
    assert "CN=Zustelldienst" in line and "is not valid now" in line


def test_a_certificate_from_a_foreign_ca_is_refused(routed: Routed, caplog: pytest.LogCaptureFixture) -> None:
    foreign = new_ca("Fremde Wurzel")
    routed.double.delivery_x5c = x5c(certify(routed.double.delivery_key.public_key, "Zustelldienst", foreign),
                                     foreign.certificate)
    assert "does not lead to a root in FITCONNECT_ROOT_CERTS" in refused(routed, caplog)


def test_a_certificate_for_another_key_is_refused(routed: Routed, caplog: pytest.LogCaptureFixture) -> None:
    other = RSAKey.generate_key(2048)
    routed.double.delivery_x5c = x5c(certify(other.public_key, "Zustelldienst", routed.intermediate),
                                     routed.intermediate.certificate)
    assert "is for another key" in refused(routed, caplog)


def test_a_certificate_issued_by_a_non_ca_is_refused(routed: Routed, caplog: pytest.LogCaptureFixture) -> None:
    # A leaf of the trusted root, not a CA, "issues" the delivery service's certificate.
    key = new_ca("Blatt").key
    not_a_ca = Authority(certify(key.public_key(), "Blatt", routed.root, ca=False), key)
    routed.double.delivery_x5c = x5c(certify(routed.double.delivery_key.public_key, "Zustelldienst", not_a_ca),
                                     not_a_ca.certificate)
    assert "is not issued by the next one in its chain" in refused(routed, caplog)


def test_a_signing_key_without_a_chain_is_refused_when_roots_are_configured(
        routed: Routed, caplog: pytest.LogCaptureFixture) -> None:
    routed.double.delivery_x5c = None
    assert "has no certificate chain (x5c)" in refused(routed, caplog)
