"""A development identity provider (SAML 2.0) with test personas; never in production.

It speaks the state identity provider's protocol: it takes only signed AuthnRequests
(HTTP-Redirect binding, checked against our service provider's metadata) and answers by
HTTP-POST with a SAML Response whose assertion is signed and encrypted for the service
provider, carrying the attributes by URN and the level reached (EID-CITIZEN-QAA-LEVEL).

The tester picks a person and a login means, also one below the level asked, so that the
service provider's refusal can be tried end to end. Tests forge answers with
`build_response` and an `Answer` changed in one field (another key, no signature, another
audience, old timestamps, ...), so the attacks are real SAML XML, not mocks.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint, Flask, abort, current_app, request
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, samlp
from saml2 import saml as assertion_types
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.s_utils import sid
from saml2.saml import NAMEID_FORMAT_ENTITY, NAMEID_FORMAT_TRANSIENT, SCM_BEARER
from saml2.server import Server
from saml2.sigver import ASSERT_XPATH, pre_encrypt_assertion, pre_encryption_part, pre_signature_part
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256
from werkzeug.wrappers import Response

from portal.levels import STATE_LOGIN_REACHES, Means, TrustLevel, at_least, level_of_stork
from portal.text import date_de

from ..platform import config
from ..platform.config import Settings
from ..platform.render import page
from ..platform.security import csrf
from . import attributes
from .keys import KeyPair, development_pair
from .metadata import DEVELOPMENT_IDP, SERVICE_PROVIDER, publish, published

dev_idp = Blueprint("dev_idp", __name__, url_prefix="/dev-idp")
log = logging.getLogger(__name__)

PERSONAS = Path(__file__).with_name("personas.yaml")
XSI_STRING = "xs:string"
# What the XML Encryption 1.1 spec calls AES-256-GCM; the state IdP plans it (DOMAIN.md).
AES256_GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
RSA_OAEP = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"


# The levels by their own names: this IdP stands in for the state's login service, which
# speaks of levels by name.
LEVEL_NAMES = {level.value: level.value for level in TrustLevel}


@dataclass(frozen=True)
class LoginMeans:
    label: str
    level: str


# Form value → what the tester chooses and the level it reaches, as BundID issues them
# (portal.levels.STATE_LOGIN_REACHES: username and password is STORK Level-1, `basis`). The
# keys are the same as the service provider's names for the means (portal.levels.Means).
LOGIN_MEANS = {
    means.value: LoginMeans(label, STATE_LOGIN_REACHES[means].value)
    for means, label in ((Means.PASSWORT, "Benutzername und Passwort"),
                         (Means.ZERTIFIKAT, "Softwarezertifikat (ELSTER)"),
                         (Means.EID, "Online-Ausweis (eID)"))
}


@dataclass(frozen=True)
class Persona:
    key: str
    label: str
    bpk2: str
    values: dict[str, str]  # profile field → value
    mail: str | None = None
    gender: str | None = None


@lru_cache(maxsize=1)
def personas() -> tuple[Persona, ...]:
    found = []
    for entry in yaml.safe_load(PERSONAS.read_text(encoding="utf-8")):
        values = {name: str(entry[name]) for name in attributes.URN_OF_FIELD if entry.get(name)}
        found.append(Persona(key=entry["key"], label=entry["label"], bpk2=entry["bpk2"], values=values,
                             mail=entry.get("mail"), gender=entry.get("gender")))
    return tuple(found)


def persona(key: str) -> Persona:
    for candidate in personas():
        if candidate.key == key:
            return candidate
    raise KeyError(key)


# ---------------------------------------------------------------- the identity provider


@dataclass(frozen=True)
class IdentityProvider:
    server: Server
    entity_id: str
    keys: KeyPair


def entity_id(settings: Settings) -> str:
    return f"{settings.base_url}/dev-idp/metadata"


def sso_url(settings: Settings) -> str:
    return f"{settings.base_url}/dev-idp/sso"


def development_keys(settings: Settings) -> KeyPair:
    return development_pair(settings.var_dir / "saml" / "dev-idp", "Entwicklungs-Identitaetsanbieter")


# The bindings of AuthnRequests this IdP takes: HTTP-POST (BundID's preferred one; the signature
# inside the XML) and HTTP-Redirect (the signature in the query).
SSO_BINDINGS = (BINDING_HTTP_POST, BINDING_HTTP_REDIRECT)
# The ones its metadata announces, and so the one the service provider uses (it prefers POST
# where offered). Tests publish metadata offering POST as well.
ANNOUNCED_SSO_BINDINGS = (BINDING_HTTP_REDIRECT,)


def _config(settings: Settings, sp_metadata: str | None, sso_bindings: tuple[str, ...] = SSO_BINDINGS) -> IdPConfig:
    keys = development_keys(settings)
    config: dict[str, Any] = {
        "entityid": entity_id(settings),
        "key_file": str(keys.key_file),
        "cert_file": str(keys.cert_file),
        "accepted_time_diff": 60,
        "signing_algorithm": SIG_RSA_SHA256,
        "digest_algorithm": DIGEST_SHA256,
        "service": {"idp": {
            "endpoints": {
                "single_sign_on_service": [(sso_url(settings), binding) for binding in sso_bindings],
                "single_logout_service": [(f"{settings.base_url}/dev-idp/slo", BINDING_HTTP_REDIRECT)],
            },
            "want_authn_requests_signed": True,
            "name_id_format": [NAMEID_FORMAT_TRANSIENT],
        }},
    }
    if sp_metadata is not None:
        config["metadata"] = {"inline": [sp_metadata]}
    idp_config = IdPConfig()
    idp_config.load(config)
    return idp_config


def idp_metadata_xml(app: Flask) -> str:
    """Our metadata, as the service provider reads it (needs nothing of the service provider)."""
    cached = app.extensions.get("saml_dev_idp_metadata")
    if cached is None:
        announced = _config(config.settings(app), None, ANNOUNCED_SSO_BINDINGS)
        cached = _as_text(create_metadata_string(None, config=announced, sign=False))
        app.extensions["saml_dev_idp_metadata"] = cached
    return str(cached)


@dev_idp.record_once
def _publish_metadata(state: Any) -> None:
    publish(state.app, DEVELOPMENT_IDP, idp_metadata_xml)


def identity_provider(app: Flask) -> IdentityProvider:
    """The identity provider, which knows our service provider from the metadata file it publishes."""
    cached = app.extensions.get("saml_dev_idp")
    if cached is None:
        settings = config.settings(app)
        sp_metadata = published(app, SERVICE_PROVIDER).read_text(encoding="utf-8")
        cached = IdentityProvider(Server(config=_config(settings, sp_metadata)), entity_id(settings),
                                  development_keys(settings))
        app.extensions["saml_dev_idp"] = cached
    assert isinstance(cached, IdentityProvider)
    return cached


def _as_text(value: str | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


# ---------------------------------------------------------------- answers


@dataclass(frozen=True)
class Answer:
    """Everything a SAML Response of this identity provider says. A genuine answer comes
    from `answer_to`; tests replace single fields to forge one."""

    in_response_to: str | None
    destination: str  # the service provider's Assertion Consumer Service
    audience: str  # the service provider's entity id
    issuer: str
    persona: Persona
    level: str  # our name of the level reached; sent as its STORK class
    issued_at: dt.datetime
    lifetime: dt.timedelta = dt.timedelta(minutes=5)
    assertion_id: str = dataclasses.field(default_factory=sid)
    sign_assertion: bool = True
    sign_response: bool = True
    encrypt: bool = True
    signing_keys: KeyPair | None = None  # None: our own keys, the ones in our metadata
    leave_out: tuple[str, ...] = ()  # attribute URNs not to send
    qaa_level: str | None = None  # a raw EID-CITIZEN-QAA-LEVEL value instead of STORK[level]
    interface_version: str = "2.0"  # the BundID interface version the answer claims
    signature_algorithm: str = SIG_RSA_SHA256  # of both signatures
    digest_algorithm: str = DIGEST_SHA256
    # Changes the XML after the assertion is signed, before it is encrypted and the response
    # signed: tampering with a signed assertion, wrapping its signature, ...
    rewrite: Callable[[str], str] | None = None


def answer_to(app: Flask, in_response_to: str, chosen: Persona, level: str) -> Answer:
    """The genuine answer to our service provider's request `in_response_to`, addressed as its
    metadata says."""
    settings = config.settings(app)
    idp = identity_provider(app)
    audience = service_provider_of(idp)
    destination = idp.server.metadata.assertion_consumer_service(audience, BINDING_HTTP_POST)[0]["location"]
    return Answer(in_response_to=in_response_to, destination=destination,
                  audience=audience, issuer=entity_id(settings), persona=chosen, level=level,
                  issued_at=dt.datetime.now(dt.UTC))


def service_provider_of(idp: IdentityProvider) -> str:
    """The entity id of the one service provider the identity provider knows (the app's own)."""
    found = list(idp.server.metadata.service_providers())
    if len(found) != 1:
        raise ValueError(f"the development identity provider knows {len(found)} service providers, not one")
    return str(found[0])


def build_response(app: Flask, answer: Answer) -> str:
    """The SAML Response for `answer`, base64-encoded as the HTTP-POST binding sends it."""
    idp = identity_provider(app)
    signing = answer.signing_keys or idp.keys
    certificate = _certificate_body(signing.certificate_pem())
    assertion = _assertion(answer)
    response = samlp.Response(
        id=sid(), version="2.0", issue_instant=_instant(answer.issued_at), destination=answer.destination,
        in_response_to=answer.in_response_to,
        issuer=assertion_types.Issuer(text=answer.issuer, format=NAMEID_FORMAT_ENTITY),
        status=samlp.Status(status_code=samlp.StatusCode(value=samlp.STATUS_SUCCESS)),
        assertion=assertion,
    )
    if answer.sign_response:
        response.signature = pre_signature_part(response.id, certificate, 1, answer.digest_algorithm,
                                                answer.signature_algorithm)
    if answer.sign_assertion:
        assertion.signature = pre_signature_part(assertion.id, certificate, 2, answer.digest_algorithm,
                                                 answer.signature_algorithm)
    if answer.encrypt:
        # Every namespace the assertion uses is declared on the assertion itself, so that it
        # still parses once decrypted out of its context.
        assertion_tag = assertion._to_element_tree().tag
        response = pre_encrypt_assertion(response)
        xml = response.get_xml_string_with_self_contained_assertion_within_encrypted_assertion(assertion_tag)
    else:
        xml = str(response)
    sec = idp.server.sec
    if answer.sign_assertion:
        xml = sec.sign_statement(xml, assertion_types.Assertion.c_namespace + ":" + "Assertion",
                                 key_file=str(signing.key_file), node_id=assertion.id)
    if answer.rewrite is not None:
        xml = answer.rewrite(xml)
    if answer.encrypt:
        xml = _encrypt_assertion(idp, xml)
    if answer.sign_response:
        xml = sec.sign_statement(xml, samlp.Response.c_namespace + ":" + "Response",
                                 key_file=str(signing.key_file), node_id=response.id)
    return base64.b64encode(xml.encode("utf-8")).decode("ascii")


def _assertion(answer: Answer) -> assertion_types.Assertion:
    not_on_or_after = _instant(answer.issued_at + answer.lifetime)
    confirmation = assertion_types.SubjectConfirmation(
        method=SCM_BEARER,
        subject_confirmation_data=assertion_types.SubjectConfirmationData(
            in_response_to=answer.in_response_to, recipient=answer.destination, not_on_or_after=not_on_or_after),
    )
    return assertion_types.Assertion(
        id=answer.assertion_id, version="2.0", issue_instant=_instant(answer.issued_at),
        issuer=assertion_types.Issuer(text=answer.issuer, format=NAMEID_FORMAT_ENTITY),
        subject=assertion_types.Subject(
            name_id=assertion_types.NameID(format=NAMEID_FORMAT_TRANSIENT, text=sid()),
            subject_confirmation=[confirmation]),
        conditions=assertion_types.Conditions(
            not_before=_instant(answer.issued_at - dt.timedelta(seconds=5)), not_on_or_after=not_on_or_after,
            audience_restriction=[assertion_types.AudienceRestriction(
                audience=[assertion_types.Audience(text=answer.audience)])]),
        authn_statement=[assertion_types.AuthnStatement(
            authn_instant=_instant(answer.issued_at), session_index=sid(),
            authn_context=assertion_types.AuthnContext(
                authn_context_class_ref=assertion_types.AuthnContextClassRef(text=TrustLevel(answer.level).stork)))],
        attribute_statement=[assertion_types.AttributeStatement(attribute=[
            _attribute(urn, value) for urn, value in _attribute_values(answer).items()
            if urn not in answer.leave_out])],
    )


def _attribute_values(answer: Answer) -> dict[str, str]:
    chosen = answer.persona
    values = {attributes.URN_OF_FIELD[name]: value for name, value in chosen.values.items()}
    values[attributes.BPK2] = chosen.bpk2
    values[attributes.QAA_LEVEL] = answer.qaa_level or TrustLevel(answer.level).stork
    values[attributes.INTERFACE_VERSION] = answer.interface_version
    if chosen.mail:
        values[attributes.MAIL] = chosen.mail
    if chosen.gender:
        values[attributes.GENDER] = chosen.gender
    return values


def _attribute(urn: str, value: str) -> assertion_types.Attribute:
    attribute_value = assertion_types.AttributeValue()
    attribute_value.set_text(value)
    return assertion_types.Attribute(name=urn, name_format=attributes.URI_FORMAT,
                                     friendly_name=attributes.FRIENDLY_NAMES.get(urn),
                                     attribute_value=[attribute_value])


def _encrypt_assertion(idp: IdentityProvider, xml: str) -> str:
    """Encrypt the assertion for the service provider with the encryption certificate of its
    metadata (AES-256-GCM content, RSA-OAEP key transport)."""
    # An answer forged for another audience is still encrypted for our service provider, so
    # that the check a test aims at is the audience, not the decryption.
    certificates = idp.server.metadata.certs(service_provider_of(idp), "spsso", "encryption")
    _name, body = certificates[0]
    pem = "-----BEGIN CERTIFICATE-----\n" + body.strip() + "\n-----END CERTIFICATE-----\n"
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as cert_file:
        cert_file.write(pem)
        cert_file.flush()
        template = pre_encryption_part(msg_enc=AES256_GCM, key_enc=RSA_OAEP, encrypt_cert=body.strip())
        return str(idp.server.sec.crypto.encrypt_assertion(xml, cert_file.name, template, key_type="aes-256",
                                                           node_xpath=ASSERT_XPATH))


def _certificate_body(pem: str) -> str:
    return "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))


def _instant(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- pages


@dev_idp.before_request
def _never_in_production() -> None:
    # config.py already refuses DEV_IDP=1 in production; this guards a hand-built app.
    if config.settings().production:
        abort(404)


@dev_idp.get("/")
def start() -> tuple[str, int]:
    """What this is, its test persons and login means, and how to log in with it (the
    address `build.py serve` names when it starts)."""
    people = [(p.label, _address(p), date_de(dt.date.fromisoformat(p.values["birthdate"])) if "birthdate" in p.values
               else "", p.mail or "keine") for p in personas()]
    return page("saml/dev_idp_start.html", "Entwicklungs-Identitätsanbieter", people=people,
                means=LOGIN_MEANS, labels=LEVEL_NAMES,
                crumbs=[("Startseite", "/"), ("Entwicklungs-Identitätsanbieter", "/dev-idp/")])


def _address(person: Persona) -> str:
    town = " ".join(filter(None, (person.values.get("postal_code"), person.values.get("city"))))
    return ", ".join(filter(None, (person.values.get("street"), town)))


@dev_idp.get("/metadata")
def metadata() -> Response:
    return Response(idp_metadata_xml(current_app._get_current_object()),  # type: ignore[attr-defined]
                    mimetype="application/samlmetadata+xml")


REQUEST_FIELDS = ("SAMLRequest", "RelayState", "SigAlg", "Signature")


@dev_idp.route("/sso", methods=["GET", "POST"])
@csrf.exempt  # the service provider's HTTP-POST request carries no token of ours; the choice does
def sso() -> tuple[str, int]:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    signed = {name: request.values[name] for name in REQUEST_FIELDS if name in request.values}
    choosing = request.method == "POST" and any(name in request.form for name in ("person", "mittel", "csrf_token"))
    if choosing:
        csrf.protect()
    authn_request = _verified_request(app, signed)
    if authn_request is None:
        return page("konto/fehler.html", "Anfrage abgelehnt", status=400, back="/konto/anmelden",
                    back_label="Zurück zur Anmeldung",
                    message="Der Entwicklungs-Identitätsanbieter nimmt nur signierte Anfragen des Bürgerportals an. "
                            "Diese Anfrage war nicht oder nicht gültig signiert.")
    asked = _asked_level(authn_request)
    if not choosing:  # the request itself, by either binding
        return _choice_page(signed, asked, {})
    errors = {}
    chosen_key = request.form.get("person", "")
    means = request.form.get("mittel", "")
    if chosen_key not in {p.key for p in personas()}:
        errors["person"] = "Wählen Sie eine Testperson aus"
    if means not in LOGIN_MEANS:
        errors["mittel"] = "Wählen Sie ein Anmeldeverfahren aus"
    if errors:
        return _choice_page(signed, asked, errors)
    answer = answer_to(app, authn_request.id, persona(chosen_key), LOGIN_MEANS[means].level)
    return page("saml/post.html", "Weiter zum Bürgerportal", action=answer.destination,
                saml_response=build_response(app, answer), relay_state=signed.get("RelayState"))


@dev_idp.get("/slo")
def slo() -> Response | tuple[str, int]:
    """Single logout: this identity provider keeps no sessions, so it confirms any signed
    LogoutRequest of our service provider and sends the browser back."""
    idp = identity_provider(current_app._get_current_object())  # type: ignore[attr-defined]
    try:
        parsed = idp.server.parse_logout_request(
            request.args.get("SAMLRequest", ""), BINDING_HTTP_REDIRECT, relay_state=request.args.get("RelayState"),
            sigalg=request.args.get("SigAlg"), signature=request.args.get("Signature"))
        issuer = parsed.message.issuer.text
        services = idp.server.metadata.single_logout_service(issuer, BINDING_HTTP_REDIRECT, "spsso")
        answer = idp.server.create_logout_response(parsed.message, [BINDING_HTTP_REDIRECT], sign=False)
    except Exception:  # noqa: BLE001 - any failure means "not a valid signed request"
        log.info("development IdP refused a LogoutRequest")
        return page("konto/fehler.html", "Abmeldung abgelehnt", status=400, back="/konto/", back_label="Zu Mein Konto",
                    message="Der Entwicklungs-Identitätsanbieter nimmt nur signierte Abmeldungen des Bürgerportals "
                            "an.")
    info = idp.server.apply_binding(BINDING_HTTP_REDIRECT, str(answer), services[0]["location"],
                                    relay_state=request.args.get("RelayState", ""), response=True, sign=True,
                                    sigalg=SIG_RSA_SHA256)
    return Response(status=303, headers={"Location": dict(info["headers"])["Location"]})


def _verified_request(app: Flask, signed: dict[str, str]) -> samlp.AuthnRequest | None:
    if "SAMLRequest" not in signed:
        return None
    # HTTP-Redirect signs the query (SigAlg, Signature), HTTP-POST the XML itself.
    redirected = request.method == "GET" or "SigAlg" in signed or "Signature" in signed
    try:
        parsed = identity_provider(app).server.parse_authn_request(
            signed["SAMLRequest"], BINDING_HTTP_REDIRECT if redirected else BINDING_HTTP_POST,
            relay_state=signed.get("RelayState"),
            sigalg=signed.get("SigAlg"), signature=signed.get("Signature"))
    except Exception:  # noqa: BLE001 - any failure means "not a valid signed request"
        log.info("development IdP refused an AuthnRequest")
        return None
    if parsed is None or parsed.message is None:
        return None
    message: samlp.AuthnRequest = parsed.message
    return message


def _asked_level(authn_request: samlp.AuthnRequest) -> str:
    context = authn_request.requested_authn_context
    if context is None or not context.authn_context_class_ref:
        return "basis"
    return (level_of_stork((context.authn_context_class_ref[0].text or "").strip()) or TrustLevel.BASIS).value


def _choice_page(signed: dict[str, str], asked: str, errors: dict[str, str]) -> tuple[str, int]:
    title = "Entwicklungs-Identitätsanbieter – nur für Tests"
    return page("saml/dev_idp.html", ("Fehler: " if errors else "") + title, status=400 if errors else 200,
                heading=title, signed=signed, asked=asked, asked_label=asked, personas=personas(),
                means=LOGIN_MEANS, labels=LEVEL_NAMES, errors=errors, chosen_person=request.form.get("person", ""),
                chosen_means=request.form.get("mittel", "") or _means_for(asked),
                crumbs=[("Startseite", "/"), ("Entwicklungs-Identitätsanbieter", "/dev-idp/"),
                        ("Testperson wählen", request.path)])


def _means_for(level: str) -> str:
    """The weakest means that reaches `level`, preselected."""
    for key, means in LOGIN_MEANS.items():
        if at_least(means.level, level):
            return key
    return "eid"


__all__ = ["Answer", "LOGIN_MEANS", "Persona", "answer_to", "build_response", "dev_idp",
           "idp_metadata_xml", "identity_provider", "persona", "personas"]
