"""Closing a case through the office API (issue 24): rejecting with a reason (the citizen starts
the form again with the earlier answers), forwarding a misrouted application to another office
of the municipality (re-encrypted by the office for the target's key), reading back what the
office sent with the time the citizen first opened it, the feed of new citizen replies across
applications, and files attached to a citizen's reply. Both databases (the `app` fixture)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from clerk import Client, attachments_of
from clerk import main as clerk_main
from dynamic.platform.crypto import decrypt, encrypt_for, new_office_key
from dynamic.platform.db import db
from dynamic.platform.models import Application, Message
from tests.dynamic.forms_fixtures import PDF, PNG, Office, office, reference_on, send, served, upload
from tests.dynamic.test_office_api import Sent, bearer, citizen_sends, listed, messages_in_inbox, new_citizen, sent

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
    listed = {status: [a["reference"] for a in api(app).get(f"/api/v1/applications?status={status}",
                                                             headers=bearer(sent.amt.token)).json["applications"]]
              for status in ("new", "rejected")}
    assert listed == {"new": [], "rejected": [sent.reference]}


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


# ---------------------------------------------------------------- 2. forward


def forward(app: Flask, sent: Sent, target: Office, content: dict[str, Any] | None = None) -> Any:
    """What the old office's software does: decrypt, ask for the target's key, re-encrypt, send."""
    headers = bearer(sent.amt.token)
    if content is None:
        fetched = api(app).get(f"/api/v1/applications/{sent.reference}", headers=headers)
        content = decrypt(fetched.json["jwe"], sent.amt.private_jwk)
        content["office"] = {"unit": target.unit, "name": "Bürgerservice"}
    key = api(app).get(f"/api/v1/offices/{target.unit}/key", headers=headers)
    assert key.status_code == 200, key.get_data(as_text=True)
    files = []
    listing = api(app).get(f"/api/v1/applications/{sent.reference}/attachments", headers=headers)
    for listed_file in listing.json["attachments"] if listing.status_code == 200 else []:
        one = api(app).get(f"/api/v1/applications/{sent.reference}/attachments/{listed_file['id']}", headers=headers)
        files.append({"id": listed_file["id"],
                      "jwe": encrypt_for(key.json["key"], decrypt(one.json["jwe"], sent.amt.private_jwk))})
    replies = [{"message": m["message"], "jwe": encrypt_for(key.json["key"], decrypt(m["jwe"], sent.amt.private_jwk))}
               for m in api(app).get(f"/api/v1/applications/{sent.reference}/messages", headers=headers)
               .json["messages"] if m["direction"] == "citizen"]
    return api(app).post(f"/api/v1/applications/{sent.reference}/forward", headers=headers,
                         json={"unit": target.unit, "jwe": encrypt_for(key.json["key"], content),
                               "attachments": files, "messages": replies})


def test_a_misrouted_application_goes_to_the_responsible_office_which_decrypts_it(app: Flask, sent: Sent) -> None:
    target = office(app, "stadt", "buergerservice")
    response = forward(app, sent, target)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json == {"reference": sent.reference, "unit": "buergerservice", "name": "Bürgerservice"}

    old = bearer(sent.amt.token)
    for method, path in (("get", ""), ("post", "/receipt"), ("get", "/messages")):
        gone = getattr(api(app), method)(f"/api/v1/applications/{sent.reference}{path}", headers=old)
        assert gone.status_code == 404, (path, gone.status_code)
    assert sent.reference not in listed(app, sent.amt.token, "all")
    assert listed(app, target.token)[sent.reference]["status"] == "new"

    with served(app) as portal:
        clerk = Client(portal, target.token, target.private_jwk)
        found = clerk.application(sent.reference)
        files = attachments_of(clerk, found)  # the attachments too, re-encrypted for the target (hashes checked)
    assert files and any(field == "antrag-pdf" for field, _data in files.values())
    assert found["content"]["reference"] == sent.reference
    assert found["content"]["office"]["unit"] == "buergerservice"
    assert any(a["id"] == "vorname" and a["value"] == "Lena" for a in found["content"]["answers"])

    newest = messages_in_inbox(app, sent.citizen.account_id)[-1]
    assert newest.subject == "Ihr Antrag wurde weitergeleitet: Meldebescheinigung beantragen"
    assert "an den Bürgerservice weitergeleitet" in newest.body and sent.reference in newest.body
    assert newest.sender == "Bürgeramt"
    # The receipt names the office that has it now.
    browser = sent.citizen.browser
    browser.get(f"/stadt/antrag/meldebescheinigung/eingang/{sent.reference}/")
    assert "Bürgerservice" in browser.text


def test_the_key_of_another_municipalitys_office_is_not_found(app: Flask, sent: Sent) -> None:
    office(app, "kreis", "rathaus-nordort")
    headers = bearer(sent.amt.token)
    for unit in ("rathaus-nordort", "gibt-es-nicht", "Bürgerservice", "x" * 101):
        response = api(app).get(f"/api/v1/offices/{unit}/key", headers=headers)
        assert response.status_code == 404 and "in Ihrer Kommune nicht" in response.json["message"], unit
    response = api(app).post(f"/api/v1/applications/{sent.reference}/forward", headers=headers,
                             json={"unit": "rathaus-nordort", "jwe": "a.b.c.d.e"})
    assert response.status_code == 422 and response.json["message"].startswith("unit: Diese Stelle gibt es")
    assert listed(app, sent.amt.token)[sent.reference]["status"] == "new"


def test_in_a_district_an_application_goes_to_a_member_towns_office(app: Flask) -> None:
    amt = office(app, "kreis", "buergerbuero-nordort")  # the form's recipient in Nordort
    target = office(app, "kreis", "rathaus-suedort")
    citizen = new_citizen(app)
    citizen.browser.get("/kreis/antrag/meldebescheinigung/")
    send(citizen.browser, aktion="neu", gemeinde="nordort")
    send(citizen.browser, vorname="Lena", nachname="Beispiel", geburtsdatum__tag="3", geburtsdatum__monat="4",
         geburtsdatum__jahr="1990", anschrift__strasse="Musterweg 5", anschrift__plz="48143",
         anschrift__ort="Südort", email="lena.antrag@example.org", telefon="")
    send(citizen.browser, art="einfach", zweck="", anzahl="1", weitere="nein")
    send(citizen.browser, erklaerung="ja")
    reference = reference_on(citizen.browser.text)
    moved = forward(app, Sent(amt, citizen, reference), target)
    assert moved.status_code == 200, moved.get_data(as_text=True)
    assert reference in listed(app, target.token) and reference not in listed(app, amt.token, "all")


def test_a_jwe_not_for_the_targets_key_or_the_own_office_is_refused(app: Flask, sent: Sent) -> None:
    target = office(app, "stadt", "buergerservice")
    headers = bearer(sent.amt.token)
    url = f"/api/v1/applications/{sent.reference}/forward"
    _private, stranger = new_office_key()
    target_key = api(app).get("/api/v1/offices/buergerservice/key", headers=headers).json["key"]
    for body, message in (
            ({"unit": "buergerservice", "jwe": encrypt_for(stranger, {"x": 1})}, "jwe: Der Antrag ist nicht für den"),
            ({"unit": "buergerservice", "jwe": "kein jwe"}, "jwe: Erwartet wird ein JWE"),
            ({"unit": "buergeramt", "jwe": "a.b.c.d.e"}, "unit: Der Antrag liegt bereits bei dieser Stelle."),
            ({"unit": "buergerservice"}, "jwe: Diese Angabe fehlt."),
            ({"unit": "buergerservice", "jwe": "a.b.c.d.e", "an": "x"},
             "erlaubt sind unit, jwe, attachments und messages"),
            ({"unit": "buergerservice", "jwe": encrypt_for(target_key, {"x": 1})}, "attachments: Senden Sie jeden")):
        response = api(app).post(url, headers=headers, json=body)
        assert response.status_code == 422 and message in response.json["message"], response.json
    assert listed(app, sent.amt.token)[sent.reference]["status"] == "new"
    assert sent.reference not in listed(app, target.token, "all")


def test_a_rejected_application_is_not_forwarded(app: Flask, sent: Sent) -> None:
    target = office(app, "stadt", "buergerservice")
    assert reject(app, sent).status_code == 200
    response = forward(app, sent, target, content={"reference": sent.reference})
    assert response.status_code == 409 and "abgelehnt" in response.json["message"]
    assert sent.reference not in listed(app, target.token, "all")


# ---------------------------------------------------------------- 3. what the office sent, and when it was read


def office_messages(app: Flask, sent: Sent) -> list[dict[str, Any]]:
    response = api(app).get(f"/api/v1/applications/{sent.reference}/messages", headers=bearer(sent.amt.token))
    assert response.status_code == 200, response.get_data(as_text=True)
    return [m for m in response.json["messages"] if m["direction"] == "office"]


def test_the_office_reads_back_what_it_sent_and_when_the_citizen_first_opened_it(app: Flask, sent: Sent) -> None:
    response = api(app).post(
        f"/api/v1/applications/{sent.reference}/messages", headers=bearer(sent.amt.token),
        json={"subject": "Ihre Meldebescheinigung", "body": "Die Bescheinigung liegt bei.", "decision": True,
              "attachments": [{"name": "bescheid.pdf", "content_type": "application/pdf",
                               "data": base64.b64encode(PDF).decode()}]})
    assert response.status_code == 201
    assert response.json["read_at"] is None and response.json["attachments"] == ["bescheid.pdf"]
    [before] = office_messages(app, sent)
    assert before["subject"] == "Bescheid: Ihre Meldebescheinigung"
    assert before["body"].startswith("Die Bescheinigung liegt bei.") and sent.reference in before["body"]
    assert before["attachments"] == ["bescheid.pdf"] and before["read_at"] is None

    newest = messages_in_inbox(app, sent.citizen.account_id)[-1]
    client = sent.citizen.browser.client
    assert client.get(f"/postfach/{newest.id}").status_code == 200
    [opened] = office_messages(app, sent)
    first = dt.datetime.fromisoformat(opened["read_at"])
    assert abs(dt.datetime.now(dt.UTC) - first) < dt.timedelta(minutes=1)

    assert client.get(f"/postfach/{newest.id}").status_code == 200  # opened again: the first time stays
    assert "wurde verschlüsselt an" in citizen_replies(sent, newest.id, "Danke.").get_data(as_text=True)
    assert office_messages(app, sent)[0]["read_at"] == opened["read_at"]
    with app.app_context():
        stored_message = db().get(Message, newest.id)
        assert stored_message is not None and stored_message.read_at == first

    # Deleted by the citizen: the text is gone, the evidence of retrieval is not.
    browser = sent.citizen.browser
    browser.get(f"/postfach/{newest.id}")
    browser.submit(f"/postfach/{newest.id}/loeschen")
    [deleted] = office_messages(app, sent)
    assert deleted["body"] is None and deleted["read_at"] == opened["read_at"]


def test_two_openings_at_once_set_the_time_once(app: Flask, sent: Sent) -> None:
    """The second request read the message as unread too (a second tab): it must not move the time."""
    from dynamic.inbox.views import mark_read

    assert reject(app, sent).status_code == 200
    newest = messages_in_inbox(app, sent.citizen.account_id)[-1]
    earlier = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
    with app.app_context():
        stale = db().get(Message, newest.id)
        assert stale is not None and stale.read_at is None
        db().expunge(stale)
    with app.app_context():
        first = db().get(Message, newest.id)
        assert first is not None
        first.read_at = earlier
        db().commit()
    with app.app_context():
        late = db().merge(stale, load=False)  # still believes it is unread
        mark_read(late)
        again = db().get(Message, newest.id)
        assert again is not None and again.read_at == earlier
    assert dt.datetime.fromisoformat(office_messages(app, sent)[0]["read_at"]) == earlier


# ---------------------------------------------------------------- 4. new replies across applications


def office_writes(app: Flask, sent: Sent, reference: str | None = None) -> int:
    """The office writes to the citizen; the inbox message's id (the citizen may answer it)."""
    response = api(app).post(f"/api/v1/applications/{reference or sent.reference}/messages",
                             headers=bearer(sent.amt.token), json={"subject": "Rückfrage", "body": "Bitte melden."})
    assert response.status_code == 201, response.get_data(as_text=True)
    return messages_in_inbox(app, sent.citizen.account_id)[-1].id


