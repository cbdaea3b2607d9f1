"""Closing a case through the office API (issue 24): rejecting with a reason (the citizen starts
the form again with the earlier answers), forwarding a misrouted application to another office
of the municipality (re-encrypted by the office for the target's key), reading back what the
office sent with the time the citizen first opened it, the feed of new citizen replies across
applications, and files attached to a citizen's reply. Both databases (the `app` fixture)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dynamic.db import db
from dynamic.models import Application
from tests.dynamic.forms_fixtures import send
from tests.dynamic.test_office_api import Sent, bearer, messages_in_inbox, new_citizen, sent

__all__ = ["sent"]  # the fixture, imported for the tests here


def api(app: Flask) -> FlaskClient:
    return app.test_client()


def reject(app: Flask, sent: Sent, reason: Any = "Die Angaben zur Anschrift sind unvollständig.") -> Any:
    return api(app).post(f"/api/v1/applications/{sent.reference}/reject", headers=bearer(sent.amt.token),
                         json={"reason": reason})


def stored(app: Flask, reference: str) -> Application:
    with app.app_context():
        found = db().scalar(select(Application).where(Application.reference == reference))
        assert found is not None
        db().expunge(found)
        return found


# ---------------------------------------------------------------- 1. reject


def test_a_rejection_gives_the_reason_and_the_form_starts_again_with_the_earlier_answers(
        app: Flask, sent: Sent) -> None:
    response = reject(app, sent)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["status"] == "rejected" and response.json["received_at"]
    assert stored(app, sent.reference).status == "rejected"

    newest = messages_in_inbox(app, sent.citizen.account_id)[-1]
    assert newest.subject == "Ablehnung Ihres Antrags: Meldebescheinigung beantragen"
    assert "Die Angaben zur Anschrift sind unvollständig." in newest.body and sent.reference in newest.body
    assert "erneut hoch" in newest.body  # files are not taken over
    assert newest.link and "/stadt/antrag/meldebescheinigung/erneut/" in newest.link

    browser = sent.citizen.browser
    browser.get(f"/postfach/{newest.id}")
    assert "Antrag korrigieren und erneut senden" in browser.text
    browser.get(newest.link)
    assert browser.url.endswith("/stadt/antrag/meldebescheinigung/person/"), browser.url
    assert 'value="Lena"' in browser.text and 'value="Musterweg 5"' in browser.text
    assert 'value="1990"' in browser.text
    send(browser, nachname="Korrigiert")
    assert "Für den Vermieter" in browser.text  # the second step, answered as before
    send(browser)
    assert "Angaben prüfen" in browser.text and "Korrigiert" in browser.text
    send(browser, erklaerung="ja")
    assert "Ihr Antrag ist eingegangen" in browser.text
    assert sent.reference not in browser.text  # a new application, with a new reference


def test_the_restart_link_works_only_for_its_citizen_with_its_signature(app: Flask, sent: Sent) -> None:
    assert reject(app, sent).status_code == 200
    link = messages_in_inbox(app, sent.citizen.account_id)[-1].link
    assert link
    other = new_citizen(app, "jemand.anderes@example.org")
    assert other.browser.client.get(link).status_code == 404
    unsigned = link.split("?")[0]
    assert sent.citizen.browser.client.get(unsigned).status_code == 404
    assert sent.citizen.browser.client.get(unsigned + "?s=" + "0" * 32).status_code == 404


def test_an_application_not_rejected_cannot_be_restarted_by_a_made_up_link(app: Flask, sent: Sent) -> None:
    from dynamic.forms.views import restart_link

    found = stored(app, sent.reference)
    link = restart_link(app.config["SECRET_KEY"], found)
    assert sent.citizen.browser.client.get(link).status_code == 404


def test_a_rejected_application_can_be_neither_confirmed_nor_rejected_again(app: Flask, sent: Sent) -> None:
    assert reject(app, sent).status_code == 200
    before = len(messages_in_inbox(app, sent.citizen.account_id))
    again = reject(app, sent, "Noch einmal.")
    assert again.status_code == 409 and again.json == {
        "error": "rejected", "message": "Dieser Antrag wurde bereits abgelehnt und ist abgeschlossen."}
    confirmed = api(app).post(f"/api/v1/applications/{sent.reference}/receipt", headers=bearer(sent.amt.token))
    assert confirmed.status_code == 409 and "abgelehnt" in confirmed.json["message"]
    assert len(messages_in_inbox(app, sent.citizen.account_id)) == before
    assert stored(app, sent.reference).status == "rejected"


@pytest.mark.parametrize(("body", "status", "message"), [
    pytest.param({}, 422, "reason: Diese Angabe fehlt.", id="no-reason"),
    pytest.param({"reason": "   "}, 422, "reason: Der Text ist zu kurz", id="blank"),
    pytest.param({"reason": "x", "grund": "y"}, 422, "grund: Dieses Feld ist unbekannt; erlaubt sind reason.",
                 id="unknown-field"),
    pytest.param(["reason"], 400, "Erwartet wird ein JSON-Objekt mit reason.", id="a-list"),
])
def test_a_rejection_needs_a_reason(app: Flask, sent: Sent, body: Any, status: int, message: str) -> None:
    response = api(app).post(f"/api/v1/applications/{sent.reference}/reject", headers=bearer(sent.amt.token),
                             json=body)
    assert response.status_code == status and message in response.json["message"], response.json
    assert stored(app, sent.reference).status == "new"
