"""No route answers 5xx, whatever a stranger sends: a property-based test (Hypothesis) over
every route pattern of the app, with path values, query strings and form fields chosen to
break parsers (dates that overflow, numbers past 64 bits, odd Unicode, huge exponents), as an
anonymous visitor, a logged-in citizen and a logged-in clerk, on SQLite and PostgreSQL. The
office API's schema is fuzzed by Schemathesis in tests/dynamic/test_office_api.py; here its
routes get malformed JSON and deep nesting too. And the places the review found, over HTTP."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dynamic import create_app
from dynamic.appointments.slots import to_utc
from dynamic.platform.db import session_scope
from dynamic.platform.models import Appointment, Message, StaffUser
from dynamic.platform.passwords import hash_password
from tests.attacks.conftest import http_browser
from tests.dynamic.booking_fixtures import MONDAY_MORNING, with_booking
from tests.dynamic.browserlike import Browser
from tests.dynamic.conftest import make_settings
from tests.dynamic.test_profile import log_in, make_account

CODE = "ABCD-EFGH"
CLERK_PASSWORD = "Kirschbaum Fahrrad Leuchtturm"
KNOWN = ["stadt", "kreis", "personalausweis-beantragen", "rathaus", "rathaus-nordort", "meldebescheinigung",
         "person", "bescheinigung", "zahlung", CODE, "2026-12-08", "1", "0"]
NASTY = ["9999-12-31", "0001-01-01", "2026-02-30", "2026-13-01", "-2026-01-01", "99999999999999999999999",
         "-1", "1e500000", "1e5000", "NaN", "inf", "..", ".", "%00", "\x00", "ä" * 300, "x" * 3000, "😀", " ",
         "2026-12-08T25:00", "2026-12-08T08:00:00+99:00", "+2026-12-08T08:00:00+01:00", "{{7*7}}", "<script>"]
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=60)
VALUES = st.one_of(st.sampled_from(KNOWN), st.sampled_from(NASTY), TEXT)
INTS = st.one_of(st.integers(0, 5), st.integers(2**31 - 2, 2**31 + 2), st.integers(2**63 - 2, 2**90))
PARAMS = ["monat", "personen", "verschieben", "s", "q", "stufe", "weiter", "zeit", "hinweis", "tag", "seite",
          "aktion", "email", "passwort", "benutzername", "status", "von", "bis", "schalter", "grund", "anzahl",
          "geburtsdatum", "art", "text", "betreff", "format", "kind"]
QUERY = st.dictionaries(st.sampled_from(PARAMS), VALUES, max_size=4)
CLIENTS = ["visitor", "citizen", "clerk"]


@pytest.fixture
def app(app_settings: dict[str, Any], fixture_output: Path, tmp_path: Path) -> Iterator[Flask]:
    output = with_booking(fixture_output, tmp_path / "output")
    application = create_app(make_settings(**{**app_settings, "output_dir": output}))
    application.config.update(CLOCK=lambda: MONDAY_MORNING)  # not TESTING: errors answer as in production
    yield application
    application.extensions["db_engine"].dispose()


def csrf_of(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found, path
    return found.group(1)


@pytest.fixture
def clients(app: Flask) -> dict[str, tuple[FlaskClient, str]]:
    """Each kind of client with a CSRF token of its session: forged POSTs get past CSRF."""
    account_id = make_account(app, email="fuzz@example.org")
    start = to_utc(dt.date(2026, 12, 8), dt.time(8, 0))
    with session_scope(app) as db_session:
        db_session.add(Appointment(slug="stadt", location_id="rathaus", service_id="personalausweis-beantragen",
                                   starts_at=start, ends_at=start + dt.timedelta(minutes=15), counter=1,
                                   status="booked", code=CODE, account_id=account_id))
        db_session.add(Message(account_id=account_id, slug="stadt", sender="Stadt", subject="Hallo", body="Text"))
        db_session.add(StaffUser(slug="stadt", username="schalter1", password_hash=hash_password(CLERK_PASSWORD)))
    visitor = app.test_client()
    citizen = app.test_client()
    log_in(citizen, app, account_id)
    clerk = Browser(app.test_client())
    clerk.get("/stadt/verwaltung/anmelden")
    clerk.submit("/stadt/verwaltung/anmelden", benutzername="schalter1", passwort=CLERK_PASSWORD)
    assert "Abmelden" in clerk.text
    return {"visitor": (visitor, csrf_of(visitor, "/konto/anmelden")),
            "citizen": (citizen, csrf_of(citizen, "/konto/passwort")),
            "clerk": (clerk.client, csrf_of(clerk.client, "/stadt/verwaltung/"))}


def rules(app_for_rules: Flask) -> list[tuple[str, str]]:
    found = []
    for rule in app_for_rules.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.rule, method))
    return found


def _rules_of_a_bare_app() -> list[tuple[str, str]]:
    """Every route pattern and method (read from the app's URL map, so a new route is fuzzed
    without touching this file)."""
    from flask import Flask as Bare

    from dynamic.accounts.profile import profile
    from dynamic.accounts.views import accounts
    from dynamic.appointments.views import appointments
    from dynamic.forms.api import api
    from dynamic.forms.views import forms
    from dynamic.inbox.views import inbox
    from dynamic.platform.health import health
    from dynamic.platform.metrics import metrics
    from dynamic.platform.sites import sites
    from dynamic.saml.dev_idp import dev_idp
    from dynamic.saml.sp import saml
    from dynamic.search import search
    from dynamic.staff.views import staff

    bare = Bare("rules", static_folder=None)
    for blueprint in (metrics, health, accounts, profile, saml, staff, inbox, appointments, forms, api, search,
                      dev_idp, sites):
        bare.register_blueprint(blueprint)
    return rules(bare)


ROUTES = _rules_of_a_bare_app()
PART = re.compile(r"<(?:(\w+):)?(\w+)>")


@st.composite
def request_for(draw: st.DrawFn, rule: str) -> str:
    def value(match: re.Match[str]) -> str:
        converter = match.group(1) or "string"
        if converter == "int":
            return str(draw(INTS))
        text = draw(VALUES)
        if converter == "path":
            return "/".join(quote(part, safe="") or "x" for part in text.split("/"))
        return quote(text, safe="") or "x"

    return PART.sub(value, rule)


@pytest.mark.parametrize(("rule", "method"), ROUTES, ids=[f"{m} {r}" for r, m in ROUTES])
def test_no_route_answers_5xx_to_anything(rule: str, method: str, clients: dict[str, tuple[FlaskClient, str]]
                                          ) -> None:
    @settings(max_examples=12, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(path=request_for(rule), query=QUERY, form=QUERY, who=st.sampled_from(CLIENTS),
           body=st.sampled_from(["", "{", "[" * 100_000 + "]" * 100_000, '{"a":' * 5000 + "1" + "}" * 5000,
                                 '{"status": 1e999999}', '"\\ud800"']))
    def attempt(path: str, query: dict[str, str], form: dict[str, str], who: str, body: str) -> None:
        client, csrf = clients[who]
        if method == "GET":
            response = client.get(path, query_string=query)
        elif path.startswith("/api/"):
            response = client.open(path, method=method, data=body, content_type="application/json",
                                   headers={"Authorization": "Bearer " + form.get("q", "x")})
        else:
            response = client.open(path, method=method, query_string=query, data={**form, "csrf_token": csrf})
        assert response.status_code < 500, (method, path, query, form, who, response.status_code)

    attempt()


# ---------------------------------------------------------------- the review's findings, over HTTP


@pytest.mark.parametrize("path", [
    "/stadt/termine/personalausweis-beantragen/rathaus/9999-12-31/",
    "/stadt/termine/personalausweis-beantragen/rathaus/0001-01-01/",
    "/stadt/termine/personalausweis-beantragen/rathaus/?monat=9999-12",
    "/stadt/termine/personalausweis-beantragen/rathaus/?monat=0001-01",
    "/stadt/termine/personalausweis-beantragen/frueheste-zeiten/?ab=9999-12-31",
    "/stadt/termine/personalausweis-beantragen/frueheste-zeiten/?ab=0001-01-01",
    "/postfach/99999999999999999999999",
    "/stadt/verwaltung/termine/rathaus/?tag=9999-12-31",
])
def test_overflowing_dates_and_ids_get_a_german_page_not_500(clients: Any, live: str, path: str) -> None:
    visitor = http_browser(live)
    visitor.get(path)
    assert visitor.status in (200, 302, 303, 400, 404), visitor.status
    assert "Ein Fehler ist aufgetreten" not in visitor.text and "Internal Server Error" not in visitor.text


def test_deeply_nested_json_to_the_office_api_gets_a_json_400(clients: Any, live: str) -> None:
    import requests

    response = requests.post(live + "/api/v1/applications/X/messages", data="[" * 100_000 + "]" * 100_000,
                             headers={"Content-Type": "application/json", "Authorization": "Bearer x"}, timeout=30)
    assert response.status_code in (400, 401)
    assert response.headers["Content-Type"].startswith("application/") and response.json()


def test_deeply_nested_json_with_a_valid_token_gets_a_json_400(app: Flask, live: str) -> None:
    """With the office's token and its own application, so the body is really parsed."""
    import requests

    from tests.dynamic.forms_fixtures import office
    from tests.dynamic.test_office_api import citizen_sends, new_citizen

    amt = office(app)
    reference = citizen_sends(new_citizen(app))
    for body in ["[" * 100_000 + "]" * 100_000, '{"subject":' * 50_000 + "1" + "}" * 50_000, b"\xff\xfe{", "{"]:
        response = requests.post(f"{live}/api/v1/applications/{reference}/messages", data=body, timeout=30,
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {amt.token}"})
        assert response.status_code == 400, response.text[:200]
        assert "Erwartet wird ein JSON-Objekt" in str(response.json())
