"""The production way: `build.py migrate`, then gunicorn with several workers on PostgreSQL."""

from __future__ import annotations

import email
import email.policy
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from dynamic import create_app
from dynamic.platform.config import settings_from_env
from dynamic.platform.outbox import process_outbox
from tests.dynamic.conftest import fresh_postgres_database
from tests.dynamic.gunicorn_server import gunicorn
from tests.dynamic.test_serve import _csrf

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def postgres_database() -> Iterator[str]:
    with fresh_postgres_database("portal_prod") as url:
        yield url


def test_gunicorn_refuses_an_unmigrated_database_then_serves_after_migrate(
        postgres_database: str, fixture_output: Path, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": postgres_database, "PORTAL_OUTPUT_DIR": str(fixture_output),
           "PORTAL_VAR_DIR": str(tmp_path / "var"), "SECRET_KEY": "s" * 40}
    refused = subprocess.run([sys.executable, "-c", "import dynamic.wsgi"], env=env, capture_output=True, text=True,
                             cwd=ROOT, timeout=60)
    assert refused.returncode != 0
    assert "has no tables yet. Run `python build.py migrate`" in refused.stderr

    migrated = subprocess.run([sys.executable, "build.py", "migrate"], env=env, capture_output=True, text=True,
                              cwd=ROOT, timeout=60)
    assert migrated.returncode == 0, migrated.stderr
    assert "database migrated: postgresql+psycopg://" in migrated.stdout

    with gunicorn(env, workers=2, threads=1) as url:
        response = requests.get(url + "/healthz", timeout=10)
        assert response.status_code == 200 and response.json() == {"status": "ok", "database": "ok"}
        # Several workers share logins through the database: a login made in one worker holds in all.
        citizen = requests.Session()
        form = citizen.get(url + "/konto/registrieren?kommune=stadt", timeout=5)
        password = "Hafenkran Pusteblume Ofen"
        citizen.post(url + "/konto/registrieren", timeout=5, data={
            "csrf_token": _csrf(form.text), "email": "gunicorn.test@example.org", "passwort": password,
            "datenschutz": "ja"})
        app = create_app(settings_from_env(env))
        assert process_outbox(app) == 1
        app.extensions["db_engine"].dispose()
        [mail] = list((tmp_path / "var" / "mail").glob("*.eml"))
        body = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default).get_content()  # type: ignore[union-attr]
        link = re.search(r"(/konto/bestaetigen/\S+)", body).group(1)  # type: ignore[union-attr]
        confirmed = citizen.get(url + link, timeout=5)  # the browser that registered: the link is enough
        assert confirmed.url.endswith("/konto/?hinweis=bestaetigt")
        pages = [citizen.get(url + "/konto/", timeout=5, allow_redirects=False) for _ in range(8)]
        assert [p.status_code for p in pages] == [200] * 8
        assert all("<h1>Mein Konto</h1>" in p.text for p in pages)
