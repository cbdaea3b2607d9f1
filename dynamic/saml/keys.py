"""Key pairs for SAML signing and encryption: the configured PEM files, or (development only)
a self-signed pair made once under var/ and reused, so metadata stays the same between runs."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ..platform.config import ConfigError


class SamlSetupError(ConfigError):
    """The SAML configuration cannot work; the message names the setting and what to do."""


@dataclass(frozen=True)
class KeyPair:
    key_file: Path
    cert_file: Path

    def certificate_pem(self) -> str:
        return self.cert_file.read_text(encoding="ascii")


def configured_pair(key_file: str, cert_file: str) -> KeyPair:
    """The operator's key and certificate (SAML_SP_KEY, SAML_SP_CERT), checked to exist."""
    pair = KeyPair(Path(key_file), Path(cert_file))
    for variable, path in (("SAML_SP_KEY", pair.key_file), ("SAML_SP_CERT", pair.cert_file)):
        if not path.is_file():
            raise SamlSetupError(f"{variable} names {path}, but there is no such file")
    return pair


def development_pair(directory: Path, common_name: str) -> KeyPair:
    """A self-signed pair in `directory`, made on first use.

    Several processes may start at once: each writes a complete pair into a temporary folder
    and renames it into place; the first rename wins and the others use its pair, so key and
    certificate always belong together.
    """
    pair = KeyPair(directory / "key.pem", directory / "cert.pem")
    if pair.key_file.is_file() and pair.cert_file.is_file():
        return pair
    directory.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        key_pem, cert_pem = self_signed(common_name)
        (scratch / "key.pem").write_bytes(key_pem)
        (scratch / "key.pem").chmod(0o600)
        (scratch / "cert.pem").write_bytes(cert_pem)
        try:
            os.rename(scratch, directory)
        except OSError:
            if not (pair.key_file.is_file() and pair.cert_file.is_file()):
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return pair


def self_signed(common_name: str, years: int = 10) -> tuple[bytes, bytes]:
    """A new RSA key and a self-signed certificate for it, both PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)
