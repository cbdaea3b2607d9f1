"""What an operator relies on: /metrics in Prometheus text format (closed to the outside) and
log lines as JSON without personal data."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from dynamic import create_app, use_json_logs
from tests.dynamic.browserlike import Browser
from tests.dynamic.conftest import make_settings
from tests.dynamic.forms_fixtures import fill_meldebescheinigung, office, send
from tests.dynamic.test_profile import log_in, make_account

LOCAL = {"REMOTE_ADDR": "127.0.0.1"}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_count_requests_per_route_and_what_citizens_did(app: Flask) -> None:
    office(app)
    browser = Browser(app.test_client())
    log_in(browser.client, app, make_account(app, email="metrik@example.org"))
    fill_meldebescheinigung(browser)
    send(browser, erklaerung="ja")
    assert "Ihr Antrag ist eingegangen" in browser.text

    outside = app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert outside.status_code == 404
    scraped = app.test_client().get("/metrics", environ_base=LOCAL)
    assert scraped.status_code == 200 and scraped.mimetype == "text/plain"
    found = samples(scraped.get_data(as_text=True))
    assert found[("buergerportal_applications", (("municipality", "stadt"), ("status", "new")))] == 1
    assert found[("buergerportal_applications_submitted_total",
                  (("form", "meldebescheinigung"), ("municipality", "stadt")))] >= 1
    step = (("method", "POST"), ("route", "/<slug>/antrag/<form_id>/<step_id>/"), ("status", "303"))
    assert found[("buergerportal_http_requests_total", step)] >= 2
    assert any(name == "buergerportal_http_request_duration_seconds_count" for name, _labels in found)
    # Labels hold route patterns, never the paths with their references and names.
    assert "meldebescheinigung/eingang/A-" not in scraped.get_data(as_text=True)


def test_with_a_metrics_token_only_its_bearer_may_scrape(app_settings: dict[str, Any]) -> None:
    app = create_app(make_settings(**{**app_settings, "metrics_token": "geheim-fuer-prometheus"}))
    try:
        client = app.test_client()
        assert client.get("/metrics", environ_base=LOCAL).status_code == 404
        assert client.get("/metrics", headers={"Authorization": "Bearer falsch"}).status_code == 404
        good = client.get("/metrics", headers={"Authorization": "Bearer geheim-fuer-prometheus"},
                          environ_base={"REMOTE_ADDR": "10.0.0.5"})
        assert good.status_code == 200 and b"buergerportal_http_requests_total" in good.data
    finally:
        app.extensions["db_engine"].dispose()


@pytest.fixture
def json_log(app_settings: dict[str, Any]) -> Iterator[tuple[Flask, io.StringIO]]:
    root = logging.getLogger()
    level = root.level
    app = create_app(make_settings(**{**app_settings, "log_format": "json"}))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    use_json_logs()  # as create_app did for the handlers there were
    try:
        yield app, stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        for other in root.handlers:
            other.setFormatter(logging.Formatter())
        app.extensions["db_engine"].dispose()


def test_json_logs_carry_the_request_but_no_personal_data(json_log: tuple[Flask, io.StringIO]) -> None:
    app, stream = json_log
    client = app.test_client()
    client.post("/konto/anmelden", data={"email": "geheim.person@example.org", "passwort": "Sehr-Geheim-123"})
    client.get("/konto/passwort/neu/token-das-niemand-sehen-darf")
    client.get("/stadt/antrag/meldebescheinigung/?kommune=stadt&name=Erika+Mustermann")
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    requests = [line for line in lines if line.get("logger") == "dynamic.requests"]
    assert requests, stream.getvalue()
    assert {"time", "level", "logger", "method", "route", "status", "ms"} <= set(requests[-1])
    assert {line["route"] for line in requests if "route" in line} >= {"/konto/anmelden", "/<slug>/antrag/<form_id>/"}
    text = stream.getvalue()
    for secret in ("geheim.person", "Sehr-Geheim", "token-das-niemand", "Mustermann", "127.0.0.1"):
        assert secret not in text, secret
