"""The FIT-Connect channel's names and limits, its errors, the configured endpoints, and
switching an office to it (or back)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import requests
from cryptography import x509

from portal.errors import PortalError

from ...platform.models import Office

if TYPE_CHECKING:
    from ...platform.config import Settings

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


def problem(response: requests.Response) -> str:
    """The title of an RFC 7807 problem, or nothing (never a whole body)."""
    try:
        answer = response.json()
    except ValueError:
        return "no problem details"
    return str(answer.get("title") or answer.get("type") or "")[:200] if isinstance(answer, dict) else ""


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
