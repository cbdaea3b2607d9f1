"""The state login against an identity provider nobody here wrote: SimpleSAMLphp (Debian's
package) configured as BundID answers, signed and encrypted, with BundID's attribute OIDs
and STORK levels, and a test person for each level BundID issues (tests/saml_idp/).

The service provider knows SimpleSAMLphp only from the metadata SimpleSAMLphp publishes,
and SimpleSAMLphp knows the SP only from the metadata the SP publishes. The citizen's browser
is the portal's test client on the portal's side and an HTTP session on SimpleSAMLphp's.

SimpleSAMLphp does not enforce the level an AuthnRequest asks for: it answers with whatever
the person carries, which makes it the test that the SP refuses an answer below the level
it asked for. Impostors with the genuine identity provider's entity ID, but another key or
no signature at all, show that only the answer signed with the key in the metadata counts.

Where php or SimpleSAMLphp is missing the tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import padding as asymmetric_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from flask import Blueprint, Flask
from sqlalchemy import Engine, func, select

from dynamic import create_app
from dynamic.platform import auth
from dynamic.platform.db import db
from dynamic.platform.models import Account, LoginSession, ProfileValue, utcnow
from dynamic.platform.passwords import hash_password
from portal.levels import TrustLevel, means_label, state_login_label
from tests.dynamic.browserlike import Browser
from tests.dynamic.conftest import make_settings
from tests.saml_idp import INGRID, LENA, MURAT, PERSONS, Form, Options, Person, SimpleSamlPhp, missing
from tests.saml_idp.config import key_pair
from tests.saml_idp.server import forms_of
from tests.site import readable

AGAIN = "Bitte melden Sie sich noch einmal an."
NOT_SIGNED = ("Die Antwort des Servicekontos war nicht gültig signiert. Sie wurde aus Sicherheitsgründen nicht "
              "angenommen. " + AGAIN)
SP_BASE = "http://localhost"
XENC = "http://www.w3.org/2001/04/xmlenc#"


def need_simplesamlphp() -> None:
    """Skip where php or SimpleSAMLphp is not installed; in CI both must be (./dev setup)."""
    reason = missing()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"SimpleSAMLphp cannot run, but CI must run its tests: {reason}")
    pytest.skip(reason)


# ---------------------------------------------------------------- the two parties


@pytest.fixture(scope="module")
def sp_key_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The SP's key and certificate, one pair for the module: SimpleSAMLphp reads the SP's
    metadata once at its start, and every test's app must publish the same."""
    folder = tmp_path_factory.mktemp("sp-keys")
    key_pem, cert_pem = key_pair("Buergerportal SAML SP (Test mit SimpleSAMLphp)")
    (folder / "key.pem").write_bytes(key_pem)
    (folder / "cert.pem").write_bytes(cert_pem)
    return folder / "key.pem", folder / "cert.pem"


def sp_settings(sp_key_files: tuple[Path, Path], idp_metadata: Path) -> dict[str, Any]:
    """The SP as it runs in production: its own keys, the identity provider known only from
    its metadata file, no development identity provider."""
    return {"saml_sp_key": str(sp_key_files[0]), "saml_sp_cert": str(sp_key_files[1]),
            "saml_idp_metadata": str(idp_metadata), "dev_idp": False}


@pytest.fixture(scope="module")
def sp_metadata(sqlite_engine: Engine, fixture_output: Path, tmp_path_factory: pytest.TempPathFactory,
                sp_key_files: tuple[Path, Path]) -> str:
    """The metadata the SP publishes at /saml/metadata, as SimpleSAMLphp's operator would fetch it."""
    folder = tmp_path_factory.mktemp("sp-metadata")
    app = create_app(make_settings(
        database_url=sqlite_engine.url.render_as_string(hide_password=False), output_dir=fixture_output,
        var_dir=folder / "var", base_url=SP_BASE, secret_key="test-secret-key-" + "x" * 32,
        **sp_settings(sp_key_files, folder / "noch-keine-idp-metadaten.xml")))
    try:
        answer = app.test_client().get("/saml/metadata")
        assert answer.status_code == 200
        return str(answer.get_data(as_text=True))
    finally:
        app.extensions["db_engine"].dispose()


