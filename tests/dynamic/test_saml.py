"""The state login over SAML 2.0, whole flows over HTTP against the development identity
provider: metadata, login at each level, accounts created and linked, step-up, and the
attacks, each with real SAML XML (forged with dev_idp.build_response), each refused."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import re
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
from flask import Blueprint, Flask
from saml2 import BINDING_HTTP_REDIRECT
from sqlalchemy import func, select

from dynamic.platform import auth
from dynamic.platform.db import db
from dynamic.platform.models import Account, LoginSession, ProfileValue, SamlRequest, SeenAssertion, utcnow
from dynamic.platform.passwords import hash_password
from dynamic.saml import attributes, dev_idp, sp
from dynamic.saml.keys import development_pair
from tests.dynamic.browserlike import Browser, path_of
from tests.site import readable

MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
SAMLP = "{urn:oasis:names:tc:SAML:2.0:protocol}"
SAML = "{urn:oasis:names:tc:SAML:2.0:assertion}"
XENC = "{http://www.w3.org/2001/04/xmlenc#}"

AGAIN = "Bitte melden Sie sich noch einmal an."
NOT_SIGNED = ("Die Antwort des Servicekontos war nicht gültig signiert. Sie wurde aus Sicherheitsgründen nicht "
              "angenommen. " + AGAIN)
WRONG_AUDIENCE = ("Die Antwort des Servicekontos war nicht für dieses Portal bestimmt. Sie wurde aus "
                  "Sicherheitsgründen nicht angenommen. " + AGAIN)
WRONG_RECIPIENT = ("Die Antwort des Servicekontos war an eine andere Adresse gerichtet. Sie wurde aus "
                   "Sicherheitsgründen nicht angenommen. " + AGAIN)
EXPIRED = "Die Antwort des Servicekontos ist abgelaufen oder noch nicht gültig. " + AGAIN
UNKNOWN_REQUEST = ("Diese Antwort des Servicekontos gehört zu keiner offenen Anmeldung in diesem Portal. "
                   "Vielleicht hat die Anmeldung zu lange gedauert. " + AGAIN)
REPLAYED = ("Diese Antwort des Servicekontos wurde schon einmal verwendet. Sie wurde aus Sicherheitsgründen nicht "
            "noch einmal angenommen. " + AGAIN)
NO_PSEUDONYM = ("Das Servicekonto hat keine dauerhafte Kennung für Sie übermittelt. Ohne sie können wir Ihr Konto "
                "nicht finden oder anlegen. " + AGAIN)
NO_LEVEL = "Das Servicekonto hat nicht mitgeteilt, mit welchem Vertrauensniveau Sie sich angemeldet haben. " + AGAIN
OTHER_BROWSER = ("Diese Anmeldung wurde in einem anderen Browser oder Fenster begonnen, oder sie ist schon "
                 "abgeschlossen. " + AGAIN)
TOO_LOW_FOR_HOCH = ("Sie haben sich mit „ELSTER-Zertifikat oder Online-Ausweis“ angemeldet. Für diesen Schritt "
                    "brauchen Sie „Online-Ausweis“. Bitte melden Sie sich mit dem Online-Ausweis an.")
TOO_LOW_FOR_SUBSTANTIELL = ("Sie haben sich mit „Servicekonto mit Benutzername und Passwort“ angemeldet. Für diesen "
                            "Schritt brauchen Sie „ELSTER-Zertifikat oder Online-Ausweis“. Bitte melden Sie sich mit "
                            "einem ELSTER-Zertifikat oder dem Online-Ausweis an.")

ERIKA = dev_idp.persona("erika")


# ---------------------------------------------------------------- helpers


def lead(browser: Browser) -> str:
    """The page's main message (error pages show it as the lead paragraph)."""
    found = re.search(r'<p class="lead">(.*?)</p>', browser.text, re.S)
    assert found, browser.text
    return found.group(1).strip()


def start_saml_login(browser: Browser, level: str, weiter: str = "/konto/") -> None:
    """From the login page to the development IdP's choice page."""
    browser.get(f"/konto/anmelden?stufe={level}&weiter={weiter}")
    browser.submit("/saml/login")
    assert urlsplit(browser.url).path == "/dev-idp/sso", browser.url


