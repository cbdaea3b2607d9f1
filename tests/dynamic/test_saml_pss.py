"""RSASSA-PSS signatures on the identity provider's answers (issue 18): BundID announced them,
and xmlsec1 1.2.37 (Debian 12), which pysaml2 calls, cannot verify them. dynamic/saml/pss.py
verifies them with signxml. Each answer here is real SAML XML signed with a fresh key:
valid, tampered, signed by another key, with SHA-1, wrapped; openssl checks the signature
value independently, and xmlsec1 is shown failing on the answer we accept."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import XMLSigner
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod

from dynamic.saml import pss
from portal.errors import PortalError
from tests.saml_idp.config import key_pair

SAMLP_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
SAMLP = f"{{{SAMLP_NS}}}"
SAML = f"{{{SAML_NS}}}"
DS = f"{{{DS_NS}}}"

IDP = "https://idp.example.org/idp"
SP = "https://portal.example.org/saml/metadata"
ACS = "https://portal.example.org/saml/acs"
REQUEST_ID = "id-request-0001"
ASSERTION_ID = "_assertion-0001"
RESPONSE_ID = "_response-0001"
GIVEN_NAME = "urn:oid:2.5.4.42"
AES256_GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"  # as BundID plans (DOMAIN.md) and dev_idp encrypts
RSA_OAEP = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
XMLSEC1_PSS_NOTE = "xmlsec1 1.2.37 knows no RSASSA-PSS"


# ---------------------------------------------------------------- keys and answers

Identity = tuple[rsa.RSAPrivateKey, x509.Certificate]


def identity(common_name: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A new RSA key and its self-signed certificate (made as for the SimpleSAMLphp IdP)."""
    key_pem, cert_pem = key_pair(common_name)
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key, x509.load_pem_x509_certificate(cert_pem)


@pytest.fixture(scope="module")
def idp() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    return identity("BundID-like test IdP")


@pytest.fixture(scope="module")
def stranger() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    return identity("Someone else")