@pytest.fixture(scope="module")
def simplesamlphp(tmp_path_factory: pytest.TempPathFactory, sp_metadata: str) -> Iterator[SimpleSamlPhp]:
    need_simplesamlphp()
    folder = tmp_path_factory.mktemp("simplesamlphp")
    with SimpleSamlPhp(folder / "config", sp_metadata) as idp:
        idp.write_metadata(folder / "idp-metadata.xml")
        yield idp


@pytest.fixture(scope="module")
def impostors(tmp_path_factory: pytest.TempPathFactory, sp_metadata: str,
              simplesamlphp: SimpleSamlPhp) -> Iterator[dict[str, SimpleSamlPhp]]:
    """Two SimpleSAMLphp instances that claim the genuine one's entity ID: one signs with a key
    of its own (not in the metadata the SP trusts), the other signs nothing."""
    started: dict[str, SimpleSamlPhp] = {}
    try:
        for name, options, keys in (
                ("anderer-schluessel", Options(), key_pair("Angreifer")),
                ("unsigniert", Options(sign_assertion=False, sign_response=False), None)):
            folder = tmp_path_factory.mktemp(f"impostor-{name}")
            started[name] = SimpleSamlPhp(folder, sp_metadata, entity_id=simplesamlphp.entity_id, options=options,
                                          keys=keys).start()
        yield started
    finally:
        for idp in started.values():
            idp.stop()


@pytest.fixture
def app_settings(app_settings: dict[str, Any], sp_key_files: tuple[Path, Path],
                 simplesamlphp: SimpleSamlPhp) -> dict[str, Any]:
    return {**app_settings, **sp_settings(sp_key_files, simplesamlphp.folder.parent / "idp-metadata.xml")}


# ---------------------------------------------------------------- the citizen's way


def authn_request(browser: Browser, level: str, weiter: str = "/konto/") -> str | Form:
    """From the login page to the SP's AuthnRequest: the redirect address (HTTP-Redirect
    binding) or the form a browser would post (HTTP-POST binding)."""
    browser.get(f"/konto/anmelden?stufe={level}&weiter={weiter}")
    response = browser.client.post("/saml/login", data=browser.form("/saml/login").fields)
    if response.status_code in (302, 303):
        return str(response.headers["Location"])
    assert response.status_code == 200, response.status_code
    found = [form for form in forms_of(response.get_data(as_text=True), f"{SP_BASE}/saml/login")
             if "SAMLRequest" in form.fields]
    assert len(found) == 1, response.get_data(as_text=True)
    return found[0]


def addressed_to(request: str | Form, genuine: SimpleSamlPhp, other: SimpleSamlPhp) -> str | Form:
    """The same request, sent to `other` instead (an attacker between browser and IdP)."""
    if isinstance(request, Form):
        assert request.action.startswith(genuine.base_url + "/")
        return Form(other.base_url + request.action.removeprefix(genuine.base_url), request.method,
                    dict(request.fields))
    assert request.startswith(genuine.base_url + "/")
    return other.base_url + request.removeprefix(genuine.base_url)


def login(browser: Browser, idp: SimpleSamlPhp, level: str, person: Person, at: SimpleSamlPhp | None = None) -> Form:
    """Ask for `level`, log in at SimpleSAMLphp (or the impostor `at`) as `person`, and post
    its answer to the SP's ACS; returns the answer that was posted."""
    request = authn_request(browser, level)
    destination = request.action if isinstance(request, Form) else request
    assert destination.startswith(f"{idp.base_url}/saml2/idp/SSOService.php"), destination
    answer = (at or idp).login(request if at is None else addressed_to(request, idp, at), person)
    assert answer.action == f"{SP_BASE}/saml/acs"
    browser.post("/saml/acs", answer.fields)
    return answer


def lead(browser: Browser) -> str:
    found = re.search(r'<p class="lead">(.*?)</p>', browser.text, re.S)
    assert found, browser.text
    return found.group(1).strip()


def counts(app: Flask) -> tuple[int, int]:
    """(accounts, logins) in the database."""
    with app.app_context():
        return (db().scalar(select(func.count()).select_from(Account)) or 0,
                db().scalar(select(func.count()).select_from(LoginSession)) or 0)


def visible(browser: Browser) -> str:
    return readable.visible_text(browser.text)


# ---------------------------------------------------------------- the answers themselves


