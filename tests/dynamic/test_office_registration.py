"""Registering an office again (`build.py office`) is safe: a different public key is refused,
naming the old key's kid and what still waits under it, unless `--replace-key` says so; the
same key is kept. The token and the webhook change on their own (`--new-token`, `--webhook`,
`--no-webhook`) without a key. `build.py serve` repairs the local offices' stale tokens and
keys under var/offices/ (never in production). Both databases (the `app` fixture); the command
through build.py's main() in this process, once as a real process."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

import build
from dynamic.forms.delivery import provision_local_offices
from dynamic.platform.auth import token_hash
from dynamic.platform.crypto import decrypt, new_office_key
from dynamic.platform.db import db
from dynamic.platform.models import Office
from dynamic.serve import _local_offices
from tests.dynamic.test_office_api import Citizen, citizen_sends, new_citizen

ROOT = Path(__file__).resolve().parents[2]
TOKEN_LINE = re.compile(r"^API-Token \(wird nur jetzt angezeigt\): (amt_\S+)$", re.MULTILINE)
SECRET_LINE = re.compile(r"^Webhook-Geheimnis \(Signatur X-Buergerportal-Signature\): (\S+)$", re.MULTILINE)
HOOK = "https://fachverfahren.example/eingang"


@dataclass
class Done:
    code: int
    out: str
    err: str

    @property
    def token(self) -> str | None:
        found = TOKEN_LINE.search(self.out)
        return found.group(1) if found else None

    @property
    def secret(self) -> str | None:
        found = SECRET_LINE.search(self.out)
        return found.group(1) if found else None


OfficeCli = Callable[..., Done]


@pytest.fixture
def portal_env(app_settings: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment the portal runs with: the same database, built sites and secret."""
    for name in list(os.environ):
        if name.startswith(("BUERGERPORTAL_", "PORTAL_", "DATABASE_URL", "SECRET_KEY", "MAIL_")):
            monkeypatch.delenv(name)
    values = {"DATABASE_URL": app_settings["database_url"], "PORTAL_OUTPUT_DIR": str(app_settings["output_dir"]),
              "SECRET_KEY": app_settings["secret_key"], "PORTAL_VAR_DIR": str(tmp_path / "cli-var"),
              "MAIL_URL": app_settings["mail_url"]}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def office_cli(portal_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> OfficeCli:
    """`build.py office stadt buergeramt …` through build.py's main(), as the shell calls it."""

    def run(*args: str | Path, unit: str = "buergeramt") -> Done:
        capsys.readouterr()
        code = build.main(["office", "stadt", unit, *map(str, args)])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return Done(code, captured.out, captured.err)

    return run


def key_files(folder: Path) -> tuple[dict[str, Any], Path]:
    """A fresh key pair as `dynamic.clerk keygen` writes it: the private JWK and the public file."""
    private, public = new_office_key()
    folder.mkdir(parents=True)
    (folder / "public.jwk").write_text(json.dumps(public), encoding="utf-8")
    return private, folder / "public.jwk"


def stored(app: Flask, unit: str = "buergeramt") -> Office:
    with app.app_context():
        row = db().scalar(select(Office).where(Office.slug == "stadt", Office.unit_id == unit))
        assert row is not None
        db().expunge(row)
        return row


def answers_with(app: Flask, token: str) -> int:
    """The status the office API gives this token."""
    response = app.test_client().get("/api/v1/applications", headers={"Authorization": f"Bearer {token}"})
    return response.status_code


def listed(app: Flask, token: str) -> dict[str, str]:
    response = app.test_client().get("/api/v1/applications", headers={"Authorization": f"Bearer {token}"},
                                     query_string={"status": "all"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {a["reference"]: a["status"] for a in response.json["applications"]}


def encrypted(app: Flask, token: str, reference: str) -> str:
    response = app.test_client().get(f"/api/v1/applications/{reference}",
                                     headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return str(response.json["jwe"])


def kid_in_header(jwe: str) -> str:
    header = jwe.split(".", 1)[0]
    return str(json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"])


def citizen_replies(app: Flask, citizen: Citizen, token: str, reference: str) -> None:
    """The office writes into the citizen's inbox (that confirms receipt), the citizen answers:
    an answer encrypted for the office, not fetched yet."""
    response = app.test_client().post(f"/api/v1/applications/{reference}/messages",
                                      headers={"Authorization": f"Bearer {token}"},
                                      json={"subject": "Rückfrage", "body": "Bitte senden Sie uns Ihre Anschrift."})
    assert response.status_code == 201, response.get_data(as_text=True)
    browser = citizen.browser
    browser.get("/postfach/")
    link = re.search(r'href="(/postfach/\d+)"><strong><span class="visually-hidden">Ungelesen: </span>Rückfrage',
                     browser.text)
    assert link, "the office's message is not in the inbox"
    browser.get(link.group(1))
    browser.submit(f"{link.group(1)}/antworten", antwort="Musterweg 5, 48143 Beispielstadt")
    assert "Ihre Antwort wurde verschlüsselt an das Bürgeramt übermittelt." in browser.text


# ---------------------------------------------------------------- a new office


def test_a_new_office_needs_its_public_key_and_gets_key_token_and_webhook(
        app: Flask, office_cli: OfficeCli, tmp_path: Path) -> None:
    for options in ([], ["--new-token"], ["--webhook", HOOK], ["--no-webhook"]):
        done = office_cli(*options)
        assert done.code == 1, done
        assert done.err == ("error: stadt/buergeramt is not registered yet: a new office needs --public-key "
                            "(its public key, JWK)\n")
        assert done.token is None
    with app.app_context():
        assert db().scalar(select(Office)) is None

    # --replace-key means nothing without a key to replace with.
    done = office_cli("--replace-key")
    assert done.code == 1 and done.err == "error: --replace-key needs --public-key (the new key)\n"

    _private, public = key_files(tmp_path / "amt")
    done = office_cli("--public-key", public, "--webhook", HOOK)
    assert done.code == 0, done
    kid = json.loads(public.read_text(encoding="utf-8"))["kid"]
    assert done.out.splitlines()[:2] == ["Stelle stadt/buergeramt registriert.", f"Key: kid {kid}."]
    assert done.token and done.secret
    row = stored(app)
    assert row.public_jwk["kid"] == kid and row.token_hash == token_hash(done.token)
    assert row.webhook_url == HOOK and row.webhook_secret == done.secret
    assert answers_with(app, done.token) == 200


# ---------------------------------------------------------------- the same key, a different key


def test_the_same_key_again_keeps_the_key_and_webhook_and_gives_a_new_token(
        app: Flask, office_cli: OfficeCli, tmp_path: Path) -> None:
    _private, public = key_files(tmp_path / "amt")
    first = office_cli("--public-key", public, "--webhook", HOOK)
    assert first.code == 0 and first.token
    before = stored(app)

    again = office_cli("--public-key", public)
    assert again.code == 0, again
    kid = before.public_jwk["kid"]
    assert again.out.splitlines()[:2] == ["Stelle stadt/buergeramt registriert.", f"Key unchanged (kid {kid})."]
    assert again.token and again.token != first.token
    assert "The old token no longer works." in again.out
    assert f"Webhook unchanged ({HOOK})." in again.out and again.secret is None
    after = stored(app)
    assert after.public_jwk == before.public_jwk
    assert (after.webhook_url, after.webhook_secret) == (HOOK, first.secret)
    assert answers_with(app, first.token) == 401 and answers_with(app, again.token) == 200


def test_a_different_key_is_refused_naming_the_old_kid_and_what_waits_under_it(
        app: Flask, office_cli: OfficeCli, tmp_path: Path) -> None:
    old_private, old_public = key_files(tmp_path / "alt")
    token = office_cli("--public-key", old_public).token
    assert token
    old_kid = json.loads(old_public.read_text(encoding="utf-8"))["kid"]
    citizen = new_citizen(app)
    answered = citizen_sends(citizen)
    citizen_replies(app, citizen, token, answered)  # received, with an answer not fetched
    waiting = citizen_sends(citizen)  # still new
    assert listed(app, token) == {answered: "received", waiting: "new"}

    _new_private, new_public = key_files(tmp_path / "neu")
    new_kid = json.loads(new_public.read_text(encoding="utf-8"))["kid"]
    done = office_cli("--public-key", new_public)
    assert done.code == 1, done
    assert done.out == "" and done.token is None
    assert done.err.splitlines() == [
        f"error: stadt/buergeramt is registered with a different key (kid {old_kid}); the new one has kid {new_kid}.",
        'Still waiting under the old key: 1 application(s) with status "new", 1 citizen message(s) not fetched.',
        "Nothing was changed. To replace the key, run the command again with --replace-key; what is waiting "
        f"can then be read only with the old private key (kid {old_kid}).",
    ]
    # Nothing changed: the old key encrypts, the old token works.
    assert stored(app).public_jwk["kid"] == old_kid
    assert answers_with(app, token) == 200
    assert decrypt(encrypted(app, token, waiting), old_private)["reference"] == waiting


def test_replace_key_replaces_it_and_reminds_of_the_old_private_key(
        app: Flask, office_cli: OfficeCli, tmp_path: Path) -> None:
    old_private, old_public = key_files(tmp_path / "alt")
    first = office_cli("--public-key", old_public, "--webhook", HOOK)
    assert first.token
    old_kid = json.loads(old_public.read_text(encoding="utf-8"))["kid"]
    citizen = new_citizen(app)
    waiting = [citizen_sends(citizen), citizen_sends(citizen)]

    new_private, new_public = key_files(tmp_path / "neu")
    new_kid = json.loads(new_public.read_text(encoding="utf-8"))["kid"]
    done = office_cli("--public-key", new_public, "--replace-key")
    assert done.code == 0, done
    lines = done.out.splitlines()
    assert lines[:4] == [
        "Stelle stadt/buergeramt registriert.",
        f"Key replaced: kid {old_kid} → kid {new_kid}.",
        'Still waiting under the old key: 2 application(s) with status "new", 0 citizen message(s) not fetched.',
        f"They can be read only with the old private key (kid {old_kid}): the office keeps it until they are fetched.",
    ]
    assert done.token and "The old token no longer works." in lines
    assert f"Webhook unchanged ({HOOK})." in lines and done.secret is None

    row = stored(app)
    assert row.public_jwk["kid"] == new_kid and row.public_jwk["n"] == new_private["n"]
    assert row.webhook_secret == first.secret
    assert answers_with(app, first.token) == 401 and answers_with(app, done.token) == 200
    # What waited stays for the old key; what comes now is for the new one.
    for reference in waiting:
        jwe = encrypted(app, done.token, reference)
        assert kid_in_header(jwe) == old_kid and decrypt(jwe, old_private)["reference"] == reference
    later = citizen_sends(citizen)
    assert decrypt(encrypted(app, done.token, later), new_private)["reference"] == later

    # The key registered now, given again: kept, nothing to replace.
    same = office_cli("--public-key", new_public, "--replace-key")
    assert same.code == 0 and f"Key unchanged (kid {new_kid})." in same.out.splitlines()


# ---------------------------------------------------------------- token and webhook alone


def test_new_token_changes_only_the_token(app: Flask, office_cli: OfficeCli, tmp_path: Path) -> None:
    _private, public = key_files(tmp_path / "amt")
    first = office_cli("--public-key", public, "--webhook", HOOK)
    assert first.token
    before = stored(app)

    done = office_cli("--new-token")
    assert done.code == 0, done
    kid = before.public_jwk["kid"]
    assert done.out.splitlines() == [
        "Office stadt/buergeramt updated.",
        f"Key unchanged (kid {kid}).",
        f"API-Token (wird nur jetzt angezeigt): {done.token}",
        "The old token no longer works.",
        f"Webhook unchanged ({HOOK}).",
    ]
    after = stored(app)
    assert after.public_jwk == before.public_jwk
    assert (after.webhook_url, after.webhook_secret) == (HOOK, first.secret)
    assert done.token and answers_with(app, first.token) == 401 and answers_with(app, done.token) == 200


def test_webhook_and_no_webhook_change_only_the_webhook(app: Flask, office_cli: OfficeCli, tmp_path: Path) -> None:
    _private, public = key_files(tmp_path / "amt")
    first = office_cli("--public-key", public)
    assert first.token and first.secret is None
    kid = stored(app).public_jwk["kid"]

    done = office_cli("--webhook", HOOK)
    assert done.code == 0, done
    assert done.out.splitlines() == [
        "Office stadt/buergeramt updated.",
        f"Key unchanged (kid {kid}).",
        "Token unchanged.",
        f"Webhook set: {HOOK}",
        f"Webhook-Geheimnis (Signatur X-Buergerportal-Signature): {done.secret}",
    ]
    row = stored(app)
    assert (row.webhook_url, row.webhook_secret) == (HOOK, done.secret) and done.secret
    assert row.token_hash == token_hash(first.token) and answers_with(app, first.token) == 200

    # The same address again: the secret stays, none is printed.
    same = office_cli("--webhook", HOOK)
    assert same.code == 0 and f"Webhook unchanged ({HOOK})." in same.out.splitlines() and same.secret is None
    assert stored(app).webhook_secret == done.secret

    # Another address: a new secret.
    other = office_cli("--webhook", HOOK + "/v2")
    assert other.code == 0 and other.secret and other.secret != done.secret
    assert (stored(app).webhook_url, stored(app).webhook_secret) == (HOOK + "/v2", other.secret)

    # Only https (or the local machine), as for a new office; nothing changed.
    plain = office_cli("--webhook", "http://fachverfahren.example/eingang")
    assert plain.code == 1 and "--webhook braucht eine https://-Adresse" in plain.err
    assert stored(app).webhook_url == HOOK + "/v2"

    removed = office_cli("--no-webhook")
    assert removed.code == 0, removed
    assert "Webhook removed." in removed.out.splitlines() and removed.secret is None and removed.token is None
    row = stored(app)
    assert (row.webhook_url, row.webhook_secret) == (None, None)
    assert row.public_jwk["kid"] == kid and answers_with(app, first.token) == 200
    again = office_cli("--no-webhook")
    assert again.code == 0 and "Webhook unchanged (none)." in again.out.splitlines()


def test_without_options_an_office_is_shown_and_left_alone(app: Flask, office_cli: OfficeCli, tmp_path: Path) -> None:
    _private, public = key_files(tmp_path / "amt")
    first = office_cli("--public-key", public)
    assert first.token
    citizen_sends(new_citizen(app))
    before = stored(app)

    done = office_cli()
    assert done.code == 0, done
    kid = before.public_jwk["kid"]
    assert done.out.splitlines() == [
        "Office stadt/buergeramt: nothing changed (options: --public-key, --new-token, --webhook, --no-webhook).",
        f"Key unchanged (kid {kid}).",
        'Waiting under this key: 1 application(s) with status "new", 0 citizen message(s) not fetched.',
        "Token unchanged.",
        "Webhook unchanged (none).",
    ]
    after = stored(app)
    assert (after.public_jwk, after.token_hash, after.webhook_url) == (before.public_jwk, before.token_hash, None)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_refusal_ends_the_real_process_with_exit_1(
        app: Flask, office_cli: OfficeCli, portal_env: dict[str, str], tmp_path: Path) -> None:
    _private, public = key_files(tmp_path / "alt")
    token = office_cli("--public-key", public).token
    assert token
    _other, other = key_files(tmp_path / "neu")
    done = subprocess.run([sys.executable, ROOT / "build.py", "office", "stadt", "buergeramt", "--public-key", other],
                          env={**os.environ, **portal_env, "PYTHONPATH": str(ROOT)}, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done
    assert "is registered with a different key" in done.stderr and "--replace-key" in done.stderr
    assert "Traceback" not in done.stderr and "API-Token" not in done.stdout
    assert answers_with(app, token) == 200


# ---------------------------------------------------------------- build.py serve: local offices


RECIPIENTS = {"stadt": ["buergeramt"]}


def local_files(folder: Path) -> tuple[dict[str, Any], dict[str, Any], str]:
    target = folder / "stadt" / "buergeramt"
    return (json.loads((target / "private.jwk").read_text(encoding="utf-8")),
            json.loads((target / "public.jwk").read_text(encoding="utf-8")),
            (target / "token").read_text(encoding="utf-8").strip())


def works_locally(app: Flask, folder: Path) -> tuple[dict[str, Any], str]:
    """The files fit the database: the token answers, the registered key is the file's."""
    private, public, token = local_files(folder)
    assert answers_with(app, token) == 200
    registered = stored(app).public_jwk
    assert registered["n"] == public["n"] == private["n"] and registered["kid"] == public["kid"]
    return private, token


def test_serve_gives_a_new_token_when_the_database_no_longer_knows_it(app: Flask, tmp_path: Path) -> None:
    folder = tmp_path / "var" / "offices"
    assert provision_local_offices(app, folder, RECIPIENTS) == [folder / "stadt" / "buergeramt"]
    private, token = works_locally(app, folder)
    assert provision_local_offices(app, folder, RECIPIENTS) == []  # nothing stale: nothing written
    assert local_files(folder)[2] == token

    # The database was reset: the office is registered again with the same key files, a new token.
    with app.app_context():
        for row in db().scalars(select(Office)):
            db().delete(row)
        db().commit()
    assert provision_local_offices(app, folder, RECIPIENTS) == [folder / "stadt" / "buergeramt"]
    again_private, again_token = works_locally(app, folder)
    assert again_private == private and again_token != token


def test_serve_gives_a_new_token_when_the_office_got_one_elsewhere(
        app: Flask, office_cli: OfficeCli, tmp_path: Path) -> None:
    folder = Path(app.config["PORTAL"].var_dir) / "offices"
    _local_offices(app, app.config["PORTAL"].output_dir)
    private, token = works_locally(app, folder)
    fresh = office_cli("--new-token").token
    assert fresh and answers_with(app, token) == 401

    _local_offices(app, app.config["PORTAL"].output_dir)
    again_private, again_token = works_locally(app, folder)
    assert again_private == private and again_token not in (token, fresh)
    assert answers_with(app, fresh) == 401


def test_serve_makes_a_new_key_pair_when_the_files_do_not_fit_the_registered_key(
        app: Flask, office_cli: OfficeCli, tmp_path: Path) -> None:
    folder = tmp_path / "var" / "offices"
    provision_local_offices(app, folder, RECIPIENTS)
    private, token = works_locally(app, folder)

    # Re-registered with another key (by hand, --replace-key): the local files fit no more.
    _other, other = key_files(tmp_path / "anderer")
    assert office_cli("--public-key", other, "--replace-key").code == 0
    assert provision_local_offices(app, folder, RECIPIENTS) == [folder / "stadt" / "buergeramt"]
    new_private, new_token = works_locally(app, folder)
    assert new_private["n"] != private["n"] and new_token != token

    # The key files gone (the token still right): a new pair, registered.
    (folder / "stadt" / "buergeramt" / "private.jwk").unlink()
    assert provision_local_offices(app, folder, RECIPIENTS) == [folder / "stadt" / "buergeramt"]
    third_private, _third_token = works_locally(app, folder)
    assert third_private["n"] != new_private["n"]


def test_serve_never_provisions_in_production(app: Flask, tmp_path: Path) -> None:
    folder = tmp_path / "var" / "offices"
    app.config["PORTAL"] = dataclasses.replace(app.config["PORTAL"], env="production")
    assert provision_local_offices(app, folder, RECIPIENTS) == []
    assert not folder.exists()
    with app.app_context():
        assert db().scalar(select(Office)) is None
