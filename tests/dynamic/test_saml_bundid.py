"""The state login as the federal account (BundID) speaks it: the request extension with the
allowed login means and the attributes asked for (read here with ElementTree, not with the
builder that wrote it), the levels BundID issues, the interface version of its answers."""

from __future__ import annotations

import base64
import dataclasses
import re
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
from flask import Flask
from saml2.xmldsig import DIGEST_SHA1, SIG_RSA_SHA1
from sqlalchemy import func, select

from dynamic import create_app
from dynamic.platform.db import db
from dynamic.platform.models import Account, LoginSession
from dynamic.saml import attributes, dev_idp, policy
from dynamic.saml.keys import SamlSetupError, self_signed
from dynamic.saml.provider import service_provider
from tests.dynamic.browserlike import Browser
from tests.dynamic.conftest import make_settings

SAMLP = "{urn:oasis:names:tc:SAML:2.0:protocol}"
AKDB = "{https://www.akdb.de/request/2018/09}"

BPK2 = "urn:oid:1.3.6.1.4.1.25484.494450.3"
QAA_LEVEL = "urn:oid:1.2.40.0.10.2.1.1.261.94"
VERSION = "urn:oid:1.3.6.1.4.1.25484.494450.1"
TECHNICAL = {(BPK2, "true"), (QAA_LEVEL, "true"), (VERSION, "true")}
GIVEN_NAME, SURNAME = "urn:oid:2.5.4.42", "urn:oid:2.5.4.4"
BIRTHDATE = "urn:oid:1.2.40.0.10.2.1.1.55"
STREET, POSTAL_CODE, LOCALITY = "urn:oid:2.5.4.16", "urn:oid:2.5.4.17", "urn:oid:2.5.4.7"
MAIL = "urn:oid:0.9.2342.19200300.100.1.3"

ERIKA = dev_idp.persona("erika")


def sent_request(browser: Browser, level: str, weiter: str) -> ElementTree.Element:
    """The AuthnRequest the login page's button sends, as the identity provider receives it,
    by either binding."""
    browser.get(f"/konto/anmelden?stufe={level}&weiter={weiter}")
    response = browser.client.post("/saml/login", data=browser.form("/saml/login").fields)
    if response.status_code == 303:  # HTTP-Redirect: deflated, in the query
        query = parse_qs(urlsplit(response.headers["Location"]).query)
        xml = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15)
    else:  # HTTP-POST: base64 in a form field
        assert response.status_code == 200
        found = re.search(r'name="SAMLRequest" value="([^"]+)"', response.get_data(as_text=True))
        assert found
        xml = base64.b64decode(found.group(1))
    root = ElementTree.fromstring(xml)
    assert root.tag == f"{SAMLP}AuthnRequest"
    return root


def akdb_request(root: ElementTree.Element) -> ElementTree.Element:
    extensions = root.findall(f"{SAMLP}Extensions")
    assert len(extensions) == 1
    found = extensions[0].findall(f"{AKDB}AuthenticationRequest")
    assert len(found) == 1 and len(extensions[0]) == 1
    assert found[0].get("Version") == "2"
    return found[0]


def enabled_means(request: ElementTree.Element) -> dict[str, str]:
    methods = request.find(f"{AKDB}AuthnMethods")
    assert methods is not None
    return {child.tag.removeprefix(AKDB): child.findtext(f"{AKDB}Enabled") or "" for child in methods}


def asked_attributes(request: ElementTree.Element) -> set[tuple[str, str]]:
    listed = request.find(f"{AKDB}RequestedAttributes")
    assert listed is not None
    assert {child.tag for child in listed} == {f"{AKDB}RequestedAttribute"}
    pairs = [(child.get("Name") or "", child.get("RequiredAttribute") or "") for child in listed]
    assert len(pairs) == len(set(pairs))
    return set(pairs)


# ---------------------------------------------------------------- the request extension


@pytest.mark.parametrize(("level", "means"), [
    ("basis", {"Benutzername": "true", "Elster": "true", "eID": "true"}),
    ("substantiell", {"Benutzername": "false", "Elster": "true", "eID": "true"}),
    ("hoch", {"Benutzername": "false", "Elster": "false", "eID": "true"}),
])
def test_every_request_names_the_login_means_that_reach_its_level(
        browser: Browser, level: str, means: dict[str, str]) -> None:
    request = akdb_request(sent_request(browser, level, "/konto/"))
    assert enabled_means(request) == means
    assert [child.tag for child in request] == [f"{AKDB}AuthnMethods", f"{AKDB}RequestedAttributes"]


def test_a_login_for_my_account_asks_for_the_name_only(browser: Browser) -> None:
    request = akdb_request(sent_request(browser, "hoch", "/konto/daten"))
    assert asked_attributes(request) == TECHNICAL | {(GIVEN_NAME, "false"), (SURNAME, "false")}