def test_simplesamlphp_answers_signed_and_encrypted_with_the_bundid_attributes(
        browser: Browser, simplesamlphp: SimpleSamlPhp, sp_key_files: tuple[Path, Path]) -> None:
    request = authn_request(browser, "hoch")
    answer = simplesamlphp.login(request, INGRID)
    xml = base64.b64decode(answer.fields["SAMLResponse"]).decode("utf-8")
    assert "<saml:Assertion" not in xml and "urn:oid:" not in xml  # nothing readable on the way
    assert re.search(r"<saml:EncryptedAssertion>\s*<xenc:EncryptedData", xml)
    assert '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>' in xml
    assertion = decrypted_assertion(xml, sp_key_files[0])
    assert '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>' in assertion
    assert '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>' in assertion
    names = set(re.findall(r'<saml:Attribute Name="([^"]+)" NameFormat="urn:oasis:names:tc:SAML:2.0:'
                           r'attrname-format:uri"', assertion))
    assert names == set(INGRID.attributes)
    assert ">STORK-QAA-Level-4</saml:AttributeValue>" in assertion
    assert f"<saml:Audience>{SP_BASE}/saml/metadata</saml:Audience>" in assertion


# ---------------------------------------------------------------- logging in, each person


def _profile(app: Flask, bpk2: str) -> tuple[Account, dict[str, ProfileValue]]:
    with app.app_context():
        account = db().scalars(select(Account).where(Account.bpk2 == bpk2)).one()
        rows = db().scalars(select(ProfileValue).where(ProfileValue.account_id == account.id)).all()
        return account, {row.field: row for row in rows}


@pytest.mark.parametrize("person", PERSONS, ids=[person.level for person in PERSONS])
def test_each_person_logs_in_at_the_level_the_answer_names(
        app: Flask, browser: Browser, simplesamlphp: SimpleSamlPhp, person: Person) -> None:
    login(browser, simplesamlphp, person.level, person)
    assert (browser.status, urlsplit(browser.url).path) == (200, "/konto/"), visible(browser)
    level = TrustLevel(person.level)
    with app.app_context():
        session = db().scalars(select(LoginSession)).one()
        assert session.level == person.level
    account, rows = _profile(app, person.bpk2)
    assert session.account_id == account.id
    assert {name: row.value for name, row in rows.items()} == person.profile()
    assert {row.verified for row in rows.values()} == {level.verified}

    text = visible(browser)
    assert text.startswith("Mein Konto Ihre Anmeldung"), text
    assert f"Angemeldet mit {means_label(session.means)} Vertrauensniveau {level.label}" in text
    assert "Servicekonto verknüpft" in text

    browser.get("/konto/daten")
    assert browser.status == 200
    text = visible(browser)
    if level.verified:  # shown as confirmed, not editable
        for name, value in person.profile().items():
            shown = _for_people(name, value)
            assert f"{shown} Bestätigt durch {level.row.source} am " in text, (name, text)
        assert _field_values(browser) == {}
    else:  # Level-1: what the citizen typed at BundID, offered for editing
        assert "Bestätigt durch" not in text
        assert _field_values(browser) == person.profile()


def _for_people(name: str, value: str) -> str:
    if name == "birthdate":
        year, month, day = value.split("-")
        return f"{day}.{month}.{year}"
    return value


def _field_values(browser: Browser) -> dict[str, str]:
    """The profile fields the page offers filled in, by name."""
    fields = browser.form("/konto/daten").fields
    names = {"given_name", "family_name", "birth_name", "place_of_birth", "nationality", "street", "postal_code",
             "city", "country"}
    found = {name: fields[name] for name in names if fields.get(name)}
    if fields.get("birthdate-year"):
        found["birthdate"] = f"{fields['birthdate-year']}-{fields['birthdate-month']:0>2}-{fields['birthdate-day']:0>2}"
    return found


def test_the_same_person_comes_back_to_the_same_account(app: Flask, simplesamlphp: SimpleSamlPhp) -> None:
    first, second = Browser(app.test_client()), Browser(app.test_client())
    login(first, simplesamlphp, "substantiell", MURAT)
    login(second, simplesamlphp, "basis", MURAT)
    assert urlsplit(second.url).path == "/konto/"
    assert counts(app) == (1, 2)


