"""The office API under /api/v1/ as an office's software and a clerk meet it: every request the
OpenAPI document allows (and many it does not) answered without a server error, with a
documented status and body (schemathesis); without a valid token only 401; listing by status;
bad messages refused with a message naming the field; a good one in the citizen's inbox.
Both databases (the `app` fixture)."""

from __future__ import annotations

import base64
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from schemathesis.checks import CheckContext, allow_header_conformance, positive_data_acceptance
from schemathesis.config import SchemathesisConfig
from sqlalchemy import event, select

from dynamic.platform.db import db
from dynamic.platform.models import Application, Message
from tests.dynamic.browserlike import Browser
from tests.dynamic.forms_fixtures import PDF, PNG, Office, fill_meldebescheinigung, office, reference_on, send
from tests.dynamic.test_profile import log_in, make_account

REFERENCE = re.compile(r"^A-[0-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$")
MB = 1024 * 1024


@dataclass
class Citizen:
    browser: Browser
    account_id: int


def new_citizen(app: Flask, email: str = "lena.antrag@example.org") -> Citizen:
    browser = Browser(app.test_client())
    account_id = make_account(app, email=email)
    log_in(browser.client, app, account_id)
    return Citizen(browser, account_id)


def citizen_sends(citizen: Citizen) -> str:
    """The citizen fills the fixture form and sends it; the reference shown on the receipt."""
    fill_meldebescheinigung(citizen.browser)
    send(citizen.browser, erklaerung="ja")
    assert "Ihr Antrag ist eingegangen" in citizen.browser.text
    return reference_on(citizen.browser.text)


@dataclass
class Sent:
    amt: Office
    citizen: Citizen
    reference: str


@pytest.fixture
def sent(app: Flask) -> Sent:
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash must reach the client as a 500, as in production
    amt = office(app)
    citizen = new_citizen(app)
    return Sent(amt, citizen, citizen_sends(citizen))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ---------------------------------------------------------------- schemathesis, with a token


FAILED = "a check failed"


@pytest.fixture
def exercised() -> Iterator[dict[str, set[int]]]:
    """Statuses seen per operation; afterwards, the run must have reached the stored application
    (a run that only ever met 404 would test nothing but the lookup)."""
    seen: dict[str, set[int]] = defaultdict(set)
    yield seen
    if not seen or FAILED in seen:
        return  # the run failed and says why; which statuses it met before does not matter
    for operation, status in (("getApplication", 200), ("confirmReceipt", 200), ("listMessages", 200),
                              ("sendMessage", 201), ("sendMessage", 422), ("listApplications", 200)):
        assert status in seen[operation], f"{operation} never answered {status}: {dict(seen)}"
    assert 404 in seen["getApplication"], "no made-up reference was tried"


@pytest.fixture
def api_schema(app: Flask, sent: Sent, database_url: str) -> Any:
    """The office API's own OpenAPI document, the office's token on every request, and the path
    parameter `reference` taken from the stored application in most cases (generated otherwise)."""
    generation: dict[str, Any] = {"max-examples": 40}
    # The token as the document's security scheme (not as a plain header): with a generated
    # header parameter (Idempotency-Key) beside it, schemathesis would take it for a generated one.
    config = SchemathesisConfig.from_dict({
        "auth": {"openapi": {"amt": {"bearer": sent.amt.token}}},
        "dictionaries": {"stored": {"values": [sent.reference]}},
        "parameters": {"path.reference": {"dictionary": "stored", "probability": 0.7}},
        "generation": generation,
    })
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)


