"""Checking an answer of the identity provider (POST /saml/acs) completely, or refusing it.

pysaml2 checks signature, decryption, conditions, subject confirmation and InResponseTo;
the checks here come before it (size, structure against signature wrapping, an open
request, strong algorithms) and after it where it lets an absent element pass (issuer,
audience, destination, lifetime, one signed assertion, the level reached), and a seen
assertion ID is refused in any process. A refusal names its reason for the log (never
anything personal) and its message for the citizen."""

from __future__ import annotations

import base64
import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeElementTree
from saml2 import BINDING_HTTP_POST, samlp
from saml2.response import AuthnResponse, StatusError, UnsolicitedResponse
from saml2.sigver import MissingKey, SignatureError
from saml2.time_util import str_to_time
from saml2.validate import ResponseLifetimeExceed, ToEarly
from saml2.xmldsig import Signature
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from portal.errors import PortalError
from portal.levels import TrustLevel, at_least, level_of_stork, state_login_label

from ..platform import config
from ..platform.db import db
from ..platform.models import SamlRequest, SeenAssertion, utcnow
from . import attributes, bundid
from .policy import Policy
from .provider import CLOCK_SKEW_SECONDS, REQUEST_LIFETIME, ServiceProvider, acs_url
from .pss import PssError, WeakPssAlgorithm

# The largest SAMLResponse form field (base64) read at all. Answers of the state identity
# provider are a few KB; a large one only costs decoding, decryption and parsing time.
MAX_ANSWER_CHARS = 256 * 1024


AGAIN = "Bitte melden Sie sich noch einmal an."


class Refused(PortalError):
    """An answer of the identity provider that we do not accept. `reason` goes to the log
    (never anything personal), `message` to the citizen."""

    def __init__(self, reason: str, message: str, status: int = 400, title: str = "Anmeldung nicht möglich") -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.status = status
        self.title = title


NOT_SIGNED = "Die Antwort des Servicekontos war nicht gültig signiert. Sie wurde aus Sicherheitsgründen nicht " \
             "angenommen. " + AGAIN
UNREADABLE = "Die Antwort des Servicekontos war unvollständig oder nicht lesbar. " + AGAIN
WRONG_ISSUER = "Die Antwort kam nicht von dem Servicekonto, bei dem Sie sich anmelden wollten. Sie wurde aus " \
               "Sicherheitsgründen nicht angenommen. " + AGAIN
WRONG_AUDIENCE = "Die Antwort des Servicekontos war nicht für dieses Portal bestimmt. Sie wurde aus " \
                 "Sicherheitsgründen nicht angenommen. " + AGAIN
WRONG_RECIPIENT = "Die Antwort des Servicekontos war an eine andere Adresse gerichtet. Sie wurde aus " \
                  "Sicherheitsgründen nicht angenommen. " + AGAIN
EXPIRED = "Die Antwort des Servicekontos ist abgelaufen oder noch nicht gültig. " + AGAIN
UNKNOWN_REQUEST = "Diese Antwort des Servicekontos gehört zu keiner offenen Anmeldung in diesem Portal. " \
                  "Vielleicht hat die Anmeldung zu lange gedauert. " + AGAIN
REPLAYED = "Diese Antwort des Servicekontos wurde schon einmal verwendet. Sie wurde aus Sicherheitsgründen nicht " \
           "noch einmal angenommen. " + AGAIN
CANCELLED = "Die Anmeldung beim Servicekonto wurde abgebrochen oder ist nicht gelungen. " + AGAIN
NO_LEVEL = "Das Servicekonto hat nicht mitgeteilt, mit welchem Vertrauensniveau Sie sich angemeldet haben. " + AGAIN
NO_PSEUDONYM = "Das Servicekonto hat keine dauerhafte Kennung für Sie übermittelt. Ohne sie können wir Ihr Konto " \
               "nicht finden oder anlegen. " + AGAIN
WEAK_SIGNATURE = "Die Antwort des Servicekontos war mit einem veralteten Verfahren signiert, das nicht mehr als " \
                 "sicher gilt. Sie wurde aus Sicherheitsgründen nicht angenommen. " + AGAIN
