"""A fifth municipality needs content only: a folder with its municipality.yaml, a unit, a
location and its page in Leichte Sprache gives a fifth site with search, katalog.json, a
bookable service and an online form, served by the same dynamic tier without code change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dynamic import create_app
from dynamic.platform.config import settings_from_env
from dynamic.serve import migrate_database
from generator.pipeline import build
from tests.conftest import REAL_CONTENT, TODAY

FIFTH = Path(__file__).resolve().parent / "fixtures" / "fifth" / "musterhausen"

pytestmark = pytest.mark.slow


def test_a_fifth_municipality_is_content_only(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(REAL_CONTENT, content)
    shutil.copytree(FIFTH, content / "municipalities" / "musterhausen")
    out = tmp_path / "output"
    [result] = build(content, out, only="musterhausen", today=TODAY, show_progress=False)
    assert result.slug == "musterhausen" and not result.warnings

    site = out / "musterhausen"
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "Stadt Musterhausen" in home
    dog_tax = (site / "leistungen" / "hundesteuer-anmelden" / "index.html").read_text(encoding="utf-8")
    assert 'href="/musterhausen/antrag/hundesteuer/"' in dog_tax and "Bürgerbüro" in dog_tax
    assert (site / "suche" / "meta.json").is_file()
    katalog = json.loads((site / "katalog.json").read_text(encoding="utf-8"))
    assert katalog["forms"]["hundesteuer"]["recipients"][0]["unit"] == "buergerbuero"
    assert katalog["services"]["personalausweis-beantragen"]["booking"]["locations"] == ["rathaus"]

    settings = {"output_dir": out, "var_dir": tmp_path / "var", "base_url": "http://localhost"}
    migrate_database(**settings)
    app = create_app(settings_from_env({}, **settings))
    try:
        client = app.test_client()
        assert "Stadt Musterhausen" in client.get("/musterhausen/").get_data(as_text=True)
        calendar = client.get("/musterhausen/termine/personalausweis-beantragen/rathaus/")
        assert calendar.status_code == 200 and "Rathaus Musterhausen" in calendar.get_data(as_text=True)
        form = client.get("/musterhausen/antrag/hundesteuer/")
        assert form.status_code == 303 and form.headers["Location"].startswith("/konto/anmelden?stufe=basis")
    finally:
        app.extensions["db_engine"].dispose()