def instant(delta: dt.timedelta = dt.timedelta()) -> str:
    return (dt.datetime.now(dt.UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def assertion_xml(assertion_id: str = ASSERTION_ID, given_name: str = "Erika", placeholder: bool = True) -> str:
    later = instant(dt.timedelta(minutes=5))
    return f"""<saml:Assertion xmlns:saml="{SAML_NS}" ID="{assertion_id}" Version="2.0" IssueInstant="{instant()}">
<saml:Issuer>{IDP}</saml:Issuer>{'<ds:Signature xmlns:ds="' + DS_NS + '" Id="placeholder"/>' if placeholder else ''}
<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient">_subject-1</saml:NameID>
<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
<saml:SubjectConfirmationData InResponseTo="{REQUEST_ID}" NotOnOrAfter="{later}" Recipient="{ACS}"/>
</saml:SubjectConfirmation></saml:Subject>
<saml:Conditions NotBefore="{instant(-dt.timedelta(minutes=1))}" NotOnOrAfter="{later}">
<saml:AudienceRestriction><saml:Audience>{SP}</saml:Audience></saml:AudienceRestriction></saml:Conditions>
<saml:AuthnStatement AuthnInstant="{instant()}" SessionIndex="_session-1"><saml:AuthnContext>
<saml:AuthnContextClassRef>http://eidas.europa.eu/LoA/high</saml:AuthnContextClassRef></saml:AuthnContext>
</saml:AuthnStatement>
<saml:AttributeStatement><saml:Attribute Name="{GIVEN_NAME}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">
<saml:AttributeValue>{given_name}</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>
</saml:Assertion>"""


def response_xml(assertion: str, response_placeholder: bool = False) -> bytes:
    signature = f'<ds:Signature xmlns:ds="{DS_NS}" Id="placeholder"/>' if response_placeholder else ""
    return f"""<samlp:Response xmlns:samlp="{SAMLP_NS}" xmlns:saml="{SAML_NS}" ID="{RESPONSE_ID}" Version="2.0"
 IssueInstant="{instant()}" Destination="{ACS}" InResponseTo="{REQUEST_ID}">
<saml:Issuer>{IDP}</saml:Issuer>{signature}
<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
{assertion}
</samlp:Response>""".encode()


class AnySigner(XMLSigner):
    """signxml's signer without its refusal of SHA-1: the SHA-1 answer must be a valid signature,
    so that the refusal we test is our rule and not a broken signature."""

    def check_deprecated_methods(self) -> None:
        return None


def sign(xml: bytes, identity: Identity, element_id: str = ASSERTION_ID,
         method: SignatureMethod = SignatureMethod.SHA256_RSA_MGF1,
         digest: DigestAlgorithm = DigestAlgorithm.SHA256) -> bytes:
    """Sign the element with `element_id` where its placeholder stands, as an IdP does
    (enveloped, exclusive canonicalisation, the certificate in KeyInfo)."""
    signer = AnySigner(signature_algorithm=method, digest_algorithm=digest,
                       c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)
    key, cert = identity
    root = etree.fromstring(xml)
    signed = signer.sign(root, key=key, cert=[cert], reference_uri=element_id, id_attribute="ID")
    for signature in signed.iter(f"{DS}Signature"):
        signature.attrib.pop("Id", None)  # the placeholder's marker is not part of what is signed
    return etree.tostring(signed)


def signed_answer(idp: tuple[rsa.RSAPrivateKey, x509.Certificate], given_name: str = "Erika",
                  method: SignatureMethod = SignatureMethod.SHA256_RSA_MGF1) -> bytes:
    return sign(response_xml(assertion_xml(given_name=given_name)), idp, method=method)


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def given_name_in(element: etree._Element) -> str:
    values = element.findall(f".//{SAML}Attribute[@Name='{GIVEN_NAME}']/{SAML}AttributeValue")
    assert len(values) == 1
    return str(values[0].text)


# ---------------------------------------------------------------- a valid answer


def test_a_pss_signed_assertion_is_verified_and_its_signed_data_returned(idp) -> None:
    answer = signed_answer(idp)
    assert b"xmldsig-more#sha256-rsa-MGF1" in answer

    result = pss.verify_pss(answer, [idp[1]])

    assert result.verified_ids == (ASSERTION_ID,)
    assert result.is_verified(ASSERTION_ID) and not result.is_verified(RESPONSE_ID)
    verified = result.element(ASSERTION_ID)
    assert verified.tag == f"{SAML}Assertion"
    assert verified.signature_method == "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1"
    assert verified.signed_xml.get("ID") == ASSERTION_ID
    assert verified.signed_xml.find(f"{DS}Signature") is None  # enveloped: the signature is not signed data
    assert given_name_in(verified.signed_xml) == "Erika"
    assert result.other_signatures == ()


def test_response_and_assertion_both_pss_signed_are_both_verified(idp) -> None:
    inner = sign(response_xml(assertion_xml()), idp)
    # The assertion is signed first; the response's signature then covers it as signed.
    root = etree.fromstring(inner)
    issuer = root.find(f"{SAML}Issuer")
    issuer.addnext(etree.fromstring(f'<ds:Signature xmlns:ds="{DS_NS}" Id="placeholder"/>'))
    both = sign(etree.tostring(root), idp, element_id=RESPONSE_ID)

    result = pss.verify_pss(both, [idp[1]])

    assert set(result.verified_ids) == {ASSERTION_ID, RESPONSE_ID}
    assert result.element(RESPONSE_ID).tag == f"{SAMLP}Response"


def test_a_second_metadata_certificate_is_tried_key_rollover(idp, stranger) -> None:
    result = pss.verify_pss(signed_answer(idp), [stranger[1], idp[1]])
    assert result.verified_ids == (ASSERTION_ID,)
    assert result.element(ASSERTION_ID).certificate == idp[1]


def test_an_expired_metadata_certificate_still_serves_as_the_key(idp) -> None:
    """As with xmlsec1 and pysaml2, the metadata file decides trust, not the certificate's dates."""
    key, _current = idp
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "expired IdP certificate")])
    expired = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=800))
               .not_valid_after(now - dt.timedelta(days=400)).sign(key, hashes.SHA256()))
    assert pss.verify_pss(signed_answer(idp), [expired]).verified_ids == (ASSERTION_ID,)


def test_non_pss_signatures_are_left_to_pysaml2(idp) -> None:
    answer = signed_answer(idp, method=SignatureMethod.RSA_SHA256)
    result = pss.verify_pss(answer, [idp[1]])
    assert result.verified_ids == ()
    assert result.other_signatures == (ASSERTION_ID,)


# ---------------------------------------------------------------- independent checks


