"""Online applications end to end: login at the form's level, prefill, validation at the
field, uploads checked by content, idempotent sending, encryption for the office, the clerk
client, answers both ways through the inbox, the outbox, tenant isolation. Both databases."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from clerk import ClerkError, Client, save_application
from dynamic import create_app
from dynamic.platform.crypto import Unreadable, decrypt
from dynamic.platform.db import db
from dynamic.platform.models import Application, FormDraft, Message, OutboxItem
from dynamic.platform.outbox import process_outbox
from tests.dynamic.browserlike import Browser
from tests.dynamic.conftest import Mailbox, make_settings
from tests.dynamic.forms_fixtures import (
    PDF,
    PNG,
    VALID_IBAN,
    fill_meldebescheinigung,
    office,
    reference_on,
    send,
    served,
    upload,
)
from tests.dynamic.test_profile import identity, log_in, make_account

START = "/stadt/antrag/meldebescheinigung/"


@pytest.fixture
def citizen(app: Flask) -> tuple[Browser, int]:
    browser = Browser(app.test_client())
    account_id = make_account(app, email="lena.antrag@example.org")
    log_in(browser.client, app, account_id)
    return browser, account_id


def applications(app: Flask) -> list[Application]:
    with app.app_context():
        return list(db().scalars(select(Application)).all())


def test_the_whole_way_prefill_errors_upload_send_fetch_decrypt_answer_and_reply(
        app: Flask, mailbox: Mailbox, send_mail: Any, tmp_path: Path) -> None:
    amt = office(app)
    browser = Browser(app.test_client())
    account_id = make_account(app, email="lena.antrag@example.org")
    identity(app, account_id, {"given_name": "Lena", "family_name": "Beispiel", "birthdate": "1990-04-03"})
    log_in(browser.client, app, account_id, level="hoch", means="eid")

    browser.get("/stadt/leistungen/meldebescheinigung/")
    assert f'href="{START}"' in browser.text
    browser.get(START)
    assert "Angaben zu Ihrer Person" in browser.text and "Bürgeramt" in browser.text
    send(browser, aktion="neu")
    assert browser.url.endswith(f"{START}person/")
    # eID values are shown as verified and cannot be changed; the rest is filled from the account.
    assert "<strong>Lena</strong>" in browser.text and "Bestätigt durch Online-Ausweis" in browser.text
    assert "<strong>lena.antrag@example.org</strong>" in browser.text  # confirmed by a link: verified too

    send(browser, anschrift__strasse="Musterweg 5", anschrift__plz="4814", anschrift__ort="Beispielstadt",
         telefon="null-zwei-fünf-eins", vorname="Mallory")
    assert browser.status == 400
    assert "<title>Fehler: Angaben zu Ihrer Person" in browser.text
    assert '<a href="#feld-anschrift">Geben Sie bei »Anschrift« die Postleitzahl mit fünf Ziffern an.</a>' in browser.text
    assert 'id="fehler-telefon"' in browser.text and 'aria-invalid="true"' in browser.text
    assert 'value="Musterweg 5"' in browser.text and 'value="null-zwei-fünf-eins"' in browser.text  # nothing lost
    assert "Mallory" not in browser.text  # a verified value cannot be changed by a POST
    send(browser, anschrift__plz="48143", telefon="0251 1234567")
    assert browser.url.endswith(f"{START}bescheinigung/")
    # A question that depends on an answer on the same page is never shown to everybody: it is in
    # a hidden block that the script reveals; without JavaScript it follows on the next page.
    assert "Nur nötig" not in browser.text
    assert ('<div class="conditional" id="bedingt-personen" data-wenn-feld="weitere" data-wenn-werte="ja" hidden>'
            in browser.text)
    send(browser, art="erweitert", anzahl="2,5", weitere="ja", personen="")
    assert browser.status == 400
    assert "Geben Sie bei »Anzahl der Ausfertigungen« eine ganze Zahl an." in browser.text
    assert "Namen der weiteren Personen« aus." not in browser.text  # not asked on this page
    send(browser, anzahl="2")
    assert browser.url.endswith(f"{START}bescheinigung/?teil=1")
    assert "Nach Ihrer Antwort brauchen wir dazu noch diese Angaben." in browser.text
    assert 'name="personen"' in browser.text and 'name="anzahl"' not in browser.text
    send(browser, personen="")
    assert browser.status == 400
    assert "Füllen Sie das Feld »Namen der weiteren Personen« aus." in browser.text
    send(browser, personen="Max Beispiel")
    assert browser.url.endswith(f"{START}zahlung/")  # the payment step, shown for "erweitert" only

    send(browser, iban="DE00 1234", vollmacht=upload(b"not really a PDF", "nachweis.pdf"))
    assert browser.status == 400
    assert "Die IBAN ist nicht gültig." in browser.text
    assert "Die Datei bei »Nachweis (PDF oder Bild)« muss ein PDF oder JPEG-Bild oder PNG-Bild sein." in browser.text
    send(browser, iban="DE00 1234", vollmacht=upload(PDF + b"x" * 1024 * 1024, "gross.pdf"))
    assert "ist größer als 1 MB" in browser.text
    send(browser, iban=VALID_IBAN, vollmacht=upload(PDF, "nachweis.pdf"), kennzeichen="")
    assert browser.url.endswith(f"{START}zusammenfassung/")

    for shown in ("Musterweg 5, 48143 Beispielstadt", "Erweiterte Meldebescheinigung", "Max Beispiel",
                  "DE89 3704 0044 0532 0130 00", "nachweis.pdf", "(bestätigt durch"):
        assert shown in browser.text
    send(browser)  # without the declaration
    assert browser.status == 400 and "Bestätigen Sie, dass Ihre Angaben richtig" in browser.text
    summary = browser.form(urlsplit(browser.url).path)
    send(browser, erklaerung="ja", speichern="ja")
    assert "Ihr Antrag ist eingegangen" in browser.text
    reference = reference_on(browser.text)
    # A double click: the same request again gives the same receipt, and one application.
    browser.post(summary.action, {**summary.fields, "erklaerung": "ja"})
    assert reference_on(browser.text) == reference
    assert len(applications(app)) == 1
    pdf = browser.client.get(f"{START}eingang/{reference}/quittung.pdf")
    assert pdf.data.startswith(b"%PDF") and pdf.headers["Content-Type"] == "application/pdf"

    with app.app_context():
        stored = db().scalar(select(Application))
        assert stored is not None and "Musterweg" not in stored.jwe and "Musterweg" not in stored.citizen_copy
        assert db().scalar(select(FormDraft)) is None  # the draft is gone once sent
        [receipt_message] = db().scalars(select(Message).where(Message.account_id == account_id)).all()
        assert reference in receipt_message.body and "Musterweg" not in receipt_message.body
    send_mail()
    [office_mail] = mailbox.to("buergeramt@example.org")
    assert reference in office_mail["Subject"]
    assert "Musterweg" not in office_mail.get_content() and "Lena" not in office_mail.get_content()

    with served(app) as url:
        clerk = Client(url, amt.token, amt.private_jwk)
        [listed] = clerk.applications()
        assert listed["reference"] == reference and listed["status"] == "new"
        found = clerk.application(reference)
        answers = {a["id"]: a for a in found["content"]["answers"]}
        assert answers["anschrift"]["value"] == {"strasse": "Musterweg 5", "plz": "48143", "ort": "Beispielstadt"}
        assert answers["vorname"]["value"] == "Lena" and answers["vorname"]["verified"] is True
        assert found["content"]["identification"] == {"trust_level": "hoch", "means": "eid"}
        folder = save_application(found, tmp_path)
        assert (folder / "1-nachweis.pdf").read_bytes() == PDF
        clerk.confirm(reference)
        assert clerk.applications() == [] and clerk.applications("received")[0]["reference"] == reference
        decision = tmp_path / "bescheid.pdf"
        decision.write_bytes(PDF)
        clerk.answer(reference, "Ihre Meldebescheinigung", "Die Bescheinigung liegt bei.", [decision], True)

        browser.get("/postfach/")
        assert "Bescheid: Ihre Meldebescheinigung" in browser.text  # sent as a decision
        message_link = re.search(r'href="(/postfach/\d+)"><strong><span class="visually-hidden">Ungelesen: </span>Bescheid: Ihre Meldebescheinigung', browser.text)
        assert message_link
        browser.get(message_link.group(1))
        assert "Die Bescheinigung liegt bei." in browser.text and "bescheid.pdf" in browser.text
        attachment = re.search(r'href="(/postfach/\d+/anhang/\d+)"', browser.text)
        assert attachment and browser.client.get(attachment.group(1)).data == PDF
        browser.submit("/" + message_link.group(1).strip("/") + "/antworten", antwort="Vielen Dank, erhalten.")
        assert "Ihre Antwort wurde verschlüsselt an das Bürgeramt übermittelt." in browser.text
        replies = [m for m in clerk.messages(reference) if m["direction"] == "citizen"]
        assert replies[0]["content"]["body"] == "Vielen Dank, erhalten."

    # "Save to my data" stored the typed address in the profile; eID values were left alone.
    browser.get("/konto/daten")
    assert 'value="Musterweg 5"' in browser.text


def test_ciphertext_that_was_changed_is_detected(app: Flask, citizen: tuple[Browser, int]) -> None:
    amt = office(app)
    browser, _ = citizen
    fill_meldebescheinigung(browser)
    send(browser, erklaerung="ja")
    [stored] = applications(app)
    assert decrypt(stored.jwe, amt.private_jwk)["reference"] == stored.reference
    head, key, iv, ciphertext, tag = stored.jwe.split(".")
    flipped = ciphertext[:10] + ("A" if ciphertext[10] != "A" else "B") + ciphertext[11:]
    with pytest.raises(Unreadable):
        decrypt(".".join([head, key, iv, flipped, tag]), amt.private_jwk)
    other = office(app, "kreis", "buergerbuero-nordort")
    with pytest.raises(Unreadable):
        decrypt(stored.jwe, other.private_jwk)


def test_one_office_cannot_fetch_another_offices_applications(app: Flask, citizen: tuple[Browser, int]) -> None:
    office(app)
    stranger = office(app, "kreis", "buergerbuero-nordort")
    browser, _ = citizen
    fill_meldebescheinigung(browser)
    send(browser, erklaerung="ja")
    reference = reference_on(browser.text)
    with served(app) as url:
        clerk = Client(url, stranger.token, stranger.private_jwk)
        assert clerk.applications("all") == []
        for call in (lambda: clerk.application(reference), lambda: clerk.confirm(reference),
                     lambda: clerk.answer(reference, "Hallo", "Fremd")):
            with pytest.raises(ClerkError, match="404"):
                call()
        anonymous = requests.get(f"{url}/api/v1/applications", timeout=10)
        assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Bearer")
        wrong = requests.get(f"{url}/api/v1/applications", headers={"Authorization": "Bearer amt_falsch"}, timeout=10)
        assert wrong.status_code == 401
        document = requests.get(f"{url}/api/v1/openapi.json", timeout=10).json()
        assert document["openapi"].startswith("3.1") and "/api/v1/applications" in document["paths"]


def test_drafts_keep_everything_across_a_new_login_and_are_stored_encrypted(
        app: Flask, citizen: tuple[Browser, int]) -> None:
    office(app)
    browser, account_id = citizen
    browser.get(START)
    send(browser, aktion="neu")
    send(browser, vorname="Lena", nachname="Unverwechselbar", telefon="nicht-gueltig")
    assert browser.status == 400
    with app.app_context():
        draft = db().scalar(select(FormDraft))
        assert draft is not None and "Unverwechselbar" not in draft.data
    # The login ends (timeout); after logging in again everything typed is still there.
    fresh = Browser(app.test_client())
    log_in(fresh.client, app, account_id)
    fresh.get(START)
    assert "Sie haben diesen Antrag schon begonnen." in fresh.text
    send(fresh, aktion="weiter")
    assert 'value="Unverwechselbar"' in fresh.text and 'value="nicht-gueltig"' in fresh.text


def test_a_form_at_level_hoch_asks_for_a_step_up_and_keeps_what_was_sent(
        app_settings: dict[str, Any], fixture_output: Path, tmp_path: Path) -> None:
    output = tmp_path / "output"
    import shutil

    shutil.copytree(fixture_output, output)
    path = output / "stadt" / "katalog.json"
    katalog = json.loads(path.read_text(encoding="utf-8"))
    katalog["forms"]["meldebescheinigung"]["trust_level"] = "hoch"
    path.write_text(json.dumps(katalog), encoding="utf-8")
    app = create_app(make_settings(**{**app_settings, "output_dir": output}))
    try:
        office(app)
        browser = Browser(app.test_client())
        account_id = make_account(app, email="stufe@example.org")
        log_in(browser.client, app, account_id, level="basis")
        response = browser.client.get(START)
        assert response.status_code == 303
        assert response.headers["Location"].startswith("/konto/anmelden?stufe=hoch&weiter=%2Fstadt%2Fantrag")
        log_in(browser.client, app, account_id, level="hoch", means="eid")  # the step-up
        browser.get(START)
        send(browser, aktion="neu")
        assert browser.url.endswith(f"{START}person/") and "Angaben zu Ihrer Person" in browser.text
        # The higher login ends while the citizen types: the POST is kept across the new login.
        log_in(browser.client, app, account_id, level="basis")
        response = browser.client.post(f"{START}person/", data={
            "csrf_token": browser.form(urlsplit(browser.url).path).fields["csrf_token"], "vorname": "Gerettet"})
        assert response.status_code == 303 and "stufe=hoch" in response.headers["Location"]
        log_in(browser.client, app, account_id, level="hoch", means="eid")
        browser.get(f"{START}person/")
        assert 'value="Gerettet"' in browser.text and "Ihre Eingaben sind noch da" in browser.text
    finally:
        app.extensions["db_engine"].dispose()


def test_a_district_asks_for_the_town_and_sends_to_its_office(app: Flask, mailbox: Mailbox) -> None:
    nordort = office(app, "kreis", "buergerbuero-nordort")
    browser = Browser(app.test_client())
    log_in(browser.client, app, make_account(app, email="kreis@example.org"))
    browser.get("/kreis/antrag/meldebescheinigung/")
    send(browser, aktion="neu")
    assert browser.status == 400 and "Wählen Sie Ihre Stadt oder Gemeinde aus." in browser.text
    # A town whose office has no key yet is told at the start, before anything is typed.
    send(browser, aktion="neu", gemeinde="suedort")
    assert browser.status == 400 and "Rathaus Südort (Südort) kann diesen Antrag zurzeit noch nicht" in browser.text
    send(browser, aktion="neu", gemeinde="nordort")
    send(browser, vorname="Kai", nachname="Kreis", geburtsdatum__tag="1", geburtsdatum__monat="2",
                   geburtsdatum__jahr="1980", anschrift__strasse="Dorfstraße 1", anschrift__plz="48999",
                   anschrift__ort="Nordort", email="kreis@example.org")
    send(browser, art="einfach", anzahl="1", weitere="nein")
    assert "Bürgerbüro Nordort" in browser.text
    send(browser, erklaerung="ja")
    reference = reference_on(browser.text)
    with served(app) as url:
        assert [a["reference"] for a in Client(url, nordort.token).applications()] == [reference]


def test_without_a_registered_office_the_form_says_so_before_anything_is_typed(
        app: Flask, citizen: tuple[Browser, int]) -> None:
    browser, _ = citizen
    browser.get(START)
    assert "Dieser Antrag kann zurzeit nicht online gestellt werden." in browser.text
    assert "Antrag beginnen" not in browser.text


def test_a_crash_between_storing_and_notifying_loses_and_duplicates_nothing(
        app: Flask, citizen: tuple[Browser, int], mailbox: Mailbox, app_settings: dict[str, Any]) -> None:
    office(app)
    browser, _ = citizen
    fill_meldebescheinigung(browser)
    send(browser, erklaerung="ja")
    reference = reference_on(browser.text)
    # The worker dies before it can send (SMTP unreachable): the notices wait in the outbox.
    app.config["PORTAL"] = app.config["PORTAL"].__class__(**{**app.config["PORTAL"].__dict__,
                                                             "mail_url": "smtp://127.0.0.1:9"})
    assert process_outbox(app) == 0
    with app.app_context():
        waiting = db().scalars(select(OutboxItem).where(OutboxItem.done_at.is_(None))).all()
        assert {item.payload["template"] for item in waiting} == {"antrag-fuer-amt", "neue-nachricht"}
        for item in waiting:
            item.not_before = item.created_at  # retry now rather than after the back-off
        db().commit()
    app.config["PORTAL"] = make_settings(**app_settings)
    assert process_outbox(app) == 2
    assert process_outbox(app) == 0
    assert len(mailbox.to("buergeramt@example.org")) == 1 and reference in mailbox.to("buergeramt@example.org")[0]["Subject"]
    assert len(mailbox.to("lena.antrag@example.org")) == 1
    assert len(applications(app)) == 1


def test_the_office_endpoint_gets_each_application_once_signed_and_retried(
        app: Flask, citizen: tuple[Browser, int]) -> None:
    import hashlib
    import hmac
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[tuple[bytes, str, str]] = []
    answers = iter([500, 200, 200])

    class Endpoint(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = next(answers)
            if status == 200:
                received.append((body, self.headers["X-Buergerportal-Timestamp"],
                                 self.headers["X-Buergerportal-Signature"]))
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        amt = office(app, webhook=f"http://127.0.0.1:{server.server_port}/antraege")
        browser, _ = citizen
        fill_meldebescheinigung(browser)
        send(browser, erklaerung="ja")
        reference = reference_on(browser.text)
        process_outbox(app)  # the endpoint fails the first time
        with app.app_context():
            hook = db().scalar(select(OutboxItem).where(OutboxItem.kind == "webhook"))
            assert hook is not None and hook.done_at is None and hook.attempts == 1
            hook.not_before = hook.created_at
            db().commit()
            from dynamic.platform.models import Office

            secret = db().scalar(select(Office.webhook_secret))
        process_outbox(app)
        process_outbox(app)
        [(body, timestamp, signature)] = received
        signed = timestamp.encode() + b"." + body  # HMAC-SHA512 over "<timestamp>.<body>"
        assert signature == "sha512=" + hmac.new(str(secret).encode(), signed, hashlib.sha512).hexdigest()
        event = json.loads(body)
        assert event["reference"] == reference and "jwe" not in event  # ids only: the office fetches by API
        fetched = app.test_client().get(f"/api/v1/applications/{reference}",
                                        headers={"Authorization": f"Bearer {amt.token}"})
        assert decrypt(fetched.json["jwe"], amt.private_jwk)["reference"] == reference
    finally:
        server.shutdown()


def test_uploads_are_checked_by_content_and_size(app: Flask, citizen: tuple[Browser, int]) -> None:
    office(app)
    browser, _ = citizen
    fill_meldebescheinigung(browser, art="einfach")
    browser.get(f"{START}bescheinigung/")
    send(browser, art="erweitert", anzahl="1", weitere="nein")
    send(browser, iban=VALID_IBAN, vollmacht=upload(b"MZ\x90\x00 program", "bild.png"))
    assert "muss ein PDF oder JPEG-Bild oder PNG-Bild sein" in browser.text  # the name says PNG, the content not
    send(browser, iban=VALID_IBAN, vollmacht=upload(PNG, "foto.txt"))
    assert browser.url.endswith(f"{START}zusammenfassung/") and "foto.txt" in browser.text
    big = browser.client.post(f"{START}zahlung/", data={"csrf_token": "x", "vollmacht": upload(b"0" * (12 << 20), "x.pdf")})
    assert big.status_code == 413 and "höchstens 10 MB" in big.get_data(as_text=True)




def test_a_new_secret_key_starts_the_draft_afresh_instead_of_failing(
        app: Flask, citizen: tuple[Browser, int], app_settings: dict[str, Any]) -> None:
    office(app)
    browser, account_id = citizen
    browser.get(START)
    send(browser, aktion="neu")
    send(browser, nachname="Vergessen")
    rotated = create_app(make_settings(**{**app_settings, "secret_key": "ein-ganz-neuer-schluessel-" + "x" * 20}))
    try:
        fresh = Browser(rotated.test_client())
        log_in(fresh.client, rotated, account_id)
        fresh.get(START)
        assert fresh.status == 200 and "Sie haben diesen Antrag schon begonnen." in fresh.text
        send(fresh, aktion="weiter")
        assert fresh.status == 200 and "Vergessen" not in fresh.text
    finally:
        rotated.extensions["db_engine"].dispose()


def test_the_api_answers_every_other_path_and_method_in_json_and_nul_never_breaks_a_form(
        app: Flask, citizen: tuple[Browser, int]) -> None:
    amt = office(app)
    browser, _ = citizen
    fill_meldebescheinigung(browser)
    send(browser, erklaerung="ja")
    reference = reference_on(browser.text)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {amt.token}"}
    wrong_method = client.get(f"/api/v1/applications/{reference}/receipt", headers=headers)
    assert wrong_method.status_code == 405 and wrong_method.headers["Allow"] == "POST"
    assert wrong_method.json is not None and wrong_method.json["error"] == "method_not_allowed"
    unknown = client.get("/api/v1/gibt-es-nicht", headers=headers)
    assert unknown.status_code == 404 and unknown.json == {
        "error": "not_found", "message": "Diese Adresse gibt es in der Schnittstelle nicht."}
    # A NUL character from a citizen's form is refused before it reaches the database.
    browser.get("/konto/daten")
    token = browser.form("/konto/daten").fields["csrf_token"]
    refused = browser.client.post("/konto/daten", data={"csrf_token": token, "given_name": "Le\x00na"})
    assert refused.status_code == 400


# ---------------------------------------------------------------- issue 15: no detours


def visible_text(html: str) -> str:
    """The text of <main> as a person reads it: tags removed, white space collapsed."""
    main = html[html.index("<main"):html.index("</main>")]
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())


def test_with_javascript_the_revealed_question_is_answered_on_the_same_page(
        app: Flask, citizen: tuple[Browser, int]) -> None:
    office(app)
    browser, _ = citizen
    fill_meldebescheinigung(browser)
    browser.get(f"{START}bescheinigung/")
    send(browser, weitere="ja", personen="", skript="ja")  # the script says it revealed the question
    assert browser.status == 400 and "Füllen Sie das Feld »Namen der weiteren Personen« aus." in browser.text
    assert urlsplit(browser.url).query == ""
    send(browser, weitere="ja", personen="Max Beispiel", skript="ja")
    assert browser.url.endswith(f"{START}zusammenfassung/")  # no page of its own for the question
    assert "Max Beispiel" in visible_text(browser.text)


def test_input_is_normalised_before_it_is_checked_and_kept_compact_with_the_mandate_naming_its_creditor(
        app: Flask, citizen: tuple[Browser, int]) -> None:
    amt = office(app)
    browser, _ = citizen
    browser.get(START)
    send(browser, aktion="neu")
    send(browser, vorname="  Lena ", nachname="Beispiel", geburtsdatum__tag=" 3", geburtsdatum__monat="4",
         geburtsdatum__jahr="1990", anschrift__strasse="Musterweg 5", anschrift__plz=" 48 143 ",
         anschrift__ort="Beispielstadt", email=" lena.antrag@example.org ", telefon="+49 (0) 251 / 123-45 67")
    assert browser.url.endswith(f"{START}bescheinigung/"), visible_text(browser.text)
    send(browser, art="erweitert", zweck="", anzahl="1", weitere="nein")
    send(browser, iban="de89 3704-0044 0532 0130 00", kennzeichen="12 34 56")
    assert browser.url.endswith(f"{START}zusammenfassung/"), visible_text(browser.text)
    summary = visible_text(browser.text)
    for shown in ("DE89 3704 0044 0532 0130 00", "123456", "+492511234567", "Musterweg 5, 48143 Beispielstadt"):
        assert shown in summary
    # The SEPA mandate names the creditor from municipality.yaml, its number marked as an example.
    assert ("SEPA-Lastschriftmandat Zahlungsempfänger Stadt Beispielstadt Gläubiger-Identifikationsnummer "
            "DE98ZZZ09999999999 (Beispielwert, nicht die echte Nummer) Mandatsreferenz teilt Ihnen der "
            "Zahlungsempfänger mit dem Bescheid mit Ihr Konto (IBAN) DE89 3704 0044 0532 0130 00") in summary
    assert ("Ich ermächtige den Zahlungsempfänger Stadt Beispielstadt, die Gebühr für die Bescheinigung von meinem "
            "Konto mittels Lastschrift einzuziehen.") in summary
    assert "meine Stadt oder Gemeinde" not in summary
    assert ("Ich versichere, dass meine Angaben richtig und vollständig sind. Ich erteile das oben stehende "
            "SEPA-Lastschriftmandat.") in summary
    send(browser, erklaerung="ja")
    reference = reference_on(browser.text)
    [stored] = applications(app)
    content = decrypt(stored.jwe, amt.private_jwk)
    answers = {a["id"]: a for a in content["answers"]}
    assert answers["iban"]["value"] == "DE89370400440532013000"
    assert answers["iban"]["text"] == "DE89 3704 0044 0532 0130 00"
    assert answers["kennzeichen"]["value"] == "123456" and answers["telefon"]["value"] == "+492511234567"
    assert answers["vorname"]["value"] == "Lena" and answers["email"]["value"] == "lena.antrag@example.org"
    assert content["data"]["iban"] == "DE89370400440532013000" and content["data"]["kennzeichen"] == "123456"
    assert content["data"]["anschrift"]["plz"] == "48143" and content["data"]["telefon"] == "+492511234567"

    # What comes next: the office, the usual time from the service, where the answer arrives.
    receipt = visible_text(browser.text)
    assert reference in receipt
    assert ("Wie geht es weiter Bürgeramt prüft Ihren Antrag. Fehlt etwas, meldet sich die Stelle bei Ihnen. "
            "Die Bearbeitung dauert in der Regel 1 bis 5 Tage. Eine Eingangsbestätigung liegt schon in Ihrem "
            "Postfach im Bürgerportal.") in receipt
    assert ("Kommt eine neue Nachricht in Ihr Postfach, schicken wir Ihnen einen kurzen Hinweis per E-Mail an "
            "lena.antrag@example.org") in receipt


def test_without_a_confirmed_address_the_receipt_does_not_promise_a_mail(app: Flask) -> None:
    office(app)
    browser = Browser(app.test_client())
    log_in(browser.client, app, make_account(app, email=None, bpk2="bpk2-ohne-adresse"), level="substantiell",
           means="elster")
    fill_meldebescheinigung(browser)
    send(browser, erklaerung="ja")
    receipt = visible_text(browser.text)
    assert "Ihr Antrag ist eingegangen" in receipt
    assert ("Für Ihr Konto ist keine bestätigte E-Mail-Adresse hinterlegt. Wir können Sie deshalb nicht per "
            "E-Mail auf neue Nachrichten hinweisen: Schauen Sie bitte selbst regelmäßig in Ihr Postfach.") in receipt
    assert "per E-Mail an" not in receipt and "Bescheid erhalten Sie" not in receipt


def test_in_a_district_the_mandate_names_the_town(app: Flask) -> None:
    office(app, "kreis", "buergerbuero-nordort")
    browser = Browser(app.test_client())
    log_in(browser.client, app, make_account(app, email="kreis@example.org"))
    browser.get("/kreis/antrag/meldebescheinigung/")
    assert "Stadt oder Gemeinde übermittelt" not in visible_text(browser.text)
    assert "an die zuständige Stelle des Wohnorts übermittelt, den Sie unten auswählen" in visible_text(browser.text)
    send(browser, aktion="neu", gemeinde="nordort")
    send(browser, vorname="Kai", nachname="Kreis", geburtsdatum__tag="1", geburtsdatum__monat="2",
         geburtsdatum__jahr="1980", anschrift__strasse="Dorfstraße 1", anschrift__plz="48999",
         anschrift__ort="Nordort", email="kreis@example.org")
    send(browser, art="erweitert", anzahl="1", weitere="nein")
    send(browser, iban=VALID_IBAN, kennzeichen="")
    summary = visible_text(browser.text)
    assert ("Zahlungsempfänger Nordort Gläubiger-Identifikationsnummer steht in Ihrem Bescheid") in summary
    assert "Beispielstadt" not in summary
