"""The office API as an office's software depends on it beyond one request (issue 24, items 3
and 4): the list comes in pages joined by an opaque cursor (`limit`, `after`, `next`), nothing
missed or doubled while applications arrive or are confirmed between pages, `since` for
reconciliation, unknown or malformed parameters refused by name; a message sent twice with the
same `Idempotency-Key` reaches the inbox once (also when both arrive at the same moment); the
API's refusals are German; references are found in lower case too. Both databases."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import threading
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect, select

from dynamic.platform.db import alembic_config, db, make_engine, migrate, session_scope
from dynamic.platform.models import Application, ApplicationMessage, Message, OutboxItem
from dynamic.platform.models import Office as OfficeRow
from tests.dynamic.conftest import fresh_postgres_database
from tests.dynamic.forms_fixtures import PDF, office, served
from tests.dynamic.test_office_api import Sent, bearer, citizen_sends, new_citizen

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
BASE = dt.datetime(2020, 3, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def sent(app: Flask) -> Sent:
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash must reach the client as a 500, as in production
    amt = office(app)
    citizen = new_citizen(app)
    return Sent(amt, citizen, citizen_sends(citizen))


def api(app: Flask) -> FlaskClient:
    return app.test_client()


def stored(app: Flask, count: int, at: dt.datetime | list[dt.datetime] = BASE, status: str = "new",
           step: dt.timedelta = dt.timedelta(minutes=1)) -> list[str]:
    """`count` applications for the test office (stadt/buergeramt), stored directly: submitted
    from `at` on in `step`s (all at the same moment with step 0); their references, oldest first."""
    references = []
    with session_scope(app) as session:
        office_id = session.scalar(select(OfficeRow.id).where(OfficeRow.slug == "stadt",
                                                              OfficeRow.unit_id == "buergeramt"))
        assert office_id is not None
        for number in range(count):
            reference = "A-2026-" + "".join(secrets.choice(ALPHABET) for _ in range(4)) + "-" + \
                "".join(secrets.choice(ALPHABET) for _ in range(4))
            when = at[number] if isinstance(at, list) else at + number * step
            session.add(Application(reference=reference, slug="stadt", form_id="meldebescheinigung",
                                    office_id=office_id, submission_token=secrets.token_hex(32), jwe="jwe",
                                    citizen_copy="copy", status=status, submitted_at=when,
                                    received_at=when if status == "received" else None))
            references.append(reference)
    return references


def page(app: Flask, token: str, **params: Any) -> dict[str, Any]:
    response = api(app).get("/api/v1/applications", headers=bearer(token), query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert set(response.json) == {"applications", "next"}, response.json
    return dict(response.json)


def every_page(app: Flask, token: str, between: Any = None, **params: Any) -> list[list[str]]:
    """Follow `next` until it is null; `between(number)` runs after each page but the last."""
    pages: list[list[str]] = []
    cursor = None
    while True:
        answer = page(app, token, **params, **({"after": cursor} if cursor else {}))
        pages.append([a["reference"] for a in answer["applications"]])
        cursor = answer["next"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "next never ends"
        if between is not None:
            between(len(pages))


# ---------------------------------------------------------------- paging


def test_seven_applications_come_in_pages_of_three_three_and_one_then_next_is_null(app: Flask) -> None:
    amt = office(app)
    references = stored(app, 7)
    first = page(app, amt.token, limit=3)
    assert [a["reference"] for a in first["applications"]] == references[:3]
    cursor = first["next"]
    assert isinstance(cursor, str) and cursor and not cursor.isdigit()
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    second = page(app, amt.token, limit=3, after=cursor)
    assert [a["reference"] for a in second["applications"]] == references[3:6] and second["next"]
    third = page(app, amt.token, limit=3, after=second["next"])
    assert [a["reference"] for a in third["applications"]] == references[6:]
    assert third["next"] is None
    assert every_page(app, amt.token, limit=7) == [references]  # a full last page: next is null at once


@pytest.mark.parametrize("step", [dt.timedelta(minutes=1), dt.timedelta(0)], ids=["apart", "same-moment"])
def test_nothing_is_missed_or_doubled_while_applications_arrive_and_are_confirmed_between_pages(
        app: Flask, step: dt.timedelta) -> None:
    """The clerk's loop: fetch a page, confirm it, fetch the next. Meanwhile a citizen sends a
    new application (one at the very moment of the others, too). Offset paging would skip the
    three confirmed ones' successors; a row number would shift."""
    amt = office(app)
    references = stored(app, 7, step=step)
    citizen = new_citizen(app)
    arrived: list[str] = []

    def meanwhile(number: int) -> None:
        for reference in pages[-1] if pages else []:
            assert api(app).post(f"/api/v1/applications/{reference}/receipt",
                                 headers=bearer(amt.token)).status_code == 200
        if number == 1:
            arrived.append(citizen_sends(citizen))
            arrived.extend(stored(app, 1, at=BASE + 3 * step))  # the same moment as the ones on page 2

    pages: list[list[str]] = []
    cursor = None
    while True:
        answer = page(app, amt.token, limit=3, **({"after": cursor} if cursor else {}))
        pages.append([a["reference"] for a in answer["applications"]])
        cursor = answer["next"]
        if cursor is None:
            break
        meanwhile(len(pages))
    seen = [reference for found in pages for reference in found]
    assert len(seen) == len(set(seen)), f"doubled: {pages}"
    assert set(references) | set(arrived) <= set(seen), f"missed: {pages}"
    assert [len(found) for found in pages[:2]] == [3, 3]


