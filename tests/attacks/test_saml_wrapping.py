"""Signature wrapping of the state login, over HTTP against the running app, with real SAML XML
of the development identity provider (signed and encrypted by pysaml2 and xmlsec1).

The identity provider signs Erika's assertion at the level "substantiell". The attacker keeps
that signed assertion in the answer and adds a forged one (Jonas's bPK2 and name, the level
"hoch"): inside a <ds:Object> of the assertion's or the Response's signature, or next to the
signed one. An unreferenced <ds:Object> does not change what is signed, so xmlsec1 verifies
such answers; the danger is a service provider that reads the forged assertion. Whatever the
variant, the citizen must never be logged in as Jonas or at "hoch": the answer is refused
with a German page (no 500), or she is logged in with exactly the signed values.

The attacker here even knows the signed assertion in the clear (as with an unencrypted
answer); an encrypted forged assertion is one any attacker can make, since the portal's
encryption certificate is public."""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from flask import Flask
from sqlalchemy import select

from dynamic.platform.db import db
from dynamic.platform.models import Account, LoginSession, ProfileValue
from dynamic.saml import dev_idp
from tests.attacks.test_saml_attacks import (
    ERIKA,
    NOT_SIGNED,
    PERSONAL_DATA,
    UNREADABLE,
    _assertion_element,
    counts,
    forge,
    lead,
    send,
    start_login,
)
from tests.dynamic.browserlike import Browser

JONAS = dev_idp.persona("jonas")
SIGNED_LEVEL = "substantiell"  # what the identity provider signed (STORK-QAA-Level-3)
SAML = "{urn:oasis:names:tc:SAML:2.0:assertion}"

# What the forged assertion says instead of the signed values.
FORGERY = ((ERIKA.bpk2, JONAS.bpk2), (ERIKA.values["given_name"], JONAS.values["given_name"]),
           (ERIKA.values["family_name"], JONAS.values["family_name"]), ("STORK-QAA-Level-3", "STORK-QAA-Level-4"))

AGAIN = "Bitte melden Sie sich noch einmal an."
UNEXPECTED_STRUCTURE = ("Die Antwort des Servicekontos war anders aufgebaut als vorgesehen. Sie wurde aus "
                        "Sicherheitsgründen nicht angenommen. " + AGAIN)

# (the XML as it stands, the signed assertion's XML) → the attacked XML
Inside = Callable[[str, str], str]
# (the finished answer's XML, the signed assertion's XML, a forged EncryptedAssertion) → the attacked XML
Outside = Callable[[str, str, str], str]


# ---------------------------------------------------------------- building the attacks


SIGNATURE = re.compile(r"<(\w+):Signature\b.*?</\1:Signature>", re.S)


def forged_copy(genuine: str, keep_signature: bool = False) -> str:
    """The signed assertion `genuine` turned into Jonas's at "hoch": unsigned under an ID of its
    own, or (keep_signature) with the original's ID and signature, which then claims to sign it."""
    forged = genuine
    for signed, forged_value in FORGERY:
        assert f">{signed}<" in forged, signed
        forged = forged.replace(f">{signed}<", f">{forged_value}<")
    if not keep_signature:
        signature = first_signature(forged)
        forged = forged[:signature.start()] + forged[signature.end():]
        forged = re.sub(r' ID="[^"]+"', ' ID="_gefaelscht"', forged, count=1)
    return forged


def first_signature(xml: str, start: int = 0) -> re.Match[str]:
    found = SIGNATURE.search(xml, start)
    assert found, xml
    return found


def in_object(xml: str, signature: re.Match[str], content: str) -> str:
    """`content` in a ds:Object appended to the Signature element `signature` of `xml`."""
    prefix = signature.group(1)
    end = signature.end() - len(f"</{prefix}:Signature>")
    return xml[:end] + f"<{prefix}:Object>{content}</{prefix}:Object>" + xml[end:]


def assertion_signature(xml: str) -> re.Match[str]:
    """The signed assertion's Signature element in `xml`."""
    assertion = _assertion_element(xml)
    found = first_signature(xml, assertion.start())
    assert found.end() < assertion.end(), xml
    return found


