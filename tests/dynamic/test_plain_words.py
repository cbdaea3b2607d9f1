"""What citizens read is plain German: no "JSON", "Feed", "Basisregistrierung" or "Vertrauensniveau
basis/niedrig", on any built page of the four sites and on the app's citizen pages. Staff pages
(verwaltung/) may keep the technical words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from tests.dynamic.test_profile import logged_in_browser

JARGON = re.compile(r"\bJSON\b|\bFeeds?\b|Basisregistrierung|Vertrauensniveau „?(basis|niedrig)\b", re.IGNORECASE)


def visible_text(html: str) -> str:
    """The text a reader sees: without head, scripts, styles and tags."""
    html = re.sub(r"<(head|script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def jargon_in(html: str) -> list[str]:
    text = visible_text(html)
    return [text[max(0, m.start() - 40):m.end() + 40] for m in JARGON.finditer(text)]


def test_the_scan_finds_the_words_it_looks_for() -> None:
    assert jargon_in("<main><p>Alle meine Daten herunterladen (JSON)</p></main>")
    assert jargon_in("<p>Aktuelles als Feed</p>") and jargon_in("<p>Vertrauensniveau „basis“</p>")
    assert not jargon_in('<head><link title="Feed"></head><p>Feedback</p><script>JSON.parse()</script>')


@pytest.mark.parametrize("slug", ["muenster", "hamm", "kreis-coesfeld", "kreis-warendorf"])
def test_no_built_page_speaks_jargon(real_output: Path, slug: str) -> None:
    # The open-data page speaks to people who reuse the data: they need the formats' names.
    found = {str(path.relative_to(real_output)): hits for path in sorted((real_output / slug).rglob("*.html"))
             if "offene-daten" not in path.parts and (hits := jargon_in(path.read_text(encoding="utf-8")))}
    assert found == {}


CITIZEN_PAGES = ["/konto/", "/konto/daten", "/konto/loeschen", "/postfach/", "/konto/anmelden?stufe=hoch",
                 "/stadt/termine/", "/stadt/termine/personalausweis-beantragen/", "/stadt/antrag/meldebescheinigung/",
                 "/stadt/leistungen/fahrzeug-zulassen/"]


@pytest.mark.parametrize("level", ["basis", "hoch"])
def test_no_dynamic_citizen_page_speaks_jargon(app: Flask, level: str) -> None:
    browser, _account = logged_in_browser(app, level=level)
    found, statuses = {}, {}
    for url in CITIZEN_PAGES:
        response = browser.client.get(url)
        statuses[url] = response.status_code
        if hits := jargon_in(response.get_data(as_text=True)):
            found[url] = hits
    assert found == {}
    # Every page was read (logged in at "hoch", the login page sends the citizen on).
    assert [url for url, status in statuses.items() if status != 200] in ([], ["/konto/anmelden?stufe=hoch"])
    konto = browser.client.get("/konto/").get_data(as_text=True)
    assert "Alle meine Daten herunterladen (maschinenlesbare Datei)" in visible_text(konto)
    label = {"basis": "Konto mit E-Mail-Adresse", "hoch": "Online-Ausweis"}[level]
    assert f"Vertrauensniveau {label}" in visible_text(konto)

