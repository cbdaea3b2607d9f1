"""Configuration of the dynamic tier, read from environment variables in this one place.

Defaults make a local run work (`python build.py serve`: SQLite under var/, mail into a
folder, the development identity provider). With PORTAL_ENV=production the app refuses
unsafe values instead of guessing: no default secret key, no development identity provider,
no plain-HTTP cookies.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from portal.errors import PortalError

if TYPE_CHECKING:
    from flask import Flask

ROOT = Path(__file__).resolve().parents[2]


# FITKO's test environment of FIT-Connect (production endpoints come with the production client).
TEST_TOKEN_URL = "https://auth-testing.fit-connect.fitko.dev/token"
TEST_SUBMISSION_URL = "https://submission-api-testing.fit-connect.fitko.dev"
TEST_ROUTING_URL = "https://routing-api-testing.fit-connect.fitko.dev"
# The self-service portal signs every destination's addressing information (destinationSignature)
# with the keys it publishes here; the issuer of those tokens is this URL's origin.
TEST_SSP_JWKS_URL = "https://portal.auth-testing.fit-connect.fitko.dev/.well-known/jwks.json"


class ConfigError(PortalError):
    """A setting is missing or unsafe; the message names the variable and what to do."""


@dataclass(frozen=True)
class Settings:
    env: str = "development"  # PORTAL_ENV: development | production
    secret_key: str = ""  # SECRET_KEY: signs session cookies and links, encrypts drafts and receipts
    base_url: str = "http://127.0.0.1:8000"  # PORTAL_BASE_URL: where citizens reach the portal
    output_dir: Path = ROOT / "output"  # PORTAL_OUTPUT_DIR: the built static sites
    var_dir: Path = ROOT / "var"  # PORTAL_VAR_DIR: SQLite file, mail folder, development keys
    database_url: str = ""  # DATABASE_URL: default sqlite:///<var>/portal.sqlite3
    redis_url: str = ""  # REDIS_URL: shared store for rate limits (memory when empty)
    redis_prefix: str = "buergerportal"  # REDIS_PREFIX: every key this installation writes starts with it
    mail_url: str = ""  # MAIL_URL: smtp://host:port, smtps://…, or file:///folder (default var/mail)
    mail_from: str = "Buergerportal <noreply@buergerportal.invalid>"  # MAIL_FROM: sender of every mail
    mail_user: str = ""  # MAIL_USER: SMTP login (empty: none)
    mail_password: str = ""  # MAIL_PASSWORD: SMTP password
    mail_starttls: bool = False  # MAIL_STARTTLS: 1 to switch to TLS after connecting (port 587)
    saml_sp_entity_id: str = ""  # SAML_SP_ENTITY_ID: default <base url>/saml/metadata
    saml_sp_key: str = ""  # SAML_SP_KEY: PEM file of the SP's private key (signing and decryption)
    saml_sp_cert: str = ""  # SAML_SP_CERT: PEM file of its certificate
    saml_idp_metadata: str = ""  # SAML_IDP_METADATA: the state IdP's metadata file (downloaded and checked)
    dev_idp: bool = True  # DEV_IDP: serve the development identity provider under /dev-idp/
    login_limit_account: str = "5/15 minutes"  # LOGIN_LIMIT_ACCOUNT: failed logins per account and address
    login_limit_account_total: str = "100/hour"  # LOGIN_LIMIT_ACCOUNT_TOTAL: failed logins per account, all addresses
    login_limit_address: str = "20/15 minutes"  # LOGIN_LIMIT_ADDRESS: failed logins per address
    request_limit_address: str = "10/hour"  # REQUEST_LIMIT_ADDRESS: registrations and resets per address
    booking_limit_address: str = "30/hour"  # BOOKING_LIMIT_ADDRESS: appointment holds per address
    reply_limit_account: str = "10/hour"  # REPLY_LIMIT_ACCOUNT: inbox replies to offices per account
    trusted_proxies: int = 0  # TRUSTED_PROXIES: how many proxies (nginx) set X-Forwarded-*
    log_format: str = "text"  # LOG_FORMAT: text, or json (one object per line, never personal data)
    metrics_token: str = ""  # METRICS_TOKEN: bearer token for /metrics (empty: only from 127.0.0.1)
    # FIT-Connect (the sender side): the portal's API client from FITKO's self-service portal, and
    # the endpoints of the environment it is registered in (defaults: FITKO's test environment).
    fitconnect_token_url: str = TEST_TOKEN_URL  # FITCONNECT_TOKEN_URL: FIT-Connect's OAuth token endpoint
    fitconnect_submission_url: str = TEST_SUBMISSION_URL  # FITCONNECT_SUBMISSION_URL: the Submission API (no /v1)
    fitconnect_routing_url: str = TEST_ROUTING_URL  # FITCONNECT_ROUTING_URL: the Routing API (no /v1)
    fitconnect_client_id: str = ""  # FITCONNECT_CLIENT_ID: the sender client's id
    fitconnect_client_secret: str = ""  # FITCONNECT_CLIENT_SECRET: its secret
    fitconnect_ssp_jwks_url: str = TEST_SSP_JWKS_URL  # FITCONNECT_SSP_JWKS_URL: the self-service portal's JWKS
    fitconnect_root_certs: str = ""  # FITCONNECT_ROOT_CERTS: PEM file, roots for the delivery services' signing keys
    extra: dict[str, Any] = field(default_factory=dict)  # test-only overrides of Flask settings

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def secure_cookies(self) -> bool:
        return self.production or self.base_url.startswith("https://")


ENVIRONMENT = {
    "PORTAL_ENV": "env",
    "SECRET_KEY": "secret_key",
    "PORTAL_BASE_URL": "base_url",
    "PORTAL_OUTPUT_DIR": "output_dir",
    "PORTAL_VAR_DIR": "var_dir",
    "DATABASE_URL": "database_url",
    "REDIS_URL": "redis_url",
    "REDIS_PREFIX": "redis_prefix",
    "MAIL_URL": "mail_url",
    "MAIL_FROM": "mail_from",
    "MAIL_USER": "mail_user",
    "MAIL_PASSWORD": "mail_password",
    "MAIL_STARTTLS": "mail_starttls",
    "SAML_SP_ENTITY_ID": "saml_sp_entity_id",
    "SAML_SP_KEY": "saml_sp_key",
    "SAML_SP_CERT": "saml_sp_cert",
    "SAML_IDP_METADATA": "saml_idp_metadata",
    "DEV_IDP": "dev_idp",
    "LOGIN_LIMIT_ACCOUNT": "login_limit_account",
    "LOGIN_LIMIT_ACCOUNT_TOTAL": "login_limit_account_total",
    "LOGIN_LIMIT_ADDRESS": "login_limit_address",
    "REQUEST_LIMIT_ADDRESS": "request_limit_address",
    "BOOKING_LIMIT_ADDRESS": "booking_limit_address",
    "REPLY_LIMIT_ACCOUNT": "reply_limit_account",
    "TRUSTED_PROXIES": "trusted_proxies",
    "LOG_FORMAT": "log_format",
    "METRICS_TOKEN": "metrics_token",
    "FITCONNECT_TOKEN_URL": "fitconnect_token_url",
    "FITCONNECT_SUBMISSION_URL": "fitconnect_submission_url",
    "FITCONNECT_ROUTING_URL": "fitconnect_routing_url",
    "FITCONNECT_CLIENT_ID": "fitconnect_client_id",
    "FITCONNECT_CLIENT_SECRET": "fitconnect_client_secret",
    "FITCONNECT_SSP_JWKS_URL": "fitconnect_ssp_jwks_url",
    "FITCONNECT_ROOT_CERTS": "fitconnect_root_certs",
}


LIMITS = ("login_limit_account", "login_limit_account_total", "login_limit_address", "request_limit_address",
          "booking_limit_address", "reply_limit_account")


def _valid_rule(rule: str) -> bool:
    from limits import parse

    try:
        parse(rule)
    except ValueError:
        return False
    return True


def settings_from_env(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Settings from the environment, then `overrides` (keyword = field name), checked."""
    environ = os.environ if environ is None else environ
    types = {f.name: f.type for f in fields(Settings)}
    values: dict[str, Any] = {}
    for variable, name in ENVIRONMENT.items():
        if variable in environ:
            values[name] = _convert(variable, environ[variable], types[name])
    values.update(overrides)
    settings = Settings(**values)
    return complete(settings)


