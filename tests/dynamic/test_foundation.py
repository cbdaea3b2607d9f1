"""The dynamic tier's foundation: migrations, health, security headers, CSRF, logs."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from dynamic import create_app
from dynamic.platform.config import ConfigError
from dynamic.platform.db import NotMigrated
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
    ({"fitconnect_client_id": "portal-sender"},
     "FITCONNECT_CLIENT_ID and FITCONNECT_CLIENT_SECRET must be set together"),
    ({"fitconnect_client_id": "portal-sender", "fitconnect_client_secret": "s" * 40},
     "FITCONNECT_TOKEN_URL, FITCONNECT_SUBMISSION_URL and FITCONNECT_ROUTING_URL must name FIT-Connect's "
     "production endpoints in production; these are FITKO's test environment"),
    ({"fitconnect_client_id": "portal-sender", "fitconnect_client_secret": "s" * 40,
      "fitconnect_token_url": "http://auth.example/token", "fitconnect_submission_url": "https://submission.example",
      "fitconnect_routing_url": "https://routing.example"},
     "FITCONNECT_TOKEN_URL must be an https:// address in production"),
])
def test_production_refuses_unsafe_settings(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_settings(env="production", **overrides)


def _production_files(app: Flask, tmp_path: Path) -> dict[str, object]:
    """What an operator gets from the state IdP (its metadata) and makes for the portal (key, certificate)."""
    from dynamic.saml.dev_idp import idp_metadata_xml
    from dynamic.saml.keys import self_signed

    metadata = tmp_path / "idp-metadata.xml"
    metadata.write_text(idp_metadata_xml(app), encoding="utf-8")
    key, cert = self_signed("portal.example")
    (tmp_path / "sp.key").write_bytes(key)
    (tmp_path / "sp.crt").write_bytes(cert)
    return {"env": "production", "dev_idp": False, "base_url": "https://portal.example", "secret_key": "p" * 40,
            "saml_idp_metadata": str(metadata), "saml_sp_key": str(tmp_path / "sp.key"),
            "saml_sp_cert": str(tmp_path / "sp.crt")}


def test_production_starts_with_its_files_and_has_no_development_idp(
        app: Flask, app_settings: dict[str, object], tmp_path: Path) -> None:
    production = create_app(make_settings(**{**app_settings, **_production_files(app, tmp_path)}))
    client = production.test_client()
    assert client.get("/dev-idp/metadata", base_url="https://portal.example").status_code == 404
    metadata = client.get("/saml/metadata", base_url="https://portal.example")
    assert metadata.status_code == 200
    assert b'entityID="https://portal.example/saml/metadata"' in metadata.data
    production.extensions["db_engine"].dispose()


def test_production_refuses_to_start_with_broken_identity_provider_metadata(
        app: Flask, app_settings: dict[str, object], tmp_path: Path) -> None:
    files = _production_files(app, tmp_path)
    Path(str(files["saml_idp_metadata"])).write_text("<kaputt/>", encoding="utf-8")
    with pytest.raises(ConfigError, match="SAML_IDP_METADATA"):
        create_app(make_settings(**{**app_settings, **files}))


def test_healthz_live_answers_without_the_database(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(*_args: object) -> bool:
        raise AssertionError("liveness must not touch the database")

    monkeypatch.setattr("dynamic.platform.health.reachable", unreachable)
    response = app.test_client().get("/healthz/live")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
