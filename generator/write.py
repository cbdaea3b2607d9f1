"""The only code that writes the knowledge-base pages of a site.

A site lives in two folders that take turns (double buffering): the live one, which the
symlink `<out>/<slug>` points to, and the staging one, which the next build brings up to
date and then swaps in by replacing the symlink atomically. Each folder records in its
manifest the fingerprint of every page it holds, so a build renders only pages whose
inputs changed; a page that the live folder already holds in that version is linked,
not rendered. Files are always replaced (never written in place), so a file shared by
both folders through a hard link is never changed under the live site.

The writer also refuses to write one path twice, naming both sources.

The portal's root folder has no second folder: it is written in place (`shared`), holds
the sites besides the writer's own files, and is served while it is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .errors import BuildError

MANIFEST = ".build-manifest.json"
DATES = ".page-dates.json"  # path → [fingerprint, the day a build first wrote it so]: the sitemap's lastmod
OTHERS = "//others"  # manifest key: files written besides pages (Pelican's, static files)


def digest(*parts: object) -> str:
    """A short stable hash of strings and numbers."""
    return hashlib.sha1("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()


def read_manifest(site_dir: Path | None) -> tuple[dict[str, str], list[str]]:
    """The page fingerprints and the other files that a site folder holds."""
    data = read_json(site_dir, MANIFEST)
    others = data.pop(OTHERS, [])
    return data, others


def site_folders(out_root: Path, slug: str) -> tuple[Path | None, Path]:
    """The live folder (None before the first build) and the staging folder of a site."""
    link = out_root / slug
    first, second = out_root / f".{slug}.a", out_root / f".{slug}.b"
    if link.is_symlink():
        live = (out_root / os.readlink(link)).resolve()
        return live, (second if live == first.resolve() else first)
    if link.is_dir():  # a plain folder from elsewhere: adopt it as the live buffer
        shutil.rmtree(first, ignore_errors=True)
        link.rename(first)
        link.symlink_to(first.name)
        return first.resolve(), second
    return None, first


def swap(link: Path, target: Path) -> None:
    """Atomically make link point to target (a sibling folder)."""
    temporary = link.with_name(f".{link.name}.link")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target.name)
    os.replace(temporary, link)


def read_json(site_dir: Path | None, name: str) -> dict[str, Any]:
    """A bookkeeping file of a site folder (an object); empty when there is none or it is unreadable."""
    if site_dir is None:
        return {}
    try:
        data = json.loads((site_dir / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class SiteWriter:
    def __init__(self, staging: Path, live: Path | None, shared: bool = False):
        """shared: the folder is served while it is written and holds more than this
        writer's files, so every file appears whole and only files this writer wrote
        before are ever removed."""
        self.out_dir = staging
        self.live = live
        self.shared = shared
        self.live_manifest, _ = read_manifest(live)
        self.staged_manifest, self.staged_others = read_manifest(staging)
        self.known_dates = {**read_json(staging, DATES), **read_json(live, DATES)}  # the live folder is the newer
        self.dates: dict[str, list[str]] = {}
        self.others: list[str] = []
        # From here on the staging folder is being changed: its manifest no longer holds.
        (staging / MANIFEST).unlink(missing_ok=True)
        self.manifest: dict[str, str] = {}
        self.sources: dict[str, str] = {}
        self.rendered = 0
        self.reused = 0
        self._folders: set[Path] = set()

    def claim(self, path: str, source: str) -> None:
        """Record that path is written by source; a second claim is a build error."""
        if path in self.sources:
            raise BuildError(f"two sources write {path}: {self.sources[path]} and {source}")
        self.sources[path] = source

    def write(self, path: str, source: str, print_: str, render: Callable[[], str | bytes]) -> None:
        self.claim(path, source)
        self.manifest[path] = print_
        target = self.out_dir / path
        exists = os.path.lexists(target)
        if exists and self.staged_manifest.get(path) == print_:
            self.reused += 1
            return
        if not exists:
            self._make_folder(target.parent)
        if self.live is not None and self.live_manifest.get(path) == print_ and self._link(path, target, exists):
            self.reused += 1
            return
        data = render()
        self._put(target, data.encode("utf-8") if isinstance(data, str) else data, exists)
        self.rendered += 1

    def write_other(self, path: str, source: str, data: bytes) -> None:
        """A file without a fingerprint (it changes with every build, as a feed that carries
        its time of writing does): claimed, always written, listed among the other files."""
        self.claim(path, source)
        target = self.out_dir / path
        exists = os.path.lexists(target)
        if not exists:
            self._make_folder(target.parent)
        self._put(target, data, exists)
        self.others.append(path)

    def changed_on(self, path: str, today: dt.date) -> str:
        """The day the file at path last changed (ISO): kept from an earlier build while its
        fingerprint is the same, else today. Recorded for the next build."""
        print_ = self.manifest.get(path, "")
        known = self.known_dates.get(path)
        day = known[1] if known and known[0] == print_ else today.isoformat()
        self.dates[path] = [print_, day]
        return day

    def previous_prints(self, prefixes: tuple[str, ...], marker: str, print_: str) -> dict[str, str] | None:
        """The files that start with prefixes, with their fingerprints, from the live or
        staging folder whose marker file was written with print_ (so all of them can be
        reused); else None."""
        for manifest in (self.staged_manifest, self.live_manifest):
            if manifest.get(marker) == print_:
                return {path: value for path, value in manifest.items() if path.startswith(prefixes)}
        return None

    def _make_folder(self, folder: Path) -> None:
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)

    def _link(self, path: str, target: Path, exists: bool) -> bool:
        """Share the live folder's file; False if that is impossible (gone, other device)."""
        try:
            if not exists:
                os.link(self.live / path, target)  # type: ignore[operator]
                return True
            temporary = target.with_name(f".{target.name}.tmp")
            temporary.unlink(missing_ok=True)
            os.link(self.live / path, temporary)  # type: ignore[operator]
            os.replace(temporary, target)
            return True
        except OSError:
            return False

    def _put(self, target: Path, data: bytes, exists: bool) -> None:
        # An existing file may be a hard link shared with the live folder: replace it,
        # never write into it.
        if not exists and not self.shared:
            target.write_bytes(data)
            return
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, target)

    def remove_stale(self, others: Iterable[str]) -> int:
        """Delete what the staging folder held last time but this build did not write
        (a removed service, a deleted news article). others: files written besides pages.

        Without a manifest (the folder's last build failed) every file is looked at, but
        in a shared folder none.
        """
        self.others = sorted(set(others) | set(self.others))
        wanted = set(self.manifest) | set(self.others) | {MANIFEST, DATES}
        if self.staged_manifest:
            before = set(self.staged_manifest) | set(self.staged_others)
            candidates = [path for path in before if path not in wanted]
        elif self.shared:
            candidates = []
        else:
            candidates = [
                str(p.relative_to(self.out_dir))
                for p in self.out_dir.rglob("*")
                if p.is_file() and str(p.relative_to(self.out_dir)) not in wanted
            ]
        for path in candidates:
            target = self.out_dir / path
            target.unlink(missing_ok=True)
            for folder in target.parents:
                if folder == self.out_dir or any(folder.iterdir()):
                    break
                folder.rmdir()
        return len(candidates)

    def save_manifest(self) -> None:
        data = {**self.manifest, OTHERS: self.others}
        if self.dates:
            (self.out_dir / DATES).write_text(json.dumps(self.dates, sort_keys=True), encoding="utf-8")
        (self.out_dir / MANIFEST).write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