def test_status_all_reaches_applications_beyond_the_oldest_500(app: Flask) -> None:
    amt = office(app)
    received = stored(app, 501, status="received", step=dt.timedelta(seconds=1))
    newest = stored(app, 1, at=BASE + dt.timedelta(days=1))
    pages = every_page(app, amt.token, status="all", limit=500)
    assert [len(found) for found in pages] == [500, 2]
    assert pages[1] == [received[-1], newest[0]]


def test_without_parameters_the_first_100_new_ones_and_a_next(app: Flask) -> None:
    """A client that reads only `applications` gets what it got before, at most 100 at a time."""
    amt = office(app)
    stored(app, 3, status="received")
    new = stored(app, 101, at=BASE + dt.timedelta(days=1), step=dt.timedelta(seconds=1))
    first = page(app, amt.token)
    assert [a["reference"] for a in first["applications"]] == new[:100]
    assert {a["status"] for a in first["applications"]} == {"new"} and first["next"]
    assert [a["reference"] for a in page(app, amt.token, after=first["next"])["applications"]] == new[100:]


def test_since_lists_what_was_submitted_at_or_after_it_in_any_status_unless_one_is_asked(app: Flask) -> None:
    amt = office(app)
    before = stored(app, 2, at=BASE - dt.timedelta(hours=1))
    received = stored(app, 2, at=BASE, status="received")
    new = stored(app, 2, at=BASE + dt.timedelta(hours=1))
    since = "2020-03-01T08:00:00Z"
    assert every_page(app, amt.token, since=since) == [received + new]
    assert every_page(app, amt.token, since="2020-03-01T10:00:00+02:00", limit=1) == [[r] for r in received + new]
    assert every_page(app, amt.token, since=since, status="new") == [new]
    assert every_page(app, amt.token, since=since, status="received") == [received]
    assert every_page(app, amt.token, since="2020-03-01T08:00:00.000001Z") == [[received[1], *new]]
    assert every_page(app, amt.token, since="0001-01-01T00:00:00+05:00") == [before + received + new]
    assert every_page(app, amt.token, since="9999-12-31T23:59:59-05:00") == [[]]


