"""Encryption of applications and drafts.

For the office: JWE in compact form with the office's RSA public key (RSA-OAEP-256 for the
content key, A256GCM for the content), as in the federal FIT-Connect transfer. The portal
cannot read what it stored; only the office's private key can, and a changed byte makes
decryption fail.

For the portal itself (drafts, the citizen's copy for the receipt): Fernet with a key
derived from SECRET_KEY, so that database dumps and backups hold no readable answers.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

ALGORITHM, ENCRYPTION = "RSA-OAEP-256", "A256GCM"
REGISTRY = jwe.JWERegistry(algorithms=[ALGORITHM, ENCRYPTION])
KEY_SIZE = 3072


class Unreadable(Exception):
    """Ciphertext that was changed, or is not meant for this key."""


def new_office_key() -> tuple[dict[str, Any], dict[str, Any]]:
    """A fresh key pair for an office: (private JWK, public JWK), both with the same kid."""
    key = RSAKey.generate_key(KEY_SIZE)
    kid = key.thumbprint()
    private = {**key.as_dict(private=True), "kid": kid, "use": "enc", "alg": ALGORITHM}
    public = {**key.as_dict(private=False), "kid": kid, "use": "enc", "alg": ALGORITHM}
    return private, public


def check_public_key(public_jwk: dict[str, Any]) -> dict[str, Any]:
    """The public JWK as it is stored; refuses private keys, other key types and short keys."""
    if public_jwk.get("kty") != "RSA" or "d" in public_jwk:
        raise ValueError("expected the public part of an RSA key (kty RSA, no d)")
    key = RSAKey.import_key(public_jwk)
    size = key.raw_value.key_size
    if size < 2048:
        raise ValueError(f"the key has {size} bits; at least 2048 are needed")
    return {**key.as_dict(private=False), "kid": public_jwk.get("kid") or key.thumbprint(), "use": "enc",
            "alg": ALGORITHM}


def encrypt_for(public_jwk: dict[str, Any], payload: dict[str, Any]) -> str:
    header = {"alg": ALGORITHM, "enc": ENCRYPTION, "cty": "application/json", "kid": public_jwk.get("kid", "")}
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return jwe.encrypt_compact(header, data, RSAKey.import_key(public_jwk), registry=REGISTRY)


def decrypt(token: str, private_jwk: dict[str, Any]) -> dict[str, Any]:
    try:
        plain = jwe.decrypt_compact(token, RSAKey.import_key(private_jwk), registry=REGISTRY).plaintext
    except (JoseError, ValueError) as error:
        raise Unreadable("the application cannot be decrypted: changed, or not for this key") from error
    if plain is None:
        raise Unreadable("the application is empty")
    value = json.loads(plain)
    if not isinstance(value, dict):
        raise Unreadable("the application is not a JSON object")
    return value


def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"buergerportal", info=b"drafts and receipts")
    return Fernet(base64.urlsafe_b64encode(derived.derive(secret_key.encode())))


def seal(secret_key: str, value: dict[str, Any]) -> str:
    return _fernet(secret_key).encrypt(json.dumps(value, ensure_ascii=False).encode()).decode()


def unseal(secret_key: str, token: str) -> dict[str, Any]:
    try:
        return dict(json.loads(_fernet(secret_key).decrypt(token.encode())))
    except (InvalidToken, ValueError) as error:
        raise Unreadable("stored data cannot be read with this SECRET_KEY") from error
