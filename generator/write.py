"""The only code that writes site files.

It refuses to write one path twice (naming both sources), and it is incremental: a page
whose fingerprint equals the one recorded by the previous build is not rendered again;
the previous file is linked into the new output instead, so it keeps its inode and mtime.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .errors import BuildError

MANIFEST = ".build-manifest.json"


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, Path)):
        return str(value)
    return value


def fingerprint(*parts: Any) -> str:
    """A stable hash of plain data, models and dataclasses."""
    text = json.dumps(_plain(list(parts)), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def read_manifest(site_dir: Path) -> dict[str, str]:
    try:
        return json.loads((site_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


class SiteWriter:
    def __init__(self, out_dir: Path, previous_dir: Path | None):
        self.out_dir = out_dir
        self.previous_dir = previous_dir
        self.previous = read_manifest(previous_dir) if previous_dir else {}
        self.manifest: dict[str, str] = {}
        self.sources: dict[str, str] = {}
        self.rendered = 0
        self.reused = 0

    def claim(self, path: str, source: str) -> None:
        """Record that path is written by source; a second claim is a build error."""
        if path in self.sources:
            raise BuildError(f"two sources write {path}: {self.sources[path]} and {source}")
        self.sources[path] = source

    def write(self, path: str, source: str, print_: str, render: Callable[[], str | bytes]) -> None:
        self.claim(path, source)
        self.manifest[path] = print_
        target = self.out_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if self._reuse(path, print_, target):
            self.reused += 1
            return
        data = render()
        target.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        self.rendered += 1

    def _reuse(self, path: str, print_: str, target: Path) -> bool:
        if self.previous_dir is None or self.previous.get(path) != print_:
            return False
        try:
            os.link(self.previous_dir / path, target)
        except OSError:
            return False
        return True

    def save_manifest(self) -> None:
        (self.out_dir / MANIFEST).write_text(json.dumps(self.manifest, sort_keys=True), encoding="utf-8")
