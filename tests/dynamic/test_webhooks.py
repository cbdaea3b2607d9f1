"""The push to an office's endpoint (issue 24): it carries ids only (the office fetches by API),
is signed over timestamp and body (HMAC-SHA512, FIT-Connect style), can be neither replayed
nor tampered with against a receiver written from the handbook alone, is not sent once the
office has confirmed by API, and a push given up after the outbox's last attempt is counted
in /metrics, as are applications left "new" for days. Over a real local HTTP server; both
databases (the `app` fixture)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jsonschema
import pytest
import requests
from flask import Flask
from sqlalchemy import select

from dynamic.platform.db import db
from dynamic.platform.models import Application, ApplicationMessage, Office, OutboxItem
from dynamic.platform.outbox import MAX_ATTEMPTS, process_outbox
from tests.dynamic.forms_fixtures import office
from tests.dynamic.test_office_api import bearer, citizen_sends, new_citizen
from tests.dynamic.test_office_registration import citizen_replies
from tests.dynamic.test_operations import LOCAL, samples

WINDOW = 5 * 60  # the handbook: refuse anything older (or newer) than five minutes


# ---------------------------------------------------------------- a receiver, from the handbook only


@dataclass
class Delivery:
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An office's endpoint as the handbook (Betrieb → Schlüssel → Webhook) describes it: the
    signature is HMAC-SHA512 of "<X-Buergerportal-Timestamp>.<body>" with the webhook secret,
    sent as "sha512=<hex>"; a timestamp more than five minutes off is refused; an event id is
    processed once: the very same request again is a replay (refused), the portal's own repeat
    (same id, new timestamp and signature) is answered 2xx without processing it again."""

    secret: str = ""
    clock: Callable[[], float] = time.time
    seen: dict[str, str] = field(default_factory=dict)  # event id -> signature it came with first
    events: list[dict[str, Any]] = field(default_factory=list)  # processed, once each
    deliveries: list[Delivery] = field(default_factory=list)

    def check(self, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        timestamp = headers.get("X-Buergerportal-Timestamp", "")
        given = headers.get("X-Buergerportal-Signature", "")
        if re.fullmatch(r"[0-9]{1,12}", timestamp) is None:
            return 400, "no timestamp"
        expected = "sha512=" + hmac.new(self.secret.encode(), timestamp.encode() + b"." + body,
                                        hashlib.sha512).hexdigest()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return 401, "bad signature"
        if abs(self.clock() - int(timestamp)) > WINDOW:
            return 401, "outside the time window"
        event = json.loads(body)
        if event["id"] in self.seen:
            if hmac.compare_digest(self.seen[event["id"]], given):
                return 409, "replay"
            return 200, "known"
        self.seen[event["id"]] = given
        self.events.append(event)
        return 200, "processed"


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    """The receiver on a real local HTTP server; (receiver, its URL)."""
    hook = Receiver()

    class Endpoint(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name: value for name, value in self.headers.items()}
            status, reason = hook.check(headers, body)
            hook.deliveries.append(Delivery(status, reason, headers, body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook, f"http://127.0.0.1:{server.server_port}/eingang"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def webhook_secret(app: Flask) -> str:
    with app.app_context():
        secret = db().scalar(select(Office.webhook_secret))
    assert secret
    return str(secret)


def run_outbox_now(app: Flask) -> None:
    """Run the worker once with every waiting item due (no back-off wait)."""
    with app.app_context():
        for item in db().scalars(select(OutboxItem).where(OutboxItem.done_at.is_(None))):
            item.not_before = item.created_at
        db().commit()
    process_outbox(app)


def webhook_items(app: Flask) -> list[OutboxItem]:
    with app.app_context():
        return list(db().scalars(select(OutboxItem).where(OutboxItem.kind == "webhook").order_by(OutboxItem.id)))


def metrics_of(app: Flask) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    scraped = app.test_client().get("/metrics", environ_base=LOCAL)
    assert scraped.status_code == 200
    return samples(scraped.get_data(as_text=True))


def webhook_document(app: Flask) -> dict[str, Any]:
    document = app.test_client().get("/api/v1/openapi.json").json
    assert document is not None
    return dict(document.get("webhooks") or {})


def resend(url: str, delivery: Delivery, body: bytes | None = None, **headers: str) -> requests.Response:
    """What an attacker who captured a push can do: send it (or a changed copy) again."""
    sent = {name: value for name, value in delivery.headers.items()
            if name.lower() in ("content-type", "x-buergerportal-signature", "x-buergerportal-timestamp",
                                "x-buergerportal-event")}
    return requests.post(url, data=delivery.body if body is None else body, headers={**sent, **headers}, timeout=10)


# ---------------------------------------------------------------- the push itself


def test_a_valid_push_carries_ids_only_and_is_accepted_by_a_receiver_built_from_the_handbook(
        app: Flask, receiver: tuple[Receiver, str]) -> None:
    hook, url = receiver
    amt = office(app, webhook=url)
    hook.secret = webhook_secret(app)
    reference = citizen_sends(new_citizen(app))
    before = int(time.time())
    run_outbox_now(app)

    [delivery] = hook.deliveries
    assert (delivery.status, delivery.reason) == (200, "processed")
    [event] = hook.events
    assert set(event) == {"event", "id", "reference", "time"}  # ids only: no JWE, no form, no answers
    assert event["event"] == "antrag" and event["reference"] == reference
    with app.app_context():
        row = db().scalar(select(Application))
        assert row is not None
        assert dt.datetime.fromisoformat(event["time"]) == row.submitted_at
    # Opaque: no row number in it, nothing one could count up.
    assert re.fullmatch(r"[A-Za-z0-9_-]{20,64}", event["id"]) and str(row.id) not in event["id"].split("-")
    assert "application" not in event["id"] and "jwe" not in delivery.body.decode()
    timestamp = int(delivery.headers["X-Buergerportal-Timestamp"])
    assert before - 1 <= timestamp <= int(time.time()) + 1
    assert delivery.headers["X-Buergerportal-Signature"].startswith("sha512=")
    assert delivery.headers["X-Buergerportal-Event"] == "antrag"

    # The body and headers are as the OpenAPI document describes them.
    documented = webhook_document(app)["antrag"]["post"]
    jsonschema.validate(event, documented["requestBody"]["content"]["application/json"]["schema"])
    for parameter in documented["parameters"]:
        assert parameter["in"] == "header" and parameter["required"] is True
        assert re.fullmatch(parameter["schema"]["pattern"], delivery.headers[parameter["name"]]), parameter["name"]

    # The office fetches what the push named, by API.
    fetched = app.test_client().get(f"/api/v1/applications/{event['reference']}", headers=bearer(amt.token))
    assert fetched.status_code == 200 and fetched.json["jwe"]
    # A second run pushes nothing again.
    run_outbox_now(app)
    assert len(hook.deliveries) == 1 and all(item.done_at is not None for item in webhook_items(app))


def test_a_citizens_answer_is_pushed_with_an_opaque_message_id(app: Flask, receiver: tuple[Receiver, str]) -> None:
    hook, url = receiver
    amt = office(app, webhook=url)
    hook.secret = webhook_secret(app)
    citizen = new_citizen(app)
    reference = citizen_sends(citizen)
    run_outbox_now(app)
    citizen_replies(app, citizen, amt.token, reference)
    run_outbox_now(app)

    assert [event["event"] for event in hook.events] == ["antrag", "nachricht"]
    answer = hook.events[1]
    assert set(answer) == {"event", "id", "reference", "message", "time"}
    assert answer["reference"] == reference and answer["id"] != hook.events[0]["id"]
    with app.app_context():
        note = db().scalar(select(ApplicationMessage).where(ApplicationMessage.direction == "citizen"))
        assert note is not None
        assert dt.datetime.fromisoformat(answer["time"]) == note.created_at
    assert re.fullmatch(r"[A-Za-z0-9_-]{20,64}", answer["message"]) and answer["message"] != answer["id"]
    assert str(note.id) not in answer["message"].split("-") and "jwe" not in hook.deliveries[1].body.decode()
    documented = webhook_document(app)["nachricht"]["post"]
    jsonschema.validate(answer, documented["requestBody"]["content"]["application/json"]["schema"])
    listed = app.test_client().get(f"/api/v1/applications/{reference}/messages", headers=bearer(amt.token))
    assert [m["direction"] for m in listed.json["messages"]] == ["office", "citizen"]
    # The webhook's message id finds the answer in the application's messages.
    assert [m for m in listed.json["messages"] if m["message"] == answer["message"]] == [listed.json["messages"][1]]


# ---------------------------------------------------------------- replayed, tampered


def test_a_replayed_push_is_refused_by_the_receiver_old_or_not(
        app: Flask, receiver: tuple[Receiver, str]) -> None:
    hook, url = receiver
    office(app, webhook=url)
    hook.secret = webhook_secret(app)
    citizen_sends(new_citizen(app))
    run_outbox_now(app)
    [delivery] = hook.deliveries
    assert delivery.status == 200

    # At once: the same event id with the same signature is a replay.
    assert resend(url, delivery).status_code == 409
    # Six minutes later: the timestamp is too old, whatever the id.
    hook.seen.clear()
    hook.clock = lambda: time.time() + WINDOW + 60
    assert resend(url, delivery).status_code == 401 and hook.deliveries[-1].reason == "outside the time window"
    # A newer timestamp on the old body does not match the signature (it covers the timestamp).
    hook.clock = time.time
    newer = str(int(delivery.headers["X-Buergerportal-Timestamp"]) + 2)
    assert resend(url, delivery, **{"X-Buergerportal-Timestamp": newer}).status_code == 401
    assert hook.deliveries[-1].reason == "bad signature"
    assert len(hook.events) == 1


def test_a_tampered_body_is_refused_by_the_receiver(app: Flask, receiver: tuple[Receiver, str]) -> None:
    hook, url = receiver
    office(app, webhook=url)
    hook.secret = webhook_secret(app)
    citizen_sends(new_citizen(app))
    run_outbox_now(app)
    [delivery] = hook.deliveries
    hook.seen.clear()
    event = json.loads(delivery.body)
    other = json.dumps({**event, "reference": "A-2026-AAAA-BBBB"}, separators=(",", ":")).encode()
    assert resend(url, delivery, body=other).status_code == 401
    assert resend(url, delivery, body=delivery.body + b" ").status_code == 401
    assert [d.reason for d in hook.deliveries[1:]] == ["bad signature", "bad signature"]
    # A signature made with the old format (HMAC-SHA256 of the body alone) is no signature now.
    old = "sha256=" + hmac.new(hook.secret.encode(), delivery.body, hashlib.sha256).hexdigest()
    assert resend(url, delivery, **{"X-Buergerportal-Signature": old}).status_code == 401


# ---------------------------------------------------------------- confirmed first


def test_an_application_confirmed_before_the_worker_runs_is_not_pushed(
        app: Flask, receiver: tuple[Receiver, str]) -> None:
    hook, url = receiver
    amt = office(app, webhook=url)
    reference = citizen_sends(new_citizen(app))
    confirmed = app.test_client().post(f"/api/v1/applications/{reference}/receipt", headers=bearer(amt.token))
    assert confirmed.status_code == 200 and confirmed.json["status"] == "received"
    run_outbox_now(app)
    assert hook.deliveries == []
    [item] = webhook_items(app)
    assert item.done_at is not None and item.last_error is None


def test_a_citizens_answer_fetched_before_the_worker_runs_is_not_pushed(
        app: Flask, receiver: tuple[Receiver, str]) -> None:
    hook, url = receiver
    amt = office(app, webhook=url)
    hook.secret = webhook_secret(app)
    citizen = new_citizen(app)
    reference = citizen_sends(citizen)
    run_outbox_now(app)
    citizen_replies(app, citizen, amt.token, reference)
    listed = app.test_client().get(f"/api/v1/applications/{reference}/messages", headers=bearer(amt.token))
    assert listed.status_code == 200
    run_outbox_now(app)
    assert [event["event"] for event in hook.events] == ["antrag"]
    assert all(item.done_at is not None for item in webhook_items(app))


# ---------------------------------------------------------------- given up; left waiting


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


GIVEN_UP = "buergerportal_webhooks_given_up_total"


def test_a_receiver_that_is_down_gets_retries_and_finally_counts_as_given_up(app: Flask) -> None:
    office(app, webhook=f"http://127.0.0.1:{free_port()}/eingang")  # nobody listens there
    citizen_sends(new_citizen(app))
    assert metrics_of(app).get((GIVEN_UP, (("municipality", "stadt"),)), 0) == 0
    for attempt in range(1, MAX_ATTEMPTS + 1):
        run_outbox_now(app)
        [item] = webhook_items(app)
        assert item.attempts == attempt and item.done_at is None and item.last_error == "ConnectionError"
        if attempt < MAX_ATTEMPTS:
            assert metrics_of(app).get((GIVEN_UP, (("municipality", "stadt"),)), 0) == 0
    assert metrics_of(app)[(GIVEN_UP, (("municipality", "stadt"),))] == 1
    run_outbox_now(app)  # given up: not tried again, counted once
    assert webhook_items(app)[0].attempts == MAX_ATTEMPTS
    assert metrics_of(app)[(GIVEN_UP, (("municipality", "stadt"),))] == 1


OVERDUE = "buergerportal_applications_overdue"


def test_applications_left_new_for_more_than_three_days_are_counted_per_municipality_and_unit(app: Flask) -> None:
    amt = office(app)
    reference = citizen_sends(new_citizen(app))
    labels = (("municipality", "stadt"), ("unit", "buergeramt"))
    assert metrics_of(app).get((OVERDUE, labels), 0) == 0
    with app.app_context():
        row = db().scalar(select(Application))
        assert row is not None
        row.submitted_at = row.submitted_at - dt.timedelta(days=3, hours=1)
        db().commit()
    assert metrics_of(app)[(OVERDUE, labels)] == 1
    app.test_client().post(f"/api/v1/applications/{reference}/receipt", headers=bearer(amt.token))
    assert metrics_of(app).get((OVERDUE, labels), 0) == 0


# ---------------------------------------------------------------- the document


def test_the_openapi_document_describes_the_webhook_its_headers_and_the_time_window(app: Flask) -> None:
    webhooks = webhook_document(app)
    assert set(webhooks) == {"antrag", "nachricht"}
    for name, item in webhooks.items():
        post = item["post"]
        assert post["security"] == [] and "2XX" in post["responses"]
        assert {p["name"] for p in post["parameters"]} == {
            "X-Buergerportal-Timestamp", "X-Buergerportal-Signature", "X-Buergerportal-Event"}
        schema = post["requestBody"]["content"]["application/json"]["schema"]
        assert schema["properties"]["event"]["const"] == name and "jwe" not in schema["properties"]
        assert "fünf Minuten" in post["description"] and "HMAC-SHA512" in post["description"]