def refused_only_for_what_the_schema_cannot_say(ctx: CheckContext, response: Any, case: Any) -> None:
    """sendMessage: a request the schema allows may be refused only because an attachment is not
    base64 of a file of its type (no JSON Schema can say that), or because a text is too short
    once its surrounding whitespace is stripped (the API strips; the document does not say so)."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code not in (413, 422):
        return
    message = response.json()["message"]
    field, _, _reason = message.partition(":")
    if field == "attachments":
        assert "Base64" in message or "ist kein" in message or "größer als 5 MB" in message, message
        return
    if field == "Idempotency-Key":  # the same generated key came before with another message
        assert response.json()["error"] == "idempotency_key_reused", message
        return
    value: Any = case.body
    for part in field.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    stripped_too_short = isinstance(value, str) and value != value.strip() and "zu kurz" in message
    assert stripped_too_short, f"schema-valid {field}={value!r} refused: {message}"


def refused_only_for_a_cursor_not_given_by_the_api(ctx: CheckContext, response: Any, case: Any) -> None:
    """listApplications, listReplies: `after` is opaque, only a `next` from an earlier answer is one; a made-up
    string the schema's pattern allows may be refused (400 naming after), nothing else."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code < 400:
        return
    assert response.status_code == 400 and response.json()["message"].startswith("after:"), response.text


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_request_with_the_token_gets_a_documented_answer_and_never_a_server_error(
        case: Any, exercised: dict[str, set[int]]) -> None:
    # The catch-all route of the static sites answers GET on every path, so `Allow` on
    # .../receipt names GET too (reported; nothing an office's software relies on).
    checks: dict[str, Any] = {"additional_checks": [], "excluded_checks": [allow_header_conformance]}
    if case.operation.definition.raw["operationId"] == "sendMessage":
        checks["excluded_checks"].append(positive_data_acceptance)
        checks["additional_checks"].append(refused_only_for_what_the_schema_cannot_say)
    if case.operation.definition.raw["operationId"] in ("rejectApplication", "forwardApplication"):
        # Rejected once, the stored application refuses another rejection (409); a generated jwe is
        # never one for the target office's key, nor is a generated unit one of the municipality (422).
        checks["excluded_checks"].append(positive_data_acceptance)
    if case.operation.definition.raw["operationId"] in ("listApplications", "listReplies"):
        checks["excluded_checks"].append(positive_data_acceptance)
        checks["additional_checks"].append(refused_only_for_a_cursor_not_given_by_the_api)
    try:
        response = case.call_and_validate(**checks)
    except BaseException:
        exercised[FAILED].add(0)
        raise
    exercised[case.operation.definition.raw["operationId"]].add(response.status_code)


# ---------------------------------------------------------------- schemathesis, without a token


@pytest.fixture
def anonymous_schema(app: Flask, sent: Sent) -> Any:
    """The same document, requests without the office's token (made-up tokens are generated)."""
    config = SchemathesisConfig.from_dict({
        "dictionaries": {"stored": {"values": [sent.reference]}},
        "parameters": {"path.reference": {"dictionary": "stored", "probability": 0.5}},
        "generation": {"max-examples": 30, "mode": "positive"},
    })
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)


anonymous = schemathesis.pytest.from_fixture("anonymous_schema")


@anonymous.parametrize()
def test_without_a_valid_token_every_operation_answers_401_and_changes_nothing(
        case: Any, app: Flask, sent: Sent) -> None:
    assert "Bearer amt_" not in str(case.headers or {})
    response = case.call()
    if case.operation.definition.raw.get("security") == []:  # public: the forms' JSON Schemas
        assert response.status_code in (200, 404), (case.formatted_path, response.status_code)
        assert status_of(app, sent.reference) == "new"
        return
    assert response.status_code == 401, (case.method, case.formatted_path, response.status_code, response.text)
    assert response.json()["error"] == "unauthorized"
    assert response.headers["www-authenticate"] == ['Bearer realm="amt"']
    assert status_of(app, sent.reference) == "new"
    assert len(messages_in_inbox(app, sent.citizen.account_id)) == 1  # the receipt only


def test_the_document_itself_needs_no_token_and_names_every_operation(app: Flask) -> None:
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.json is not None
    operations = {op["operationId"] for path in response.json["paths"].values() for op in path.values()}
    assert operations == {"listApplications", "getApplication", "confirmReceipt", "listMessages", "sendMessage",
                          "getFormSchema", "listAttachments", "getAttachment",
                          "rejectApplication", "forwardApplication", "getOfficeKey", "listReplies"}


# ---------------------------------------------------------------- what a clerk notices


def api(app: Flask) -> FlaskClient:
    return app.test_client()


def confirm(app: Flask, token: str, reference: str) -> None:
    response = api(app).post(f"/api/v1/applications/{reference}/receipt", headers=bearer(token))
    assert response.status_code == 200 and response.json["status"] == "received"


def test_a_locked_database_gets_a_json_answer_to_try_again_and_changes_nothing(app: Flask, sent: Sent) -> None:
    """Another connection holds the applications table longer than the app may wait (made
    0.1 s here): the office's client gets 503 in JSON with Retry-After, and the application
    stays unconfirmed."""
    engine = app.extensions["db_engine"]
    sqlite = engine.dialect.name == "sqlite"

    @event.listens_for(engine, "connect")
    def _short_wait(connection, _record):  # type: ignore[no-untyped-def]
        cursor = connection.cursor()
        cursor.execute("PRAGMA busy_timeout=100" if sqlite else "SET lock_timeout = '100ms'")
        cursor.close()

    engine.dispose()  # new connections, with the short wait
    with engine.connect() as holder:
        holder.exec_driver_sql("BEGIN EXCLUSIVE" if sqlite else "LOCK TABLE applications IN ACCESS EXCLUSIVE MODE")
        response = api(app).post(f"/api/v1/applications/{sent.reference}/receipt", headers=bearer(sent.amt.token))
        holder.rollback()
    event.remove(engine, "connect", _short_wait)
    engine.dispose()
    assert response.status_code == 503 and response.headers["Retry-After"] == "60"
    assert response.json["error"] == "database_busy"
    assert listed(app, sent.amt.token)[sent.reference]["status"] == "new"


