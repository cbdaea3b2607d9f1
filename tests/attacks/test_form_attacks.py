"""Attacks on the online forms (issue 14, outside security review), through HTTP against the
running app on both databases: numbers that freeze the process, decompression bombs and PDFs
with code, values of many megabytes, and typed answers waiting in the session cookie."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from sqlalchemy import select, update

from dynamic.platform import auth
from dynamic.platform.db import db, session_scope
from dynamic.platform.models import FormDraft, KeptForm, LoginSession, utcnow
from generator.models import FormField
from tests.attacks.conftest import HttpResponse
from tests.dynamic.browserlike import Browser
from tests.dynamic.forms_fixtures import PNG, VALID_IBAN, office, send
from tests.dynamic.test_profile import make_account

START = "/stadt/antrag/meldebescheinigung/"
EMAIL, PASSWORD = "angriff@example.org", "ein langes Passwort für den Test"


@pytest.fixture(scope="module")
def unbounded_output(fixture_output: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture sites with the number field as a catalogue without bounds has it (an old
    build, or a form whose editor left out min and max)."""
    output = tmp_path_factory.mktemp("unbounded") / "output"
    shutil.copytree(fixture_output, output)
    path = output / "stadt" / "katalog.json"
    katalog = json.loads(path.read_text(encoding="utf-8"))
    for step in katalog["forms"]["meldebescheinigung"]["steps"]:
        for field in step["fields"]:
            if field["id"] == "anzahl":
                field.pop("min", None)
                field.pop("max", None)
    path.write_text(json.dumps(katalog), encoding="utf-8")
    return output


@pytest.fixture
def app_settings(app_settings: dict[str, Any], unbounded_output: Path) -> dict[str, Any]:
    return {**app_settings, "output_dir": unbounded_output}


@pytest.fixture
def citizen(app: Flask, live: str, visitor: Browser) -> Iterator[tuple[Browser, int]]:
    """The visitor logged in (an account with password), with the form's office registered."""
    office(app)
    account_id = make_account(app, email=EMAIL, password=PASSWORD)
    log_in(visitor, account_id, app)
    yield visitor, account_id


def session_cookie(visitor: Browser, app: Flask) -> dict[str, Any]:
    """The session cookie as the server reads it (signed, not encrypted: anyone can read it)."""
    jar = visitor.client.session.cookies  # type: ignore[attr-defined]
    value = jar.get(app.config["SESSION_COOKIE_NAME"])
    if value is None:
        return {}
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return dict(serializer.loads(value))


def log_in(visitor: Browser, account_id: int, app: Flask) -> None:
    """A login session row and its token in the cookie, as a login page would leave them."""
    import secrets

    token = secrets.token_urlsafe(32)
    now = utcnow()
    with session_scope(app) as session:
        session.add(LoginSession(token_hash=auth.token_hash(token), account_id=account_id, level="basis",
                                 means="konto", created_at=now, level_since=now, last_seen_at=now))
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    visitor.client.session.cookies.set(  # type: ignore[attr-defined]
        app.config["SESSION_COOKIE_NAME"], serializer.dumps({**session_cookie(visitor, app), "sid": token}),
        domain="127.0.0.1", path="/")


def begin(visitor: Browser) -> None:
    """Start the form and answer the first step; the visitor is on "Art der Bescheinigung"."""
    visitor.get(START)
    send(visitor, aktion="neu")
    send(visitor, vorname="Lena", nachname="Beispiel", geburtsdatum__tag="3", geburtsdatum__monat="4",
         geburtsdatum__jahr="1990", anschrift__strasse="Musterweg 5", anschrift__plz="48143",
         anschrift__ort="Beispielstadt", email=EMAIL, telefon="")
    assert visitor.url.endswith(f"{START}bescheinigung/"), visitor.text


def to_payment(visitor: Browser) -> None:
    begin(visitor)
    send(visitor, art="erweitert", anzahl="1", weitere="nein")
    assert visitor.url.endswith(f"{START}zahlung/"), visitor.text