def test_a_login_for_a_form_asks_for_what_the_form_prefills(browser: Browser) -> None:
    """The test form prefills given name, family name, birth date, the address, the e-mail
    address and a phone number (which the state account does not hold)."""
    request = akdb_request(sent_request(browser, "substantiell", "/stadt/antrag/meldebescheinigung/?schritt=2"))
    assert asked_attributes(request) == TECHNICAL | {
        (GIVEN_NAME, "false"), (SURNAME, "false"), (BIRTHDATE, "false"), (STREET, "false"),
        (POSTAL_CODE, "false"), (LOCALITY, "false"), (MAIL, "false")}


@pytest.mark.parametrize("weiter", ["/stadt/antrag/gibt-es-nicht/", "/unbekannt/antrag/meldebescheinigung/",
                                    "/stadt/termine/", "https://angreifer.example/stadt/antrag/meldebescheinigung/"])
def test_a_login_for_anything_else_asks_for_the_default_set(browser: Browser, weiter: str) -> None:
    request = akdb_request(sent_request(browser, "hoch", weiter))
    assert asked_attributes(request) == TECHNICAL | {(GIVEN_NAME, "false"), (SURNAME, "false")}


# ---------------------------------------------------------------- levels as BundID issues them


def _login(app: Flask, browser: Browser, asked: str, **changes: Any) -> None:
    """Start a login at `asked` and answer it with an answer of the development IdP (at
    `hoch`, unless `changes` say otherwise)."""
    browser.get(f"/konto/anmelden?stufe={asked}&weiter=/konto/")
    browser.submit("/saml/login")
    with browser.client.session_transaction() as cookie_session:
        request_id = str(cookie_session["saml_request"])
    with app.app_context():
        answer = dev_idp.answer_to(app, request_id, ERIKA, "hoch")
        encoded = dev_idp.build_response(app, dataclasses.replace(answer, **changes))
    browser.post("/saml/acs", {"SAMLResponse": encoded})


def _login_rows(app: Flask) -> list[tuple[str, str]]:
    with app.app_context():
        return [(row.level, row.means) for row in db().scalars(select(LoginSession))]


def test_the_development_idp_answers_a_password_login_with_level_1(app: Flask, browser: Browser) -> None:
    assert dev_idp.LOGIN_MEANS["passwort"].level == "basis"
    with app.app_context():
        answer = dev_idp.answer_to(app, "_x", ERIKA, dev_idp.LOGIN_MEANS["passwort"].level)
    assert dev_idp._attribute_values(answer)[attributes.QAA_LEVEL] == "STORK-QAA-Level-1"
    _login(app, browser, "basis", level="basis")
    assert _login_rows(app) == [("basis", "passwort")]


def test_level_2_of_another_identity_provider_is_niedrig(app: Flask, browser: Browser) -> None:
    _login(app, browser, "basis", qaa_level="STORK-QAA-Level-2")
    assert _login_rows(app) == [("niedrig", "anderer-dienst")]  # not BundID's username and password


# ---------------------------------------------------------------- the interface version

VERSION_REFUSED = ("Das Servicekonto hat mit einer Version seiner Schnittstelle geantwortet, die das Bürgerportal "
                   "nicht kennt. Bitte versuchen Sie es später noch einmal.")