def response_signature(xml: str) -> re.Match[str]:
    """The Response's Signature element (right after its Issuer, before anything else)."""
    found = first_signature(xml)
    response_id = re.search(r'<\w+:Response\b[^>]* ID="([^"]+)"', xml)
    assert response_id and f'URI="#{response_id.group(1)}"' in found.group(0), xml
    return found


def encrypted_forgery(app: Flask, request_id: str) -> str:
    """An unsigned assertion for Jonas at "hoch", encrypted for the portal: anyone can make one
    with the portal's public encryption certificate. Its <saml:EncryptedAssertion> element."""
    encoded = forge(app, request_id, "hoch", persona=JONAS, sign_assertion=False, sign_response=False,
                    assertion_id="_gefaelscht")
    root = ElementTree.fromstring(base64.b64decode(encoded))
    element = root.find(f"{SAML}EncryptedAssertion")
    assert element is not None
    return ElementTree.tostring(element, encoding="unicode")


def signed_element(xml: str) -> re.Match[str]:
    """The element that carries the signed assertion in the finished answer: the
    EncryptedAssertion, or the Assertion itself."""
    found = re.search(r"<(\w+):EncryptedAssertion>.*?</\1:EncryptedAssertion>", xml, re.S)
    return found or _assertion_element(xml)


@dataclass(frozen=True)
class Attack:
    encrypt: bool = True
    sign_response: bool = True
    # Changes the XML where the identity provider has just signed the assertion (before it
    # encrypts it and signs the Response), as xmlsec1 would then verify it.
    inside: Inside | None = None
    # Changes the finished answer, as an attacker who holds it does; it also gets the
    # forged encrypted assertion.
    outside: Outside | None = None


def build(app: Flask, request_id: str, attack: Attack) -> str:
    """Erika's genuine answer at "substantiell" to `request_id`, attacked."""
    genuine: list[str] = []

    def rewrite(xml: str) -> str:
        genuine.append(_assertion_element(xml).group(0))
        return attack.inside(xml, genuine[0]) if attack.inside else xml

    encoded = forge(app, request_id, SIGNED_LEVEL, encrypt=attack.encrypt, sign_response=attack.sign_response,
                    rewrite=rewrite)
    if attack.outside is None:
        return encoded
    xml = base64.b64decode(encoded).decode()
    attacked = attack.outside(xml, genuine[0], encrypted_forgery(app, request_id))
    assert attacked != xml
    return base64.b64encode(attacked.encode()).decode()


# ---------------------------------------------------------------- the variants

# (a) A forged assertion inside a ds:Object of the signed assertion's signature.
def forged_in_assertion_signature(xml: str, genuine: str) -> str:
    return in_object(xml, assertion_signature(xml), forged_copy(genuine))


def signed_moved_into_forged_signature(xml: str, genuine: str) -> str:
    """Classic wrapping: the forged copy takes the original's place, ID and signature; the
    signed original hides in a ds:Object of that signature, where the reference finds it."""
    forged = forged_copy(genuine, keep_signature=True)
    return xml.replace(genuine, in_object(forged, first_signature(forged), genuine))


# (b) A forged assertion inside a ds:Object of the Response's signature.
def forged_in_response_signature(xml: str, genuine: str, _encrypted: str) -> str:
    return in_object(xml, response_signature(xml), forged_copy(genuine))


def encrypted_forged_in_response_signature(xml: str, _genuine: str, encrypted: str) -> str:
    return in_object(xml, response_signature(xml), encrypted)


def signed_moved_into_response_signature(xml: str, genuine: str, encrypted: str) -> str:
    """The signed assertion moves into the Response signature's ds:Object, the forged one
    takes its place."""
    carrier = signed_element(xml)
    forged = encrypted if carrier.group(0).endswith("EncryptedAssertion>") else forged_copy(genuine)
    moved = xml[:carrier.start()] + forged + xml[carrier.end():]
    return in_object(moved, response_signature(moved), carrier.group(0))


