"""Attacks on the state login (issue 14), over HTTP against the running app, with real SAML
XML from the development identity provider (dev_idp.build_response, signed and encrypted by
pysaml2 and xmlsec1): answers whose refusal made pysaml2 log the citizen's data, SHA-1
signatures, unencrypted assertions in production, oversized answers, and verified answers
nobody picked up, which kept the citizen's data in the database."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import logging
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
from flask import Flask
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256
from sqlalchemy import func, select, text

from dynamic import create_app
from dynamic.platform.db import db
from dynamic.platform.models import SamlRequest, utcnow
from dynamic.platform.outbox import run_periodic_jobs
from dynamic.saml import dev_idp, sp
from dynamic.saml.keys import development_pair
from tests.attacks.conftest import HttpClient, HttpResponse
from tests.dynamic.browserlike import Browser
from tests.dynamic.conftest import make_settings
from tests.dynamic.test_saml import counts
from tests.dynamic.test_saml import post_answer as send

ERIKA = dev_idp.persona("erika")
# What must never reach a log: her names, address, birth date and pseudonym.
PERSONAL_DATA = (ERIKA.values["family_name"], ERIKA.values["birth_name"], ERIKA.values["street"],
                 ERIKA.values["birthdate"], ERIKA.bpk2, ERIKA.bpk2.split(":")[1])

AGAIN = "Bitte melden Sie sich noch einmal an."
NOT_SIGNED = ("Die Antwort des Servicekontos war nicht gültig signiert. Sie wurde aus Sicherheitsgründen nicht "
              "angenommen. " + AGAIN)
UNREADABLE = "Die Antwort des Servicekontos war unvollständig oder nicht lesbar. " + AGAIN
OTHER_BROWSER = ("Diese Anmeldung wurde in einem anderen Browser oder Fenster begonnen, oder sie ist schon "
                 "abgeschlossen. " + AGAIN)
WEAK_SIGNATURE = ("Die Antwort des Servicekontos war mit einem veralteten Verfahren signiert, das nicht mehr als "
                  "sicher gilt. Sie wurde aus Sicherheitsgründen nicht angenommen. " + AGAIN)
NOT_ENCRYPTED = ("Die Antwort des Servicekontos war nicht verschlüsselt. Sie wurde zum Schutz Ihrer Daten nicht "
                 "angenommen. " + AGAIN)
TOO_LARGE = ("Die Antwort des Servicekontos war zu groß. Sie wurde aus Sicherheitsgründen nicht angenommen. "
             + AGAIN)


# ---------------------------------------------------------------- helpers


def lead(browser: Browser) -> str:
    """The page's main message (error pages show it as the lead paragraph)."""
    found = re.search(r'<p class="lead">(.*?)</p>', browser.text, re.S)
    assert found, browser.text
    return found.group(1).strip()


def start_login(browser: Browser, level: str = "hoch") -> str:
    """Ask for the state login as a citizen does; the ID of the AuthnRequest the portal sent."""
    browser.get(f"/konto/anmelden?stufe={level}&weiter=/konto/")
    browser.submit("/saml/login")
    query = parse_qs(urlsplit(browser.url).query)
    authn_request = ElementTree.fromstring(zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15))
    return str(authn_request.get("ID"))


def forge(idp_app: Flask, request_id: str, level: str = "hoch", **changes: Any) -> str:
    """The development identity provider's answer to `request_id`, changed in `changes`."""
    with idp_app.app_context():
        answer = dev_idp.answer_to(idp_app, request_id, ERIKA, level)
        return dev_idp.build_response(idp_app, dataclasses.replace(answer, **changes))


def stored_requests(app: Flask) -> str:
    """Every row of saml_requests as the database holds it, as text."""
    with app.app_context():
        rows = db().execute(text("SELECT * FROM saml_requests")).all()
        return "\n".join(str(value) for row in rows for value in row)