def test_step_up_from_the_portal_account_to_hoch_at_simplesamlphp(
        app: Flask, browser: Browser, simplesamlphp: SimpleSamlPhp) -> None:
    """Logged in with e-mail and password (basis), a page that needs hoch sends the citizen to
    the state login and back; the state account is linked to the portal account."""
    pages = Blueprint("stufe_simplesamlphp", __name__)

    @pages.get("/test-antrag/")
    @auth.require_level("hoch")
    def antrag() -> str:
        return "Antrag mit Vertrauensniveau hoch"

    app.register_blueprint(pages)
    with app.app_context():
        account = Account(email="ingrid.test@example.org", password_hash=hash_password("ein langes Passwort 42"),
                          email_confirmed_at=utcnow())
        db().add(account)
        db().commit()
        account_id = account.id
    browser.get("/konto/anmelden")
    browser.submit("/konto/anmelden", email="ingrid.test@example.org", passwort="ein langes Passwort 42")
    browser.get("/test-antrag/")
    where = urlsplit(browser.url)
    assert (where.path, parse_qs(where.query)) == ("/konto/anmelden", {"stufe": ["hoch"], "weiter": ["/test-antrag/"]})
    request = authn_request(browser, "hoch", weiter="/test-antrag/")
    answer = simplesamlphp.login(request, INGRID)
    browser.post("/saml/acs", answer.fields)
    assert (browser.url, browser.text) == (f"{SP_BASE}/test-antrag/", "Antrag mit Vertrauensniveau hoch")
    with app.app_context():
        login_row = db().scalars(select(LoginSession)).one()
        assert (login_row.account_id, login_row.level, login_row.fallback_level) == (account_id, "hoch", "basis")
    linked, rows = _profile(app, INGRID.bpk2)
    assert linked.id == account_id and linked.email == "ingrid.test@example.org"
    assert rows["family_name"].value == "Örtstedt" and rows["family_name"].verified


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(("asked", "person"), [("hoch", LENA), ("hoch", MURAT), ("substantiell", LENA)],
                         ids=["hoch-level-1", "hoch-level-3", "substantiell-level-1"])
def test_an_answer_below_the_level_asked_for_is_refused(
        app: Flask, browser: Browser, simplesamlphp: SimpleSamlPhp, asked: str, person: Person) -> None:
    """SimpleSAMLphp logs the person in whatever the request asked for; the SP must not."""
    login(browser, simplesamlphp, asked, person)
    assert browser.status == 403
    reached, needed = TrustLevel(person.level), TrustLevel(asked)
    assert "<title>Vertrauensniveau nicht ausreichend" in browser.text
    assert lead(browser) == (f"Sie haben sich mit „{state_login_label(reached)}“ angemeldet. Für diesen Schritt brauchen Sie "
                             f"„{needed.label}“. {needed.row.how_to_reach}")
    assert counts(app) == (0, 0)
    browser.get("/konto/")
    assert urlsplit(browser.url).path == "/konto/anmelden"  # not logged in


@pytest.mark.parametrize("impostor", ["anderer-schluessel", "unsigniert"])
def test_an_answer_not_signed_with_the_key_in_the_metadata_is_refused(
        app: Flask, browser: Browser, simplesamlphp: SimpleSamlPhp, impostors: dict[str, SimpleSamlPhp],
        impostor: str, sp_key_files: tuple[Path, Path]) -> None:
    answer = login(browser, simplesamlphp, "hoch", INGRID, at=impostors[impostor])
    assert (browser.status, lead(browser)) == (400, NOT_SIGNED)
    assert counts(app) == (0, 0)
    # What the impostor sent: the genuine issuer, encrypted for us, signed otherwise or not at all.
    xml = base64.b64decode(answer.fields["SAMLResponse"]).decode("utf-8")
    assertion = decrypted_assertion(xml, sp_key_files[0])
    assert f"<saml:Issuer>{simplesamlphp.entity_id}</saml:Issuer>" in assertion
    signed_with = re.findall(r"<ds:X509Certificate>([^<]+)</ds:X509Certificate>", xml + assertion)
    if impostor == "unsigniert":
        assert "<ds:Signature" not in xml + assertion
    else:
        genuine = _base64_body(simplesamlphp.keys[1])
        assert len(signed_with) == 2 and genuine not in signed_with


def _base64_body(pem: bytes) -> str:
    return "".join(line for line in pem.decode("ascii").splitlines() if not line.startswith("-----"))


