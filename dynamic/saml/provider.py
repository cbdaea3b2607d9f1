"""Our side of the state login as pysaml2 sees it: the service provider's keys, its
configuration and metadata, and the one client (per app) that builds the signed
AuthnRequests and LogoutRequests and parses the answers, with the identity provider known
only from its metadata file."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_TRANSIENT

from ..platform import config
from ..platform.config import Settings
from . import pss
from .keys import KeyPair, SamlSetupError, configured_pair, development_pair
from .metadata import DEVELOPMENT_IDP, published
from .policy import Policy, policy_for, production_problems

REQUEST_LIFETIME = dt.timedelta(minutes=15)  # how long a citizen may take at the identity provider
CLOCK_SKEW_SECONDS = 60


def acs_url(settings: Settings) -> str:
    return f"{settings.base_url}/saml/acs"


def logout_url(settings: Settings) -> str:
    return f"{settings.base_url}/saml/logout"


def sp_entity_id(settings: Settings) -> str:
    return settings.saml_sp_entity_id


def sp_keys(settings: Settings) -> KeyPair:
    """SAML_SP_KEY and SAML_SP_CERT; in development a pair made once under var/saml/sp/."""
    if settings.saml_sp_key or settings.saml_sp_cert:
        if not (settings.saml_sp_key and settings.saml_sp_cert):
            raise SamlSetupError("SAML_SP_KEY and SAML_SP_CERT must be set together")
        return configured_pair(settings.saml_sp_key, settings.saml_sp_cert)
    if settings.production:
        raise SamlSetupError("SAML_SP_KEY and SAML_SP_CERT must name the service provider's key and certificate "
                             "(PEM files) in production")
    return development_pair(settings.var_dir / "saml" / "sp", "Buergerportal SAML SP (Entwicklung)")


def _config(settings: Settings, idp_metadata: dict[str, list[Any]] | None) -> SPConfig:
    keys = sp_keys(settings)
    config: dict[str, Any] = {
        "entityid": sp_entity_id(settings),
        "key_file": str(keys.key_file),
        "cert_file": str(keys.cert_file),
        # The same pair decrypts; the metadata publishes it for both uses (DOMAIN.md).
        "encryption_keypairs": [{"key_file": str(keys.key_file), "cert_file": str(keys.cert_file)}],
        "accepted_time_diff": CLOCK_SKEW_SECONDS,
        "signing_algorithm": policy_for(settings).signing_algorithm,
        "digest_algorithm": policy_for(settings).digest_algorithm,
        "allow_unknown_attributes": True,
        "service": {"sp": {
            "endpoints": {
                "assertion_consumer_service": [(acs_url(settings), BINDING_HTTP_POST)],
                "single_logout_service": [(logout_url(settings), BINDING_HTTP_REDIRECT)],
            },
            "authn_requests_signed": True,
            "logout_requests_signed": True,
            "want_assertions_signed": True,
            "want_response_signed": False,
            "allow_unsolicited": False,
            "name_id_format": [NAMEID_FORMAT_TRANSIENT],
        }},
    }
    if idp_metadata is not None:
        config["metadata"] = idp_metadata
    sp_config = SPConfig()
    sp_config.load(config)
    return sp_config


def sp_metadata_xml(app: Flask) -> str:
    cached = app.extensions.get("saml_sp_metadata")
    if cached is None:
        value = create_metadata_string(None, config=_config(config.settings(app), None), sign=False)
        cached = value.decode("utf-8") if isinstance(value, bytes) else value
        app.extensions["saml_sp_metadata"] = cached
    return str(cached)


def _idp_metadata(app: Flask) -> dict[str, list[Any]]:
    settings: Settings = config.settings(app)
    source = settings.saml_idp_metadata
    if source.startswith(("http://", "https://")):
        raise SamlSetupError("SAML_IDP_METADATA must name a local file: download the identity provider's metadata, "
                             "check its signature and point SAML_IDP_METADATA to the file")
    if source:
        return {"local": [source]}
    if settings.dev_idp:
        return {"local": [str(published(app, DEVELOPMENT_IDP))]}
    raise SamlSetupError("SAML_IDP_METADATA must name the state identity provider's metadata file "
                         "(or DEV_IDP=1 for the development identity provider)")


class _ForgetIdentities:
    """pysaml2 keeps every identity it parsed in process memory; we keep none (privacy, and
    the next request may reach another process anyway)."""

    def set(self, *_args: Any) -> None:
        return None

    def delete(self, *_args: Any) -> None:
        return None


@dataclass(frozen=True)
class ServiceProvider:
    client: Saml2Client
    idp_entity_id: str
    acs_url: str
    entity_id: str
    policy: Policy  # what it signs with and accepts (policy.py)


def service_provider(app: Flask | None = None) -> ServiceProvider:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    assert app is not None
    cached = app.extensions.get("saml_sp")
    if cached is None:
        # pysaml2's log messages carry personal data; create_app keeps them out (logs.py).
        settings = config.settings(app)
        sp_config = _config(settings, _idp_metadata(app))
        policy = policy_for(settings)
        if settings.production:
            problems = production_problems(settings, policy, sp_config)
            if problems:
                raise SamlSetupError("; ".join(problems))
        client = Saml2Client(sp_config, identity_cache=_ForgetIdentities())
        pss.install(client)  # RSASSA-PSS through signxml, every other signature through xmlsec1 as before
        idps = list(client.metadata.identity_providers())
        if len(idps) != 1:
            raise SamlSetupError(f"SAML_IDP_METADATA must describe exactly one identity provider, found {len(idps)}")
        cached = ServiceProvider(client, idps[0], acs_url(settings), sp_entity_id(settings), policy)
        app.extensions["saml_sp"] = cached
    assert isinstance(cached, ServiceProvider)
    return cached