NOT_ENCRYPTED = "Die Antwort des Servicekontos war nicht verschlüsselt. Sie wurde zum Schutz Ihrer Daten nicht " \
                "angenommen. " + AGAIN
UNEXPECTED_STRUCTURE = "Die Antwort des Servicekontos war anders aufgebaut als vorgesehen. Sie wurde aus " \
                       "Sicherheitsgründen nicht angenommen. " + AGAIN
UNKNOWN_VERSION = "Das Servicekonto hat mit einer Version seiner Schnittstelle geantwortet, die das Bürgerportal " \
                  "nicht kennt. Bitte versuchen Sie es später noch einmal."
TOO_LARGE = "Die Antwort des Servicekontos war zu groß. Sie wurde aus Sicherheitsgründen nicht angenommen. " + AGAIN
OTHER_BROWSER = "Diese Anmeldung wurde in einem anderen Browser oder Fenster begonnen, oder sie ist schon " \
                "abgeschlossen. " + AGAIN
OTHER_PSEUDONYM = "Ihr Konto im Bürgerportal ist schon mit einem anderen Servicekonto verknüpft. Melden Sie sich " \
                  "ab und mit dem Servicekonto an, das zu diesem Konto gehört."
OTHER_ACCOUNT = "Mit diesem Servicekonto ist schon ein anderes Konto im Bürgerportal verknüpft. Sie sind weiter " \
                "mit Ihrem bisherigen Konto angemeldet; was Sie dort begonnen haben, bleibt erhalten. Um das andere " \
                "Konto zu nutzen, melden Sie sich ab und mit dem Servicekonto wieder an."


def too_low(reached: str, needed: str) -> str:
    return (f"Sie haben sich mit „{state_login_label(reached)}“ angemeldet. Für diesen Schritt brauchen Sie "
            f"„{TrustLevel(needed).label}“. {TrustLevel(needed).row.how_to_reach}")


@dataclass(frozen=True)
class Verified:
    request_id: str
    level: str
    bpk2: str
    values: dict[str, str]
    name_id: str | None
    session_index: str | None


def verify(sp: ServiceProvider, encoded: str) -> Verified:
    """Check an identity provider's answer completely, or raise Refused.

    pysaml2 checks signature (against the metadata's keys only), decryption, conditions,
    subject confirmation and InResponseTo; the checks after it are stricter where pysaml2
    lets an absent element pass (audience, destination, lifetime), and it accepts SHA-1.
    """
    if len(encoded) > MAX_ANSWER_CHARS:  # before anything is decoded or parsed
        raise Refused(f"answer of {len(encoded)} characters, more than {MAX_ANSWER_CHARS}", TOO_LARGE, status=413)
    pending = _pending_request(sp.policy, encoded)
    try:
        response = sp.client.parse_authn_request_response(
            encoded, BINDING_HTTP_POST, outstanding={pending.id: pending.return_to})
    except Exception as error:  # noqa: BLE001 - pysaml2 raises many kinds; each is a refusal
        raise _refusal_for(error) from error
    if not isinstance(response, AuthnResponse) or response.assertion is None:
        raise Refused("no assertion", UNREADABLE)
    _check_algorithms(sp.policy, response.response.signature, response.assertion.signature)  # now decrypted
    _check_one_signed_assertion(response)
    _check_issuer(sp, response)
    _check_addressed_to_us(sp, response)
    found = _attribute_values(response)
    version = attributes.first(found, attributes.INTERFACE_VERSION)
    if not bundid.interface_version_supported(version):
        # The value is BundID's, never personal; cut short in case of garbage.
        raise Refused(f"interface version {str(version)[:20]!r} missing or not supported", UNKNOWN_VERSION)
    level = _level_reached(found, pending.level)
    bpk2 = attributes.first(found, attributes.BPK2)
    if not bpk2:
        raise Refused("no bPK2 attribute", NO_PSEUDONYM)
    name_id = response.name_id.text if response.name_id is not None else None
    statements = response.assertion.authn_statement
    session_index = statements[0].session_index if statements else None
    verified = Verified(pending.id, level, bpk2, attributes.profile_values(found), name_id, session_index)
    _remember_assertion(response)
    _park(verified)
    return verified