def saml_login(browser: Browser, level: str, means: str, person: str = "erika", weiter: str = "/konto/") -> None:
    start_saml_login(browser, level, weiter)
    browser.submit("/dev-idp/sso", person=person, mittel=means)
    assert "Weiter zum Bürgerportal" in browser.text
    browser.submit("/saml/acs")


def pending_request_id(browser: Browser) -> str:
    with browser.client.session_transaction() as cookie_session:
        return str(cookie_session["saml_request"])


def forged(app: Flask, browser: Browser, **changes: Any) -> str:
    """An answer to the browser's open request, changed in `changes`, as real SAML XML."""
    with app.app_context():
        answer = dev_idp.answer_to(app, pending_request_id(browser), ERIKA, "hoch")
        return dev_idp.build_response(app, dataclasses.replace(answer, **changes))


def post_answer(browser: Browser, encoded: str) -> None:
    browser.post("/saml/acs", {"SAMLResponse": encoded})


def counts(app: Flask) -> tuple[int, int]:
    """(accounts, logins) in the database."""
    with app.app_context():
        return (db().scalar(select(func.count()).select_from(Account)) or 0,
                db().scalar(select(func.count()).select_from(LoginSession)) or 0)


def only_login(app: Flask) -> LoginSession:
    with app.app_context():
        return db().scalars(select(LoginSession)).one()


def account_by_pseudonym(app: Flask, bpk2: str) -> Account | None:
    with app.app_context():
        return db().scalars(select(Account).where(Account.bpk2 == bpk2)).one_or_none()


def profile_rows(app: Flask, account_id: int) -> dict[str, ProfileValue]:
    with app.app_context():
        return {row.field: row for row in db().scalars(select(ProfileValue).where(
            ProfileValue.account_id == account_id))}