def cursor_of(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


@pytest.mark.parametrize(("params", "names"), [
    pytest.param({"page": "2"}, "page", id="page"),
    pytest.param({"offset": "100"}, "offset", id="offset"),
    pytest.param({"Status": "new"}, "Status", id="capital-status"),
    pytest.param({"limit": "0"}, "limit", id="limit-0"),
    pytest.param({"limit": "501"}, "limit", id="limit-501"),
    pytest.param({"limit": "-1"}, "limit", id="limit-negative"),
    pytest.param({"limit": "drei"}, "limit", id="limit-word"),
    pytest.param({"limit": ""}, "limit", id="limit-empty"),
    pytest.param({"limit": "1e2"}, "limit", id="limit-exponent"),
    pytest.param({"limit": ["3", "4"]}, "limit", id="limit-twice"),
    pytest.param({"status": ["new", "all"]}, "status", id="status-twice"),
    pytest.param({"after": "5"}, "after", id="after-row-number"),
    pytest.param({"after": "kein cursor!"}, "after", id="after-garbage"),
    pytest.param({"after": ""}, "after", id="after-empty"),
    pytest.param({"after": cursor_of("2020-03-01T08:00:00+00:00")}, "after", id="after-without-id"),
    pytest.param({"after": cursor_of("gestern", 1)}, "after", id="after-bad-time"),
    pytest.param({"after": cursor_of("2020-03-01T08:00:00", 1)}, "after", id="after-naive-time"),
    pytest.param({"after": cursor_of("2020-03-01T08:00:00+00:00", 2**40)}, "after", id="after-huge-id"),
    pytest.param({"after": "A" * 1000}, "after", id="after-long"),
    pytest.param({"since": "gestern"}, "since", id="since-word"),
    pytest.param({"since": "2026-03-01"}, "since", id="since-date-only"),
    pytest.param({"since": "2020-03-01T08:00:00"}, "since", id="since-without-offset"),
    pytest.param({"since": "2026-02-30T08:00:00Z"}, "since", id="since-no-such-day"),
    pytest.param({"since": "1772352000"}, "since", id="since-epoch"),
])
def test_an_unknown_parameter_or_a_malformed_value_is_refused_naming_it(
        app: Flask, params: dict[str, Any], names: str) -> None:
    amt = office(app)
    stored(app, 2)
    response = api(app).get("/api/v1/applications", headers=bearer(amt.token), query_string=params)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json is not None and response.json["error"] == "bad_request"
    message = response.json["message"]
    assert message.startswith(f"{names}:") or f"»{names}«" in message, message
    assert "Sie" in message or "muss" in message or "gibt es" in message, message


# ---------------------------------------------------------------- idempotent messages


def outbox_mails(app: Flask, account_id: int) -> int:
    with app.app_context():
        return len(db().scalars(select(OutboxItem).where(OutboxItem.kind == "mail",
                                                         OutboxItem.account_id == account_id)).all())


def inbox(app: Flask, account_id: int) -> list[Message]:
    with app.app_context():
        return list(db().scalars(select(Message).where(Message.account_id == account_id).order_by(Message.id)))


MESSAGE: dict[str, Any] = {"subject": "Ihre Meldebescheinigung", "body": "Die Bescheinigung liegt bei.", "decision": True,
           "attachments": [{"name": "bescheid.pdf", "content_type": "application/pdf",
                            "data": base64.b64encode(PDF).decode()}]}


def test_a_retried_message_with_the_same_key_gets_the_first_answer_and_reaches_the_inbox_once(
        app: Flask, sent: Sent) -> None:
    url = f"/api/v1/applications/{sent.reference}/messages"
    account = sent.citizen.account_id
    inbox_before, mails_before = len(inbox(app, account)), outbox_mails(app, account)
    headers = {**bearer(sent.amt.token), "Idempotency-Key": "bescheid-4711 / Versuch"}
    first = api(app).post(url, headers=headers, json=MESSAGE)
    assert first.status_code == 201, first.get_data(as_text=True)
    again = api(app).post(url, headers=headers, json=dict(reversed(list(MESSAGE.items()))))  # same, other order
    assert again.status_code == 201 and again.json == first.json
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(inbox(app, account)) == inbox_before + 1 and outbox_mails(app, account) == mails_before + 1
    listed = api(app).get(url, headers=bearer(sent.amt.token)).json["messages"]
    assert [m["id"] for m in listed] == [first.json["id"]]

    # Another key is another message; no key at all is, as before, always a new one.
    other = api(app).post(url, headers={**bearer(sent.amt.token), "Idempotency-Key": "bescheid-4712"}, json=MESSAGE)
    assert other.status_code == 201 and other.json["id"] != first.json["id"]
    for _ in range(2):
        assert api(app).post(url, headers=bearer(sent.amt.token), json=MESSAGE).status_code == 201
    assert len(inbox(app, account)) == inbox_before + 4


def test_the_same_key_with_another_body_is_refused_in_german_and_changes_nothing(app: Flask, sent: Sent) -> None:
    url = f"/api/v1/applications/{sent.reference}/messages"
    headers = {**bearer(sent.amt.token), "Idempotency-Key": "k-1"}
    assert api(app).post(url, headers=headers, json=MESSAGE).status_code == 201
    count = len(inbox(app, sent.citizen.account_id))
    response = api(app).post(url, headers=headers, json={**MESSAGE, "body": "Ein anderer Text."})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.json["error"] == "idempotency_key_reused"
    assert "Idempotency-Key" in response.json["message"] and "anderen" in response.json["message"]
    assert len(inbox(app, sent.citizen.account_id)) == count


@pytest.mark.parametrize("key", ["", "x" * 201, "schlüssel", "a\tb"], ids=["empty", "201", "umlaut", "tab"])
def test_a_malformed_idempotency_key_is_refused_naming_the_header(app: Flask, sent: Sent, key: str) -> None:
    before = len(inbox(app, sent.citizen.account_id))
    response = api(app).post(f"/api/v1/applications/{sent.reference}/messages",
                             headers={**bearer(sent.amt.token), "Idempotency-Key": key}, json=MESSAGE)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json["message"].startswith("Idempotency-Key:"), response.json
    assert len(inbox(app, sent.citizen.account_id)) == before


def test_a_key_of_200_printable_characters_is_taken(app: Flask, sent: Sent) -> None:
    key = "".join(chr(c) for c in range(0x21, 0x7F)) + "-" * (200 - 94)
    response = api(app).post(f"/api/v1/applications/{sent.reference}/messages",
                             headers={**bearer(sent.amt.token), "Idempotency-Key": key}, json=MESSAGE)
    assert response.status_code == 201, response.get_data(as_text=True)


def test_concurrent_requests_with_the_same_key_give_one_message_and_the_same_answer(app: Flask, sent: Sent) -> None:
    account = sent.citizen.account_id
    inbox_before, mails_before = len(inbox(app, account)), outbox_mails(app, account)
    answers: list[tuple[int, Any]] = []
    failures: list[BaseException] = []
    start = threading.Barrier(8)

    def post(url: str) -> None:
        try:
            start.wait(10)
            response = requests.post(f"{url}/api/v1/applications/{sent.reference}/messages", json=MESSAGE, timeout=60,
                                     headers={**bearer(sent.amt.token), "Idempotency-Key": "gleichzeitig"})
            answers.append((response.status_code, response.json()))
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    with served(app) as url:
        threads = [threading.Thread(target=post, args=(url,)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
    assert not failures, failures
    assert len(answers) == 8
    assert {status for status, _ in answers} == {201}, answers
    assert len({json.dumps(body, sort_keys=True) for _, body in answers}) == 1, answers
    assert len(inbox(app, account)) == inbox_before + 1
    assert outbox_mails(app, account) == mails_before + 1
    with app.app_context():
        notes = db().scalars(select(ApplicationMessage).where(ApplicationMessage.direction == "office")).all()
    assert len(notes) == 1


def test_migration_0006_goes_down_and_up_again(tmp_path: Any) -> None:
    from alembic import command

    def check(engine: Any) -> None:
        migrate(engine)
        columns = {c["name"] for c in inspect(engine).get_columns("application_messages")}
        assert {"idempotency_key", "request_hash"} <= columns
        command.downgrade(alembic_config(engine), "0005")
        columns = {c["name"] for c in inspect(engine).get_columns("application_messages")}
        assert "idempotency_key" not in columns and "request_hash" not in columns
        migrate(engine)
        uniques = inspect(engine).get_unique_constraints("application_messages")
        assert any(set(u["column_names"]) == {"application_id", "idempotency_key"} for u in uniques), uniques
        engine.dispose()

    check(make_engine(f"sqlite:///{tmp_path / 'down-up.sqlite3'}"))
    with fresh_postgres_database("portal_migration") as url:
        check(make_engine(url))


# ---------------------------------------------------------------- German refusals, lower-case references


def test_a_request_over_the_limit_gets_a_german_413(app: Flask, sent: Sent) -> None:
    response = api(app).post(f"/api/v1/applications/{sent.reference}/messages", headers=bearer(sent.amt.token),
                             data=b"{" + b" " * (40 * 1024 * 1024) + b"}", content_type="application/json")
    assert response.status_code == 413
    assert response.json is not None
    assert response.json["message"] == ("Die Anfrage ist zu groß: höchstens 40 MB sind erlaubt "
                                        "(fünf Anhänge zu 5 MB, Base64-kodiert).")


@pytest.mark.parametrize(("body", "message"), [
    pytest.param({"body": "Text"}, "subject: Diese Angabe fehlt.", id="missing"),
    pytest.param({"subject": "  ", "body": "Text"},
                 "subject: Der Text ist zu kurz: mindestens 1 Zeichen (Leerzeichen am Anfang und Ende zählen nicht).",
                 id="blank"),
    pytest.param({"subject": "x" * 201, "body": "Text"}, "subject: Der Text ist zu lang: höchstens 200 Zeichen.",
                 id="too-long"),
    pytest.param({"subject": "Bescheid", "body": "Text", "absender": "Amt"},
                 "absender: Dieses Feld ist unbekannt; erlaubt sind subject, body, decision und attachments.",
                 id="unknown-field"),
    pytest.param({"subject": "Bescheid", "body": "Text", "decision": "ja"},
                 "decision: Erwartet wird true oder false.", id="not-a-boolean"),
    pytest.param({"subject": 5, "body": "Text"}, "subject: Erwartet wird ein Text.", id="number-as-text"),
    pytest.param({"subject": "Be\x07scheid", "body": "Text"},
                 "subject: Der Text enthält ein Steuerzeichen, das hier nicht erlaubt ist.", id="control"),
    pytest.param({"subject": "Bescheid", "body": "Text", "attachments": {}},
                 "attachments: Erwartet wird eine Liste.", id="object-as-list"),
    pytest.param({"subject": "Bescheid", "body": "Text", "attachments": [{"name": "a/b.pdf",
                                                                           "content_type": "application/pdf",
                                                                           "data": "JVBERi0="}]},
                 "attachments.0.name: Der Dateiname darf weder / noch \\ noch Steuerzeichen enthalten.",
                 id="slash-in-name"),
    pytest.param({"subject": "Bescheid", "body": "Text", "attachments": [{"name": "a.html",
                                                                           "content_type": "text/html",
                                                                           "data": "JVBERi0="}]},
                 "attachments.0.content_type: Erlaubt ist nur 'application/pdf', 'image/png' oder 'image/jpeg'.",
                 id="html"),
    pytest.param({"subject": "Bescheid", "body": "Text", "attachments": [MESSAGE["attachments"][0]] * 6},
                 "attachments: Höchstens 5 Einträge sind erlaubt.", id="six-attachments"),
])
def test_a_refused_message_is_explained_in_german_naming_the_field(
        app: Flask, sent: Sent, body: dict[str, Any], message: str) -> None:
    response = api(app).post(f"/api/v1/applications/{sent.reference}/messages", headers=bearer(sent.amt.token),
                             json=body)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.json == {"error": "invalid", "message": message}


def test_a_lower_case_reference_finds_the_application(app: Flask, sent: Sent) -> None:
    lower = sent.reference.lower()
    headers = bearer(sent.amt.token)
    found = api(app).get(f"/api/v1/applications/{lower}", headers=headers)
    assert found.status_code == 200 and found.json["reference"] == sent.reference
    assert api(app).get(f"/api/v1/applications/{lower}/messages", headers=headers).status_code == 200
    mixed = sent.reference[:7] + sent.reference[7:].lower()
    receipt = api(app).post(f"/api/v1/applications/{mixed}/receipt", headers=headers)
    assert receipt.status_code == 200 and receipt.json["reference"] == sent.reference
    answered = api(app).post(f"/api/v1/applications/{lower}/messages", headers=headers,
                             json={"subject": "Hallo", "body": "Text"})
    assert answered.status_code == 201
    # A lower-case reference of another office stays unknown to it.
    other = office(app, unit="standesamt")
    assert api(app).get(f"/api/v1/applications/{lower}", headers=bearer(other.token)).status_code == 404