def _pending_request(policy: Policy, encoded: str) -> SamlRequest:
    """The open request the answer claims to answer, read from the unverified XML only to
    find the row; pysaml2 then verifies that the signed assertion answers the same one."""
    try:
        unverified = samlp.response_from_string(base64.b64decode(encoded, validate=True))
    except Exception as error:  # noqa: BLE001 - base64, defusedxml and the parser raise their own kinds
        raise Refused("unreadable response", UNREADABLE) from error
    if unverified is None:
        raise Refused("not a SAML response", UNREADABLE)
    _check_received_structure(_parsed(base64.b64decode(encoded, validate=True)))
    if unverified.status is not None and unverified.status.status_code is not None \
            and unverified.status.status_code.value != samlp.STATUS_SUCCESS:
        raise Refused("identity provider reported no success", CANCELLED, status=401)
    _check_algorithms(policy, unverified.signature, *(assertion.signature for assertion in unverified.assertion))
    if not policy.unencrypted_assertions and (unverified.assertion or not unverified.encrypted_assertion):
        # In the clear, her data would be readable wherever the answer passed (browser
        # extensions, proxies that inspect TLS). The development IdP encrypts too, but tests
        # and local setups may send plain assertions (policy.py: only outside production).
        raise Refused("assertion not encrypted", NOT_ENCRYPTED)
    # Checked again on the verified assertion; here only to name the problem to the citizen,
    # since pysaml2 would merely fail to parse.
    if (unverified.destination or "") != acs_url(config.settings()):
        raise Refused("destination is not our ACS", WRONG_RECIPIENT)
    request_id = unverified.in_response_to
    row = db().get(SamlRequest, request_id) if request_id else None
    if row is None or utcnow() - row.created_at > REQUEST_LIFETIME:
        raise Refused("InResponseTo matches no open request", UNKNOWN_REQUEST)
    if row.answered_at is not None:
        raise Refused("request already answered", REPLAYED)
    return row


def _check_algorithms(policy: Policy, *signatures: Signature | None) -> None:
    """Refuse signatures (and the digests they sign) made with an algorithm outside the
    strong ones, SHA-1 above all; pysaml2 and xmlsec1 would verify them."""
    for signature in signatures:
        if signature is None:
            continue
        info = signature.signed_info
        method = info.signature_method.algorithm if info is not None and info.signature_method else None
        if method not in policy.signature_algorithms:
            raise Refused(f"weak signature algorithm {str(method)[:120]!r}", WEAK_SIGNATURE)
        for reference in info.reference:
            digest = reference.digest_method.algorithm if reference.digest_method is not None else None
            if digest not in policy.digest_algorithms:
                raise Refused(f"weak digest algorithm {str(digest)[:120]!r}", WEAK_SIGNATURE)


# Signature wrapping (XSW): an answer that carries, next to the signed assertion, a forged one
# the signature does not cover (inside a <ds:Object> of a signature, in <samlp:Extensions>, as
# a sibling) is verified by xmlsec1, since the signed part is intact. The SAML profiles never use
# <ds:Object>, and an answer of the state identity provider holds exactly one assertion, so
# anything else is refused instead of trusting every reader to pick the right assertion.
SAML_ASSERTION = "{urn:oasis:names:tc:SAML:2.0:assertion}"
SAML_PROTOCOL = "{urn:oasis:names:tc:SAML:2.0:protocol}"
XMLDSIG = "{http://www.w3.org/2000/09/xmldsig#}"
XMLENC = "{http://www.w3.org/2001/04/xmlenc#}"


def _parsed(xml: str | bytes) -> Element:
    """The XML document, parsed without entities or DTDs (defusedxml)."""
    try:
        root: Element = SafeElementTree.fromstring(xml.encode("utf-8") if isinstance(xml, str) else xml)
    except Exception as error:  # noqa: BLE001 - defusedxml and the parser raise their own kinds
        raise Refused("unreadable XML", UNREADABLE) from error
    return root