def redirect_query(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


# ---------------------------------------------------------------- metadata and the request


def test_sp_metadata_publishes_both_certificates_and_the_post_acs(browser: Browser) -> None:
    response = browser.get("/saml/metadata")
    assert response.status_code == 200
    assert response.content_type == "application/samlmetadata+xml; charset=utf-8"
    root = ElementTree.fromstring(response.data)
    assert root.tag == f"{MD}EntityDescriptor"
    assert root.get("entityID") == "http://localhost/saml/metadata"
    assert root.get("validUntil") is None and root.get("ID") is None
    descriptor = root.find(f"{MD}SPSSODescriptor")
    assert descriptor is not None
    assert descriptor.get("AuthnRequestsSigned") == "true"
    assert descriptor.get("WantAssertionsSigned") == "true"
    uses = sorted(key.get("use") or "" for key in descriptor.findall(f"{MD}KeyDescriptor"))
    assert uses == ["encryption", "signing"]
    for key in descriptor.findall(f"{MD}KeyDescriptor"):
        assert key.findtext(f"{DS}KeyInfo/{DS}X509Data/{DS}X509Certificate")
    acs = descriptor.findall(f"{MD}AssertionConsumerService")
    assert [(a.get("Binding"), a.get("Location")) for a in acs] == [
        ("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", "http://localhost/saml/acs")]
    slo = descriptor.findall(f"{MD}SingleLogoutService")
    assert [(s.get("Binding"), s.get("Location")) for s in slo] == [
        ("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", "http://localhost/saml/logout")]


def test_development_keys_are_made_once_and_reused(app: Flask, browser: Browser, app_settings: dict[str, Any]) -> None:
    first = browser.get("/saml/metadata").data
    key_file = Path(app_settings["var_dir"]) / "saml" / "sp" / "key.pem"
    assert key_file.is_file() and key_file.stat().st_mode & 0o077 == 0
    from dynamic import create_app
    from tests.dynamic.conftest import make_settings

    again = create_app(make_settings(**app_settings))
    try:
        assert again.test_client().get("/saml/metadata").data == first
    finally:
        again.extensions["db_engine"].dispose()


def test_login_request_is_signed_and_asks_for_the_level_at_minimum(app: Flask, browser: Browser) -> None:
    browser.get("/konto/anmelden?stufe=hoch&weiter=/konto/daten")
    form = browser.form("/saml/login")
    response = browser.client.post("/saml/login", data=form.fields)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("http://localhost/dev-idp/sso?")
    query = redirect_query(location)
    assert query["SigAlg"] == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    assert query["Signature"]
    request = ElementTree.fromstring(zlib.decompress(base64.b64decode(query["SAMLRequest"]), -15))
    assert request.tag == f"{SAMLP}AuthnRequest"
    assert request.get("AssertionConsumerServiceURL") == "http://localhost/saml/acs"
    assert request.get("ProtocolBinding") == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
    context = request.find(f"{SAMLP}RequestedAuthnContext")
    assert context is not None and context.get("Comparison") == "minimum"
    assert context.findtext(f"{SAML}AuthnContextClassRef") == "STORK-QAA-Level-4"
    with app.app_context():
        stored = db().get(SamlRequest, request.get("ID"))
        assert stored is not None
        assert (stored.level, stored.return_to, stored.answered_at) == ("hoch", "/konto/daten", None)
    assert pending_request_id(browser) == request.get("ID")


def test_login_request_without_csrf_token_is_refused(app: Flask, browser: Browser) -> None:
    browser.post("/saml/login", {"stufe": "hoch", "weiter": "/konto/"})
    assert browser.status == 400
    assert "Das Formular war veraltet oder unvollständig" in browser.text
    with app.app_context():
        assert db().scalar(select(func.count()).select_from(SamlRequest)) == 0


def test_development_idp_refuses_an_unsigned_request(app: Flask, browser: Browser) -> None:
    browser.get("/konto/anmelden?stufe=hoch&weiter=/konto/")
    response = browser.client.post("/saml/login", data=browser.form("/saml/login").fields)
    query = redirect_query(response.headers["Location"])
    unsigned = browser.client.get("/dev-idp/sso", query_string={"SAMLRequest": query["SAMLRequest"]})
    assert unsigned.status_code == 400
    assert ("Der Entwicklungs-Identitätsanbieter nimmt nur signierte Anfragen des Bürgerportals an. "
            "Diese Anfrage war nicht oder nicht gültig signiert.") in unsigned.get_data(as_text=True)
    tampered = dict(query, SAMLRequest=base64.b64encode(zlib.compress(b"<x/>")[2:-4]).decode())
    assert browser.client.get("/dev-idp/sso", query_string=tampered).status_code == 400


def test_development_idp_page_offers_personas_and_means_without_javascript(browser: Browser) -> None:
    start_saml_login(browser, "substantiell")
    assert "Entwicklungs-Identitätsanbieter – nur für Tests" in browser.text
    assert "Das Bürgerportal fragt nach dem Vertrauensniveau „substantiell“ oder höher." in browser.text
    for label in ("Benutzername und Passwort – Vertrauensniveau „basis“",
                  "Softwarezertifikat (ELSTER) – Vertrauensniveau „substantiell“",
                  "Online-Ausweis (eID) – Vertrauensniveau „hoch“"):
        assert label in browser.text
    for persona in dev_idp.personas():
        assert persona.label in browser.text
    form = browser.form("/dev-idp/sso")
    assert form.fields["mittel"] == "zertifikat"  # the weakest means that suffices, preselected
    browser.submit("/dev-idp/sso")
    assert '<button class="button" type="submit">Weiter</button>' in browser.text
    assert re.findall(r"<script[^>]*>", browser.text) == ['<script src="/theme/js/saml-post.js" defer>']


def test_development_idp_answer_is_signed_and_encrypted_for_us(browser: Browser) -> None:
    start_saml_login(browser, "hoch")
    browser.submit("/dev-idp/sso", mittel="eid")
    xml = ElementTree.fromstring(base64.b64decode(browser.form("/saml/acs").fields["SAMLResponse"]))
    assert xml.find(f"{SAML}Assertion") is None
    encrypted = xml.find(f"{SAML}EncryptedAssertion/{{http://www.w3.org/2001/04/xmlenc#}}EncryptedData")
    assert encrypted is not None
    method = encrypted.find(f"{XENC}EncryptionMethod")
    assert method is not None and method.get("Algorithm") == "http://www.w3.org/2009/xmlenc11#aes256-gcm"
    assert xml.find(f"{DS}Signature") is not None


# ---------------------------------------------------------------- logging in


@pytest.mark.parametrize(("means", "level", "source", "verified"), [
    ("passwort", "basis", None, False),  # BundID's username and password: STORK Level-1
    ("zertifikat", "substantiell", "ELSTER-Zertifikat", True),
    ("eid", "hoch", "Online-Ausweis (eID)", True),
])
def test_login_at_each_level_creates_the_account_and_stores_the_attributes(
        app: Flask, browser: Browser, means: str, level: str, source: str | None, verified: bool) -> None:
    saml_login(browser, level, means, weiter="/konto/")
    assert browser.status == 200
    assert urlsplit(browser.url).path == "/konto/"
    login = only_login(app)
    assert (login.level, login.means) == (level, means)
    account = account_by_pseudonym(app, ERIKA.bpk2)
    assert account is not None and account.email is None and login.account_id == account.id
    rows = profile_rows(app, account.id)
    assert {name: row.value for name, row in rows.items()} == ERIKA.values
    assert {(row.verified, row.source) for row in rows.values()} == {(verified, source)}
    with browser.client.session_transaction() as cookie_session:
        assert "saml_request" not in cookie_session
        assert cookie_session["saml_login"]["name_id"]
    with app.app_context():
        assert db().scalar(select(func.count()).select_from(SamlRequest)) == 0


def test_second_login_with_the_same_person_uses_the_same_account(app: Flask, browser: Browser) -> None:
    saml_login(browser, "substantiell", "zertifikat")
    first = account_by_pseudonym(app, ERIKA.bpk2)
    other = Browser(app.test_client())
    saml_login(other, "hoch", "eid")
    assert counts(app) == (1, 2)
    second = account_by_pseudonym(app, ERIKA.bpk2)
    assert first is not None and second is not None and first.id == second.id


def test_a_person_with_one_name_only_can_log_in(app: Flask, browser: Browser) -> None:
    saml_login(browser, "hoch", "eid", person="suryani")
    account = account_by_pseudonym(app, dev_idp.persona("suryani").bpk2)
    assert account is not None
    rows = profile_rows(app, account.id)
    assert "given_name" not in rows and rows["family_name"].value == "Suryani"


def test_lower_level_than_asked_is_refused_with_both_levels_named(app: Flask, browser: Browser) -> None:
    saml_login(browser, "hoch", "zertifikat")
    assert browser.status == 403
    assert lead(browser) == TOO_LOW_FOR_HOCH
    assert "<title>Vertrauensniveau nicht ausreichend" in browser.text
    assert counts(app) == (0, 0)
    saml_login(browser, "substantiell", "passwort")
    assert lead(browser) == TOO_LOW_FOR_SUBSTANTIELL
    assert counts(app) == (0, 0)


def test_return_address_to_another_site_leads_to_my_account(app: Flask, browser: Browser) -> None:
    browser.get("/konto/anmelden?stufe=hoch")
    form = browser.form("/saml/login")
    browser.post("/saml/login", dict(form.fields, weiter="https://angreifer.example/"))
    browser.submit("/dev-idp/sso", mittel="eid")
    browser.submit("/saml/acs")
    assert browser.url == "http://localhost/konto/"


# ---------------------------------------------------------------- step-up


def _guarded_page(app: Flask) -> None:
    pages = Blueprint("stufe_test", __name__)

    @pages.route("/test-antrag/", methods=["GET", "POST"])
    @auth.require_level("hoch")
    def antrag() -> str:
        kept = auth.kept_form() or {}
        return f"Antrag mit Vertrauensniveau hoch; behalten: {kept.get('name', [''])[0]}"

    app.register_blueprint(pages)


def password_login(app: Flask, browser: Browser, email: str) -> int:
    """A portal account with a password and a confirmed address, logged in (at `basis`)."""
    with app.app_context():
        account = Account(email=email, password_hash=hash_password("ein langes Passwort 42"),
                          email_confirmed_at=utcnow())
        db().add(account)
        db().commit()
        account_id = account.id
    browser.get("/konto/anmelden")
    browser.submit("/konto/anmelden", email=email, passwort="ein langes Passwort 42")
    return account_id


def test_step_up_from_basis_to_hoch_links_the_account_and_returns_to_the_page(app: Flask, browser: Browser) -> None:
    _guarded_page(app)
    account_id = password_login(app, browser, "kim.test@example.org")
    assert only_login(app).level == "basis"
    browser.post("/test-antrag/?schritt=2", {"name": "Kim", "csrf_token": _csrf(browser)})
    assert urlsplit(browser.url).path == "/konto/anmelden"
    assert redirect_query(browser.url) == {"stufe": "hoch", "weiter": "/test-antrag/?schritt=2"}
    browser.submit("/saml/login")
    browser.submit("/dev-idp/sso", mittel="eid")
    browser.submit("/saml/acs")
    assert browser.url == "http://localhost/test-antrag/?schritt=2"
    assert browser.text == "Antrag mit Vertrauensniveau hoch; behalten: Kim"
    login = only_login(app)
    assert (login.account_id, login.level, login.means, login.fallback_level) == (account_id, "hoch", "eid", "basis")
    linked = account_by_pseudonym(app, ERIKA.bpk2)
    assert linked is not None and linked.id == account_id and linked.email == "kim.test@example.org"
    assert profile_rows(app, account_id)["family_name"].source == "Online-Ausweis (eID)"


def _csrf(browser: Browser) -> str:
    """A CSRF token for the browser's session, read from a page with a form, as a browser has it."""
    here = browser.url
    browser.get("/konto/abmelden")
    token = browser.form("/konto/abmelden").fields["csrf_token"]
    browser.url = here
    return token


def test_step_up_from_a_password_state_login_to_hoch_through_the_idp(app: Flask, browser: Browser) -> None:
    _guarded_page(app)
    saml_login(browser, "basis", "passwort")
    assert (only_login(app).level, only_login(app).means) == ("basis", "passwort")
    browser.get("/test-antrag/")
    assert urlsplit(browser.url).path == "/konto/anmelden"
    browser.submit("/saml/login")
    browser.submit("/dev-idp/sso", mittel="eid")
    browser.submit("/saml/acs")
    assert browser.url == "http://localhost/test-antrag/"
    assert (only_login(app).level, only_login(app).fallback_level) == ("hoch", "basis")
    assert counts(app) == (1, 1)


def test_login_with_another_person_than_the_linked_one_is_refused(app: Flask, browser: Browser) -> None:
    saml_login(browser, "substantiell", "zertifikat", person="erika")
    start_saml_login(browser, "hoch")
    # Erika is logged in; Jonas belongs to no account yet, so his identity would be linked to hers.
    browser.submit("/dev-idp/sso", person="jonas", mittel="eid")
    browser.submit("/saml/acs")
    assert browser.status == 409
    assert lead(browser) == ("Ihr Konto im Bürgerportal ist schon mit einem anderen Servicekonto verknüpft. Melden Sie "
                             "sich ab und mit dem Servicekonto an, das zu diesem Konto gehört.")
    assert account_by_pseudonym(app, dev_idp.persona("jonas").bpk2) is None


def test_step_up_with_the_state_account_of_another_portal_account_keeps_the_current_one(
        app: Flask, browser: Browser) -> None:
    """Erika's state account already belongs to one portal account. Logged in by password to
    another one, with a begun form, she steps up with it: refused with an explanation, and
    she stays in the account she was in, at its level."""
    _guarded_page(app)
    saml_login(browser, "hoch", "eid", person="erika")
    first_account = account_by_pseudonym(app, ERIKA.bpk2)
    assert first_account is not None
    browser.get("/konto/abmelden")
    browser.submit("/konto/abmelden")
    other_id = password_login(app, browser, "erika.zweit@example.org")
    browser.post("/test-antrag/", {"name": "Erika", "csrf_token": _csrf(browser)})
    assert redirect_query(browser.url) == {"stufe": "hoch", "weiter": "/test-antrag/"}
    browser.submit("/saml/login")
    browser.submit("/dev-idp/sso", person="erika", mittel="eid")
    browser.submit("/saml/acs")

    assert browser.status == 409
    assert "<h1>Servicekonto gehört zu einem anderen Konto</h1>" in browser.text
    assert lead(browser).startswith("Mit diesem Servicekonto ist schon ein anderes Konto im Bürgerportal "
                                    "verknüpft. Sie sind weiter mit Ihrem bisherigen Konto angemeldet;")
    assert '<a href="/konto/">Zurück zu Mein Konto</a>' in browser.text
    login = only_login(app)
    assert (login.account_id, login.level) == (other_id, "basis")
    with app.app_context():
        assert db().get(Account, other_id).bpk2 is None  # nothing linked either
    browser.get("/konto/")
    assert "erika.zweit@example.org" in browser.text


# ---------------------------------------------------------------- attacks


def _attack(app: Flask, browser: Browser, **changes: Any) -> None:
    start_saml_login(browser, "hoch")
    post_answer(browser, forged(app, browser, **changes))


@pytest.mark.parametrize(("changes", "status", "message"), [
    pytest.param({"sign_assertion": False, "sign_response": False}, 400, NOT_SIGNED, id="unsigned"),
    pytest.param({"sign_assertion": False}, 400, NOT_SIGNED, id="only-the-response-signed"),
    pytest.param({"audience": "https://anderes-portal.example/saml/metadata"}, 400, WRONG_AUDIENCE,
                 id="wrong-audience"),
    pytest.param({"destination": "https://anderes-portal.example/saml/acs"}, 400, WRONG_RECIPIENT,
                 id="wrong-destination"),
    pytest.param({"issued_at": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)}, 400, EXPIRED, id="expired"),
    pytest.param({"issued_at": dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)}, 400, EXPIRED,
                 id="not-yet-valid"),
    pytest.param({"in_response_to": "_eine-andere-anfrage"}, 400, UNKNOWN_REQUEST, id="wrong-in-response-to"),
    pytest.param({"in_response_to": None}, 400, UNKNOWN_REQUEST, id="unsolicited"),
    pytest.param({"level": "substantiell"}, 403, TOO_LOW_FOR_HOCH, id="lower-level"),
    pytest.param({"qaa_level": "STORK-QAA-Level-9"}, 403, NO_LEVEL, id="unknown-level"),
    pytest.param({"leave_out": (attributes.QAA_LEVEL,)}, 403, NO_LEVEL, id="no-level"),
    pytest.param({"leave_out": (attributes.BPK2,)}, 400, NO_PSEUDONYM, id="no-pseudonym"),
])
def test_forged_answers_are_refused(app: Flask, browser: Browser, changes: dict[str, Any], status: int,
                                    message: str) -> None:
    _attack(app, browser, **changes)
    assert browser.status == status
    assert lead(browser) == message
    assert counts(app) == (0, 0)
    with app.app_context():
        assert db().scalars(select(SamlRequest.answered_at)).all() == [None]