def complete(settings: Settings) -> Settings:
    """Fill derived defaults and refuse unsafe production settings."""
    problems = []
    if settings.log_format not in ("text", "json"):
        problems.append(f"LOG_FORMAT must be 'text' or 'json', not {settings.log_format!r}")
    if settings.env not in ("development", "production"):
        problems.append(f"PORTAL_ENV must be 'development' or 'production', not {settings.env!r}")
    for name in LIMITS:
        if not _valid_rule(getattr(settings, name)):
            variable = next(key for key, value in ENVIRONMENT.items() if value == name)
            problems.append(f"{variable} must be a rate like '5/15 minutes' or '10/hour', not "
                            f"{getattr(settings, name)!r}")
    problems += _root_certificate_problems(settings.fitconnect_root_certs)
    if settings.production:
        if len(settings.secret_key) < 32:
            problems.append("SECRET_KEY must be set to a random value of at least 32 characters in production")
        if settings.dev_idp:
            problems.append("DEV_IDP must be 0 in production: the development identity provider accepts anyone")
        if not settings.base_url.startswith("https://"):
            problems.append("PORTAL_BASE_URL must be an https:// address in production")
        if not settings.saml_idp_metadata:
            problems.append("SAML_IDP_METADATA must name the state identity provider's metadata in production")
        if not (settings.saml_sp_key and settings.saml_sp_cert):
            problems.append("SAML_SP_KEY and SAML_SP_CERT must name the portal's SAML key and certificate "
                            "files in production")
        problems += _fit_connect_problems(settings)
    if problems:
        raise ConfigError("; ".join(problems))
    var_dir = Path(settings.var_dir)
    if not settings.production:
        _private_folder(var_dir)
    completed = replace(
        settings,
        var_dir=var_dir,
        output_dir=Path(settings.output_dir),
        secret_key=settings.secret_key or _development_secret(var_dir),
        base_url=settings.base_url.rstrip("/"),
        database_url=settings.database_url or f"sqlite:///{var_dir / 'portal.sqlite3'}",
        mail_url=settings.mail_url or f"file://{var_dir / 'mail'}",
        saml_sp_entity_id=settings.saml_sp_entity_id or f"{settings.base_url.rstrip('/')}/saml/metadata",
    )
    if not settings.production:
        _private_local_files(completed)
    return completed


