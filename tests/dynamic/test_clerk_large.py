"""The clerk client with what citizens really send (issue 24, items 1 and 2), as real processes
against the portal on a real local port: an upload of nearly 5 MB arrives byte for byte; an
application the client cannot read is reported (reference, kid, cause) while the rest of the
queue is saved and confirmed; with several keys the one the application names is used, so a
change of key just works. Also: why decryption failed (too large, another key, changed), the
limit against the largest application the forms allow, and the list followed page by page."""

from __future__ import annotations

import base64
import io
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask, jsonify, request
from pypdf import PdfReader
from sqlalchemy import select

from clerk import ClerkError, Client, main
from dynamic.forms.delivery import register_office
from dynamic.forms.files import pdf_problem
from dynamic.platform import crypto
from dynamic.platform.crypto import Unreadable, decrypt, encrypt_for, new_office_key
from dynamic.platform.db import db, session_scope
from dynamic.platform.models import Application
from tests.dynamic.forms_fixtures import (
    VALID_IBAN,
    fill_meldebescheinigung,
    office,
    portal_environment,
    reference_on,
    send,
    served,
    upload,
)
from tests.dynamic.test_office_api import citizen_sends, new_citizen

ROOT = Path(__file__).resolve().parents[2]
START = "/stadt/antrag/meldebescheinigung/"
MB = 1024 * 1024
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def roomy_output(fixture_output: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture sites with the form's upload allowing 5 MB, the default of every real form
    (the fixture form keeps it at 1 MB to keep other tests small)."""
    output = tmp_path_factory.mktemp("roomy") / "output"
    shutil.copytree(fixture_output, output)
    path = output / "stadt" / "katalog.json"
    katalog = json.loads(path.read_text(encoding="utf-8"))
    fields = [f for s in katalog["forms"]["meldebescheinigung"]["steps"] for f in s["fields"]]
    [proof] = [f for f in fields if f["id"] == "vollmacht"]
    proof["max_size_mb"] = 5
    path.write_text(json.dumps(katalog), encoding="utf-8")
    return output


@pytest.fixture
def app_settings(app_settings: dict[str, Any], roomy_output: Path) -> dict[str, Any]:
    return {**app_settings, "output_dir": roomy_output}


@pytest.fixture
def environment(app_settings: dict[str, Any], tmp_path: Path) -> dict[str, str]:
    """The environment the portal itself runs with (as in test_clerk_cli), no BUERGERPORTAL_* of ours."""
    return portal_environment(app_settings, tmp_path / "cli-var")


def clerk(environment: dict[str, str], cwd: Path, portal: str, token: str, *args: str | Path,
          **extra_environment: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dynamic.clerk", "--portal", portal, "--token", token,
                           *map(str, args)], env={**environment, **extra_environment}, cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


def no_traceback(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert "Traceback" not in result.stderr, result.stderr
    return result


def write_key(path: Path, jwk: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(jwk), encoding="utf-8")
    return path


def large_pdf(size: int) -> bytes:
    """A real one-page PDF of about `size` bytes: a square of noise as an RGB image, written in
    hexadecimal (ASCIIHexDecode), so that no byte of the noise can look like a PDF name such
    as /JS to the upload's content check."""
    side = int((size / 6) ** 0.5)
    pixels = random.Random(24).randbytes(side * side * 3)
    image = pixels.hex().encode() + b">"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 "
        b"/Filter /ASCIIHexDecode /Length %d >>\nstream\n%s\nendstream" % (side, side, len(image), image),
        b"<< /Length 33 >>\nstream\nq 495 0 0 495 50 300 cm /Im1 Do Q\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def rekey(app: Flask, public: dict[str, Any]) -> str:
    """The operator registers the office anew with `public` (as `build.py office` does); the new token."""
    with session_scope(app) as session:
        _row, token = register_office(session, "stadt", "buergeramt", public)
    return token


def status_of(app: Flask, reference: str) -> str:
    with app.app_context():
        return str(db().scalar(select(Application.status).where(Application.reference == reference)))


# ---------------------------------------------------------------- item 1: a normal upload arrives


def test_a_pdf_of_nearly_5_mb_reaches_the_clerks_folder_byte_for_byte(
        app: Flask, environment: dict[str, str], tmp_path: Path) -> None:
    pdf = large_pdf(4_900_000)
    assert 4_800_000 < len(pdf) < 5 * MB and pdf_problem(pdf) is None  # what the form accepts
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    amt = office(app)
    citizen = new_citizen(app)
    fill_meldebescheinigung(citizen.browser, art="erweitert")
    citizen.browser.get(f"{START}zahlung/")
    send(citizen.browser, iban=VALID_IBAN, vollmacht=upload(pdf, "nachweis.pdf"), kennzeichen="")
    assert citizen.browser.url.endswith(f"{START}zusammenfassung/"), citizen.browser.text[:3000]
    send(citizen.browser, erklaerung="ja")
    reference = reference_on(citizen.browser.text)
    key = write_key(tmp_path / "amt" / "private.jwk", amt.private_jwk)

    with served(app) as portal:
        inbox = tmp_path / "eingang"
        fetched = no_traceback(clerk(environment, tmp_path, portal, amt.token, "--key", key, "fetch", "--out", inbox))
        assert fetched.returncode == 0, fetched.stderr
        assert fetched.stdout.splitlines() == [f"{reference}\t{inbox / reference}"]
    saved = inbox / reference / "1-nachweis.pdf"
    assert saved.read_bytes() == pdf
    listing = json.loads((inbox / reference / "antrag.json").read_text(encoding="utf-8"))
    assert listing["files"] == [{"field": "vollmacht", "name": "nachweis.pdf", "content_type": "application/pdf",
                                 "size": len(pdf)}]
    assert status_of(app, reference) == "received"


# ---------------------------------------------------------------- item 2: one unreadable application


@SQLITE_ONLY
def test_an_application_for_another_key_is_reported_and_the_rest_of_the_queue_is_saved_and_confirmed(
        app: Flask, environment: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    amt = office(app)
    old_private = amt.private_jwk
    new_private, new_public = new_office_key()
    old_public = {k: v for k, v in old_private.items() if k not in {"d", "p", "q", "dp", "dq", "qi"}}
    citizen = new_citizen(app)
    first = citizen_sends(citizen)
    rekey(app, new_public)
    second = citizen_sends(citizen)  # encrypted for the new key
    token = rekey(app, old_public)
    third = citizen_sends(citizen)
    old_key = write_key(tmp_path / "alt" / "private.jwk", old_private)
    write_key(tmp_path / "alt" / "public.jwk", old_public)  # a keygen folder holds both halves
    new_folder = tmp_path / "neu"
    write_key(new_folder / "private.jwk", new_private)
    write_key(new_folder / "public.jwk", new_public)

    with served(app) as portal:
        inbox = tmp_path / "eingang"
        partly = no_traceback(clerk(environment, tmp_path, portal, token, "--key", old_key, "fetch", "--out", inbox))
        assert partly.returncode == 1, (partly.stdout, partly.stderr)
        assert partly.stdout.splitlines() == [f"{first}\t{inbox / first}", f"{third}\t{inbox / third}"]
        reported = [line for line in partly.stderr.splitlines() if second in line]
        assert reported and reported[0].startswith("Fehler: "), partly.stderr
        assert new_private["kid"] in reported[0] and "entschlüsseln nicht möglich" in reported[0]
        assert "anderen Schlüssel" in reported[0], reported[0]  # the cause, not "changed or ..."
        assert "verändert" not in reported[0]
        assert (inbox / first / "antrag.json").is_file() and (inbox / third / "antrag.json").is_file()
        assert not (inbox / second).exists()
        assert [status_of(app, r) for r in (first, second, third)] == ["received", "new", "received"]

        # Both keys, as BUERGERPORTAL_KEY names them (a file and a keygen folder): the rest arrives.
        # (In this process from here on: the command line itself was exercised above.)
        monkeypatch.setenv("BUERGERPORTAL_KEY", os.pathsep.join([str(old_key), str(new_folder)]))
        capsys.readouterr()
        assert main(["--portal", portal, "--token", token, "fetch", "--out", str(inbox)]) == 0
        rest = capsys.readouterr()
        assert rest.out.splitlines() == [f"{second}\t{inbox / second}"] and rest.err == ""
        assert status_of(app, second) == "received"

        # A JWKS file and --key repeated (which replaces BUERGERPORTAL_KEY): all three by reference.
        jwks = write_key(tmp_path / "schluessel.json", {"keys": [new_public, new_private]})
        again = tmp_path / "nochmal"
        assert main(["--portal", portal, "--token", token, "--key", str(old_key), "--key", str(jwks), "fetch",
                     first, second, third, "--out", str(again), "--no-confirm"]) == 0
        for reference in (first, second, third):
            saved = json.loads((again / reference / "antrag.json").read_text(encoding="utf-8"))
            assert saved["reference"] == reference

        # A public key alone is no key to read with: said at once, nothing fetched.
        capsys.readouterr()
        assert main(["--portal", portal, "--token", token, "--key", str(new_folder / "public.jwk"), "fetch",
                     "--out", str(tmp_path / "leer")]) == 2
        refused = capsys.readouterr()
        assert refused.err.startswith("Fehler: ") and "no private key" in refused.err and refused.out == ""
        assert not (tmp_path / "leer").exists()


# ---------------------------------------------------------------- why decryption failed


@pytest.fixture(scope="module")
def keys() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Two private keys, and the public half of the first."""
    private, public = new_office_key()
    return private, public, new_office_key()[0]


def test_decryption_names_the_cause_another_key_changed_or_too_large(
        keys: tuple[dict[str, Any], dict[str, Any], dict[str, Any]]) -> None:
    private, public, other = keys
    token = encrypt_for(public, {"reference": "A-2026-AAAA-BBBB", "files": []})
    assert decrypt(token, private)["reference"] == "A-2026-AAAA-BBBB"
    assert decrypt(token, [other, private])["reference"] == "A-2026-AAAA-BBBB"  # chosen by kid

    with pytest.raises(Unreadable, match="another key") as another:
        decrypt(token, other)
    assert private["kid"] in str(another.value) and other["kid"] in str(another.value)
    assert getattr(another.value, "kid", None) == private["kid"]

    head, key, iv, ciphertext, tag = token.split(".")
    flipped = ciphertext[:10] + ("A" if ciphertext[10] != "A" else "B") + ciphertext[11:]
    with pytest.raises(Unreadable, match="changed") as changed:
        decrypt(".".join([head, key, iv, flipped, tag]), private)
    assert "another key" not in str(changed.value) and getattr(changed.value, "kid", None) == private["kid"]

    with pytest.raises(Unreadable, match="too large") as large:
        decrypt(".".join([head, key, iv, "A" * (crypto.MAX_JWE_BYTES + 1), tag]), private)
    assert f"{crypto.MAX_JWE_BYTES:,}" in str(large.value)

    with pytest.raises(Unreadable, match="not a JWE"):
        decrypt("kein.jwe", private)


def test_the_largest_application_the_forms_allow_decrypts_with_room_to_spare(
        keys: tuple[dict[str, Any], dict[str, Any], dict[str, Any]]) -> None:
    """Every form's files at their largest (max_size_mb, default 5), every text at its longest:
    encrypted as the portal does, decrypted as the client does; the JWE leaves room for forms
    with far more (the limit is 64 MB)."""
    forms = [yaml.safe_load(path.read_text(encoding="utf-8")) for folder in ("content",)
             for path in sorted((ROOT / folder / "forms").glob("*.yaml"))]

    def largest(form: dict[str, Any]) -> tuple[list[int], int]:
        fields = [f for step in form["steps"] for f in step["fields"]]
        files = [int(float(f.get("max_size_mb", 5)) * MB) for f in fields if f["type"] == "file"]
        text = sum(4 * int(f.get("max_length") or 5000) for f in fields if f["type"] != "file")
        return files, text

    files, text = max((largest(form) for form in forms), key=lambda found: sum(found[0]) + found[1])
    assert sum(files) >= 10 * MB  # two uploads of 5 MB (Bewohnerparkausweis, Hundesteuer)
    noise = random.Random(5)
    payload = {"reference": "A-2026-AAAA-BBBB", "answers": [{"id": "text", "text": "ä" * (text // 2)}],
               "files": [{"field": f"datei{n}", "name": "x.pdf", "content_type": "application/pdf", "size": size,
                          "data": base64.b64encode(noise.randbytes(size)).decode()} for n, size in enumerate(files)]}
    private, public, _other = keys
    token = encrypt_for(public, payload)
    assert len(token) < crypto.MAX_JWE_BYTES / 3, "the limit should leave room for forms with more files"
    assert decrypt(token, private)["files"][-1]["data"] == payload["files"][-1]["data"]


# ---------------------------------------------------------------- the list, page by page


def paged_api(pages: dict[str | None, dict[str, Any]], seen: list[dict[str, str]]) -> Flask:
    """A stand-in for the office API with cursor paging: GET /api/v1/applications?after=…"""
    fake = Flask("paged")

    @fake.get("/api/v1/applications")
    def applications() -> Any:
        seen.append(dict(request.args))
        return jsonify(pages[request.args.get("after")])

    return fake


def summary(number: int) -> dict[str, Any]:
    return {"reference": f"A-2026-AAAA-{number:04d}", "form": "meldebescheinigung",
            "submitted_at": "2026-11-29T10:00:00+00:00", "status": "new"}


def test_the_client_follows_next_until_there_is_none() -> None:
    seen: list[dict[str, str]] = []
    pages: dict[str | None, dict[str, Any]] = {
        None: {"applications": [summary(1), summary(2)], "next": "c2"},
        "c2": {"applications": [summary(3), summary(4)], "next": "c4"},
        "c4": {"applications": [summary(5)], "next": None},
    }
    with served(paged_api(pages, seen)) as portal:
        found = Client(portal, "amt_x").applications()
    assert [a["reference"] for a in found] == [summary(n)["reference"] for n in range(1, 6)]
    assert [s.get("after") for s in seen] == [None, "c2", "c4"]
    assert all(s["status"] == "new" for s in seen)

    # Today's API answers without "next": one page.
    seen.clear()
    with served(paged_api({None: {"applications": [summary(1)]}}, seen)) as portal:
        assert len(Client(portal, "amt_x").applications("all")) == 1
    assert seen == [{"status": "all"}]

    # A portal that hands out the same cursor again would page forever: refused.
    looping: dict[str | None, dict[str, Any]] = {None: {"applications": [summary(1)], "next": "c"},
                                                 "c": {"applications": [summary(2)], "next": "c"}}
    with served(paged_api(looping, seen)) as portal, pytest.raises(ClerkError, match="cursor"):
        Client(portal, "amt_x").applications()