def test_an_answer_re_signed_with_another_key_is_refused(app: Flask, browser: Browser, tmp_path: Path) -> None:
    other_keys = development_pair(tmp_path / "angreifer", "Angreifer")
    for changes in ({"signing_keys": other_keys}, {"signing_keys": other_keys, "encrypt": False}):
        _attack(app, browser, **changes)
        assert browser.status == 400
        assert lead(browser) == NOT_SIGNED
    assert counts(app) == (0, 0)


def test_an_answer_from_another_issuer_is_refused(app: Flask, browser: Browser) -> None:
    _attack(app, browser, issuer="https://anderer-idp.example/metadata")
    assert browser.status == 400
    assert lead(browser) == ("Die Antwort kam nicht von dem Servicekonto, bei dem Sie sich anmelden wollten. Sie wurde "
                             "aus Sicherheitsgründen nicht angenommen. " + AGAIN)
    assert counts(app) == (0, 0)


def test_a_signed_unencrypted_answer_is_accepted(app: Flask, browser: Browser) -> None:
    _attack(app, browser, encrypt=False)
    assert browser.url == "http://localhost/konto/"
    assert only_login(app).level == "hoch"


def test_a_replayed_answer_is_refused_before_and_after_the_login(app: Flask, browser: Browser) -> None:
    start_saml_login(browser, "hoch")
    answer = forged(app, browser)
    response = browser.client.post("/saml/acs", data={"SAMLResponse": answer})
    assert response.status_code == 303
    attacker = Browser(app.test_client())
    post_answer(attacker, answer)
    assert (attacker.status, lead(attacker)) == (400, REPLAYED)
    browser.get(response.headers["Location"])
    assert browser.url == "http://localhost/konto/"
    post_answer(attacker, answer)
    assert (attacker.status, lead(attacker)) == (400, UNKNOWN_REQUEST)
    assert counts(app) == (1, 1)