def test_an_answer_changed_after_signing_is_refused(
        app: Flask, simplesamlphp: SimpleSamlPhp, sp_key_files: tuple[Path, Path]) -> None:
    """Lena's Level-1 answer, decrypted, raised to Level-4 and encrypted again for the SP (as
    anyone holding the SP's certificate can): the assertion's signature no longer fits. The
    same answer re-encrypted unchanged is accepted, so the change is what was refused."""
    for raise_level, browser in ((True, Browser(app.test_client())), (False, Browser(app.test_client()))):
        request = authn_request(browser, "basis" if not raise_level else "hoch")
        answer = simplesamlphp.login(request, LENA)
        xml = base64.b64decode(answer.fields["SAMLResponse"]).decode("utf-8")
        assertion = decrypted_assertion(xml, sp_key_files[0])
        if raise_level:
            assert assertion.count(">STORK-QAA-Level-1<") == 1
            assertion = assertion.replace(">STORK-QAA-Level-1<", ">STORK-QAA-Level-4<")
        changed = reencrypted(xml, assertion, sp_key_files[1])
        browser.post("/saml/acs", {**answer.fields, "SAMLResponse": base64.b64encode(changed.encode()).decode()})
        if raise_level:
            assert (browser.status, lead(browser)) == (400, NOT_SIGNED)
            assert counts(app) == (0, 0)
        else:
            assert urlsplit(browser.url).path == "/konto/"
            assert counts(app) == (1, 1)


# ---------------------------------------------------------------- XML encryption, as far as the tests need it


def decrypted_assertion(response_xml: str, sp_key_file: Path) -> str:
    """The assertion inside the answer's EncryptedAssertion, decrypted with the SP's key
    (RSA-OAEP key transport, AES-CBC content: what SimpleSAMLphp sends)."""
    assert 'Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"' in response_xml
    assert 'Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"' in response_xml
    key_value, data_value = re.findall(r"<xenc:CipherValue>([^<]+)</xenc:CipherValue>", response_xml)
    private_key = load_pem_private_key(sp_key_file.read_bytes(), password=None)
    session_key = private_key.decrypt(base64.b64decode(key_value), _OAEP)  # type: ignore[union-attr]
    data = base64.b64decode(data_value)
    decryptor = Cipher(algorithms.AES(session_key), modes.CBC(data[:16])).decryptor()
    plain = decryptor.update(data[16:]) + decryptor.finalize()
    return plain[:-plain[-1]].decode("utf-8")  # XML encryption's padding: its length in the last byte


_OAEP = asymmetric_padding.OAEP(mgf=asymmetric_padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


def reencrypted(response_xml: str, assertion: str, sp_cert_file: Path) -> str:
    """The answer with `assertion` encrypted anew for the SP in place of the old one, and the
    Response's own signature left out (the SP asks only for signed assertions), so that the
    assertion's signature is the only one that can refuse it."""
    certificate = x509.load_pem_x509_certificate(sp_cert_file.read_bytes())
    session_key = os.urandom(16)
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(session_key), modes.CBC(iv)).encryptor()
    data = iv + encryptor.update(padder.update(assertion.encode("utf-8")) + padder.finalize()) + encryptor.finalize()
    wrapped = certificate.public_key().encrypt(session_key, _OAEP)  # type: ignore[union-attr]
    encrypted = (
        f'<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc="{XENC}" Type="{XENC}Element">'
        f'<xenc:EncryptionMethod Algorithm="{XENC}aes128-cbc"/>'
        '<dsig:KeyInfo xmlns:dsig="http://www.w3.org/2000/09/xmldsig#">'
        f'<xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="{XENC}rsa-oaep-mgf1p"/>'
        f"<xenc:CipherData><xenc:CipherValue>{base64.b64encode(wrapped).decode()}</xenc:CipherValue>"
        "</xenc:CipherData></xenc:EncryptedKey></dsig:KeyInfo>"
        f"<xenc:CipherData><xenc:CipherValue>{base64.b64encode(data).decode()}</xenc:CipherValue></xenc:CipherData>"
        "</xenc:EncryptedData></saml:EncryptedAssertion>")
    changed, replaced = re.subn(r"<saml:EncryptedAssertion>.*</saml:EncryptedAssertion>", lambda _: encrypted,
                                response_xml, flags=re.S)
    assert replaced == 1
    changed, removed = re.subn(r"<ds:Signature .*?</ds:Signature>", "", changed, count=1, flags=re.S)
    assert removed == 1
    return changed
