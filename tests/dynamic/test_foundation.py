"""The dynamic tier's foundation: migrations, health, security headers, CSRF, logs."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from dynamic import create_app
from dynamic.config import ConfigError
from dynamic.db import NotMigrated
from tests.dynamic.conftest import make_settings


def test_healthz_reports_a_reachable_database(app: Flask) -> None:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_app_refuses_an_unmigrated_database_and_names_the_fix(tmp_path: Path, fixture_output: Path) -> None:
    settings = make_settings(database_url=f"sqlite:///{tmp_path / 'empty.sqlite3'}", output_dir=fixture_output,
                             var_dir=tmp_path)
    with pytest.raises(NotMigrated) as raised:
        create_app(settings)
    assert "has no tables yet" in str(raised.value)
    assert "Run `python build.py migrate`" in str(raised.value)


@pytest.mark.parametrize(("overrides", "message"), [
    ({}, "SECRET_KEY must be set"),
    ({"secret_key": "k" * 40}, "DEV_IDP must be 0 in production"),
    ({"secret_key": "k" * 40, "dev_idp": False, "base_url": "http://portal.example"},
     "PORTAL_BASE_URL must be an https:// address in production"),
])
def test_production_refuses_unsafe_settings(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_settings(env="production", **overrides)
