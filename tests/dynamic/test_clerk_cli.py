"""The command line a clerk uses, as real processes against the portal on a real local port:
`python -m dynamic.clerk keygen`, `python build.py office` (prints the token), then list, fetch
(decrypt, save, confirm), answer with an attachment, read the citizen's decrypted reply; a wrong
key or token ends with its own exit code and a readable message, never a traceback."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from clerk import ClerkError, Client
from dynamic.platform.crypto import new_office_key
from dynamic.platform.db import db
from dynamic.platform.models import Application, Office
from tests.dynamic.forms_fixtures import (
    PDF,
    VALID_IBAN,
    fill_meldebescheinigung,
    office,
    portal_environment,
    reference_on,
    send,
    served,
    upload,
)
from tests.dynamic.test_office_api import Citizen, citizen_sends, new_citizen

ROOT = Path(__file__).resolve().parents[2]
START = "/stadt/antrag/meldebescheinigung/"
TOKEN_LINE = re.compile(r"^API-Token \(wird nur jetzt angezeigt\): (amt_\S+)$", re.MULTILINE)
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}
# Each process imports the portal (1–2.5 s): the long way runs on SQLite only (on both, over 20 s).
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def environment(app_settings: dict[str, Any], tmp_path: Path) -> dict[str, str]:
    """The environment the portal itself runs with: same database, built sites and secret."""
    return portal_environment(app_settings, tmp_path / "cli-var")


def run(environment: dict[str, str], cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *map(str, args)], env=environment, cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)


class Clerk:
    """`python -m dynamic.clerk` with the portal's address, a token and a key."""

    def __init__(self, environment: dict[str, str], cwd: Path, portal: str, token: str, key: Path) -> None:
        self.environment, self.cwd, self.portal, self.token, self.key = environment, cwd, portal, token, key

    def __call__(self, *args: str | Path, token: str | None = None, key: Path | None = None
                 ) -> subprocess.CompletedProcess[str]:
        return run(self.environment, self.cwd, "-m", "dynamic.clerk", "--portal", self.portal,
                   "--token", token or self.token, "--key", key or self.key, *args)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def keygen(environment: dict[str, str], cwd: Path, folder: Path) -> None:
    out = ok(run(environment, cwd, "-m", "dynamic.clerk", "keygen", folder))
    assert str(folder / "private.jwk") in out and str(folder / "public.jwk") in out


def register(environment: dict[str, str], cwd: Path, public_key: Path, output_dir: str) -> str:
    """`build.py office`; `--out` too, because the command does not read PORTAL_OUTPUT_DIR (reported)."""
    out = ok(run(environment, cwd, ROOT / "build.py", "office", "stadt", "buergeramt", "--public-key", public_key,
                 "--out", output_dir))
    assert "Stelle stadt/buergeramt registriert." in out
    found = TOKEN_LINE.search(out)
    assert found, out
    return found.group(1)


def status_of(app: Flask, reference: str) -> str:
    with app.app_context():
        return str(db().scalar(select(Application.status).where(Application.reference == reference)))


def citizen_sends_with_proof(citizen: Citizen) -> str:
    """The extended certificate, with a PDF uploaded as proof."""
    fill_meldebescheinigung(citizen.browser, art="erweitert")
    citizen.browser.get(f"{START}zahlung/")
    send(citizen.browser, iban=VALID_IBAN, vollmacht=upload(PDF, "nachweis.pdf"), kennzeichen="")
    assert citizen.browser.url.endswith(f"{START}zusammenfassung/"), citizen.browser.text
    send(citizen.browser, erklaerung="ja")
    return reference_on(citizen.browser.text)


# ---------------------------------------------------------------- keys and registration (both databases)


def test_keygen_and_build_py_office_register_the_office_and_print_its_token(
        app: Flask, environment: dict[str, str], app_settings: dict[str, Any], tmp_path: Path) -> None:
    keys = tmp_path / "schluessel"
    keygen(environment, tmp_path, keys)
    private = json.loads((keys / "private.jwk").read_text(encoding="utf-8"))
    public = json.loads((keys / "public.jwk").read_text(encoding="utf-8"))
    assert stat.S_IMODE((keys / "private.jwk").stat().st_mode) & 0o077 == 0, "the private key is readable by others"
    assert set(private) >= PRIVATE_MEMBERS and not PRIVATE_MEMBERS & set(public)
    assert public["n"] == private["n"] and public["kty"] == "RSA"

    # Handing in the private key by mistake: refused, nothing registered.
    mistake = run(environment, tmp_path, ROOT / "build.py", "office", "stadt", "buergeramt",
                  "--public-key", keys / "private.jwk", "--out", str(app_settings["output_dir"]))
    assert mistake.returncode == 1 and "Fehler:" in mistake.stderr and "no d" in mistake.stderr
    assert "API-Token" not in mistake.stdout and "Traceback" not in mistake.stderr
    with app.app_context():
        assert db().scalar(select(Office)) is None

    token = register(environment, tmp_path, keys / "public.jwk", str(app_settings["output_dir"]))
    reference = citizen_sends(new_citizen(app))  # possible only now that the office has a key
    with served(app) as portal:
        [listed] = Client(portal, token, private).applications()
        assert listed["reference"] == reference
        assert Client(portal, token, private).application(reference)["content"]["reference"] == reference

        # Registering again re-keys the office: the old token is dead, the new one works.
        again = register(environment, tmp_path, keys / "public.jwk", str(app_settings["output_dir"]))
        assert again != token
        with pytest.raises(ClerkError, match="401"):
            Client(portal, token).applications()
        assert [a["reference"] for a in Client(portal, again).applications()] == [reference]


# ---------------------------------------------------------------- the whole way (SQLite)