def citizen_replies(sent: Sent, message_id: int, text: str, **files: Any) -> Any:
    """The citizen answers through the inbox page's own form (its CSRF token, its file field)."""
    browser = sent.citizen.browser
    browser.get(f"/postfach/{message_id}")
    return browser.submit(f"/postfach/{message_id}/antworten", antwort=text, **files)


def feed(app: Flask, token: str, **query: Any) -> Any:
    response = api(app).get("/api/v1/messages", headers=bearer(token), query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def test_new_replies_across_applications_come_in_pages_and_leave_the_list_once_fetched(
        app: Flask, sent: Sent) -> None:
    second = citizen_sends(sent.citizen)
    for reference, texts in ((sent.reference, ("Erste", "Zweite")), (second, ("Dritte",))):
        message_id = office_writes(app, sent, reference)
        for text in texts:
            assert "wurde verschlüsselt an" in citizen_replies(sent, message_id, text).get_data(as_text=True)
    token = sent.amt.token
    everything = feed(app, token)
    assert [m["reference"] for m in everything["messages"]] == [sent.reference, sent.reference, second]
    assert everything["next"] is None
    assert all(m["fetched_at"] is None and m["subject"].startswith("Antwort zu:") for m in everything["messages"])

    first_page = feed(app, token, limit=2)
    assert len(first_page["messages"]) == 2 and first_page["next"]
    rest = feed(app, token, limit=2, after=first_page["next"])
    assert [m["id"] for m in first_page["messages"] + rest["messages"]] == [m["id"] for m in everything["messages"]]
    assert rest["next"] is None

    fetched = api(app).get(f"/api/v1/applications/{sent.reference}/messages", headers=bearer(token))
    replies = [m for m in fetched.json["messages"] if m["direction"] == "citizen"]
    assert {m["id"] for m in replies} == {m["id"] for m in everything["messages"][:2]}
    assert [m["reference"] for m in feed(app, token)["messages"]] == [second]
    done = feed(app, token, status="fetched")["messages"]
    assert [m["reference"] for m in done] == [sent.reference, sent.reference]
    assert all(dt.datetime.fromisoformat(m["fetched_at"]).date() == dt.datetime.now(dt.UTC).date() for m in done)
    assert len(feed(app, token, status="all")["messages"]) == 3

    # Another office sees none of them.
    other = office(app, "stadt", "buergerservice")
    assert feed(app, other.token, status="all")["messages"] == []


@pytest.mark.parametrize(("query", "message"), [
    pytest.param({"status": "neu"}, "status: Erlaubt sind new, fetched und all.", id="status"),
    pytest.param({"limit": "0"}, "limit: Geben Sie eine ganze Zahl von 1 bis 500 an.", id="limit"),
    pytest.param({"after": "kein-cursor"}, "after: Dieser Cursor ist ungültig.", id="after"),
    pytest.param({"seit": "gestern"}, "seit: Diesen Parameter gibt es nicht", id="unknown"),
])
def test_a_bad_parameter_of_the_reply_list_is_named(app: Flask, sent: Sent, query: dict[str, str],
                                                     message: str) -> None:
    response = api(app).get("/api/v1/messages", headers=bearer(sent.amt.token), query_string=query)
    assert response.status_code == 400 and response.json["message"].startswith(message), response.json


# ---------------------------------------------------------------- 5. files with a citizen's reply


def test_files_attached_to_a_reply_reach_only_the_office_and_the_clerk_saves_them(
        app: Flask, sent: Sent, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    message_id = office_writes(app, sent)
    page = citizen_replies(sent, message_id, "Anbei die Nachweise.",
                           anhang=[upload(PDF, "nachweis.pdf"), upload(PNG, "foto.png")])
    assert "wurde verschlüsselt an" in page.get_data(as_text=True)

    key_file = tmp_path / "private.jwk"
    key_file.write_text(json.dumps(sent.amt.private_jwk), encoding="utf-8")
    with served(app) as portal:
        [reply] = [m for m in Client(portal, sent.amt.token, sent.amt.private_jwk).messages(sent.reference)
                   if m["direction"] == "citizen"]
        assert "nachweis.pdf" not in (reply["jwe"] or "")
        assert [(f["name"], f["content_type"]) for f in reply["content"]["files"]] == [
            ("nachweis.pdf", "application/pdf"), ("foto.png", "image/png")]
        import jsonschema

        document = app.test_client().get("/api/v1/openapi.json").get_json()
        jsonschema.validate(reply["content"], document["components"]["schemas"]["ReplyPayload"])
        code = clerk_main(["--portal", portal, "--token", sent.amt.token, "--key", str(key_file), "messages",
                           sent.reference, "--out", str(tmp_path / "antraege")])
    assert code == 0
    folder = tmp_path / "antraege" / sent.reference / "antworten"
    assert (folder / f"{reply['id']}-1-nachweis.pdf").read_bytes() == PDF
    assert (folder / f"{reply['id']}-2-foto.png").read_bytes() == PNG
    assert "Anbei die Nachweise." in capsys.readouterr().out


UNSAFE_PDF = b"%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.mark.parametrize(("files", "message"), [
    pytest.param([("a.pdf", PDF)] * 4, "Hängen Sie höchstens 3 Dateien an.", id="four-files"),
    pytest.param([("gross.pdf", PDF + b"0" * (5 * 1024 * 1024))], "gross.pdf: Die Datei ist größer als 5 MB.",
                 id="over-5-MB"),
    pytest.param([("programm.pdf", b"MZ\x90\x00 program")], "programm.pdf: Die Datei muss ein PDF",
                 id="not-a-pdf"),
    pytest.param([("skript.pdf", UNSAFE_PDF)], "skript.pdf: Die Datei enthält Programmcode", id="javascript"),
])
def test_a_refused_file_is_named_at_the_field_and_the_text_stays(
        app: Flask, sent: Sent, files: list[tuple[str, bytes]], message: str) -> None:
    message_id = office_writes(app, sent)
    page = citizen_replies(sent, message_id, "Mein Text bleibt.", anhang=[upload(data, name) for name, data in files])
    text = page.get_data(as_text=True)
    assert page.status_code == 400, text[:300]
    error = re.search(r'<p class="error-message" id="fehler-anhang">(.*?)</p>', text, re.S)
    assert error and message in error.group(1) and "erneut aus" in error.group(1), error
    assert 'aria-describedby="hinweis-anhang fehler-anhang" aria-invalid="true"' in text
    assert 'href="#feld-anhang"' in text  # in the error summary, too
    assert "Mein Text bleibt.</textarea>" in text
    replies = api(app).get("/api/v1/messages", headers=bearer(sent.amt.token), query_string={"status": "all"})
    assert replies.json["messages"] == []


