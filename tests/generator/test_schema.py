"""The published JSON Schema matches the validator's models and catches the same mistakes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from generator.schema import FILE_PATTERNS, schema_documents

ROOT = Path(__file__).resolve().parent.parent.parent


def test_committed_schema_files_are_up_to_date() -> None:
    for name, text in schema_documents().items():
        path = ROOT / "schema" / name
        assert path.is_file() and path.read_text(encoding="utf-8") == text, f"run: python build.py schema ({name})"


def test_editor_settings_map_every_schema_to_its_files() -> None:
    settings = json.loads((ROOT / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    assert settings["yaml.schemas"] == {f"./schema/{k}.schema.json": v for k, v in FILE_PATTERNS.items()}


def test_schema_accepts_valid_and_rejects_misspelled_content(content: Path) -> None:
    schema = json.loads(schema_documents()["service.schema.json"])
    service = yaml.safe_load((content / "services" / "personalausweis-beantragen.yaml").read_text(encoding="utf-8"))
    jsonschema.validate(service, schema)
    service["synonym"] = service.pop("synonyms")
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(service))
    assert any("synonym" in e.message for e in errors)
