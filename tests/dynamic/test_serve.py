"""`build.py serve` builds the sites and serves them on one local port."""

from __future__ import annotations

import email
import email.policy
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.site import readable

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(content: Path, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """build.py serve on `content`, until it answers; its output is readable after the end."""
    port = free_port()
    process = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "serve", "--port", str(port),
                                "--content", str(content), "--out", str(tmp_path / "out")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "PORTAL_VAR_DIR": str(tmp_path / "var"), "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(1200):  # the first build takes a while on a busy machine
            try:
                requests.get(url, timeout=1)
                break
            except requests.ConnectionError:
                if process.poll() is not None:
                    pytest.fail(process.stdout.read() if process.stdout else "serve exited")
                time.sleep(0.1)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def served(content: Path, tmp_path: Path) -> Iterator[str]:
    """build.py serve on a copy of the fixture content; the test may edit that copy."""
    with serving(content, tmp_path) as (url, _):
        yield url


def test_the_start_banner_names_the_development_identity_provider_and_it_answers(content: Path,
                                                                                 tmp_path: Path) -> None:
    with serving(content, tmp_path) as (url, process):
        page = requests.get(f"{url}/dev-idp/", timeout=5)
    assert process.stdout is not None
    banner = process.stdout.read()
    assert f"Entwicklungs-Identitätsanbieter: {url}/dev-idp/  (nur für Tests, nie in Produktion)" in banner
    assert page.status_code == 200
    text = readable.visible_text(page.text)
    assert text.startswith("Entwicklungs-Identitätsanbieter Nur für Entwicklung und Tests.")
    assert "Testpersonen Alle Personen sind erfunden." in text and "Erika Mustermann, Münster" in text
    assert "Online-Ausweis (eID) hoch" in text
    assert readable.problems(page.text) == []


def test_root_lists_every_municipality(served: str) -> None:
    response = requests.get(served + "/", timeout=5)
    assert response.status_code == 200
    assert 'href="/stadt/"' in response.text and 'href="/kreis/"' in response.text


def test_site_pages_are_served_with_security_headers(served: str) -> None:
    response = requests.get(served + "/stadt/leistungen/kindergeld/", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<h1>Kindergeld beantragen</h1>" in response.text
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_missing_page_gets_the_municipalitys_404_page(served: str) -> None:
    response = requests.get(served + "/stadt/leistungen/gibt-es-nicht/", timeout=5)
    assert response.status_code == 404
    assert "<h1>Seite nicht gefunden</h1>" in response.text
    assert "Stadt Beispielstadt" in response.text


def test_folder_without_slash_redirects(served: str) -> None:
    response = requests.get(served + "/stadt/a-z", timeout=5, allow_redirects=False)
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/stadt/a-z/")


def test_hidden_build_files_are_not_served(served: str) -> None:
    assert requests.get(served + "/stadt/.build-manifest.json", timeout=5).status_code == 404


def test_edited_content_is_served_after_an_automatic_rebuild(served: str, content: Path) -> None:
    path = content / "services" / "kindergeld.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("name: Kindergeld beantragen", "name: Kindergeld erhalten"),
                    encoding="utf-8")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if "<h1>Kindergeld erhalten</h1>" in requests.get(served + "/stadt/leistungen/kindergeld/", timeout=5).text:
            return
        time.sleep(0.2)
    pytest.fail("the change did not reach the served site within 15 seconds")


def test_a_broken_edit_keeps_serving_the_last_good_site(served: str, content: Path) -> None:
    (content / "services" / "kindergeld.yaml").write_text("name: [kaputt\n", encoding="utf-8")
    time.sleep(2)
    response = requests.get(served + "/stadt/leistungen/kindergeld/", timeout=5)
    assert response.status_code == 200 and "<h1>Kindergeld beantragen</h1>" in response.text


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def test_one_port_serves_sites_accounts_and_mail_into_var(served: str, tmp_path: Path) -> None:
    """`build.py serve` migrates the embedded database, runs the outbox worker and writes
    mail into var/mail: a whole registration works against the running server."""
    assert requests.get(served + "/healthz", timeout=5).json() == {"status": "ok", "database": "ok"}
    citizen = requests.Session()
    form = citizen.get(served + "/konto/registrieren?kommune=stadt", timeout=5)
    assert "Stadt Beispielstadt" in form.text  # the account pages wear the municipality's look
    password = "Apfelbaum Laterne Wolke"
    citizen.post(served + "/konto/registrieren", timeout=5, data={
        "csrf_token": _csrf(form.text), "email": "sam.beispiel@example.org", "passwort": password,
        "datenschutz": "ja"})
    mail_dir = tmp_path / "var" / "mail"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not list(mail_dir.glob("*.eml")):
        time.sleep(0.2)
    [mail] = list(mail_dir.glob("*.eml"))
    message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
    assert message["To"] == "sam.beispiel@example.org"
    link = re.search(r"(/konto/bestaetigen/\S+)", message.get_content()).group(1)  # type: ignore[union-attr]
    done = citizen.get(served + link, timeout=5)  # the browser that registered: the link is enough
    assert done.url.endswith("/konto/?hinweis=bestaetigt")
    assert "<h1>Mein Konto</h1>" in done.text