def _check_received_structure(root: Element) -> None:
    """The answer as received, before pysaml2 and xmlsec1 work on it: no <ds:Object> anywhere,
    and an encrypted assertion comes alone: one EncryptedAssertion in the Response, holding one
    EncryptedData (pysaml2 re-serializes what it parsed before it decrypts, and silently drops a
    second EncryptedData), and no assertion in the clear beside it. The decrypted document is
    checked again after pysaml2 verified it (_check_one_signed_assertion)."""
    if any(True for _ in root.iter(f"{XMLDSIG}Object")):
        raise Refused("ds:Object in the answer", UNEXPECTED_STRUCTURE)
    wrappers = list(root.iter(f"{SAML_ASSERTION}EncryptedAssertion"))
    if not wrappers:
        return  # an assertion in the clear: pysaml2 and the check after it count them
    encrypted = list(root.iter(f"{XMLENC}EncryptedData"))
    if len(wrappers) > 1 or len(encrypted) != 1:
        raise Refused(f"{len(wrappers)} encrypted assertions with {len(encrypted)} encrypted parts, not one",
                      UNEXPECTED_STRUCTURE)
    children = [child.tag for child in wrappers[0]]
    if wrappers[0] not in list(root) or children[:1] != [f"{XMLENC}EncryptedData"] \
            or any(tag != f"{XMLENC}EncryptedKey" for tag in children[1:]):
        raise Refused("encrypted assertion in an unexpected place or form", UNEXPECTED_STRUCTURE)
    if any(True for _ in root.iter(f"{SAML_ASSERTION}Assertion")):
        raise Refused("assertion in the clear beside an encrypted one", UNEXPECTED_STRUCTURE)


def _check_one_signed_assertion(response: AuthnResponse) -> None:
    """The document pysaml2 verified (for an encrypted answer, its re-serialization with the
    assertion decrypted) holds exactly one assertion, a child of the Response or of its one
    EncryptedAssertion, whose ID is the one its signature references and the one pysaml2
    verified: the assertion every later check and the attributes are read from. No <ds:Object>
    anywhere, no encrypted part left undecrypted."""
    root = _parsed(response.xmlstr)
    if root.tag != f"{SAML_PROTOCOL}Response":
        raise Refused("verified document is not a Response", UNEXPECTED_STRUCTURE)
    if any(True for _ in root.iter(f"{XMLDSIG}Object")):
        raise Refused("ds:Object in the decrypted answer", UNEXPECTED_STRUCTURE)
    if any(True for _ in root.iter(f"{XMLENC}EncryptedData")):
        raise Refused("encrypted data left after decryption", UNEXPECTED_STRUCTURE)
    assertions = list(root.iter(f"{SAML_ASSERTION}Assertion"))
    wrappers = list(root.iter(f"{SAML_ASSERTION}EncryptedAssertion"))
    if len(assertions) != 1 or len(wrappers) > 1:
        raise Refused(f"{len(assertions)} assertions and {len(wrappers)} encrypted assertions, not one",
                      UNEXPECTED_STRUCTURE)
    parent_of = {child: parent for parent in root.iter() for child in parent}
    where = parent_of.get(assertions[0])
    in_the_response = where is root and not wrappers
    in_its_wrapper = bool(wrappers) and where is wrappers[0] and parent_of.get(where) is root
    if not (in_the_response or in_its_wrapper):
        raise Refused("assertion in an unexpected place", UNEXPECTED_STRUCTURE)
    signature = response.assertion.signature
    references = signature.signed_info.reference if signature is not None and signature.signed_info else []
    element_id = assertions[0].get("ID")
    if not element_id or element_id != response.assertion.id or len(references) != 1 \
            or references[0].uri != f"#{element_id}":
        raise Refused("assertion is not the one its signature references", UNEXPECTED_STRUCTURE)


def _refusal_for(error: Exception) -> Refused:
    if isinstance(error, Refused):
        return error
    if isinstance(error, WeakPssAlgorithm):
        return Refused(f"weak signature algorithm ({error.reason[:120]})", WEAK_SIGNATURE)
    if isinstance(error, PssError):
        return Refused(f"signature refused ({error.reason[:120]})", NOT_SIGNED)
    if isinstance(error, StatusError):
        return Refused("identity provider reported no success", CANCELLED, status=401)
    if isinstance(error, UnsolicitedResponse):
        return Refused("InResponseTo does not match", UNKNOWN_REQUEST)
    if isinstance(error, ToEarly | ResponseLifetimeExceed):
        return Refused("outside the validity window", EXPIRED)
    if isinstance(error, MissingKey):
        return Refused("issuer has no key in the metadata", WRONG_ISSUER)
    if isinstance(error, SignatureError) or "signature" in str(error).lower():
        return Refused("signature missing or invalid", NOT_SIGNED)
    text = str(error)
    if "AudienceRestriction" in text:
        return Refused("audience is not us", WRONG_AUDIENCE)
    if "recipient" in text.lower() or "subject confirmation" in text.lower():
        return Refused("recipient or subject confirmation wrong", WRONG_RECIPIENT)
    return Refused(f"not accepted by pysaml2 ({type(error).__name__})", UNREADABLE)


