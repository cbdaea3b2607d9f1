"""katalog.json, the contract between the build (`generator`) and the app (`dynamic`).

No Flask, Pelican or YAML here: the models (`katalog.models`, with `katalog.base` and
`katalog.forms`), reading and writing the file, and the JSON Schema of a form's data
(`katalog.formschema`).
"""

from __future__ import annotations

import json
from pathlib import Path

from .models import VERSION, Katalog

FILE_NAME = "katalog.json"


def parse(text: str | bytes) -> Katalog:
    """A katalog.json's text as a Katalog."""
    return Katalog.model_validate_json(text)


def read(path: Path) -> Katalog:
    return parse(path.read_bytes())


def dump(katalog: Katalog) -> str:
    """The file's text: compact JSON, UTF-8 as it is, one line."""
    return json.dumps(katalog.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":")) + "\n"


__all__ = ["FILE_NAME", "VERSION", "Katalog", "dump", "parse", "read"]