def listed(app: Flask, token: str, status: str | None = None) -> dict[str, dict[str, Any]]:
    response = api(app).get("/api/v1/applications", headers=bearer(token),
                            query_string={"status": status} if status else None)
    assert response.status_code == 200, response.get_data(as_text=True)
    return {a["reference"]: a for a in response.json["applications"]}


def test_the_list_shows_new_received_or_all_applications_as_asked(app: Flask, sent: Sent) -> None:
    second = citizen_sends(sent.citizen)
    token = sent.amt.token
    assert set(listed(app, token)) == set(listed(app, token, "new")) == {sent.reference, second}
    confirm(app, token, sent.reference)

    assert set(listed(app, token)) == {second}  # the default: what is still to be fetched
    assert set(listed(app, token, "new")) == {second}
    received = listed(app, token, "received")
    assert set(received) == {sent.reference}
    assert received[sent.reference]["status"] == "received" and received[sent.reference]["received_at"]
    everything = listed(app, token, "all")
    assert set(everything) == {sent.reference, second}
    assert everything[second]["status"] == "new" and everything[second]["received_at"] is None
    assert all(REFERENCE.match(r) and a["form"] == "meldebescheinigung" for r, a in everything.items())


@pytest.mark.parametrize("status", ["neu", "NEW", "", "new,received"])
def test_an_unknown_status_is_refused_with_a_json_error(app: Flask, sent: Sent, status: str) -> None:
    response = api(app).get("/api/v1/applications", headers=bearer(sent.amt.token), query_string={"status": status})
    assert response.status_code == 400
    assert response.json == {"error": "bad_request", "message": "status muss new, received, rejected oder all sein."}


def messages_in_inbox(app: Flask, account_id: int) -> list[Message]:
    with app.app_context():
        return list(db().scalars(select(Message).where(Message.account_id == account_id).order_by(Message.id)))


def status_of(app: Flask, reference: str) -> str:
    with app.app_context():
        return str(db().scalar(select(Application.status).where(Application.reference == reference)))


def attachment(data: bytes, name: str = "bescheid.pdf", content_type: str = "application/pdf") -> dict[str, str]:
    return {"name": name, "content_type": content_type, "data": base64.b64encode(data).decode()}


@pytest.mark.parametrize(("body", "status", "names"), [
    pytest.param("Betreff: Hallo", 400, "JSON-Objekt mit subject und body", id="not-json"),
    pytest.param(["subject", "body"], 400, "JSON-Objekt mit subject und body", id="a-list"),
    pytest.param({"body": "Guten Tag"}, 422, "subject: Diese Angabe fehlt.", id="no-subject"),
    pytest.param({"subject": "Bescheid", "body": ""}, 422, "body: Der Text ist zu kurz: mindestens 1 Zeichen",
                 id="empty-body"),
    pytest.param({"subject": "Bescheid", "body": "Text", "absender": "Amt"}, 422,
                 "absender: Dieses Feld ist unbekannt", id="unknown-field"),
    pytest.param({"subject": "Bescheid", "body": "Text", "attachments": [attachment(PNG)]}, 422,
                 "attachments: der Inhalt von bescheid.pdf ist kein application/pdf.", id="png-said-to-be-pdf"),
    pytest.param({"subject": "Bescheid", "body": "Text", "attachments": [attachment(b"MZ\x90\x00 program")]}, 422,
                 "attachments: der Inhalt von bescheid.pdf ist kein application/pdf.", id="program-said-to-be-pdf"),
    pytest.param({"subject": "Bescheid", "body": "Text",
                  "attachments": [{**attachment(PDF), "data": "kein base64!"}]}, 422,
                 "attachments: bescheid.pdf ist kein gültiges Base64.", id="not-base64"),
    pytest.param({"subject": "Bescheid", "body": "Text", "attachments": [attachment(PDF, name="../etc/passwd")]},
                 422, "attachments.0.name: Der Dateiname darf weder", id="path-in-name"),
    pytest.param({"subject": "Bescheid", "body": "Text",
                  "attachments": [attachment(PDF, content_type="text/html")]}, 422,
                 "attachments.0.content_type: Erlaubt ist nur", id="html-attachment"),
    pytest.param({"subject": "Bescheid", "body": "Text", "decision": 0.0}, 422,
                 "decision: Erwartet wird true oder false.", id="number-as-decision"),
    pytest.param({"subject": "Bescheid", "body": "Text", "decision": "ja"}, 422,
                 "decision: Erwartet wird true oder false.", id="word-as-decision"),
])
def test_a_bad_message_is_refused_naming_the_field_and_reaches_nobody(
        app: Flask, sent: Sent, body: Any, status: int, names: str) -> None:
    url = f"/api/v1/applications/{sent.reference}/messages"
    before = len(messages_in_inbox(app, sent.citizen.account_id))
    if isinstance(body, str):
        response = api(app).post(url, headers=bearer(sent.amt.token), data=body, content_type="text/plain")
    else:
        response = api(app).post(url, headers=bearer(sent.amt.token), json=body)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.json is not None and names in response.json["message"], response.json
    assert len(messages_in_inbox(app, sent.citizen.account_id)) == before
    assert status_of(app, sent.reference) == "new"  # a refused message does not confirm receipt


