"""Publish the content schema as JSON Schema files, one per kind of YAML file, and each
form's application schema (the published snapshot the content check compares against)."""

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
    "best-bets": "content/search/best-bets.yaml",
    "form": "content/forms/*.yaml",
    "portal": "content/portal.yaml",
}


def schema_documents() -> dict[str, str]:
    """File name → JSON text of every published schema."""
    documents = {}
    for kind, schema in json_schemas().items():
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"{kind}.schema.json", **schema}
        documents[f"{kind}.schema.json"] = json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    return documents


def write_schemas(folder: Path, content_dir: Path | None = None) -> list[Path]:
    """The editors' schemas, and the application schema of each form at its current version
    (folder/forms/<form-id>.v<version>.json, the published snapshot; older versions stay).
    The forms come from content_dir (default: content/ beside folder), checked first, so an
    incompatible change to a published version is refused (ContentError) and never written."""
    from katalog.formschema import write_snapshots

    from .pipeline import check

    content_dir = content_dir if content_dir is not None else folder.parent / "content"
    forms = {}
    if content_dir.is_dir():
        valid = check(content_dir)
        forms = {fid: {**form.model_dump(mode="json", exclude_none=True), "id": fid}
                 for fid, form in valid.forms.items()}
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in schema_documents().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written + write_snapshots(forms, folder.joinpath("forms"))
