"""RSASSA-PSS signatures on the identity provider's answers, verified with signxml.

BundID announced RSASSA-PSS signatures (issue 18, DOMAIN.md). pysaml2 verifies signatures by
calling xmlsec1, and xmlsec1 1.2.37 (Debian 12) knows no PSS, so it fails on every such answer.
This module verifies them with signxml (pure Python over `cryptography`), against the
identity provider's signing certificates from its metadata only, under the SAML signature
profile (SAML core 5.4): one enveloped signature per element, its one reference naming the
element that holds it, exclusive canonicalisation, no <ds:Object>.

Two ways in:
- `PssCryptoBackend`, pysaml2's xmlsec1 backend that hands PSS signatures to signxml and all
  others to xmlsec1 as before; `install(client)` puts it into a Saml2Client. pysaml2 calls
  it for each signed element after decrypting, so it covers encrypted assertions too.
- `verify_pss(xml, certs)` for a document at hand (e.g. the Response before pysaml2): which
  elements carry a valid PSS signature, with the data the signature covers.

Signature wrapping: an element counts as verified only if exactly one element in the document
carries its ID, the signature is a child of that element and references exactly that ID, so
the element a reader finds by that ID is the one that was signed; `verify_pss` also returns
signxml's signed data (canonicalised, parsed again), which is what a caller should read.

Certificates are used as keys, as pysaml2 uses them with xmlsec1: trust comes from the
metadata file, not from the certificate's dates or issuer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from cryptography import x509
from lxml import etree
from saml2.sigver import CryptoBackendXmlSec1
from signxml import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature, XMLVerifier
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from signxml.verifier import SignatureConfiguration, VerifyResult

from portal.errors import PortalError

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
DS = f"{{{DS_NS}}}"
SAML_ASSERTION = "{urn:oasis:names:tc:SAML:2.0:assertion}Assertion"
SAML_PROTOCOL = "{urn:oasis:names:tc:SAML:2.0:protocol}"

# RSASSA-PSS with MGF1 over the same hash and a salt as long as the hash (RFC 9231 2.3.10
# and 2.3.11, formerly RFC 6931): accepted from SHA-256 on.
STRONG_PSS_METHODS: dict[str, SignatureMethod] = {method.value: method for method in (
    SignatureMethod.SHA256_RSA_MGF1, SignatureMethod.SHA384_RSA_MGF1, SignatureMethod.SHA512_RSA_MGF1,
    SignatureMethod.SHA3_256_RSA_MGF1, SignatureMethod.SHA3_384_RSA_MGF1, SignatureMethod.SHA3_512_RSA_MGF1)}
# Also PSS, but refused: SHA-1 (collisions are practical) and the 224-bit hashes (below the
# 128-bit security BSI TR-02102-1 asks for).
WEAK_PSS_METHODS = frozenset(method.value for method in (
    SignatureMethod.SHA1_RSA_MGF1, SignatureMethod.SHA224_RSA_MGF1, SignatureMethod.SHA3_224_RSA_MGF1))
# RSASSA-PSS with explicit parameters (RFC 9231 2.3.10, <pss:RSAPSSParams>); signxml does not
# read the parameters, so it is refused by name rather than verified with guessed ones.
PSS_WITH_PARAMETERS = "http://www.w3.org/2007/05/xmldsig-more#rsa-pss"
STRONG_DIGESTS: dict[str, DigestAlgorithm] = {digest.value: digest for digest in (
    DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512,
    DigestAlgorithm.SHA3_256, DigestAlgorithm.SHA3_384, DigestAlgorithm.SHA3_512)}

EXC_C14N = ("http://www.w3.org/2001/10/xml-exc-c14n#", "http://www.w3.org/2001/10/xml-exc-c14n#WithComments")
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
ALLOWED_TRANSFORMS = frozenset({ENVELOPED, *EXC_C14N})

# xs:ID is an NCName; anything else cannot be a SAML ID (and must not reach an XPath).
NCNAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
ID_ATTRIBUTES = frozenset({"ID", "Id", "id"})
MAX_DOCUMENT_BYTES = 1024 * 1024


class PssError(PortalError):
    """An RSASSA-PSS signature, or the document around it, that we do not accept. The message
    names the reason for the log (never any personal data) and contains the word "signature",
    so that dynamic/saml/answer.py's mapping of pysaml2's errors refuses it as not signed."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"RSASSA-PSS signature refused: {reason}")
        self.reason = reason