def signed_info_and_value(answer: bytes) -> tuple[bytes, bytes]:
    signature = etree.fromstring(answer).find(f".//{SAML}Assertion/{DS}Signature")
    signed_info = signature.find(f"{DS}SignedInfo")
    c14n = etree.tostring(signed_info, method="c14n", exclusive=True, with_comments=False)
    return c14n, base64.b64decode(signature.findtext(f"{DS}SignatureValue"))


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_openssl_confirms_the_signature_value_is_rsassa_pss_sha256(idp, tmp_path: Path) -> None:
    """Independent of signxml: openssl verifies the SignatureValue over the canonical SignedInfo
    as RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (RFC 9231's defaults); with
    PKCS#1 v1.5 padding it fails, so the answer really is PSS-signed."""
    c14n, value = signed_info_and_value(signed_answer(idp))
    (tmp_path / "signed-info").write_bytes(c14n)
    (tmp_path / "value").write_bytes(value)
    (tmp_path / "key.pem").write_bytes(idp[1].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    base = ["openssl", "dgst", "-sha256", "-verify", "key.pem", "-signature", "value"]
    pss_options = ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32", "-sigopt", "rsa_mgf1_md:sha256"]
    as_pss = subprocess.run(base + pss_options + ["signed-info"], cwd=tmp_path, capture_output=True, text=True)
    assert as_pss.returncode == 0 and "Verified OK" in as_pss.stdout, as_pss.stdout + as_pss.stderr
    as_pkcs1 = subprocess.run(base + ["signed-info"], cwd=tmp_path, capture_output=True, text=True)
    assert as_pkcs1.returncode != 0


def xmlsec1_verify(answer: bytes, cert: x509.Certificate, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """xmlsec1 as pysaml2 calls it (sigver.CryptoBackendXmlSec1.validate_signature)."""
    (tmp_path / "answer.xml").write_bytes(answer)
    (tmp_path / "idp.pem").write_bytes(pem(cert))
    return subprocess.run(
        ["xmlsec1", "--verify", "--enabled-reference-uris", "empty,same-doc", "--enabled-key-data", "raw-x509-cert",
         "--pubkey-cert-pem", "idp.pem", "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
         "--node-id", ASSERTION_ID, "answer.xml"],
        cwd=tmp_path, capture_output=True, text=True)


@pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="needs the xmlsec1 command")
def test_xmlsec1_cannot_verify_the_pss_answer_that_we_verify(idp, tmp_path: Path) -> None:
    """Why pss.py exists: xmlsec1 (1.2.37 on Debian 12) verifies the same answer signed with
    RSA-SHA256 but fails on the RSASSA-PSS one, which verify_pss accepts."""
    version = subprocess.run(["xmlsec1", "--version"], capture_output=True, text=True).stdout
    classic = xmlsec1_verify(signed_answer(idp, method=SignatureMethod.RSA_SHA256), idp[1], tmp_path)
    assert classic.returncode == 0, classic.stderr  # the tooling and the answer's form are right
    answer = signed_answer(idp)
    with_pss = xmlsec1_verify(answer, idp[1], tmp_path)
    if version.startswith("xmlsec1 1.2."):
        assert with_pss.returncode != 0, f"{XMLSEC1_PSS_NOTE}, yet it verified: {version}"
        assert "sha256-rsa-MGF1" in with_pss.stderr  # it fails on the algorithm, not on the answer
    assert pss.verify_pss(answer, [idp[1]]).verified_ids == (ASSERTION_ID,)


# ---------------------------------------------------------------- refusals


def test_a_tampered_attribute_value_is_refused(idp) -> None:
    answer = signed_answer(idp).replace(b">Erika<", b">Mallory<")
    with pytest.raises(pss.PssSignatureInvalid) as refused:
        pss.verify_pss(answer, [idp[1]])
    assert isinstance(refused.value, PortalError)
    assert "signature" in str(refused.value).lower()


def test_an_answer_signed_by_another_key_is_refused(idp, stranger) -> None:
    with pytest.raises(pss.PssSignatureInvalid):
        pss.verify_pss(signed_answer(stranger), [idp[1]])


def test_the_certificate_in_keyinfo_is_not_trusted(idp, stranger) -> None:
    """The stranger's answer carries the stranger's certificate; only the metadata's count."""
    answer = signed_answer(stranger)
    assert base64.b64encode(stranger[1].public_bytes(serialization.Encoding.DER))[:40] in answer
    with pytest.raises(pss.PssSignatureInvalid):
        pss.verify_pss(answer, [idp[1]])


@pytest.mark.parametrize("method", [SignatureMethod.SHA1_RSA_MGF1, SignatureMethod.SHA224_RSA_MGF1])
def test_pss_with_sha1_or_sha224_is_refused_though_valid(idp, method: SignatureMethod) -> None:
    answer = signed_answer(idp, method=method)
    with pytest.raises(pss.WeakPssAlgorithm) as refused:
        pss.verify_pss(answer, [idp[1]])
    assert method.value in str(refused.value)


def test_sha1_digest_under_a_pss_signature_is_refused(idp) -> None:
    answer = sign(response_xml(assertion_xml()), idp, digest=DigestAlgorithm.SHA1)
    with pytest.raises(pss.WeakPssAlgorithm):
        pss.verify_pss(answer, [idp[1]])


def test_pss_with_explicit_parameters_is_refused_as_unsupported(idp) -> None:
    answer = signed_answer(idp).replace(b"xmldsig-more#sha256-rsa-MGF1", b"xmldsig-more#rsa-pss")
    with pytest.raises(pss.PssError) as refused:
        pss.verify_pss(answer, [idp[1]])
    assert "rsa-pss" in str(refused.value)


def test_no_metadata_certificate_is_refused(idp) -> None:
    with pytest.raises(pss.PssError):
        pss.verify_pss(signed_answer(idp), [])


@pytest.mark.parametrize("xml", [
    b"not xml at all",
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>',
    b"",
])
def test_unreadable_or_dtd_xml_is_refused(xml: bytes, idp) -> None:
    with pytest.raises(pss.PssError):
        pss.verify_pss(xml, [idp[1]])


# ---------------------------------------------------------------- signature wrapping


def wrap(answer: bytes, evil_id: str) -> bytes:
    """The classic XSW: the signed assertion is moved out of the way (into Extensions), an
    unsigned assertion with the given ID takes its place where the SP reads."""
    root = etree.fromstring(answer)
    signed = root.find(f"{SAML}Assertion")
    evil = etree.fromstring(assertion_xml(assertion_id=evil_id, given_name="Mallory", placeholder=False))
    signed.addprevious(etree.Element(f"{SAMLP}Extensions"))
    root.find(f"{SAMLP}Extensions").append(copy.deepcopy(signed))
    root.replace(signed, evil)
    return etree.tostring(root)


def test_wrapping_with_the_same_id_is_refused(idp) -> None:
    with pytest.raises(pss.PssError) as refused:
        pss.verify_pss(wrap(signed_answer(idp), ASSERTION_ID), [idp[1]])
    assert "2 elements" in str(refused.value)


def test_wrapping_with_another_id_verifies_only_the_signed_data(idp) -> None:
    """The evil assertion (another ID, where the SP reads) is not verified; what is verified
    is the signed assertion, and its signed data says Erika."""
    result = pss.verify_pss(wrap(signed_answer(idp), "_evil"), [idp[1]])
    assert result.verified_ids == (ASSERTION_ID,)
    assert not result.is_verified("_evil")
    assert given_name_in(result.element(ASSERTION_ID).signed_xml) == "Erika"


def test_a_signature_moved_into_another_assertion_is_refused(idp) -> None:
    """The signature sits in the evil assertion but references the signed one (kept elsewhere):
    a signature must reference the element that holds it."""
    root = etree.fromstring(signed_answer(idp))
    signed = root.find(f"{SAML}Assertion")
    evil = etree.fromstring(assertion_xml(assertion_id="_evil", given_name="Mallory", placeholder=False))
    evil.find(f"{SAML}Issuer").addnext(signed.find(f"{DS}Signature"))
    signed.addprevious(etree.Element(f"{SAMLP}Extensions"))
    root.find(f"{SAMLP}Extensions").append(copy.deepcopy(signed))
    root.replace(signed, evil)
    with pytest.raises(pss.PssError) as refused:
        pss.verify_pss(etree.tostring(root), [idp[1]])
    assert "does not reference the element that holds it" in str(refused.value)


def test_a_second_reference_or_an_object_is_refused(idp) -> None:
    root = etree.fromstring(signed_answer(idp))
    signature = root.find(f"{SAML}Assertion/{DS}Signature")
    signature.append(etree.Element(f"{DS}Object"))
    with pytest.raises(pss.PssError):
        pss.verify_pss(etree.tostring(root), [idp[1]])
    root = etree.fromstring(signed_answer(idp))
    signed_info = root.find(f"{SAML}Assertion/{DS}Signature/{DS}SignedInfo")
    signed_info.append(copy.deepcopy(signed_info.find(f"{DS}Reference")))
    with pytest.raises(pss.PssError):
        pss.verify_pss(etree.tostring(root), [idp[1]])


# ---------------------------------------------------------------- inside pysaml2


def idp_metadata(cert: x509.Certificate) -> str:
    body = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    return f"""<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{IDP}">
<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="{DS_NS}"><ds:X509Data><ds:X509Certificate>{body}</ds:X509Certificate>
</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{IDP}/sso"/>
</md:IDPSSODescriptor></md:EntityDescriptor>"""


@pytest.fixture(scope="module")
def sp_files(idp, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dynamic.saml.keys import self_signed

    folder = tmp_path_factory.mktemp("pss-sp")
    key_pem, cert_pem = self_signed("PSS test SP", years=1)
    (folder / "key.pem").write_bytes(key_pem)
    (folder / "cert.pem").write_bytes(cert_pem)
    (folder / "idp.xml").write_text(idp_metadata(idp[1]), encoding="utf-8")
    return folder


@pytest.fixture
def sp_client(sp_files: Path):
    """A new pysaml2 client configured as provider.py configures ours (signed assertions
    wanted, one key pair for signing and decryption), with the test IdP's metadata."""
    from saml2 import BINDING_HTTP_POST
    from saml2.client import Saml2Client
    from saml2.config import SPConfig

    config = SPConfig()
    config.load({
        "entityid": SP, "key_file": str(sp_files / "key.pem"), "cert_file": str(sp_files / "cert.pem"),
        "encryption_keypairs": [{"key_file": str(sp_files / "key.pem"), "cert_file": str(sp_files / "cert.pem")}],
        "accepted_time_diff": 60, "allow_unknown_attributes": True,
        "metadata": {"local": [str(sp_files / "idp.xml")]},
        "service": {"sp": {"endpoints": {"assertion_consumer_service": [(ACS, BINDING_HTTP_POST)]},
                           "want_assertions_signed": True, "want_response_signed": False,
                           "allow_unsolicited": False}},
    })
    return Saml2Client(config), (sp_files / "cert.pem").read_bytes()


def encrypted_for(sp_cert_pem: bytes, signed_assertion: bytes, client, tmp_path: Path) -> str:
    """The signed assertion encrypted for the SP as an IdP does (AES-256-GCM, RSA-OAEP), with
    pysaml2's own xmlsec1 encryption."""
    from saml2.sigver import ASSERT_XPATH, pre_encryption_part

    body = "".join(line for line in sp_cert_pem.decode().splitlines() if not line.startswith("-----"))
    (tmp_path / "sp.pem").write_bytes(sp_cert_pem)
    xml = response_xml(f"<saml:EncryptedAssertion>{signed_assertion.decode()}</saml:EncryptedAssertion>").decode()
    template = pre_encryption_part(msg_enc=AES256_GCM, key_enc=RSA_OAEP, encrypt_cert=body)
    return str(client.sec.crypto.encrypt_assertion(xml, str(tmp_path / "sp.pem"), template, key_type="aes-256",
                                                   node_xpath=ASSERT_XPATH))


def signed_assertion_alone(idp, given_name: str = "Erika") -> bytes:
    signed = sign(assertion_xml(given_name=given_name).encode(), idp)
    return signed


def parse(client, xml: str | bytes):
    from saml2 import BINDING_HTTP_POST

    data = xml.encode() if isinstance(xml, str) else xml
    return client.parse_authn_request_response(base64.b64encode(data).decode(), BINDING_HTTP_POST,
                                               outstanding={REQUEST_ID: "/konto/"})


def given_name_from(response) -> str:
    return [value.text for statement in response.assertion.attribute_statement for attribute in statement.attribute
            for value in attribute.attribute_value if attribute.name == GIVEN_NAME][0]


@pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="needs the xmlsec1 command")
def test_pysaml2_alone_refuses_a_pss_answer_and_accepts_it_with_the_backend(idp, sp_client) -> None:
    client, _cert = sp_client
    answer = signed_answer(idp)
    with pytest.raises(Exception) as refused:  # noqa: B017 - pysaml2 raises SignatureError
        parse(client, answer)
    pss.install(client)
    assert isinstance(client.sec.crypto, pss.PssCryptoBackend)
    assert given_name_from(parse(client, answer)) == "Erika"
    assert "signature" in f"{type(refused.value).__name__} {refused.value}".lower()


@pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="needs the xmlsec1 command")
def test_an_encrypted_pss_signed_assertion_is_decrypted_by_pysaml2_and_verified_by_us(
        idp, sp_client, tmp_path: Path) -> None:
    client, sp_cert = sp_client
    pss.install(client)
    answer = encrypted_for(sp_cert, signed_assertion_alone(idp), client, tmp_path)
    assert "EncryptedData" in answer and "Erika" not in answer
    response = parse(client, answer)
    assert given_name_from(response) == "Erika"
    assert response.assertion.signature.signed_info.signature_method.algorithm.endswith("sha256-rsa-MGF1")


@pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="needs the xmlsec1 command")
def test_inside_pysaml2_a_tampered_or_foreign_pss_assertion_is_refused(idp, stranger, sp_client,
                                                                       tmp_path: Path) -> None:
    client, sp_cert = sp_client
    pss.install(client)
    tampered = signed_assertion_alone(idp).replace(b">Erika<", b">Mallory<")
    foreign = signed_assertion_alone(stranger)
    for assertion in (tampered, foreign):
        with pytest.raises(Exception) as refused:  # noqa: B017 - pysaml2's SignatureError
            parse(client, encrypted_for(sp_cert, assertion, client, tmp_path))
        assert "signature" in f"{type(refused.value).__name__} {refused.value}".lower()
    with pytest.raises(pss.WeakPssAlgorithm):
        parse(client, encrypted_for(sp_cert, sign(assertion_xml().encode(), idp,
                                                  method=SignatureMethod.SHA1_RSA_MGF1), client, tmp_path))


@pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="needs the xmlsec1 command")
def test_inside_pysaml2_a_pss_signed_response_over_an_rsa_sha256_assertion_is_verified(idp, sp_client) -> None:
    """Both signatures are checked, each by its own tool: the assertion's (RSA-SHA256) by
    xmlsec1 as before, the response's (PSS) by signxml."""
    client, _cert = sp_client
    pss.install(client)
    root = etree.fromstring(sign(response_xml(assertion_xml()), idp, method=SignatureMethod.RSA_SHA256))
    root.find(f"{SAML}Issuer").addnext(etree.fromstring(f'<ds:Signature xmlns:ds="{DS_NS}" Id="placeholder"/>'))
    answer = sign(etree.tostring(root), idp, element_id=RESPONSE_ID)
    response = parse(client, answer)
    assert given_name_from(response) == "Erika"
    assert response.response.signature.signed_info.signature_method.algorithm.endswith("sha256-rsa-MGF1")
    changed = etree.fromstring(answer)
    changed.set("Consent", "urn:oasis:names:tc:SAML:2.0:consent:obtained")  # outside the assertion
    tampered = etree.tostring(changed)
    with pytest.raises(Exception) as refused:  # noqa: B017 - pysaml2's SignatureError
        parse(client, tampered)
    assert "signature" in f"{type(refused.value).__name__} {refused.value}".lower()


@pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="needs the xmlsec1 command")
def test_inside_pysaml2_a_wrapped_pss_assertion_is_refused(idp, sp_client) -> None:
    client, _cert = sp_client
    pss.install(client)
    with pytest.raises(Exception) as refused:  # noqa: B017 - PssError, or pysaml2's own refusal
        parse(client, wrap(signed_answer(idp), ASSERTION_ID))
    assert "signature" in f"{type(refused.value).__name__} {refused.value}".lower()


def test_the_portals_service_provider_verifies_pss_through_the_backend(app) -> None:  # type: ignore[no-untyped-def]
    # The SP the app builds (dynamic/saml/provider.py) has the backend installed, so a
    # PSS-signed answer of BundID reaches signxml instead of failing in xmlsec1; an error of
    # the backend becomes the citizen's refusal page.
    from dynamic.saml import answer, provider

    with app.app_context():
        client = provider.service_provider(app).client
    assert isinstance(client.sec.crypto, pss.PssCryptoBackend)
    weak = answer._refusal_for(pss.WeakPssAlgorithm("sha1-rsa-MGF1"))
    forged = answer._refusal_for(pss.PssSignatureInvalid("no certificate verifies"))
    assert (weak.message, forged.message) == (answer.WEAK_SIGNATURE, answer.NOT_SIGNED)
