"""The built knowledge base as the dynamic tier sees it: each municipality's katalog.json.

The dynamic tier never reads the YAML (ARCHITECTURE.md); a deployed build reaches it
through the output folder, read into the typed models of `katalog` once per change of the file.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import abort

import katalog as contract
from katalog.models import Katalog, Municipality, Recipient, Unit

from . import config

# What a municipality's folder name can be; anything else (a NUL byte, 300 umlauts, a dot) is
# not looked up on the disk at all.
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,59}")


def plausible_slug(slug: str) -> bool:
    return SLUG.fullmatch(slug) is not None


@lru_cache(maxsize=16)
def _read(path: Path, mtime: float) -> Katalog:
    return contract.read(path)


def _path(slug: str, output: Path | None) -> Path | None:
    if not plausible_slug(slug):
        return None
    root = output if output is not None else config.output_dir()
    return Path(root) / slug / contract.FILE_NAME


def katalog(slug: str, output: Path | None = None) -> Katalog | None:
    """slug's katalog.json, or None for an unknown municipality."""
    path = _path(slug, output)
    if path is None:
        return None
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    return _read(path, mtime)


def grammar_of(entry: Municipality | Unit | Recipient) -> dict[str, Any]:
    """The name and declension of a municipality, unit or recipient, as `forms_of` reads them."""
    return {"name": entry.name, "grammar": entry.grammar.model_dump() if entry.grammar is not None else None}


def katalog_or_404(slug: str) -> Katalog:
    found = katalog(slug)
    if found is None:
        abort(404)
    return found