def test_an_assertion_id_seen_before_is_refused_for_a_new_request(app: Flask, browser: Browser) -> None:
    start_saml_login(browser, "hoch")
    first = dev_idp.answer_to(app, pending_request_id(browser), ERIKA, "hoch")
    with app.app_context():
        post_answer(browser, dev_idp.build_response(app, first))
    assert only_login(app).level == "hoch"
    attacker = Browser(app.test_client())
    start_saml_login(attacker, "hoch")
    post_answer(attacker, forged(app, attacker, assertion_id=first.assertion_id))
    assert (attacker.status, lead(attacker)) == (400, REPLAYED)
    assert counts(app) == (1, 1)
    with app.app_context():
        assert db().get(SeenAssertion, first.assertion_id) is not None


def test_an_old_request_is_no_longer_answered(app: Flask, browser: Browser) -> None:
    start_saml_login(browser, "hoch")
    with app.app_context():
        row = db().get(SamlRequest, pending_request_id(browser))
        assert row is not None
        row.created_at -= dt.timedelta(minutes=16)
        db().commit()
    post_answer(browser, forged(app, browser))
    assert (browser.status, lead(browser)) == (400, UNKNOWN_REQUEST)


def test_the_answer_completes_only_in_the_browser_that_asked_and_only_once(app: Flask, browser: Browser) -> None:
    start_saml_login(browser, "hoch")
    response = browser.client.post("/saml/acs", data={"SAMLResponse": forged(app, browser)})
    completion = response.headers["Location"]
    attacker = Browser(app.test_client())
    attacker.get(completion)
    assert (attacker.status, lead(attacker)) == (400, OTHER_BROWSER)
    browser.get(completion)
    assert browser.url == "http://localhost/konto/"
    browser.get(completion)
    assert (browser.status, lead(browser)) == (400, OTHER_BROWSER)
    assert counts(app) == (1, 1)