@SQLITE_ONLY
def test_a_clerk_fetches_answers_and_reads_the_reply_on_the_command_line(
        app: Flask, environment: dict[str, str], app_settings: dict[str, Any], tmp_path: Path) -> None:
    keys = tmp_path / "amt"
    keygen(environment, tmp_path, keys)
    token = register(environment, tmp_path, keys / "public.jwk", str(app_settings["output_dir"]))
    citizen = new_citizen(app)
    reference = citizen_sends_with_proof(citizen)

    with served(app) as portal:
        clerk = Clerk(environment, tmp_path, portal, token, keys / "private.jwk")
        [line] = ok(clerk("list")).splitlines()
        assert line.startswith(f"{reference}\tmeldebescheinigung\t") and line.endswith("\tnew")

        inbox = tmp_path / "eingang"
        assert ok(clerk("fetch", "--out", inbox)).splitlines() == [f"{reference}\t{inbox / reference}"]
        folder = inbox / reference
        antrag = json.loads((folder / "antrag.json").read_text(encoding="utf-8"))
        assert antrag["reference"] == reference and antrag["form"]["id"] == "meldebescheinigung"
        answers = {a["id"]: a for a in antrag["answers"]}
        assert answers["nachname"]["value"] == "Beispiel" and answers["art"]["value"] == "erweitert"
        assert antrag["files"] == [{"field": "vollmacht", "name": "nachweis.pdf", "content_type": "application/pdf",
                                    "size": len(PDF)}]  # the listing, without the content
        text = (folder / "antrag.txt").read_text(encoding="utf-8")
        assert text.splitlines()[0].endswith(f" – {reference}")
        assert "Familienname: Beispiel" in text and "Anschrift: Musterweg 5, 48143 Beispielstadt" in text
        assert (folder / "1-nachweis.pdf").read_bytes() == PDF
        # Fetching confirmed receipt: nothing new any more, the application is received.
        assert ok(clerk("list")) == ""
        assert ok(clerk("list", "--status", "received")).startswith(f"{reference}\tmeldebescheinigung\t")
        assert status_of(app, reference) == "received"

        decision = tmp_path / "bescheid.pdf"
        decision.write_bytes(PDF)
        sent = ok(clerk("answer", reference, "--subject", "Ihr Bescheid", "--body", "Die Bescheinigung liegt bei.",
                        "--attach", decision, "--decision"))
        assert re.fullmatch(r"zugestellt: Nachricht \d+\n", sent), sent

        browser = citizen.browser
        browser.get("/postfach/")
        link = re.search(r'href="(/postfach/\d+)"><strong><span class="visually-hidden">Ungelesen: </span>'
                         r"Ihr Bescheid", browser.text)
        assert link, "the answer is not in the citizen's inbox"
        browser.get(link.group(1))
        assert "Die Bescheinigung liegt bei." in browser.text and "bescheid.pdf" in browser.text
        [attachment] = re.findall(r'href="(/postfach/\d+/anhang/\d+)"', browser.text)
        assert browser.client.get(attachment).data == PDF
        browser.submit(f"{link.group(1)}/antworten", antwort="Vielen Dank, erhalten.\nLena Beispiel")
        assert "Ihre Antwort wurde verschlüsselt an das Bürgeramt übermittelt." in browser.text

        shown = ok(clerk("messages", reference))
        assert "office: Ihr Bescheid\n" in shown
        assert "citizen: Antwort zu: Ihr Bescheid\nVielen Dank, erhalten.\nLena Beispiel\n" in shown
        assert shown.index("office: Ihr Bescheid") < shown.index("citizen: Antwort zu")

        foreign = tmp_path / "fremd.jwk"
        foreign.write_text(json.dumps(new_office_key()[0]), encoding="utf-8")
        unreadable = clerk("messages", reference, key=foreign)
        assert unreadable.returncode == 3 and "entschlüsseln nicht möglich" in unreadable.stderr
        assert "Vielen Dank" not in unreadable.stdout and "Traceback" not in unreadable.stderr


# ---------------------------------------------------------------- mistakes (both databases)


def test_a_wrong_key_ends_with_exit_3_and_saves_and_confirms_nothing(
        app: Flask, environment: dict[str, str], tmp_path: Path) -> None:
    amt = office(app)
    own, foreign = tmp_path / "private.jwk", tmp_path / "fremd.jwk"
    own.write_text(json.dumps(amt.private_jwk), encoding="utf-8")
    foreign.write_text(json.dumps(new_office_key()[0]), encoding="utf-8")
    reference = citizen_sends(new_citizen(app))
    with served(app) as portal:
        clerk = Clerk(environment, tmp_path, portal, amt.token, own)
        out = tmp_path / "eingang"
        wrong = clerk("fetch", "--out", out, key=foreign)
        assert wrong.returncode == 3, (wrong.stdout, wrong.stderr)
        assert wrong.stderr.startswith("Fehler: ") and "entschlüsseln nicht möglich" in wrong.stderr
        assert "Traceback" not in wrong.stderr and wrong.stdout == ""
        assert not (out / reference).exists()
        assert status_of(app, reference) == "new"  # not confirmed: the clerk could not read it

        bad_token = clerk("list", token="amt_" + "x" * 43)
        assert bad_token.returncode == 1 and bad_token.stdout == ""
        assert bad_token.stderr.startswith("Fehler: GET /applications: 401 ") and "Bearer-Token" in bad_token.stderr
        assert "Traceback" not in bad_token.stderr

        # With the right key the same application can still be fetched.
        assert ok(clerk("fetch", "--out", out)).startswith(reference)
        assert (out / reference / "antrag.json").is_file() and status_of(app, reference) == "received"
