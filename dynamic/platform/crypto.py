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
import binascii
import json
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc import jwe
from joserfc.errors import ExceededSizeError, JoseError
from joserfc.jwk import RSAKey

from portal.errors import PortalError

ALGORITHM, ENCRYPTION = "RSA-OAEP-256", "A256GCM"
KEY_SIZE = 3072

# The largest JWE (compact) the client decrypts. joserfc's default is 67,712 bytes (64 KiB of
# ciphertext plus header, key, IV and tag), which an upload of about 36 KB already exceeds.
# An application holds its files base64-encoded in JSON (4/3), and the JWE base64url-encodes
# the ciphertext again (4/3): about 1.78 bytes of JWE per byte uploaded, plus the answers (a
# few KB: texts of at most 5,000 characters) and about 1 KB of header and encrypted key. The
# largest form today takes two files of 5 MB (Bewohnerparkausweis, Hundesteuer): about 18 MB
# of JWE. The schema allows 10 MB per file field, so 64 MB leaves room for three such fields
# (36 MB of files). A citizen's answer to the office is text of at most 5,000 characters.
MB = 1024 * 1024
MAX_JWE_BYTES = 64 * MB
MAX_HEADER_BYTES = 1024  # base64url of {"alg", "enc", "cty", "kid"}: about 200
MAX_ENCRYPTED_KEY_BYTES = 2048  # base64url of the RSA-encrypted content key: 683 for 4096 bits, 1366 for 8192


class _Registry(jwe.JWERegistry):
    max_protected_header_length = MAX_HEADER_BYTES
    max_encrypted_key_length = MAX_ENCRYPTED_KEY_BYTES
    max_ciphertext_length = MAX_JWE_BYTES


REGISTRY = _Registry(algorithms=[ALGORITHM, ENCRYPTION])


class Unreadable(PortalError):
    """Ciphertext that cannot be decrypted or read; `kid` is the key it names, if any."""

    def __init__(self, message: str, kid: str | None = None) -> None:
        super().__init__(message)
        self.kid = kid


class TooLarge(Unreadable):
    """Larger than MAX_JWE_BYTES: refused before decrypting."""

    def __init__(self, message: str, kid: str | None, size: int) -> None:
        super().__init__(message, kid)
        self.size = size


class ForAnotherKey(Unreadable):
    """Encrypted for a key (by its kid) that is not among the keys given."""

    def __init__(self, message: str, kid: str | None, available: list[str]) -> None:
        super().__init__(message, kid)
        self.available = available


class Changed(Unreadable):
    """Not a JWE, or it does not decrypt with the key it names: changed or damaged."""


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


def key_ids(jwk: Mapping[str, Any]) -> list[str]:
    """The kids a key answers to: its own, and its thumbprint (check_public_key's kid for a
    public key registered without one)."""
    thumbprint = RSAKey.import_key(dict(jwk)).thumbprint()
    return [str(jwk["kid"]), thumbprint] if jwk.get("kid") and jwk["kid"] != thumbprint else [thumbprint]


def header_of(token: str) -> dict[str, Any]:
    """The protected header of a JWE in compact form, read without decrypting (Changed if none)."""
    end = token.find(".", 0, MAX_HEADER_BYTES + 1)
    if end < 0:
        raise Changed("not a JWE in compact form")
    head = token[:end]
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, binascii.Error) as error:
        raise Changed("not a JWE in compact form: the header is not base64url JSON") from error
    if not isinstance(header, dict):
        raise Changed("not a JWE in compact form: the header is not a JSON object")
    return header


def decrypt(token: str, private_jwks: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The JSON object in a JWE, decrypted with the key the JWE names by its kid (one key, or a
    list of them). Unreadable says why not: TooLarge, ForAnotherKey, or Changed."""
    keys = [private_jwks] if isinstance(private_jwks, Mapping) else list(private_jwks)
    header = header_of(token)
    kid = str(header["kid"]) if header.get("kid") else None
    if token.count(".") != 4:
        raise Changed(f"not a JWE in compact form (kid {kid})", kid)
    if len(token) > MAX_JWE_BYTES:
        raise TooLarge(f"too large to decrypt: {len(token):,} bytes, the limit is {MAX_JWE_BYTES:,} (kid {kid})",
                       kid, len(token))
    ids = [key_ids(key) for key in keys]
    available = [its[0] for its in ids]
    # A JWE without a kid (not one of ours) is tried with every key.
    candidates = [key for key, its in zip(keys, ids, strict=True) if kid is None or kid in its]
    if not candidates:
        raise ForAnotherKey(f"encrypted for another key: kid {kid}; the keys given are kid "
                            f"{', '.join(available) or '(none)'}", kid, available)
    plain: bytes | None = None
    for key in candidates:
        try:
            plain = jwe.decrypt_compact(token, RSAKey.import_key(dict(key)), registry=REGISTRY).plaintext
            break
        except ExceededSizeError as error:
            raise TooLarge(f"too large to decrypt: {error} (kid {kid})", kid, len(token)) from error
        except (JoseError, ValueError, InvalidTag):
            continue
    else:
        raise Changed(f"changed or damaged: it does not decrypt with the key it names (kid {kid})" if kid else
                      "changed or damaged, or for another key: it names no kid and decrypts with none of the keys",
                      kid)
    if plain is None:
        raise Changed(f"the content is empty (kid {kid})", kid)
    try:
        value = json.loads(plain)
    except ValueError as error:
        raise Changed(f"the content is not JSON (kid {kid})", kid) from error
    if not isinstance(value, dict):
        raise Changed(f"the content is not a JSON object (kid {kid})", kid)
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