def test_garbage_instead_of_an_answer_is_refused(app: Flask, browser: Browser) -> None:
    for junk in ("", "nicht base64!", base64.b64encode(b"<kein xml").decode()):
        post_answer(browser, junk)
        assert (browser.status, lead(browser)) == (
            400, "Die Antwort des Servicekontos war unvollständig oder nicht lesbar. " + AGAIN)
    assert counts(app) == (0, 0)


def test_development_idp_is_closed_under_a_production_configuration(app: Flask, browser: Browser) -> None:
    app.config["PORTAL"] = dataclasses.replace(app.config["PORTAL"], env="production")
    assert browser.client.get("/dev-idp/metadata").status_code == 404
    assert browser.client.get("/dev-idp/").status_code == 404
    assert browser.client.get("/dev-idp/sso").status_code == 404


def test_logout_after_a_saml_login_ends_the_local_session(app: Flask, browser: Browser) -> None:
    saml_login(browser, "hoch", "eid")
    browser.get("/konto/abmelden")
    browser.submit("/konto/abmelden")
    assert browser.url == "http://localhost/konto/abgemeldet"
    assert counts(app) == (1, 0)


def test_logout_after_a_saml_login_also_ends_the_idp_session(app: Flask, browser: Browser) -> None:
    saml_login(browser, "hoch", "eid")
    browser.get("/konto/abmelden")
    form = browser.form("/konto/abmelden")
    response = browser.client.post("/konto/abmelden", data=form.fields)
    to_idp = response.headers["Location"]
    assert to_idp.startswith("http://localhost/dev-idp/slo?")
    query = redirect_query(to_idp)
    assert query["Signature"] and query["SigAlg"] == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    logout = ElementTree.fromstring(zlib.decompress(base64.b64decode(query["SAMLRequest"]), -15))
    assert logout.tag == f"{SAMLP}LogoutRequest"
    assert logout.findtext(f"{SAMLP}SessionIndex")
    assert counts(app) == (1, 0)
    back = browser.client.get(path_of(to_idp))
    assert back.status_code == 303 and back.headers["Location"].startswith("http://localhost/saml/logout?")
    with app.app_context():
        answer = sp.service_provider(app).client.parse_logout_request_response(
            redirect_query(back.headers["Location"])["SAMLResponse"], BINDING_HTTP_REDIRECT)
        assert answer is not None and answer.status_ok()
    browser.get(back.headers["Location"])
    assert browser.url == "http://localhost/konto/abgemeldet"
    assert "Sie sind abgemeldet." in browser.text