# (c) A forged assertion next to the signed one.
def sibling(before: bool, keep_signature: bool = False) -> Outside:
    def change(xml: str, genuine: str, encrypted: str) -> str:
        carrier = signed_element(xml)
        forged = encrypted if carrier.group(0).endswith("EncryptedAssertion>") and not keep_signature \
            else forged_copy(genuine, keep_signature)
        at = carrier.start() if before else carrier.end()
        return xml[:at] + forged + xml[at:]
    return change


def inside_encrypted_assertion(before: bool, forgery: str) -> Outside:
    """In the EncryptedAssertion of the signed assertion, before or after its EncryptedData: the
    forged assertion in the clear ("plain"), with the copied signature ("copied-signature"), or
    encrypted for the portal ("encrypted"), so that one EncryptedAssertion holds two."""
    def change(xml: str, genuine: str, encrypted: str) -> str:
        carrier = re.search(r"<(\w+):EncryptedAssertion>(.*)</\1:EncryptedAssertion>", xml, re.S)
        assert carrier, xml
        if forgery == "encrypted":
            forged = ElementTree.tostring(ElementTree.fromstring(encrypted)[0], encoding="unicode")
        else:
            forged = forged_copy(genuine, keep_signature=forgery == "copied-signature")
        at = carrier.start(2) if before else carrier.end(2)
        return xml[:at] + forged + xml[at:]
    return change


# Elsewhere: in the Response's <samlp:Extensions>, whose schema admits any element of another
# namespace, and in the signature's KeyInfo.
def in_extensions(in_an_object: bool) -> Outside:
    def change(xml: str, genuine: str, _encrypted: str) -> str:
        status = re.search(r"<(\w+):Status>", xml)
        assert status, xml
        forged = forged_copy(genuine)
        if in_an_object:
            forged = f'<ds:Object xmlns:ds="http://www.w3.org/2000/09/xmldsig#">{forged}</ds:Object>'
        extensions = f"<{status.group(1)}:Extensions>{forged}</{status.group(1)}:Extensions>"
        return xml[:status.start()] + extensions + xml[status.start():]
    return change


def forged_in_key_info(xml: str, genuine: str) -> str:
    signature = assertion_signature(xml)
    key_info = re.search(r"</(\w+):KeyInfo>", signature.group(0))
    assert key_info, xml
    at = signature.start() + key_info.start()
    prefix = key_info.group(1)
    return xml[:at] + f"<{prefix}:Object>{forged_copy(genuine)}</{prefix}:Object>" + xml[at:]


# (d) An unreferenced ds:Object with harmless content.
HARMLESS = "Ein Hinweis ohne Bedeutung"


def harmless_in_assertion_signature(xml: str, _genuine: str) -> str:
    return in_object(xml, assertion_signature(xml), HARMLESS)


def harmless_in_response_signature(xml: str, _genuine: str, _encrypted: str) -> str:
    return in_object(xml, response_signature(xml), HARMLESS)


def both_ways(name: str, encrypted: str, plain: str, **attack: Any) -> list[Any]:
    """The variant `name` on an encrypted and on a plain answer, with the refusal each gets."""
    return [pytest.param(Attack(encrypt=True, **attack), encrypted, id=f"{name}-encrypted"),
            pytest.param(Attack(encrypt=False, **attack), plain, id=f"{name}-plain")]


def where(before: bool) -> str:
    return "before" if before else "after"


# The portal refuses, before pysaml2 sees the answer, a ds:Object anywhere in it and an
# encrypted assertion that does not come alone; after pysaml2 verified it, anything but exactly
# the one signed assertion (STRUCTURE). pysaml2 refuses first a ds:Object in a signature it
# verifies inside an encrypted assertion (NOT_SIGNED: the portal sees it only once decrypted),
# and a second assertion in the clear in a plain answer (UNREADABLE, or NOT_SIGNED where the
# copy claims the signature).
STRUCTURE = UNEXPECTED_STRUCTURE