@pytest.mark.parametrize("size", [
    pytest.param(5 * MB + 1, id="5MB-and-a-byte"),
    pytest.param(6 * MB, id="6MB"),
])
def test_an_attachment_over_5_mb_is_refused_as_too_large(app: Flask, sent: Sent, size: int) -> None:
    before = [m.subject for m in messages_in_inbox(app, sent.citizen.account_id)]
    big = PDF + b"0" * (size - len(PDF))
    response = api(app).post(f"/api/v1/applications/{sent.reference}/messages", headers=bearer(sent.amt.token),
                             json={"subject": "Bescheid", "body": "Anbei.", "attachments": [attachment(big)]})
    assert response.status_code == 413, response.get_data(as_text=True)[:300]
    assert response.json == {"error": "too_large", "message": "attachments: bescheid.pdf ist größer als 5 MB."}
    assert [m.subject for m in messages_in_inbox(app, sent.citizen.account_id)] == before


def test_a_message_lands_in_the_citizens_inbox_with_its_attachment(app: Flask, sent: Sent) -> None:
    response = api(app).post(
        f"/api/v1/applications/{sent.reference}/messages", headers=bearer(sent.amt.token),
        json={"subject": "  Ihre Meldebescheinigung  ", "body": "Die Bescheinigung liegt bei.\nMit freundlichen Grüßen",
              "decision": True, "attachments": [attachment(PDF), attachment(PNG, "foto.png", "image/png")]})
    assert response.status_code == 201, response.get_data(as_text=True)
    # A decision is marked as such in the inbox.
    assert response.json["direction"] == "office" and response.json["subject"] == "Bescheid: Ihre Meldebescheinigung"
    assert status_of(app, sent.reference) == "received"  # answering confirms receipt

    newest = messages_in_inbox(app, sent.citizen.account_id)[-1]
    assert newest.subject == "Bescheid: Ihre Meldebescheinigung" and newest.sender == "Bürgeramt"
    assert newest.body.startswith("Die Bescheinigung liegt bei.") and sent.reference in newest.body

    browser = sent.citizen.browser
    browser.get("/postfach/")
    link = re.search(r'href="(/postfach/\d+)"><strong><span class="visually-hidden">Ungelesen: </span>'
                     r"Bescheid: Ihre Meldebescheinigung", browser.text)
    assert link, "the message is not in the inbox as unread"
    browser.get(link.group(1))
    assert "Die Bescheinigung liegt bei." in browser.text and f"Vorgangsnummer: {sent.reference}" in browser.text
    files = re.findall(r'href="(/postfach/\d+/anhang/\d+)"', browser.text)
    assert [browser.client.get(f).data for f in files] == [PDF, PNG]

    listed_messages = api(app).get(f"/api/v1/applications/{sent.reference}/messages", headers=bearer(sent.amt.token))
    assert [(m["direction"], m["subject"]) for m in listed_messages.json["messages"]] == [
        ("office", "Bescheid: Ihre Meldebescheinigung")]


@pytest.mark.parametrize("where", ["subject", "body", "reference"])
def test_a_nul_character_is_refused_or_kept_never_a_server_error(
        app: Flask, sent: Sent, where: str) -> None:
    headers = bearer(sent.amt.token)
    if where == "reference":
        response = api(app).get(f"/api/v1/applications/{sent.reference}%00", headers=headers)
        assert response.status_code == 400 and "NUL" in response.json["message"], response.get_data(as_text=True)
        return
    body = {"subject": "Bescheid", "body": "Text", where: "Bescheid\x00Teil 2"}
    response = api(app).post(f"/api/v1/applications/{sent.reference}/messages", headers=headers, json=body)
    assert response.status_code in (201, 422), response.get_data(as_text=True)[:300]