def test_idp_refuses_an_unsigned_logout_request(app: Flask, browser: Browser) -> None:
    saml_login(browser, "hoch", "eid")
    browser.get("/konto/abmelden")
    response = browser.client.post("/konto/abmelden", data=browser.form("/konto/abmelden").fields)
    query = redirect_query(response.headers["Location"])
    unsigned = browser.client.get("/dev-idp/slo", query_string={"SAMLRequest": query["SAMLRequest"]})
    assert unsigned.status_code == 400
    assert "Der Entwicklungs-Identitätsanbieter nimmt nur signierte Abmeldungen des Bürgerportals an." in \
        unsigned.get_data(as_text=True)


def test_a_password_login_logs_out_locally_only(app: Flask, browser: Browser) -> None:
    with app.app_context():
        db().add(Account(email="kim.test@example.org", password_hash=hash_password("ein langes Passwort 42"),
                         email_confirmed_at=utcnow()))
        db().commit()
    browser.get("/konto/anmelden")
    browser.submit("/konto/anmelden", email="kim.test@example.org", passwort="ein langes Passwort 42")
    browser.get("/konto/abmelden")
    response = browser.client.post("/konto/abmelden", data=browser.form("/konto/abmelden").fields)
    assert response.headers["Location"] in ("/konto/abgemeldet", "http://localhost/konto/abgemeldet")


