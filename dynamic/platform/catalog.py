"""The built knowledge base as the dynamic tier sees it: each municipality's katalog.json.

The dynamic tier never reads the YAML (ARCHITECTURE.md); a deployed build reaches it
through the output folder, re-read when the file changes.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import abort

from . import config

# What a municipality's folder name can be; anything else (a NUL byte, 300 umlauts, a dot) is
# not looked up on the disk at all.
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,59}")


def plausible_slug(slug: str) -> bool:
    return SLUG.fullmatch(slug) is not None


@lru_cache(maxsize=16)
def _read(path: Path, mtime: float) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def katalog(slug: str, output: Path | None = None) -> dict[str, Any] | None:
    """slug's katalog.json, or None for an unknown municipality."""
    if not plausible_slug(slug):
        return None
    root = output if output is not None else config.output_dir()
    path = Path(root) / slug / "katalog.json"
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    return _read(path, mtime)


def katalog_or_404(slug: str) -> dict[str, Any]:
    found = katalog(slug)
    if found is None:
        abort(404)
    return found
