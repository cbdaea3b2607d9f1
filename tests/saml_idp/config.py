"""SimpleSAMLphp's configuration for one identity provider, written into a folder of its own:
config.php, authsources.php (the test persons at exampleauth:UserPass), the hosted IdP's
metadata with its key pair, and the service provider's metadata as the SP publishes it (read
by SimpleSAMLphp's own XML metadata reader, so the exchange is the real one)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from .persons import Person

URI_FORMAT = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
AUTH_SOURCE = "bundid-personen"


@dataclass(frozen=True)
class Options:
    """How the identity provider answers. The defaults are BundID's: signed and encrypted."""

    sign_assertion: bool = True
    sign_response: bool = True
    encrypt_assertion: bool = True


BUNDID = Options()


def php(value: Any, indent: str = "") -> str:
    """`value` (None, bool, int, str, list, dict) as a PHP literal."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    inner = indent + "    "
    if isinstance(value, Mapping):
        items = [f"{inner}{php(str(key))} => {php(item, inner)}," for key, item in value.items()]
    elif isinstance(value, list | tuple):
        items = [f"{inner}{php(item, inner)}," for item in value]
    else:
        raise TypeError(f"no PHP literal for {type(value).__name__}")
    return "[\n" + "\n".join(items) + f"\n{indent}]" if items else "[]"


def _php_file(variable: str, value: Any, key: str | None = None) -> str:
    target = f"${variable}[{php(key)}]" if key is not None else f"${variable}"
    return f"<?php\n// Written by tests/saml_idp for one test run.\n{target} = {php(value)};\n"


def key_pair(common_name: str) -> tuple[bytes, bytes]:
    """A new RSA key and its self-signed certificate, PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
                   .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)


def write_config(folder: Path, *, base_url: str, entity_id: str, persons: Iterable[Person], sp_metadata: str,
                 keys: tuple[bytes, bytes], options: Options = BUNDID) -> Path:
    """Write the whole configuration into `folder` (made if missing) and return it; SimpleSAMLphp
    finds it through SIMPLESAMLPHP_CONFIG_DIR."""
    for sub in ("metadata", "cert", "data", "tmp", "log", "sessions"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    key_pem, cert_pem = keys
    (folder / "cert" / "idp.key").write_bytes(key_pem)
    (folder / "cert" / "idp.key").chmod(0o600)
    (folder / "cert" / "idp.crt").write_bytes(cert_pem)
    (folder / "metadata" / "sp.xml").write_text(sp_metadata, encoding="utf-8")
    config = {
        "baseurlpath": base_url.rstrip("/") + "/",
        "certdir": str(folder / "cert") + "/",
        "loggingdir": str(folder / "log") + "/",
        "datadir": str(folder / "data") + "/",
        "tempdir": str(folder / "tmp"),
        "metadatadir": str(folder / "metadata") + "/",
        "technicalcontact_name": "Tests des Bürgerportals",
        "technicalcontact_email": "tests@example.invalid",
        "timezone": "Europe/Berlin",
        "secretsalt": secrets.token_hex(16),
        "auth.adminpassword": secrets.token_hex(16),
        "admin.protectindexpage": False,
        "admin.protectmetadata": False,
        "admin.checkforupdates": False,
        "enable.saml20-idp": True,
        "enable.shib13-idp": False,
        "showerrors": True,
        "errorreporting": False,
        "logging.handler": "file",
        "logging.logfile": "simplesamlphp.log",
        "logging.level": 7,  # LOG_DEBUG: the log is the first thing to read when a test fails
        "module.enable": {"exampleauth": True, "core": True, "saml": True, "admin": True},
        "store.type": "phpsession",
        "session.phpsession.savepath": str(folder / "sessions"),
        "session.cookie.secure": False,
        "session.cookie.samesite": None,
        "metadata.sources": [{"type": "flatfile", "directory": str(folder / "metadata")}],
        "trusted.url.domains": [],
    }
    (folder / "config.php").write_text(_php_file("config", config), encoding="utf-8")
    users = {f"{person.username}:{person.password}": {urn: [value] for urn, value in person.attributes.items()}
             for person in persons}
    # PHP reads the key '0' as the list's first element: the source's class, then its users.
    sources = {"admin": ["core:AdminPassword"], AUTH_SOURCE: {"0": "exampleauth:UserPass", **users}}
    (folder / "authsources.php").write_text(_php_file("config", sources), encoding="utf-8")
    idp = {
        "host": "__DEFAULT__",
        "privatekey": "idp.key",
        "certificate": "idp.crt",
        "auth": AUTH_SOURCE,
        "signature.algorithm": RSA_SHA256,
        "attributes.NameFormat": URI_FORMAT,
        "saml20.sign.assertion": options.sign_assertion,
        "saml20.sign.response": options.sign_response,
        "assertion.encryption": options.encrypt_assertion,
        "validate.authnrequest": True,  # the SP's requests must be signed (BundID refuses others too)
        "NameIDFormat": "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
        # Both bindings BundID offers for the request; SimpleSAMLphp's default is Redirect only.
        "SingleSignOnServiceBinding": ["urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
                                       "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"],
    }
    # The SP as its metadata describes it, read by SimpleSAMLphp's own parser (as its XML
    # metadata source does), with what an impostor does against the SP's wishes on top.
    overrides = {} if options == BUNDID else {"saml20.sign.assertion": options.sign_assertion,
                                              "saml20.sign.response": options.sign_response,
                                              "assertion.encryption": options.encrypt_assertion}
    sp_file = php(str(folder / "metadata" / "sp.xml"))
    (folder / "metadata" / "saml20-sp-remote.php").write_text(
        "<?php\n// Written by tests/saml_idp for one test run.\n"
        f"foreach (\\SimpleSAML\\Metadata\\SAMLParser::parseDescriptorsFile({sp_file}) as $entityId => $entity) {{\n"
        "    $sp = $entity->getMetadata20SP();\n"
        "    if ($sp !== null) {\n"
        f"        $metadata[$entityId] = array_merge($sp, {php(overrides, '        ')});\n"
        "    }\n"
        "}\n", encoding="utf-8")
    (folder / "metadata" / "saml20-idp-hosted.php").write_text(_php_file("metadata", idp, key=entity_id),
                                                               encoding="utf-8")
    return folder