def test_development_idp_start_page_explains_itself_with_persons_means_and_levels(browser: Browser) -> None:
    browser.get("/dev-idp/")
    assert browser.status == 200
    text = readable.visible_text(browser.text)
    assert text.startswith("Entwicklungs-Identitätsanbieter Nur für Entwicklung und Tests. Dieser "
                           "Identitätsanbieter ersetzt auf dem eigenen Rechner das Servicekonto des Landes.")
    assert "Im Betrieb ist er abgeschaltet" in text
    assert ("Wählen Sie „Beim Servicekonto anmelden“. Das Bürgerportal schickt Sie mit einer signierten Anfrage "
            "hierher.") in text
    for means, level in (("Benutzername und Passwort", "basis"), ("Softwarezertifikat (ELSTER)", "substantiell"),
                         ("Online-Ausweis (eID)", "hoch")):
        assert f"{means} {level}" in text
    assert ("Erika Mustermann, Münster Heidestraße 17, 48155 Münster 12. August 1964 "
            "erika.mustermann@example.invalid") in text
    for persona in dev_idp.personas():
        assert persona.label in text
    assert 'href="/konto/anmelden"' in browser.text
    browser.get("/dev-idp")
    assert urlsplit(browser.url).path == "/dev-idp/" and browser.status == 200