WRAPPED_IN_ASSERTION_SIGNATURE = [
    *both_ways("forged-in-object", NOT_SIGNED, STRUCTURE, inside=forged_in_assertion_signature),
    *both_ways("signed-moved-into-object", NOT_SIGNED, STRUCTURE, inside=signed_moved_into_forged_signature),
]
WRAPPED_IN_RESPONSE_SIGNATURE = [
    *both_ways("forged-in-object", STRUCTURE, STRUCTURE, outside=forged_in_response_signature),
    pytest.param(Attack(outside=encrypted_forged_in_response_signature), STRUCTURE,
                 id="encrypted-forged-in-object-encrypted"),
    *both_ways("signed-moved-into-object", STRUCTURE, STRUCTURE, outside=signed_moved_into_response_signature),
]
SIBLINGS = [
    *[param for before in (True, False) for param in both_ways(
        f"forged-{where(before)}", STRUCTURE, UNREADABLE, sign_response=False, outside=sibling(before))],
    *[param for before in (True, False) for param in both_ways(
        f"forged-with-copied-signature-{where(before)}", STRUCTURE, UNREADABLE, sign_response=False,
        outside=sibling(before, keep_signature=True))],
    # "encrypted-forged-before-...": accepted before the portal's own checks (pysaml2 dropped the
    # forged EncryptedData), with the signed values.
    *[pytest.param(Attack(outside=inside_encrypted_assertion(before, forgery), sign_response=False), STRUCTURE,
                   id=f"{forgery}-forged-{where(before)}-inside-the-encrypted-assertion")
      for before in (True, False) for forgery in ("plain", "copied-signature", "encrypted")],
    pytest.param(Attack(outside=sibling(before=False)), STRUCTURE, id="forged-after-in-a-signed-response-encrypted"),
    pytest.param(Attack(encrypt=False, outside=sibling(before=False)), NOT_SIGNED,
                 id="forged-after-in-a-signed-response-plain"),
]
ELSEWHERE = [
    # Both accepted before the portal's own check, with the signed values.
    *both_ways("forged-in-extensions", STRUCTURE, STRUCTURE, sign_response=False,
               outside=in_extensions(in_an_object=False)),
    *both_ways("forged-in-object-in-extensions", STRUCTURE, STRUCTURE, sign_response=False,
               outside=in_extensions(in_an_object=True)),
    *both_ways("forged-in-object-in-key-info", NOT_SIGNED, STRUCTURE, inside=forged_in_key_info),
]
HARMLESS_OBJECTS = [
    *both_ways("in-assertion-signature", NOT_SIGNED, STRUCTURE, inside=harmless_in_assertion_signature),
    *both_ways("in-response-signature", STRUCTURE, STRUCTURE, outside=harmless_in_response_signature),
]


# ---------------------------------------------------------------- what the citizen gets


def stored(app: Flask) -> tuple[list[str | None], list[str], dict[str, str]]:
    """(the accounts' bPK2, the logins' levels, the stored profile values)."""
    with app.app_context():
        return (list(db().scalars(select(Account.bpk2))), list(db().scalars(select(LoginSession.level))),
                {row.field: row.value for row in db().scalars(select(ProfileValue))})


def outcome(app: Flask, visitor: Browser) -> str:
    """What the answer just sent did: the refusal the citizen read, or "signed values" when she
    was logged in with exactly what the identity provider signed. Anything else fails."""
    assert "Beispielmann" not in visitor.text and JONAS.bpk2 not in visitor.text
    if visitor.status != 200:
        assert 400 <= visitor.status < 500, visitor.text
        assert "<h1>Anmeldung nicht möglich</h1>" in visitor.text
        assert '<a href="/konto/anmelden">Zurück zur Anmeldung</a>' in visitor.text
        assert counts(app) == (0, 0)
        return lead(visitor)
    assert urlsplit(visitor.url).path == "/konto/", visitor.url
    bpk2s, levels, values = stored(app)
    assert (bpk2s, levels) == ([ERIKA.bpk2], [SIGNED_LEVEL])
    assert (values["given_name"], values["family_name"]) == (ERIKA.values["given_name"],
                                                             ERIKA.values["family_name"])
    return "signed values"


