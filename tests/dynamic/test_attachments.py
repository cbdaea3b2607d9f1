"""Issue 24: a PDF of the whole application for the e-file, and every attachment on its own.

At sending, the portal renders the application as a PDF (German, every answer by step with its
label) and stores it and each upload as an attachment of its own: encrypted for the office
(one JWE each), with an opaque id and the SHA-512 of its plain bytes. The application's payload
(format version 2) lists them (`files` with id and sha512 instead of inline data, and
`attachments`), which keeps its JWE small. The office API lists the attachments and returns
one at a time, to the owning office only; the clerk client downloads each, checks its hash and
refuses an application whose attachment was changed. Applications of format version 1 (files
inline) still save as before. Both databases (the `app` fixture)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import inspect, select

from dynamic.platform.crypto import decrypt, encrypt_for
from dynamic.platform.db import alembic_config, db, make_engine, migrate, session_scope
from dynamic.platform.models import Application, ApplicationAttachment, Office
from tests.dynamic.conftest import fresh_postgres_database
from tests.dynamic.forms_fixtures import PDF, office, portal_environment, served
from tests.dynamic.test_clerk_cli import Clerk, citizen_sends_with_proof, ok, status_of
from tests.dynamic.test_office_api import bearer, citizen_sends, new_citizen

SHA512 = re.compile(r"^[0-9a-f]{128}$")
LISTED = {"id", "name", "content_type", "size", "sha512"}


@pytest.fixture
def environment(app_settings: dict[str, Any], tmp_path: Path) -> dict[str, str]:
    """The environment the portal itself runs with (as in test_clerk_cli), no BUERGERPORTAL_* of ours."""
    return portal_environment(app_settings, tmp_path / "cli-var")


def payload_of(app: Flask, reference: str, private_jwk: dict[str, Any]) -> dict[str, Any]:
    with session_scope(app) as session:
        jwe = session.scalar(select(Application.jwe).where(Application.reference == reference))
    assert jwe is not None
    return decrypt(jwe, private_jwk)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def key_file(tmp_path: Path, private_jwk: dict[str, Any]) -> Path:
    path = tmp_path / "amt" / "private.jwk"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(private_jwk), encoding="utf-8")
    return path


# ---------------------------------------------------------------- sending


def test_sending_stores_the_upload_and_a_pdf_of_the_application_each_encrypted_with_its_hash(app: Flask) -> None:
    amt = office(app)
    reference = citizen_sends_with_proof(new_citizen(app))
    payload = payload_of(app, reference, amt.private_jwk)

    assert payload["version"] == 2
    [file] = payload["files"]
    assert "data" not in file  # no longer inline: an attachment of its own
    assert file["field"] == "vollmacht" and file["name"] == "nachweis.pdf" and file["size"] == len(PDF)
    assert file["sha512"] == hashlib.sha512(PDF).hexdigest()
    assert payload["data"]["vollmacht"]["sha512"] == file["sha512"]  # the machine value as before
    listed = {a["id"]: a for a in payload["attachments"]}
    assert all(set(a) == LISTED for a in listed.values()), payload["attachments"]
    assert listed[file["id"]]["sha512"] == file["sha512"]
    [pdf_entry] = [a for a in payload["attachments"] if a["id"] != file["id"]]
    assert pdf_entry["content_type"] == "application/pdf" and pdf_entry["name"] == f"Antrag-{reference}.pdf"

    with app.app_context():
        application = db().scalar(select(Application).where(Application.reference == reference))
        assert application is not None
        rows = db().scalars(select(ApplicationAttachment).where(ApplicationAttachment.application_id ==
                                                                application.id)).all()
        stored = {row.public_id: row for row in rows}
        assert set(stored) == set(listed)
        assert {row.field for row in rows} == {"vollmacht", "antrag-pdf"}
        for row in rows:
            assert row.public_id != str(row.id) and len(row.public_id) >= 20  # random, not the row number
            assert SHA512.match(row.sha512) and row.sha512 == listed[row.public_id]["sha512"]
            assert row.size == listed[row.public_id]["size"]
            content = decrypt(row.jwe, amt.private_jwk)  # one JWE each, for the office's key
            data = base64.b64decode(content["data"])
            assert hashlib.sha512(data).hexdigest() == row.sha512 and len(data) == row.size
            assert content["id"] == row.public_id and content["reference"] == reference
            if row.field == "vollmacht":
                assert data == PDF
            else:
                text = pdf_text(data)
                for expected in (reference, "Meldebescheinigung beantragen", "Version 1", "Bürgeramt",
                                 "Familienname", "Beispiel", "Musterweg 5, 48143 Beispielstadt", "nachweis.pdf",
                                 "Vertrauensniveau"):
                    assert expected in text, (expected, text)
        assert len(application.jwe) < 20_000  # the files are not in it any more


# ---------------------------------------------------------------- the office API


def test_the_api_lists_the_attachments_and_gives_each_only_to_the_office_it_belongs_to(app: Flask) -> None:
    amt = office(app)
    other = office(app, unit="standesamt")
    reference = citizen_sends_with_proof(new_citizen(app))
    client = app.test_client()
    listing = client.get(f"/api/v1/applications/{reference.lower()}/attachments", headers=bearer(amt.token))
    assert listing.status_code == 200, listing.text
    attachments = listing.json["attachments"]
    assert len(attachments) == 2 and all(set(a) == LISTED for a in attachments)
    by_name = {a["name"]: a for a in attachments}
    assert by_name["nachweis.pdf"]["sha512"] == hashlib.sha512(PDF).hexdigest()
    assert f"Antrag-{reference}.pdf" in by_name

    for listed in attachments:
        one = client.get(f"/api/v1/applications/{reference}/attachments/{listed['id']}", headers=bearer(amt.token))
        assert one.status_code == 200 and set(one.json) == LISTED | {"jwe"}
        assert {k: one.json[k] for k in LISTED} == listed
        data = base64.b64decode(decrypt(one.json["jwe"], amt.private_jwk)["data"])
        assert hashlib.sha512(data).hexdigest() == listed["sha512"]
        # Another office learns nothing: not the list, not the attachment.
        foreign = client.get(f"/api/v1/applications/{reference}/attachments/{listed['id']}",
                             headers=bearer(other.token))
        assert foreign.status_code == 404 and foreign.json["error"] == "not_found"
        assert "jwe" not in foreign.json
    assert client.get(f"/api/v1/applications/{reference}/attachments",
                      headers=bearer(other.token)).status_code == 404
    assert client.get(f"/api/v1/applications/{reference}/attachments/{attachments[0]['id']}").status_code == 401
    made_up = ("x" if attachments[0]["id"][0] != "x" else "y") + attachments[0]["id"][1:]
    unknown = client.get(f"/api/v1/applications/{reference}/attachments/{made_up}", headers=bearer(amt.token))
    assert unknown.status_code == 404 and "Anhang" in unknown.json["message"]

    # An attachment id of another application, asked for under this one: 404 as well.
    second = citizen_sends(new_citizen(app, email="zweite@example.org"))
    [second_pdf] = client.get(f"/api/v1/applications/{second}/attachments", headers=bearer(amt.token)).json[
        "attachments"]
    crossed = client.get(f"/api/v1/applications/{reference}/attachments/{second_pdf['id']}",
                         headers=bearer(amt.token))
    assert crossed.status_code == 404

    document = client.get("/api/v1/openapi.json").json
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert {"listAttachments", "getAttachment"} <= operations
    assert document["components"]["schemas"]["ApplicationPayload"]["properties"]["version"]["enum"] == [1, 2]


# ---------------------------------------------------------------- the clerk client


def test_fetch_downloads_each_attachment_checks_its_hash_and_saves_the_pdf_beside_the_application(
        app: Flask, environment: dict[str, str], tmp_path: Path) -> None:
    amt = office(app)
    reference = citizen_sends_with_proof(new_citizen(app))
    with served(app) as portal:
        clerk = Clerk(environment, tmp_path, portal, amt.token, key_file(tmp_path, amt.private_jwk))
        inbox = tmp_path / "eingang"
        assert ok(clerk("fetch", "--out", inbox)).splitlines() == [f"{reference}\t{inbox / reference}"]
    folder = inbox / reference
    assert (folder / "1-nachweis.pdf").read_bytes() == PDF
    pdf = (folder / "antrag.pdf").read_bytes()
    antrag = json.loads((folder / "antrag.json").read_text(encoding="utf-8"))
    [pdf_entry] = [a for a in antrag["attachments"] if a["name"].startswith("Antrag-")]
    assert hashlib.sha512(pdf).hexdigest() == pdf_entry["sha512"]
    text = pdf_text(pdf)
    assert reference in text and "Beispiel" in text and "Für den Vermieter" in text
    assert antrag["files"] == [{"field": "vollmacht", "name": "nachweis.pdf", "content_type": "application/pdf",
                                "size": len(PDF)}]
    assert status_of(app, reference) == "received"


def test_a_changed_attachment_makes_fetch_refuse_that_application_and_save_the_rest(
        app: Flask, environment: dict[str, str], tmp_path: Path) -> None:
    amt = office(app)
    citizen = new_citizen(app)
    changed, swapped, fine = (citizen_sends_with_proof(citizen) for _ in range(3))
    with app.app_context():
        def upload_of(reference: str) -> ApplicationAttachment:
            found = db().scalar(select(ApplicationAttachment).join(Application).where(
                Application.reference == reference, ApplicationAttachment.field == "vollmacht"))
            assert found is not None
            return found

        # One byte of the ciphertext changed: it no longer decrypts.
        row = upload_of(changed)
        head, key, iv, ciphertext, tag = row.jwe.split(".")
        row.jwe = ".".join((head, key, iv, ("B" if ciphertext[5] != "B" else "C").join(
            (ciphertext[:5], ciphertext[6:])), tag))
        # A valid JWE for the office, but with other bytes: the hash does not match.
        row = upload_of(swapped)
        content = decrypt(row.jwe, amt.private_jwk)
        public = db().scalar(select(Office.public_jwk))  # the only office
        row.jwe = encrypt_for(public, {**content, "data": base64.b64encode(PDF + b"% changed\n").decode()})
        db().commit()

    with served(app) as portal:
        clerk = Clerk(environment, tmp_path, portal, amt.token, key_file(tmp_path, amt.private_jwk))
        inbox = tmp_path / "eingang"
        result = clerk("fetch", "--out", inbox)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout.splitlines() == [f"{fine}\t{inbox / fine}"]
    [said_changed] = [line for line in result.stderr.splitlines() if changed in line and "nachweis.pdf" in line]
    assert said_changed.startswith("Fehler: ") and "entschlüsseln nicht möglich" in said_changed
    assert "Nicht gespeichert, Eingang nicht bestätigt." in said_changed
    [said_swapped] = [line for line in result.stderr.splitlines() if swapped in line and "nachweis.pdf" in line]
    assert "SHA-512" in said_swapped and "stimmt nicht" in said_swapped
    assert "Nicht gespeichert, Eingang nicht bestätigt." in said_swapped
    assert not (inbox / changed).exists() and not (inbox / swapped).exists()
    assert (inbox / fine / "antrag.pdf").is_file() and (inbox / fine / "1-nachweis.pdf").read_bytes() == PDF
    assert [status_of(app, r) for r in (changed, swapped, fine)] == ["new", "new", "received"]


def test_an_application_of_format_version_1_with_inline_files_still_saves_as_before(
        app: Flask, environment: dict[str, str], tmp_path: Path) -> None:
    amt = office(app)
    reference = citizen_sends_with_proof(new_citizen(app))
    with app.app_context():
        application = db().scalar(select(Application).where(Application.reference == reference))
        assert application is not None
        payload = decrypt(application.jwe, amt.private_jwk)
        old = {k: v for k, v in payload.items() if k != "attachments"}
        old["version"] = 1
        old["files"] = [{"field": "vollmacht", "name": "nachweis.pdf", "content_type": "application/pdf",
                         "size": len(PDF), "data": base64.b64encode(PDF).decode()}]
        public = db().scalar(select(Office.public_jwk).where(Office.id == application.office_id))
        application.jwe = encrypt_for(public, old)
        for row in db().scalars(select(ApplicationAttachment)):
            db().delete(row)  # stored before there were attachments
        db().commit()
    with served(app) as portal:
        clerk = Clerk(environment, tmp_path, portal, amt.token, key_file(tmp_path, amt.private_jwk))
        inbox = tmp_path / "eingang"
        assert ok(clerk("fetch", "--out", inbox)).splitlines() == [f"{reference}\t{inbox / reference}"]
    assert (inbox / reference / "1-nachweis.pdf").read_bytes() == PDF
    assert not (inbox / reference / "antrag.pdf").exists()
    assert status_of(app, reference) == "received"


# ---------------------------------------------------------------- the migration


def test_migration_0007_goes_down_and_up_again(tmp_path: Path) -> None:
    from alembic import command

    def check(engine: Any) -> None:
        migrate(engine)
        columns = {c["name"] for c in inspect(engine).get_columns("application_attachments")}
        assert {"id", "application_id", "public_id", "field", "name", "content_type", "size", "sha512", "jwe",
                "created_at"} <= columns
        keys = inspect(engine).get_foreign_keys("application_attachments")
        assert keys[0]["referred_table"] == "applications" and keys[0]["options"].get("ondelete") == "CASCADE"
        command.downgrade(alembic_config(engine), "0006")
        assert "application_attachments" not in inspect(engine).get_table_names()
        migrate(engine)
        assert "application_attachments" in inspect(engine).get_table_names()
        engine.dispose()

    check(make_engine(f"sqlite:///{tmp_path / 'down-up.sqlite3'}"))
    with fresh_postgres_database("portal_migration") as url:
        check(make_engine(url))