def personal_data_in(stored: str) -> list[str]:
    """Which of her data `stored` holds, as it is or escaped in JSON ("Heidestra\\u00dfe")."""
    return [value for value in PERSONAL_DATA if value in stored or json.dumps(value)[1:-1] in stored]


def _assertion_element(xml: str) -> re.Match[str]:
    found = re.search(r"<(\w+):Assertion\b.*</\1:Assertion>", xml, re.S)
    assert found, xml
    return found


def wrap_signature(xml: str) -> str:
    """Signature wrapping: a copy of the signed assertion under a new ID with the level raised
    to "hoch", carrying the original signature, with the signed original hidden inside it."""
    found = _assertion_element(xml)
    original, prefix = found.group(0), found.group(1)
    original_id = re.search(r' ID="([^"]+)"', original).group(1)  # type: ignore[union-attr]
    evil = original.replace(f'ID="{original_id}"', 'ID="_gefaelscht"', 1).replace("STORK-QAA-Level-3",
                                                                                  "STORK-QAA-Level-4")
    evil = evil.removesuffix(f"</{prefix}:Assertion>") + original + f"</{prefix}:Assertion>"
    return xml.replace(original, evil)


def raise_level(xml: str) -> str:
    """Tampering: the signed assertion's level changed from "substantiell" to "hoch"."""
    assert "STORK-QAA-Level-3" in xml
    return xml.replace("STORK-QAA-Level-3", "STORK-QAA-Level-4")


# ---------------------------------------------------------------- 1. personal data in the log


def everything_in(record: logging.LogRecord) -> str:
    """All a log handler could write of a record: message, traceback, stack, extra fields."""
    formatter = logging.Formatter()
    parts = [record.getMessage(), repr(record.__dict__)]
    if record.exc_info:
        parts.append(formatter.formatException(record.exc_info))
    if record.stack_info:
        parts.append(formatter.formatStack(record.stack_info))
    return "\n".join(parts)