@pytest.mark.parametrize("changes", [
    pytest.param({"leave_out": (attributes.INTERFACE_VERSION,)}, id="missing"),
    pytest.param({"interface_version": "1.0"}, id="unsupported"),
    pytest.param({"interface_version": ""}, id="empty"),
])
def test_an_answer_without_a_supported_interface_version_is_refused(
        app: Flask, browser: Browser, changes: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO"):
        _login(app, browser, "hoch", **changes)
    assert browser.status == 400
    assert "<title>Anmeldung nicht möglich" in browser.text
    found = re.search(r'<p class="lead">(.*?)</p>', browser.text, re.S)
    assert found and found.group(1).strip() == VERSION_REFUSED
    with app.app_context():
        assert db().scalar(select(func.count()).select_from(Account)) == 0
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "interface version" in logged
    for personal in (ERIKA.bpk2, "Erika", "Mustermann", "Heidestraße"):
        assert personal not in logged


def test_an_answer_of_interface_version_2_is_taken(app: Flask, browser: Browser) -> None:
    _login(app, browser, "hoch", interface_version="2.3")
    assert _login_rows(app) == [("hoch", "eid")]


# ---------------------------------------------------------------- production rules, at start


def _production(app: Flask, app_settings: dict[str, Any], tmp_path: Path, **overrides: Any) -> Any:
    """Production settings as an operator sets them (the IdP's metadata file, own key files)."""
    metadata = tmp_path / "idp-metadata.xml"
    metadata.write_text(dev_idp.idp_metadata_xml(app), encoding="utf-8")
    key, cert = self_signed("portal.example")
    (tmp_path / "sp.key").write_bytes(key)
    (tmp_path / "sp.crt").write_bytes(cert)
    return make_settings(**{**app_settings, "env": "production", "dev_idp": False,
                            "base_url": "https://portal.example", "secret_key": "p" * 40,
                            "saml_idp_metadata": str(metadata), "saml_sp_key": str(tmp_path / "sp.key"),
                            "saml_sp_cert": str(tmp_path / "sp.crt"), **overrides})


def _refused_at_start(settings: Any) -> str:
    with pytest.raises(SamlSetupError) as raised:
        create_app(settings)
    return str(raised.value)


@pytest.mark.parametrize("overrides", [
    {"saml_sp_entity_id": "https://portal.example:8443/saml/metadata"},
    {"saml_sp_entity_id": "https://portal.example:443/saml/metadata"},
    {"saml_sp_entity_id": "http://portal.example/saml/metadata"},
    {"saml_sp_entity_id": "urn:de:buergerportal"},
    {"base_url": "https://portal.example:8443"},  # the default entity ID follows the base URL
])
def test_production_refuses_an_entity_id_that_is_not_https_without_a_port(
        app: Flask, app_settings: dict[str, Any], tmp_path: Path, overrides: dict[str, str]) -> None:
    message = _refused_at_start(_production(app, app_settings, tmp_path, **overrides))
    assert message.startswith("SAML_SP_ENTITY_ID must be an https:// address without a port in production, not ")
    assert "never change it after go-live" in message


def test_production_starts_with_an_https_entity_id_and_refuses_plain_assertions(
        app: Flask, app_settings: dict[str, Any], tmp_path: Path) -> None:
    production = create_app(_production(app, app_settings, tmp_path,
                                        saml_sp_entity_id="https://portal.example/saml/metadata"))
    try:
        with production.app_context():
            assert service_provider(production).policy.unencrypted_assertions is False
    finally:
        production.extensions["db_engine"].dispose()
    assert service_provider(app).policy.unencrypted_assertions is True  # development only


def test_production_refuses_a_policy_that_takes_unencrypted_assertions(
        app: Flask, app_settings: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(policy, "PRODUCTION", dataclasses.replace(policy.PRODUCTION, unencrypted_assertions=True))
    assert "must accept only encrypted assertions in production" in _refused_at_start(
        _production(app, app_settings, tmp_path))


@pytest.mark.parametrize(("changes", "named"), [
    ({"signing_algorithm": SIG_RSA_SHA1}, "the signing algorithm of our requests"),
    ({"digest_algorithm": DIGEST_SHA1}, "the digest algorithm of our requests"),
    ({"signature_algorithms": policy.STRONG_SIGNATURE_ALGORITHMS | {SIG_RSA_SHA1}},
     "the signature algorithms accepted on an answer"),
    ({"digest_algorithms": policy.STRONG_DIGEST_ALGORITHMS | {DIGEST_SHA1}},
     "the digest algorithms accepted on an answer"),
])
def test_production_refuses_sha1(app: Flask, app_settings: dict[str, Any], tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch, changes: dict[str, Any], named: str) -> None:
    monkeypatch.setattr(policy, "PRODUCTION", dataclasses.replace(policy.PRODUCTION, **changes))
    message = _refused_at_start(_production(app, app_settings, tmp_path))
    assert f"SHA-1 is not allowed in production: {named} include(s) " in message


def test_the_sha1_rule_knows_the_names_of_sha1() -> None:
    for weak in (SIG_RSA_SHA1, DIGEST_SHA1, "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1",
                 "http://www.w3.org/2000/09/xmldsig#hmac-sha1", "http://www.w3.org/2000/09/xmldsig#dsa-sha1"):
        assert policy.SHA1.search(weak), weak
    for strong in (*policy.STRONG_SIGNATURE_ALGORITHMS, *policy.STRONG_DIGEST_ALGORITHMS):
        assert not policy.SHA1.search(strong), strong


# ---------------------------------------------------------------- the HTTP-POST binding

DS = "{http://www.w3.org/2000/09/xmldsig#}"
MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"


@pytest.fixture
def post_offered(app: Flask, tmp_path: Path) -> Flask:
    """`app`, whose identity provider's metadata offers HTTP-POST besides HTTP-Redirect for
    requests, as BundID's does (the development IdP takes both; its own file names Redirect)."""
    root = ElementTree.fromstring(dev_idp.idp_metadata_xml(app))
    descriptor = root.find(f"{MD}IDPSSODescriptor")
    assert descriptor is not None
    services = descriptor.findall(f"{MD}SingleSignOnService")
    assert [service.get("Binding") for service in services] == [REDIRECT]
    offered = ElementTree.Element(f"{MD}SingleSignOnService", {"Binding": POST, "Location": services[0].get("Location")})
    descriptor.insert(list(descriptor).index(services[0]) + 1, offered)  # after Redirect: preferred all the same
    metadata = tmp_path / "idp-metadata-post.xml"
    metadata.write_bytes(ElementTree.tostring(root))
    app.config["PORTAL"] = dataclasses.replace(app.config["PORTAL"], saml_idp_metadata=str(metadata))
    return app


def test_the_request_goes_by_http_redirect_where_the_metadata_offers_only_that(app: Flask, browser: Browser) -> None:
    browser.get("/konto/anmelden?stufe=hoch&weiter=/konto/")
    response = browser.client.post("/saml/login", data=browser.form("/saml/login").fields)
    assert response.status_code == 303
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert set(query) == {"SAMLRequest", "SigAlg", "Signature"}
    assert query["SigAlg"] == ["http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"]


def test_the_request_goes_by_http_post_where_offered_and_the_login_completes(
        post_offered: Flask, browser: Browser) -> None:
    browser.get("/konto/anmelden?stufe=hoch&weiter=/konto/daten")
    response = browser.client.post("/saml/login", data=browser.form("/saml/login").fields)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "form-action 'self' http://localhost;" in response.headers["Content-Security-Policy"]
    assert '<form method="post" action="http://localhost/dev-idp/sso" data-auto-submit>' in html
    # Without JavaScript the citizen sends it on with a visible button; with it, the script does.
    assert '<button class="button" type="submit">Weiter zum Servicekonto</button>' in html
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/theme/js/saml-post.js" defer>']

    root = sent_request(browser, "hoch", "/konto/daten")
    assert root.get("Destination") == "http://localhost/dev-idp/sso"
    signature = root.find(f"{DS}Signature")
    assert signature is not None
    method = signature.find(f"{DS}SignedInfo/{DS}SignatureMethod")
    assert method is not None and method.get("Algorithm") == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    digest = signature.find(f"{DS}SignedInfo/{DS}Reference/{DS}DigestMethod")
    assert digest is not None and digest.get("Algorithm") == "http://www.w3.org/2001/04/xmlenc#sha256"
    reference = signature.find(f"{DS}SignedInfo/{DS}Reference")
    assert reference is not None and reference.get("URI") == "#" + (root.get("ID") or "")
    assert enabled_means(akdb_request(root)) == {"Benutzername": "false", "Elster": "false", "eID": "true"}

    browser.get("/konto/anmelden?stufe=hoch&weiter=/konto/daten")
    browser.submit("/saml/login")
    browser.submit("/dev-idp/sso")  # the button, as without JavaScript
    assert "Entwicklungs-Identitätsanbieter – nur für Tests" in browser.text
    browser.submit("/dev-idp/sso", person="erika", mittel="eid")
    browser.submit("/saml/acs")
    assert urlsplit(browser.url).path == "/konto/daten"
    assert _login_rows(post_offered) == [("hoch", "eid")]


def _posted_request(browser: Browser) -> tuple[ElementTree.Element, dict[str, str]]:
    browser.get("/konto/anmelden?stufe=hoch&weiter=/konto/")
    browser.submit("/saml/login")
    fields = dict(browser.form("/dev-idp/sso").fields)
    return ElementTree.fromstring(base64.b64decode(fields["SAMLRequest"])), fields


def _post_to_idp(browser: Browser, root: ElementTree.Element) -> int:
    encoded = base64.b64encode(ElementTree.tostring(root)).decode("ascii")
    return browser.client.post("/dev-idp/sso", data={"SAMLRequest": encoded}).status_code


def test_the_development_idp_refuses_an_unsigned_or_changed_post_request(post_offered: Flask, browser: Browser) -> None:
    root, fields = _posted_request(browser)
    signature = root.find(f"{DS}Signature")
    assert signature is not None
    root.remove(signature)
    assert _post_to_idp(browser, root) == 400
    root, fields = _posted_request(browser)
    root.set("AssertionConsumerServiceURL", "https://angreifer.example/saml/acs")
    assert _post_to_idp(browser, root) == 400
    assert browser.client.post("/dev-idp/sso", data=fields).status_code == 200  # the genuine one


def test_the_choice_at_the_development_idp_still_needs_its_csrf_token(post_offered: Flask, browser: Browser) -> None:
    _root, fields = _posted_request(browser)
    response = browser.client.post("/dev-idp/sso", data={**fields, "person": "erika", "mittel": "eid"})
    assert response.status_code == 400
    assert "Das Formular war veraltet oder unvollständig" in response.get_data(as_text=True)
