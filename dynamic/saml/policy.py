"""What the service provider signs with and what it accepts in an identity provider's answer,
and the rules a production start holds it to: an entity ID that is https without a port,
only encrypted assertions, no SHA-1 anywhere (DOMAIN.md, "Identity and trust levels")."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from saml2.xmldsig import (
    DIGEST_SHA256,
    DIGEST_SHA384,
    DIGEST_SHA512,
    SIG_ECDSA_SHA256,
    SIG_ECDSA_SHA384,
    SIG_ECDSA_SHA512,
    SIG_RSA_SHA256,
    SIG_RSA_SHA384,
    SIG_RSA_SHA512,
)

from ..platform.config import Settings

# Signature and digest algorithms accepted on an answer; SHA-1 (and anything older) is not:
# its collisions are practical, so a signature over one document can stand for another.
STRONG_SIGNATURE_ALGORITHMS = frozenset({
    SIG_RSA_SHA256, SIG_RSA_SHA384, SIG_RSA_SHA512, SIG_ECDSA_SHA256, SIG_ECDSA_SHA384, SIG_ECDSA_SHA512,
    "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1",  # RSASSA-PSS
    "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1",
    "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1",
})
STRONG_DIGEST_ALGORITHMS = frozenset({DIGEST_SHA256, DIGEST_SHA384, DIGEST_SHA512})

# rsa-sha1, dsa-sha1, ecdsa-sha1, hmac-sha1, #sha1, sha-1: but not sha128-anything or sha1024.
SHA1 = re.compile(r"sha-?1(?![0-9])", re.IGNORECASE)


@dataclass(frozen=True)
class Policy:
    signing_algorithm: str = SIG_RSA_SHA256  # of our requests
    digest_algorithm: str = DIGEST_SHA256
    signature_algorithms: frozenset[str] = STRONG_SIGNATURE_ALGORITHMS  # accepted on an answer
    digest_algorithms: frozenset[str] = STRONG_DIGEST_ALGORITHMS
    unencrypted_assertions: bool = False  # an assertion in the clear is taken


PRODUCTION = Policy()
# Tests and local setups may send plain assertions; the development IdP encrypts all the same.
DEVELOPMENT = replace(PRODUCTION, unencrypted_assertions=True)


def policy_for(settings: Settings) -> Policy:
    return PRODUCTION if settings.production else DEVELOPMENT


def production_problems(settings: Settings, policy: Policy, sp_config: Any) -> list[str]:
    """What a production start refuses, each naming the setting or the rule (empty: none).
    `sp_config` is pysaml2's configuration of the service provider."""
    problems = []
    entity_id = settings.saml_sp_entity_id
    parts = urlsplit(entity_id)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme != "https" or not parts.hostname or port is not None or ":" in parts.netloc:
        problems.append(f"SAML_SP_ENTITY_ID must be an https:// address without a port in production, not "
                        f"{entity_id!r} (by default PORTAL_BASE_URL followed by /saml/metadata); BundID derives "
                        f"the citizens' pseudonym bPK2 from it, so never change it after go-live")
    if policy.unencrypted_assertions:
        problems.append("the SAML service provider must accept only encrypted assertions in production, but its "
                        "policy (dynamic/saml/policy.py) takes assertions in the clear")
    if not getattr(sp_config, "encryption_keypairs", None):
        problems.append("SAML_SP_KEY and SAML_SP_CERT must give the key pair that assertions are encrypted for "
                        "in production")
    named: dict[str, list[Any]] = {
        "the signing algorithm of our requests": [policy.signing_algorithm,
                                                  getattr(sp_config, "signing_algorithm", None)],
        "the digest algorithm of our requests": [policy.digest_algorithm, getattr(sp_config, "digest_algorithm", None)],
        "the signature algorithms accepted on an answer": sorted(policy.signature_algorithms),
        "the digest algorithms accepted on an answer": sorted(policy.digest_algorithms),
    }
    for what, algorithms in named.items():
        weak = [algorithm for algorithm in algorithms if algorithm and SHA1.search(algorithm)]
        if weak:
            problems.append(f"SHA-1 is not allowed in production: {what} include(s) {', '.join(weak)}")
    return problems