def test_refused_and_accepted_answers_put_no_personal_data_into_the_log(
        app: Flask, visitor: Browser, caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    """pysaml2 wrote the whole decrypted assertion into an ERROR line on a wrapped signature,
    and the identity into DEBUG lines. Every record of every logger, pysaml2's at DEBUG (as an
    operator tracking down a login problem would set it), must be free of her data."""
    caplog.set_level(logging.DEBUG)
    start_login(visitor)  # the app is running, its service provider set up
    caplog.set_level(logging.DEBUG, logger="saml2")
    caplog.clear()
    attacker_keys = development_pair(tmp_path / "angreifer", "Angreifer")
    attacks: list[tuple[str, dict[str, Any]]] = [
        ("substantiell", {"rewrite": wrap_signature}),
        ("substantiell", {"rewrite": wrap_signature, "encrypt": False}),
        ("substantiell", {"rewrite": raise_level}),
        ("substantiell", {"rewrite": raise_level, "encrypt": False}),
        ("hoch", {"signing_keys": attacker_keys}),
        ("hoch", {"signing_keys": attacker_keys, "encrypt": False}),
    ]
    for level, changes in attacks:
        encoded = forge(app, start_login(visitor, level), level, **changes)
        if changes.get("encrypt") is False:  # the attack carries her data in the clear
            assert ERIKA.values["family_name"] in base64.b64decode(encoded).decode()
        send(visitor, encoded)
        assert (visitor.status, lead(visitor)) == (400, NOT_SIGNED), changes
    assert counts(app) == (0, 0)
    # And a genuine login, whose identity pysaml2 logs at DEBUG.
    start_login(visitor)
    visitor.submit("/dev-idp/sso", person="erika", mittel="eid")
    visitor.submit("/saml/acs")
    assert urlsplit(visitor.url).path == "/konto/" and counts(app) == (1, 1)

    refusals = [r.getMessage() for r in caplog.records if r.getMessage().startswith("SAML response refused")]
    assert refusals == ["SAML response refused: signature missing or invalid"] * len(attacks)
    # pysaml2's complaints are still there, without their text: where, not what.
    withheld = [r.getMessage() for r in caplog.records if r.name == "dynamic.saml.pysaml2"]
    assert withheld and all("its text is withheld" in message for message in withheld)
    leaks = [(record.name, record.levelname, personal) for record in caplog.records
             for personal in PERSONAL_DATA if personal in everything_in(record)]
    assert leaks == []
    assert not any(personal in caplog.text for personal in PERSONAL_DATA)


# ---------------------------------------------------------------- 2. SHA-1


@pytest.mark.parametrize("encrypt", [True, False], ids=["encrypted", "unencrypted"])
def test_answers_signed_with_sha1_are_refused(app: Flask, visitor: Browser, encrypt: bool) -> None:
    """Correctly signed by the identity provider's key, but with SHA-1 as signature or digest
    algorithm (collisions for SHA-1 are practical): refused with a page that says why."""
    for algorithm, digest in ((SIG_RSA_SHA1, DIGEST_SHA1), (SIG_RSA_SHA256, DIGEST_SHA1),
                              (SIG_RSA_SHA1, DIGEST_SHA256)):
        send(visitor, forge(app, start_login(visitor), encrypt=encrypt, signature_algorithm=algorithm,
                            digest_algorithm=digest))
        assert visitor.status == 400, (algorithm, digest)
        assert "<h1>Anmeldung nicht möglich</h1>" in visitor.text
        assert lead(visitor) == WEAK_SIGNATURE, (algorithm, digest)
        assert '<a href="/konto/anmelden">Zurück zur Anmeldung</a>' in visitor.text
    assert counts(app) == (0, 0)
    with app.app_context():
        assert db().scalars(select(SamlRequest.answered_at)).all() == [None] * 3
    # The same answer with SHA-256 logs her in.
    send(visitor, forge(app, start_login(visitor), encrypt=encrypt))
    assert urlsplit(visitor.url).path == "/konto/" and counts(app) == (1, 1)


# ---------------------------------------------------------------- 3. unencrypted assertions in production


@pytest.fixture
def production(app_settings: dict[str, Any], tmp_path: Path) -> Iterator[Flask]:
    """Production settings for `app`, as an operator sets them (own key files, the identity
    provider's metadata file, no development IdP); yields the identity provider: a development
    app on the same keys, that forges the answers."""
    base_url = "https://portal.example"
    idp_app = create_app(make_settings(**{**app_settings, "base_url": base_url}))
    keys = sp.sp_keys(idp_app.config["PORTAL"])
    metadata = tmp_path / "idp-metadata.xml"
    metadata.write_text(dev_idp.idp_metadata_xml(idp_app), encoding="utf-8")
    app_settings.update(env="production", dev_idp=False, base_url=base_url, secret_key="p" * 40,
                        saml_idp_metadata=str(metadata), saml_sp_key=str(keys.key_file),
                        saml_sp_cert=str(keys.cert_file))
    yield idp_app
    idp_app.extensions["db_engine"].dispose()


class BehindTls(HttpClient):
    """The production app's client: its session cookie is `Secure`, which `requests` sends only
    over HTTPS; the test server speaks plain HTTP where production sits behind TLS."""

    def get(self, path: str, query_string: Any = None, **kwargs: Any) -> HttpResponse:
        return self._keeping_cookies(super().get(path, query_string, **kwargs))

    def post(self, path: str, data: Any = None, **kwargs: Any) -> HttpResponse:
        return self._keeping_cookies(super().post(path, data, **kwargs))

    def _keeping_cookies(self, response: HttpResponse) -> HttpResponse:
        for cookie in self.session.cookies:
            cookie.secure = False
        return response


def https_visitor(live: str) -> Browser:
    browser = Browser(BehindTls(live))  # type: ignore[arg-type]
    browser.url = live + "/"
    return browser


def test_production_refuses_an_unencrypted_assertion(production: Flask, app: Flask, live: str) -> None:
    """Signed correctly by the identity provider, but readable by every hop it passed (browser
    extensions, a TLS-inspecting proxy): production takes only encrypted assertions."""
    assert app.config["PORTAL"].production
    visitor = https_visitor(live)
    request_id = start_login(visitor)
    plain: list[dict[str, Any]] = [{"encrypt": False}, {"encrypt": False, "sign_response": False}]
    for changes in plain:
        send(visitor, forge(production, request_id, **changes))
        assert visitor.status == 400
        assert lead(visitor) == NOT_ENCRYPTED
    assert counts(app) == (0, 0)
    with app.app_context():
        assert db().scalars(select(SamlRequest.answered_at)).all() == [None]
    # The same answer encrypted logs her in.
    send(visitor, forge(production, request_id))
    assert urlsplit(visitor.url).path == "/konto/" and visitor.status == 200
    assert counts(app) == (1, 1)


# ---------------------------------------------------------------- 4. oversized answers


def test_an_oversized_answer_is_refused_before_it_is_read(app: Flask, visitor: Browser) -> None:
    """A 1.2 MB answer cost about 2 s of parsing before it was refused. Anything above 256 KB
    (real answers are a few KB) is refused by its size: garbage gets the size message, not
    the one for an unreadable answer, so it was never decoded or parsed."""
    request_id = start_login(visitor)
    for size in (1_200_000, 256 * 1024 + 1):
        send(visitor, "A" * size)
        assert visitor.status == 413, size
        assert "<h1>Anmeldung nicht möglich</h1>" in visitor.text
        assert lead(visitor) == TOO_LARGE
    # A genuine answer blown up with whitespace, which would verify, is refused too.
    xml = base64.b64decode(forge(app, request_id)).decode()
    send(visitor, base64.b64encode((xml + " " * 200_000).encode()).decode())
    assert (visitor.status, lead(visitor)) == (413, TOO_LARGE)
    # Garbage just under the limit is read, and refused as unreadable.
    send(visitor, "A" * (256 * 1024 - 4))
    assert (visitor.status, lead(visitor)) == (400, UNREADABLE)
    assert counts(app) == (0, 0)
    with app.app_context():
        assert db().scalars(select(SamlRequest.answered_at)).all() == [None]


# ---------------------------------------------------------------- 5. answers nobody picked up


def test_a_verified_answer_nobody_picks_up_is_deleted_after_15_minutes(app: Flask, visitor: Browser) -> None:
    """The answer waits in saml_requests.result (names, address, birth date, pseudonym) until
    the browser that asked picks it up. A citizen who closes the window at that moment left
    it there for good; the periodic jobs now delete it once its 15 minutes are over."""
    start_login(visitor)
    visitor.submit("/dev-idp/sso", person="erika", mittel="eid")
    answered = visitor.client.post("/saml/acs", data=visitor.form("/saml/acs").fields)
    assert answered.status_code == 303  # verified and parked; the browser never comes back
    assert personal_data_in(stored_requests(app)) == list(PERSONAL_DATA)

    app.config["CLOCK"] = lambda: utcnow() + dt.timedelta(minutes=14)
    run_periodic_jobs(app)
    assert personal_data_in(stored_requests(app)) == list(PERSONAL_DATA)  # still within its 15 minutes

    app.config["CLOCK"] = lambda: utcnow() + dt.timedelta(minutes=15, seconds=5)
    run_periodic_jobs(app)
    assert personal_data_in(stored_requests(app)) == []
    with app.app_context():
        assert db().scalar(select(func.count()).select_from(SamlRequest)) == 0

    visitor.get(answered.headers["Location"])  # coming back late finds nothing
    assert (visitor.status, lead(visitor)) == (400, OTHER_BROWSER)
    assert counts(app) == (0, 0)