def attempt(app: Flask, visitor: Browser, attack: Attack) -> str:
    send(visitor, build(app, start_login(visitor, SIGNED_LEVEL), attack))
    return outcome(app, visitor)


# ---------------------------------------------------------------- the tests


def test_the_genuine_answer_logs_her_in_with_the_signed_values(app: Flask, visitor: Browser) -> None:
    """The baseline every variant starts from: unchanged, it logs Erika in at "substantiell"."""
    assert attempt(app, visitor, Attack()) == "signed values"


@pytest.mark.parametrize(("attack", "refusal"), WRAPPED_IN_ASSERTION_SIGNATURE)
def test_a_forged_assertion_in_an_object_of_the_assertion_signature_is_refused(
        app: Flask, visitor: Browser, attack: Attack, refusal: str) -> None:
    """(a) A forged assertion in a ds:Object of the signed assertion's signature; or the forged
    one in the signed one's place, with its ID and signature, and the signed one in the Object."""
    assert attempt(app, visitor, attack) == refusal


@pytest.mark.parametrize(("attack", "refusal"), WRAPPED_IN_RESPONSE_SIGNATURE)
def test_a_forged_assertion_in_an_object_of_the_response_signature_is_refused(
        app: Flask, visitor: Browser, attack: Attack, refusal: str) -> None:
    """(b) The development IdP signs the Response too: a forged assertion (in the clear, or
    encrypted for the portal) in a ds:Object of that signature; or the signed assertion moved
    there and a forged one in its place."""
    assert attempt(app, visitor, attack) == refusal


@pytest.mark.parametrize(("attack", "refusal"), SIBLINGS)
def test_a_forged_assertion_next_to_the_signed_one_is_refused(
        app: Flask, visitor: Browser, attack: Attack, refusal: str) -> None:
    """(c) A forged assertion before or after the signed one: in the Response (whose signature
    the attacker leaves out, or breaks), or inside the signed one's EncryptedAssertion."""
    assert attempt(app, visitor, attack) == refusal


@pytest.mark.parametrize(("attack", "refusal"), ELSEWHERE)
def test_a_forged_assertion_elsewhere_in_the_answer_is_refused(
        app: Flask, visitor: Browser, attack: Attack, refusal: str) -> None:
    """A forged assertion in the Response's Extensions (the schema admits it there), also in a
    ds:Object, or in a ds:Object inside the signature's KeyInfo."""
    assert attempt(app, visitor, attack) == refusal


@pytest.mark.parametrize(("attack", "refusal"), HARMLESS_OBJECTS)
def test_an_unreferenced_object_with_harmless_content_is_refused(
        app: Flask, visitor: Browser, attack: Attack, refusal: str) -> None:
    """(d) An unreferenced ds:Object changes nothing that is signed, but no SAML profile uses
    it, and it is where wrapped assertions hide: refused as well."""
    assert attempt(app, visitor, attack) == refusal


def test_the_portal_refusals_log_their_reason_and_nothing_personal(
        app: Flask, visitor: Browser, caplog: pytest.LogCaptureFixture) -> None:
    """The log says which rule refused the answer, never whose answer it was (hers or the
    forged one's)."""
    caplog.set_level(logging.INFO, logger="dynamic.saml.sp")
    for attack in (Attack(encrypt=False, inside=harmless_in_assertion_signature),
                   Attack(encrypt=False, sign_response=False, outside=in_extensions(in_an_object=False)),
                   Attack(sign_response=False, outside=inside_encrypted_assertion(True, "encrypted"))):
        assert attempt(app, visitor, attack) == STRUCTURE
    refusals = [r.getMessage() for r in caplog.records if r.getMessage().startswith("SAML response refused")]
    assert refusals == ["SAML response refused: ds:Object in the answer",
                        "SAML response refused: 2 assertions and 0 encrypted assertions, not one",
                        "SAML response refused: 1 encrypted assertions with 2 encrypted parts, not one"]
    assert not any(personal in caplog.text for personal in PERSONAL_DATA + (JONAS.bpk2, "Beispielmann"))
