"""Publish the content schema as JSON Schema files, one per kind of YAML file."""

from __future__ import annotations

import json
from pathlib import Path

from .models import json_schemas

# Which files each schema describes, for editors' YAML tooling (yaml-language-server).
FILE_PATTERNS = {
    "service": "content/services/*.yaml",
    "life-situation": "content/life-situations/*.yaml",
    "municipality": "content/municipalities/*/municipality.yaml",
    "unit": "content/municipalities/*/units/*.yaml",
    "location": "content/municipalities/*/locations/*.yaml",
    "contact": "content/municipalities/*/contacts/*.yaml",
    "local-service": "content/municipalities/*/services/*.yaml",
    "everyday-words": "content/search/everyday-words.yaml",
    "form": "content/forms/*.yaml",
}


def schema_documents() -> dict[str, str]:
    """File name → JSON text of every published schema."""
    documents = {}
    for kind, schema in json_schemas().items():
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"{kind}.schema.json", **schema}
        documents[f"{kind}.schema.json"] = json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    return documents


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in schema_documents().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