class WeakPssAlgorithm(PssError):
    """PSS over SHA-1 or SHA-224, or a digest outside SHA-2/SHA-3 256 and above."""


class PssSignatureInvalid(PssError):
    """Well-formed, but no metadata certificate verifies it, or the signed data was changed."""


@dataclass(frozen=True)
class VerifiedElement:
    id: str
    tag: str  # Clark notation, e.g. {urn:oasis:names:tc:SAML:2.0:assertion}Assertion
    signature_method: str
    signed_data: bytes  # the canonical bytes the digest covers (the element without its signature)
    signed_xml: Any  # lxml element parsed from signed_data: read this, not the received tree
    certificate: x509.Certificate  # the metadata certificate that verified it


@dataclass(frozen=True)
class PssResult:
    verified: tuple[VerifiedElement, ...]
    other_signatures: tuple[str, ...]  # IDs of elements signed otherwise (pysaml2 and xmlsec1 check them)

    @property
    def verified_ids(self) -> tuple[str, ...]:
        return tuple(element.id for element in self.verified)

    def is_verified(self, element_id: str) -> bool:
        return element_id in self.verified_ids

    def element(self, element_id: str) -> VerifiedElement:
        for element in self.verified:
            if element.id == element_id:
                return element
        raise KeyError(element_id)


def is_pss(method: str | None) -> bool:
    """Whether a SignatureMethod URI names RSASSA-PSS (strong, weak or with parameters)."""
    return method is not None and (method in STRONG_PSS_METHODS or method in WEAK_PSS_METHODS
                                   or method == PSS_WITH_PARAMETERS)


def verify_pss(xml: bytes | str, idp_certs: Sequence[x509.Certificate]) -> PssResult:
    """Verify every RSASSA-PSS signature in a SAML document (a Response with its assertions)
    against the identity provider's signing certificates; raise PssError for anything wrong.

    Only signatures held by a samlp:Response or saml:Assertion are accepted. Elements signed
    with another algorithm are listed in `other_signatures` and not judged here. An encrypted
    assertion's signature is inside its encryption and is not seen: pysaml2 decrypts and then
    verifies it through PssCryptoBackend."""
    if not idp_certs:
        raise PssError("no signing certificate of the identity provider")
    root = _parse(xml)
    verified: list[VerifiedElement] = []
    others: list[str] = []
    for signature in root.iter(f"{DS}Signature"):
        holder = signature.getparent()
        method = _signature_method(signature)
        if not is_pss(method):
            others.append(str(holder.get("ID")) if holder is not None else "")
            continue
        if holder is None or not (holder.tag == SAML_ASSERTION or holder.tag == f"{SAML_PROTOCOL}Response"):
            raise PssError(f"signature held by {getattr(holder, 'tag', None)!r}, not a Response or Assertion")
        verified.append(verify_element(root, holder, idp_certs))
    return PssResult(tuple(verified), tuple(others))