def post_with_file(visitor: Browser, live: str, name: str, content: bytes, **fields: str) -> HttpResponse:
    """Post the payment step as a browser does with a file chosen (multipart), follow a redirect."""
    path = urlsplit(visitor.url).path
    form = visitor.form(path).fields
    answer = requests.post(live + path, data={**form, "iban": VALID_IBAN, "kennzeichen": "", **fields},
                           files={"vollmacht": (name, content)}, cookies=visitor.client.session.cookies,  # type: ignore[attr-defined]
                           allow_redirects=False, timeout=60)
    visitor.client.session.cookies.update(answer.cookies)  # type: ignore[attr-defined]
    if answer.status_code == 303:
        visitor.get(answer.headers["Location"])
        assert visitor.response is not None
        return visitor.response  # type: ignore[return-value]
    visitor.response = HttpResponse(answer)  # type: ignore[assignment]
    return visitor.response  # type: ignore[return-value]


def draft_size(app: Flask) -> int:
    with app.app_context():
        draft = db().scalar(select(FormDraft))
        assert draft is not None
        return len(draft.data)


# ---------------------------------------------------------------- 1 numbers


def test_a_number_in_exponent_notation_is_answered_at_once_at_the_field_and_the_summary_never_fails(
        citizen: tuple[Browser, int]) -> None:
    visitor, _ = citizen
    begin(visitor)
    for attack in ("1e500000", "1e5000", "1E+99999", "9" * 40):
        started = time.monotonic()
        send(visitor, art="einfach", anzahl=attack, weitere="nein")
        assert time.monotonic() - started < 2, f"{attack} took {time.monotonic() - started:.1f} s"
        assert visitor.status == 400, attack
        assert "Geben Sie bei »Anzahl der Ausfertigungen« eine Zahl nur mit Ziffern an" in visitor.text
        assert 'id="fehler-anzahl"' in visitor.text
        # The summary shows what is missing; it never answers 500 for a stored answer.
        visitor.get(f"{START}zusammenfassung/")
        assert visitor.status == 200 and "fehlt noch" in visitor.text
        visitor.get(f"{START}bescheinigung/")
    # Without min and max in the catalogue the field still has bounds, said at the field.
    send(visitor, art="einfach", anzahl="12345678", weitere="nein")
    assert visitor.status == 400
    assert "Geben Sie bei »Anzahl der Ausfertigungen« eine Zahl zwischen 0 und 999999 an." in visitor.text
    send(visitor, art="einfach", anzahl="2", weitere="nein")
    assert visitor.url.endswith(f"{START}zusammenfassung/") and visitor.status == 200


def test_the_content_check_gives_every_number_field_bounds() -> None:
    field = FormField.model_validate({"id": "anzahl", "type": "number", "label": "Anzahl"})
    assert (field.min, field.max) == (0, 999_999)
    assert FormField.model_validate({"id": "n", "type": "number", "label": "N", "max": -5}).min == -5
    assert FormField.model_validate({"id": "n", "type": "number", "label": "N", "min": 1, "max": 5}).max == 5


# ---------------------------------------------------------------- 2 uploads


