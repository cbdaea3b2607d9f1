"""Every form of the real knowledge base, on every site that switches it on: a citizen logs
in at the form's level, fills every step, sends; the office fetches and decrypts it with the
clerk client and answers; the answer is in the citizen's inbox. Both databases."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask

from clerk import Client
from dynamic import create_app
from dynamic.forms.delivery import office_of, register_office
from dynamic.platform.crypto import new_office_key
from dynamic.platform.db import session_scope
from tests.dynamic.browserlike import Browser
from tests.dynamic.conftest import make_settings
from tests.dynamic.forms_fixtures import reference_on, send, served, valid_answer
from tests.dynamic.test_profile import log_in, make_account

pytestmark = pytest.mark.slow


@pytest.fixture
def real_app(app_settings: dict[str, Any], real_output: Path) -> Any:
    app = create_app(make_settings(**{**app_settings, "output_dir": real_output}))
    yield app
    app.extensions["db_engine"].dispose()


def switched_on(output: Path) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for katalog in sorted(output.glob("[!.]*/katalog.json")):
        for form_id, form in json.loads(katalog.read_text(encoding="utf-8"))["forms"].items():
            found.append((katalog.parent.name, form_id, form))
    return found


def walk(app: Flask, browser: Browser, slug: str, form_id: str, form: dict[str, Any]) -> str:
    """Fill every step the answers lead to; return the reference number of the receipt."""
    start = f"/{slug}/antrag/{form_id}/"
    browser.get(start)
    recipients = form["recipients"]
    send(browser, aktion="neu", **({"gemeinde": recipients[0]["town"]} if len(recipients) > 1 else {}))
    steps = {step["id"]: step for step in form["steps"]}
    today = dt.date.today()
    for _ in range(3 * len(steps) + 1):  # a step may ask a question that depends on its answers on a page of its own
        step_id = urlsplit(browser.url).path.rstrip("/").rsplit("/", 1)[-1]
        if step_id == "zusammenfassung":
            break
        values: dict[str, Any] = {}
        for field in steps[step_id]["fields"]:
            values.update(valid_answer(field, today))
        send(browser, **values)
        assert browser.status == 200, f"{slug}/{form_id}/{step_id}: {browser.text[:3000]}"
    assert browser.url.endswith(f"{start}zusammenfassung/"), browser.url
    assert "Es fehlen noch Angaben" not in browser.text
    send(browser, erklaerung="ja")
    assert "Ihr Antrag ist eingegangen" in browser.text, f"{slug}/{form_id}"
    return reference_on(browser.text)


def test_every_real_form_reaches_its_office_and_the_answer_reaches_the_citizen(
        real_app: Flask, real_output: Path) -> None:
    forms = switched_on(real_output)
    assert len({form_id for _slug, form_id, _form in forms}) >= 8
    assert {slug for slug, _id, _form in forms} == {"muenster", "hamm", "kreis-coesfeld", "kreis-warendorf"}
    assert {form["trust_level"] for _slug, _id, form in forms} >= {"basis", "substantiell", "hoch"}
    private, public = new_office_key()  # one key pair for all offices keeps the test fast
    tokens: dict[tuple[str, str], str] = {}
    with served(real_app) as url:
        for slug, form_id, form in forms:
            unit = form["recipients"][0]["unit"]
            if (slug, unit) not in tokens:
                with session_scope(real_app) as session:
                    assert office_of(session, slug, unit) is None
                    _office, tokens[slug, unit] = register_office(session, slug, unit, public)
            browser = Browser(real_app.test_client())
            account = make_account(real_app, email=f"{slug}.{form_id}@example.org")
            level = form["trust_level"]
            log_in(browser.client, real_app, account, level=level, means="eid" if level == "hoch" else "konto")
            reference = walk(real_app, browser, slug, form_id, form)

            clerk = Client(url, tokens[slug, unit], private)
            received = clerk.application(reference)["content"]
            assert received["form"]["id"] == form_id and received["municipality"] == slug
            assert received["office"]["unit"] == unit and received["answers"]
            clerk.confirm(reference)
            clerk.answer(reference, f"Ihr Antrag {reference}", "Wir haben Ihren Antrag erhalten und bearbeiten ihn.")
            browser.get("/postfach/")
            assert f"Ihr Antrag {reference}" in browser.text, f"{slug}/{form_id}"