def test_the_reply_form_takes_files(app: Flask, sent: Sent) -> None:
    message_id = office_writes(app, sent)
    browser = sent.citizen.browser
    browser.get(f"/postfach/{message_id}")
    assert 'enctype="multipart/form-data"' in browser.text
    assert '<label for="feld-anhang">' in browser.text and 'type="file" multiple' in browser.text
    assert "Bis zu 3 Dateien, je höchstens 5 MB." in browser.text


def test_a_form_id_too_long_for_a_file_name_is_not_found(app: Flask) -> None:
    """Found by Schemathesis: a made-up form id of some hundred characters was a 500 (OSError)."""
    response = app.test_client().get(f"/api/v1/forms/{'a-' * 150}a/1/schema.json")
    assert response.status_code == 404 and response.json["error"] == "not_found"


def test_the_citizens_earlier_replies_go_along_re_encrypted_and_are_new_for_the_target(app: Flask, sent: Sent) -> None:
    message_id = office_writes(app, sent)
    citizen_replies(sent, message_id, "Meine Anschrift ist Musterweg 5.")
    target = office(app, "stadt", "buergerservice")
    headers = bearer(sent.amt.token)
    target_key = api(app).get("/api/v1/offices/buergerservice/key", headers=headers).json["key"]
    [reply] = [m for m in api(app).get(f"/api/v1/applications/{sent.reference}/messages", headers=headers)
               .json["messages"] if m["direction"] == "citizen"]
    content = decrypt(api(app).get(f"/api/v1/applications/{sent.reference}", headers=headers).json["jwe"],
                      sent.amt.private_jwk)
    attachments = api(app).get(f"/api/v1/applications/{sent.reference}/attachments", headers=headers).json
    files = [{"id": f["id"], "jwe": encrypt_for(target_key, decrypt(api(app).get(
        f"/api/v1/applications/{sent.reference}/attachments/{f['id']}", headers=headers).json["jwe"],
        sent.amt.private_jwk))} for f in attachments["attachments"]]
    url = f"/api/v1/applications/{sent.reference}/forward"
    body = {"unit": "buergerservice", "jwe": encrypt_for(target_key, content), "attachments": files}

    for messages, expected in (
            ([], f"messages: Senden Sie jede Antwort der Bürgerin oder des Bürgers genau einmal mit, neu verschlüsselt "
                 f"für die Zielstelle; erwartet: {reply['message']}."),
            ([{"message": reply["message"], "jwe": reply["jwe"]}],
             "messages.0.jwe: Die Antwort ist nicht für den Schlüssel der Zielstelle verschlüsselt")):
        refused = api(app).post(url, headers=headers, json={**body, "messages": messages})
        assert refused.status_code == 422 and refused.json["message"].startswith(expected), refused.json
        assert sent.reference in listed(app, sent.amt.token, "all")

    assert forward(app, sent, target).status_code == 200
    # The target reads the reply with its own key, and sees it as new.
    assert [m["reference"] for m in feed(app, target.token)["messages"]] == [sent.reference]
    [moved] = [m for m in api(app).get(f"/api/v1/applications/{sent.reference}/messages",
                                        headers=bearer(target.token)).json["messages"] if m["direction"] == "citizen"]
    assert moved["message"] == reply["message"]
    assert decrypt(moved["jwe"], target.private_jwk)["body"] == "Meine Anschrift ist Musterweg 5."