def verify_element(root: Any, element: Any, certs: Sequence[x509.Certificate]) -> VerifiedElement:
    """Verify the one enveloped RSASSA-PSS signature of `element` (in the document `root`)
    with the first of `certs` that fits."""
    element_id = _unique_id(root, element)
    signature = _checked_signature(element, element_id)
    method = _signature_method(signature) or ""
    digest = signature.find(f"{DS}SignedInfo/{DS}Reference/{DS}DigestMethod").get("Algorithm")
    config = SignatureConfiguration(
        location=_path_to(root, element), expect_references=1,
        signature_methods=frozenset({STRONG_PSS_METHODS[method]}),
        digest_algorithms=frozenset({STRONG_DIGESTS[digest]}))
    failures: list[str] = []
    for cert in certs:
        try:
            result = XMLVerifier().verify(
                root, x509_cert=cert, id_attribute="ID",
                expect_config=_within_validity(config, cert))
        except (InvalidSignature, InvalidDigest, InvalidCertificate) as error:
            failures.append(type(error).__name__)
            continue
        except InvalidInput as error:
            raise PssError(f"malformed signature on {element_id}: {str(error)[:200]}") from error
        except etree.LxmlError as error:
            raise PssError(f"unreadable signature on {element_id}: {type(error).__name__}") from error
        if not isinstance(result, VerifyResult):
            raise PssError(f"more than one reference verified on {element_id}")
        signed = result.signed_xml
        if signed is None or signed.tag != element.tag or signed.get("ID") != element_id:
            raise PssError(f"the signed data of {element_id} is not the element that holds the signature")
        return VerifiedElement(element_id, element.tag, method, result.signed_data, signed, cert)
    raise PssSignatureInvalid(f"no metadata certificate verifies the signature on {element_id} "
                              f"({', '.join(failures)})")


class PssCryptoBackend(CryptoBackendXmlSec1):
    """pysaml2's xmlsec1 backend, except that an element signed with RSASSA-PSS is verified
    with signxml. pysaml2 calls validate_signature once per signed element (Response,
    Assertion, after decryption) and certificate from the metadata; a signature that this
    certificate does not verify returns False (pysaml2 tries the next one), anything
    malformed or weak raises PssError."""

    def validate_signature(self, signedtext: str | bytes, cert_file: str, cert_type: str, node_name: str,
                           node_id: str | None) -> bool:
        root = _parse(signedtext)
        holders = [holder for holder in (_elements_with_id(root, node_id) if node_id else [])
                   if any(is_pss(_signature_method(signature)) for signature in holder.findall(f"{DS}Signature"))]
        if not holders:  # no PSS signature on this element: xmlsec1, as before
            result: bool = super().validate_signature(signedtext, cert_file, cert_type, node_name, node_id)
            return result
        element = holders[0]  # verify_element refuses an ID that more than one element carries
        namespace, _, local = node_name.rpartition(":")
        if element.tag != f"{{{namespace}}}{local}":
            raise PssError(f"{node_id} is a {element.tag}, not the {node_name} pysaml2 verifies")
        try:
            verify_element(root, element, [_certificate(cert_file, cert_type)])
        except PssSignatureInvalid:
            return False
        return True


def install(client: Any) -> None:
    """Make a pysaml2 client (Saml2Client) verify RSASSA-PSS: its security context's xmlsec1
    backend becomes a PssCryptoBackend with the same xmlsec1 binary and settings."""
    current = client.sec.crypto
    if isinstance(current, PssCryptoBackend):
        return
    if not isinstance(current, CryptoBackendXmlSec1):
        raise PssError(f"pysaml2 uses {type(current).__name__}, not the xmlsec1 backend this extends")
    client.sec.crypto = PssCryptoBackend(current.xmlsec, delete_tmpfiles=current.delete_tmpfiles)


# ---------------------------------------------------------------- helpers