def _fit_connect_problems(settings: Settings) -> list[str]:
    """In production the sender client comes whole, with the endpoints that belong to it: the
    defaults are FITKO's test environment, where no real office receives. The same holds for
    the self-service portal's key set that routes are checked against."""
    problems: list[str] = []
    if not (settings.fitconnect_client_id or settings.fitconnect_client_secret):
        return problems
    if not (settings.fitconnect_client_id and settings.fitconnect_client_secret):
        return ["FITCONNECT_CLIENT_ID and FITCONNECT_CLIENT_SECRET must be set together"]
    endpoints = {"FITCONNECT_TOKEN_URL": settings.fitconnect_token_url,
                 "FITCONNECT_SUBMISSION_URL": settings.fitconnect_submission_url,
                 "FITCONNECT_ROUTING_URL": settings.fitconnect_routing_url}
    if set(endpoints.values()) & {TEST_TOKEN_URL, TEST_SUBMISSION_URL, TEST_ROUTING_URL}:
        return ["FITCONNECT_TOKEN_URL, FITCONNECT_SUBMISSION_URL and FITCONNECT_ROUTING_URL must name "
                "FIT-Connect's production endpoints in production; these are FITKO's test environment"]
    if settings.fitconnect_ssp_jwks_url == TEST_SSP_JWKS_URL:
        problems.append("FITCONNECT_SSP_JWKS_URL must name the production self-service portal's key set "
                        "(…/.well-known/jwks.json) in production; the default is FITKO's test environment")
    endpoints["FITCONNECT_SSP_JWKS_URL"] = settings.fitconnect_ssp_jwks_url
    return problems + [f"{name} must be an https:// address in production"
                       for name, url in endpoints.items() if not url.startswith("https://")]