def _check_issuer(sp: ServiceProvider, response: AuthnResponse) -> None:
    issuers = [response.response.issuer, response.assertion.issuer]
    if any(issuer is not None and (issuer.text or "").strip() != sp.idp_entity_id for issuer in issuers) \
            or response.assertion.issuer is None:
        raise Refused("issuer is not the configured identity provider", WRONG_ISSUER)


def _check_addressed_to_us(sp: ServiceProvider, response: AuthnResponse) -> None:
    if (response.response.destination or "") != sp.acs_url:
        raise Refused("destination is not our ACS", WRONG_RECIPIENT)
    conditions = response.assertion.conditions
    audiences = [audience.text.strip() for restriction in (conditions.audience_restriction if conditions else [])
                 for audience in restriction.audience if audience.text]
    if not audiences or any(audience != sp.entity_id for audience in audiences):
        raise Refused("audience is not us", WRONG_AUDIENCE)
    if conditions is None or not conditions.not_on_or_after:
        raise Refused("assertion without NotOnOrAfter", EXPIRED)


def _attribute_values(response: AuthnResponse) -> dict[str, list[str]]:
    """Attributes by URN, read from the verified assertion itself (not pysaml2's friendly
    names, which depend on its converters)."""
    found: dict[str, list[str]] = {}
    for statement in response.assertion.attribute_statement:
        for attribute in statement.attribute:
            values = [value.text for value in attribute.attribute_value if value.text]
            found.setdefault(attribute.name, []).extend(values)
    return found


def _level_reached(found: Mapping[str, list[str]], asked: str) -> str:
    value = attributes.first(found, attributes.QAA_LEVEL)
    found_level = level_of_stork(value)
    if found_level is None:
        raise Refused("no or unknown EID-CITIZEN-QAA-LEVEL", NO_LEVEL, status=403)
    reached = found_level.value
    if not at_least(reached, asked):
        raise Refused(f"level {reached} below the {asked} asked for", too_low(reached, asked), status=403,
                      title="Vertrauensniveau nicht ausreichend")
    return reached


def _remember_assertion(response: AuthnResponse) -> None:
    """Insert the assertion's ID; its primary key refuses a second use in any process."""
    conditions = response.assertion.conditions
    expires = dt.datetime.fromtimestamp(_epoch(conditions.not_on_or_after), dt.UTC) \
        + dt.timedelta(seconds=CLOCK_SKEW_SECONDS)
    db().execute(delete(SeenAssertion).where(SeenAssertion.expires_at < utcnow()))
    db().add(SeenAssertion(id=response.assertion.id, expires_at=expires))
    try:
        db().commit()
    except IntegrityError as error:
        db().rollback()
        raise Refused("assertion ID seen before", REPLAYED) from error


def _park(verified: Verified) -> None:
    """Keep the verified answer with its request until the browser that asked fetches it: the
    ACS is reached by a cross-site POST, which carries no session cookie (SameSite=Lax).
    The update is conditional, so that of two answers racing for one request only one wins."""
    result = db().execute(
        update(SamlRequest)
        .where(SamlRequest.id == verified.request_id, SamlRequest.answered_at.is_(None))
        .values(answered_at=utcnow(), result={
            "level": verified.level, "bpk2": verified.bpk2, "values": verified.values,
            "name_id": verified.name_id, "session_index": verified.session_index}))
    db().commit()
    if not getattr(result, "rowcount", 0):
        raise Refused("request answered concurrently", REPLAYED)


def _epoch(timestamp: str) -> float:
    return float(calendar.timegm(str_to_time(timestamp)))