def _parse(xml: bytes | str) -> Any:
    """The document, parsed without DTDs, entities or network; refused if it has any."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    if not data or len(data) > MAX_DOCUMENT_BYTES:
        raise PssError(f"document of {len(data)} bytes")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=False, remove_pis=False)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.LxmlError as error:
        raise PssError(f"unreadable XML ({type(error).__name__})") from error
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        raise PssError("document with a DTD")
    return root


def _signature_method(signature: Any) -> str | None:
    method = signature.find(f"{DS}SignedInfo/{DS}SignatureMethod")
    return None if method is None else method.get("Algorithm")


def _elements_with_id(root: Any, element_id: str) -> list[Any]:
    return [element for element in root.iter(etree.Element)
            if any(etree.QName(name).localname in ID_ATTRIBUTES and value == element_id
                   for name, value in element.attrib.items())]


def _unique_id(root: Any, element: Any) -> str:
    element_id = element.get("ID")
    if not element_id or not NCNAME.fullmatch(element_id):
        raise PssError(f"signed {etree.QName(element).localname} without a valid ID")
    holders = _elements_with_id(root, element_id)
    if holders != [element]:
        raise PssError(f"ID {element_id} is carried by {len(holders)} elements, not one")
    return str(element_id)


def _checked_signature(element: Any, element_id: str) -> Any:
    """The element's one signature, in the form the SAML signature profile allows."""
    signatures = element.findall(f"{DS}Signature")
    if len(signatures) != 1:
        raise PssError(f"{len(signatures)} signatures on {element_id}, not one")
    signature = signatures[0]
    if signature.find(f".//{DS}Object") is not None:
        raise PssError(f"ds:Object in the signature on {element_id}")
    signed_info = signature.find(f"{DS}SignedInfo")
    if signed_info is None:
        raise PssError(f"no SignedInfo in the signature on {element_id}")
    method = _signature_method(signature)
    if method in WEAK_PSS_METHODS:
        raise WeakPssAlgorithm(f"weak signature method {method} on {element_id}")
    if method == PSS_WITH_PARAMETERS:
        raise PssError(f"signature method {method} (RSASSA-PSS with explicit parameters) is not supported")
    if method not in STRONG_PSS_METHODS:
        raise PssError(f"signature method {str(method)[:120]} on {element_id} is not RSASSA-PSS")
    c14n = signed_info.find(f"{DS}CanonicalizationMethod")
    if c14n is None or c14n.get("Algorithm") not in EXC_C14N:
        raise PssError(f"canonicalisation of the signature on {element_id} is not exclusive c14n")
    references = signed_info.findall(f"{DS}Reference")
    if len(references) != 1:
        raise PssError(f"{len(references)} references in the signature on {element_id}, not one")
    if references[0].get("URI") != f"#{element_id}":
        raise PssError(f"the signature on {element_id} does not reference the element that holds it")
    transforms = [transform.get("Algorithm") for transform in references[0].findall(f"{DS}Transforms/{DS}Transform")]
    if ENVELOPED not in transforms or not set(transforms) <= ALLOWED_TRANSFORMS or len(transforms) > 2:
        raise PssError(f"transforms {transforms} on {element_id} are not enveloped and exclusive c14n")
    digest_method = references[0].find(f"{DS}DigestMethod")
    digest = digest_method.get("Algorithm") if digest_method is not None else None
    if digest not in STRONG_DIGESTS:
        raise WeakPssAlgorithm(f"weak or unknown digest method {str(digest)[:120]} on {element_id}")
    return signature


def _path_to(root: Any, element: Any) -> str:
    """An ElementPath from the root to `element`, ending in "/" as signxml's `location`
    expects, with positions so that it names this element and no other."""
    steps: list[str] = []
    node = element
    while node is not root:
        parent = node.getparent()
        if parent is None:
            raise PssError("signed element outside the document")
        same = [child for child in parent if child.tag == node.tag]
        steps.append(f"{node.tag}[{same.index(node) + 1}]")
        node = parent
    return "./" + "".join(f"{step}/" for step in reversed(steps))


def _within_validity(config: SignatureConfiguration, cert: x509.Certificate) -> SignatureConfiguration:
    """signxml checks a given certificate's dates; xmlsec1 with a metadata key does not, and an
    identity provider's metadata certificate is often self-signed and past its date. The
    check is made at a moment inside the certificate's validity, so it never decides."""
    return replace(config, verification_time=cert.not_valid_before_utc)


def _certificate(cert_file: str, cert_type: str) -> x509.Certificate:
    with open(cert_file, "rb") as source:
        data = source.read()
    try:
        return x509.load_der_x509_certificate(data) if cert_type == "der" else x509.load_pem_x509_certificate(data)
    except ValueError as error:
        raise PssError(f"metadata certificate {cert_file} unreadable") from error