def _root_certificate_problems(path: str) -> list[str]:
    """FITCONNECT_ROOT_CERTS, when set, must be a readable PEM file with at least one certificate."""
    if not path:
        return []
    from cryptography import x509

    try:
        certificates = x509.load_pem_x509_certificates(Path(path).read_bytes())
    except (OSError, ValueError):
        return [f"FITCONNECT_ROOT_CERTS must name a readable PEM file of root certificates, not {path!r}"]
    return [] if certificates else [f"FITCONNECT_ROOT_CERTS names no certificate: {path!r}"]


def _private_folder(folder: Path) -> None:
    """A folder only its owner may enter (0700); an existing one with looser modes is tightened."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        folder.chmod(0o700)


def _private_local_files(settings: Settings) -> None:
    """The local run keeps personal data under var/: the SQLite database (and its -wal and
    -shm files) only for the owner (0600), the mail folder only for the owner (0700)."""
    var_dir = settings.var_dir.resolve()
    database = local_database(settings)
    if database is not None:
        for path in (database, *database.parent.glob(database.name + "-*")):
            if path.is_file() and path.stat().st_mode & 0o077:
                path.chmod(0o600)
    if settings.mail_url.startswith("file://"):
        mail = Path(unquote(urlsplit(settings.mail_url).path)).resolve()
        if mail.is_relative_to(var_dir) and mail.is_dir():
            _private_folder(mail)


def local_database(settings: Settings) -> Path | None:
    """The SQLite file under var/, if the database is one."""
    if not settings.database_url.startswith("sqlite:///"):
        return None
    database = Path(settings.database_url.removeprefix("sqlite:///")).resolve()
    return database if database.is_relative_to(settings.var_dir.resolve()) else None


def create_private_database(settings: Settings) -> None:
    """Create the SQLite file under var/ empty and readable by its owner only, before SQLite
    would create it with the modes of the umask (its -wal and -shm files take its modes)."""
    database = local_database(settings)
    if database is not None and not settings.production and not database.exists():
        database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))


def _development_secret(var_dir: Path) -> str:
    """A random key kept under var/, so local sessions survive a restart."""
    path = var_dir / "secret_key"
    if path.is_file():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _convert(variable: str, raw: str, kind: Any) -> Any:
    kind = str(kind)
    if "bool" in kind:
        if raw.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if raw.strip().lower() in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{variable} must be 1 or 0, not {raw!r}")
    if "int" in kind:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{variable} must be a whole number, not {raw!r}") from None
    if "Path" in kind:
        return Path(raw)
    return raw


# The app's settings and clock live in app.config (create_app puts them there; tests may
# replace them); these functions are the only code that knows the keys.

def settings(app: Flask | None = None) -> Settings:
    """The running app's settings (app.config["PORTAL"])."""
    found: Settings = _app(app).config["PORTAL"]
    return found


def output_dir(app: Flask | None = None) -> Path:
    """The folder of the built sites (app.config["OUTPUT_DIR"])."""
    return Path(_app(app).config["OUTPUT_DIR"])


def now(app: Flask | None = None) -> dt.datetime:
    """The current time in UTC; tests may set app.config["CLOCK"] to a function."""
    clock = _app(app).config.get("CLOCK")
    return clock() if clock else dt.datetime.now(dt.UTC)  # type: ignore[no-any-return]


def _app(app: Flask | None) -> Flask:
    if app is not None:
        return app
    from flask import current_app  # here: the clerk's client imports this package without Flask

    return current_app  # type: ignore[return-value]