def png_bomb() -> bytes:
    """100 megapixels of one colour: 12 KB as a file, gigabytes once decoded in colour."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buffer, "PNG")
    return buffer.getvalue()


def pdf(change: str) -> bytes:
    """A small PDF made with pypdf, with one dangerous part added."""
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    if change == "javascript":  # document-level JavaScript in the names tree
        script = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                                   NameObject("/JS"): TextStringObject("app.alert('Hallo');")})
        writer._root_object[NameObject("/Names")] = DictionaryObject({  # noqa: SLF001
            NameObject("/JavaScript"): DictionaryObject({
                NameObject("/Names"): ArrayObject([TextStringObject("start"), writer._add_object(script)])})})  # noqa: SLF001
    elif change == "open-action":
        writer._root_object[NameObject("/OpenAction")] = DictionaryObject({  # noqa: SLF001
            NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert(1)")})
    elif change == "embedded-html":
        writer.add_attachment("seite.html", b"<html><script>alert(1)</script></html>")
    elif change == "launch":
        writer._root_object[NameObject("/OpenAction")] = DictionaryObject({  # noqa: SLF001
            NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("cmd.exe")})
    elif change == "encrypted":
        writer.encrypt("geheim")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_a_decompression_bomb_and_pdfs_with_code_or_embedded_files_are_refused_at_the_field(
        citizen: tuple[Browser, int], live: str, app: Flask) -> None:
    visitor, _ = citizen
    to_payment(visitor)
    bomb = png_bomb()
    assert len(bomb) < 100_000
    post_with_file(visitor, live, "foto.png", bomb)
    assert visitor.status == 400
    assert "Die Datei bei »Nachweis (PDF oder Bild)« hat zu viele Bildpunkte (höchstens 40 Megapixel)." in visitor.text
    refused = {"javascript": "enthält Programmcode", "open-action": "enthält Programmcode",
               "embedded-html": "enthält Programmcode", "launch": "enthält Programmcode",
               "encrypted": "lässt sich nicht als PDF lesen"}
    for change, message in refused.items():
        post_with_file(visitor, live, "nachweis.pdf", pdf(change))
        assert visitor.status == 400, change
        assert f"Die Datei bei »Nachweis (PDF oder Bild)« {message}" in visitor.text, change
        assert 'id="fehler-vollmacht"' in visitor.text
    # A name written with #xx escapes is the same name.
    hidden = pdf("plain").replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /J#61vaScript /J#53 (x) >>")
    post_with_file(visitor, live, "nachweis.pdf", hidden)
    assert visitor.status == 400 and "enthält Programmcode" in visitor.text
    with app.app_context():
        draft = db().scalar(select(FormDraft))
        assert draft is not None
    assert draft_size(app) < 20_000  # none of them was kept
    # A plain PDF and a plain image still go through.
    post_with_file(visitor, live, "nachweis.pdf", pdf("plain"))
    assert visitor.url.endswith(f"{START}zusammenfassung/") and "nachweis.pdf" in visitor.text
    visitor.get(f"{START}zahlung/")
    post_with_file(visitor, live, "foto.png", PNG)
    assert visitor.url.endswith(f"{START}zusammenfassung/") and "foto.png" in visitor.text


# ---------------------------------------------------------------- 3 sizes


def test_ten_megabytes_in_a_text_field_get_the_error_at_the_field_and_are_not_stored(
        citizen: tuple[Browser, int], live: str, app: Flask) -> None:
    visitor, _ = citizen
    to_payment(visitor)
    huge = "1" * (10 * 1024 * 1024)
    send(visitor, iban=VALID_IBAN, kennzeichen=huge)  # as a form without file: urlencoded
    assert visitor.status == 400
    assert "Kürzen Sie »Kassenzeichen« auf höchstens 200 Zeichen." in visitor.text
    assert 'id="fehler-kennzeichen"' in visitor.text
    assert f'value="{VALID_IBAN}"' in visitor.text  # the other field keeps what was typed
    assert len(visitor.text) < 100_000
    assert draft_size(app) < 20_000
    # The same with a file chosen (multipart): the value is cut while it is read.
    post_with_file(visitor, live, "foto.png", PNG, iban="DE89 3704 0044 0532 0130 00", kennzeichen=huge)
    assert visitor.status == 400 and "Kürzen Sie »Kassenzeichen« auf höchstens 200 Zeichen." in visitor.text
    assert f'value="{VALID_IBAN}"' in visitor.text and "foto.png" in visitor.text
    assert draft_size(app) < 20_000
    # A step without files: the same error at the field, the rest kept.
    visitor.get(f"{START}person/")
    send(visitor, vorname="Lena", nachname=huge)
    assert visitor.status == 400 and 'id="fehler-nachname"' in visitor.text
    assert "höchstens 200 Zeichen" in visitor.text and 'value="Lena"' in visitor.text
    assert draft_size(app) < 20_000
    # Beyond what any step takes, a German page, never an error page.
    send(visitor, nachname="1" * (12 * 1024 * 1024))
    assert visitor.status == 413 and "ist zu lang für diese Seite" in visitor.text
    assert draft_size(app) < 20_000


def test_the_start_and_the_summary_take_only_small_requests(citizen: tuple[Browser, int]) -> None:
    visitor, _ = citizen
    begin(visitor)
    for path in (START, f"{START}zusammenfassung/"):
        answer = visitor.client.post(path, data={"csrf_token": "x", "erklaerung": "x" * (1024 * 1024)})
        assert answer.status_code == 413 and "zu lang" in str(answer.get_data(as_text=True))


# ---------------------------------------------------------------- 4 answers kept across a login


def test_answers_typed_while_the_login_ended_are_kept_encrypted_on_the_server_not_in_the_cookie(
        citizen: tuple[Browser, int], app: Flask) -> None:
    visitor, account_id = citizen
    begin(visitor)
    visitor.get(f"{START}person/")
    with session_scope(app) as session:  # the login ends while the citizen types
        session.execute(update(LoginSession).where(LoginSession.account_id == account_id)
                        .values(last_seen_at=utcnow() - dt.timedelta(hours=2)))
    send(visitor, vorname="Ottilie", nachname="Unverwechselbar", telefon="0251 9876543")
    assert urlsplit(visitor.url).path == "/konto/anmelden" and visitor.status == 200
    cookie = session_cookie(visitor, app)
    stored = json.dumps(cookie, ensure_ascii=False)
    for typed in ("Ottilie", "Unverwechselbar", "9876543", "Musterweg"):
        assert typed not in stored
    assert isinstance(cookie.get("kept_form"), str)
    with app.app_context():
        [kept] = db().scalars(select(KeptForm)).all()
        assert "Unverwechselbar" not in kept.data and kept.token_hash == auth.token_hash(cookie["kept_form"])
    # Logging in again brings the answers back to the page, once.
    visitor.submit("/konto/anmelden", email=EMAIL, passwort=PASSWORD)
    assert visitor.url.endswith(f"{START}person/"), visitor.text
    assert 'value="Unverwechselbar"' in visitor.text and 'value="0251 9876543"' in visitor.text
    assert "Ihre Eingaben sind noch da" in visitor.text
    assert "kept_form" not in session_cookie(visitor, app)
    with app.app_context():
        assert db().scalars(select(KeptForm)).all() == []


def test_kept_answers_nobody_comes_back_for_are_deleted_by_the_periodic_job(
        citizen: tuple[Browser, int], app: Flask) -> None:
    visitor, account_id = citizen
    begin(visitor)
    visitor.get(f"{START}person/")
    with session_scope(app) as session:
        session.execute(update(LoginSession).where(LoginSession.account_id == account_id)
                        .values(last_seen_at=utcnow() - dt.timedelta(hours=2)))
    send(visitor, nachname="Vergessen")
    assert auth.forget_kept_forms in app.extensions["periodic_jobs"]
    assert auth.forget_kept_forms(app) == 0  # still in its time
    assert auth.forget_kept_forms(app, utcnow() + auth.KEPT_FOR + dt.timedelta(minutes=1)) == 1
    with app.app_context():
        assert db().scalars(select(KeptForm)).all() == []


# ---------------------------------------------------------------- answers to questions that do not apply


def draft_answers(app: Flask) -> dict[str, Any]:
    """The draft as the portal stores it (decrypted)."""
    from dynamic.platform.crypto import unseal

    with app.app_context():
        draft = db().scalar(select(FormDraft))
        assert draft is not None
        return unseal(str(app.config["SECRET_KEY"]), draft.data)


def test_answers_to_questions_whose_condition_is_false_are_neither_stored_nor_delivered(app: Flask) -> None:
    from dynamic.platform.crypto import decrypt
    from dynamic.platform.models import Application
    from tests.dynamic.forms_fixtures import PDF
    from tests.dynamic.test_profile import log_in as log_in_directly

    amt = office(app)
    visitor = Browser(app.test_client())
    log_in_directly(visitor.client, app, make_account(app, email=EMAIL, password=PASSWORD))
    begin(visitor)
    csrf = visitor.form(urlsplit(visitor.url).path).fields["csrf_token"]

    # "No other persons", with names posted anyway (as if the script had shown the question).
    send(visitor, art="erweitert", anzahl="1", weitere="nein", personen="Mallory Eingeschleust", skript="ja")
    assert visitor.url.endswith(f"{START}zahlung/")
    assert "personen" not in draft_answers(app)["raw"]
    # First the names given, then "no" chosen: the names are forgotten, also where a browser
    # without JavaScript sends the hidden text area back unchanged.
    visitor.get(f"{START}bescheinigung/")
    send(visitor, weitere="ja", personen="Max Beispiel", skript="ja")
    assert draft_answers(app)["raw"]["personen"] == "Max Beispiel"
    visitor.get(f"{START}bescheinigung/")
    assert 'id="bedingt-personen"' in visitor.text and ">Max Beispiel</textarea>" in visitor.text
    send(visitor, weitere="nein")
    assert "personen" not in draft_answers(app)["raw"]

    # The payment step with a file, then "einfach": step, IBAN and file are forgotten.
    send(visitor, iban=VALID_IBAN, vollmacht=(io.BytesIO(PDF), "vollmacht.pdf"), kennzeichen="")
    assert visitor.url.endswith(f"{START}zusammenfassung/")
    assert "vollmacht" in draft_answers(app)["uploads"]
    visitor.get(f"{START}bescheinigung/")
    send(visitor, art="einfach")
    stored = draft_answers(app)
    assert "iban" not in stored["raw"] and "vollmacht" not in stored["uploads"]
    # A POST straight to the step that does not apply stores nothing either.
    answer = visitor.client.post(f"{START}zahlung/", data={
        "csrf_token": csrf, "iban": VALID_IBAN, "kennzeichen": "999999",
        "vollmacht": (io.BytesIO(PDF), "untergeschoben.pdf")}, content_type="multipart/form-data")
    assert answer.status_code == 303
    stored = draft_answers(app)
    assert "iban" not in stored["raw"] and "kennzeichen" not in stored["raw"] and stored["uploads"] == {}

    visitor.get(f"{START}zusammenfassung/")
    for absent in ("Mallory", "Max Beispiel", "DE89", "vollmacht.pdf", "untergeschoben.pdf", "Lastschriftmandat"):
        assert absent not in visitor.text
    send(visitor, erklaerung="ja")
    assert "Ihr Antrag ist eingegangen" in visitor.text
    with app.app_context():
        application = db().scalar(select(Application))
        assert application is not None
        content = decrypt(application.jwe, amt.private_jwk)
    assert {a["id"] for a in content["answers"]}.isdisjoint({"personen", "iban", "kennzeichen", "vollmacht"})
    assert set(content["data"]).isdisjoint({"personen", "iban", "kennzeichen", "vollmacht"})
    assert content["files"] == []
    assert "Mallory" not in json.dumps(content) and "untergeschoben" not in json.dumps(content)


def test_an_odd_part_of_a_step_is_never_an_error_page(app: Flask) -> None:
    from tests.dynamic.test_profile import log_in as log_in_directly

    office(app)
    visitor = Browser(app.test_client())
    log_in_directly(visitor.client, app, make_account(app, email=EMAIL, password=PASSWORD))
    begin(visitor)
    for odd in ("²", "٣", "99", "-1", "0x1", "1" * 5000, "1"):
        visitor.get(f"{START}bescheinigung/?teil={odd}")
        assert visitor.status == 200, odd
        assert 'name="art"' in visitor.text and 'name="personen"' in visitor.text  # the step's first part
    assert visitor.url.endswith(f"{START}bescheinigung/")  # "1": its question is not needed, back to the step
