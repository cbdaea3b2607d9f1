"""Read content files into plain data, remembering the line of every value.

Nothing here checks meaning; that is the validator's job (generator/validation/). A syntax error becomes a
Problem with file and line instead of an exception.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem
from .messages import say

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Loc = tuple[str | int, ...]


_UNREAD: Any = object()


class Document:
    """One YAML file: its data and the line (1-based) of every key and item.

    A cached Document keeps only its path and digest; data and lines are read again from
    the file when something asks for them (after a change, or to place an error message).
    """

    def __init__(self, path: Path, rel: str, data: Any, lines: dict[Loc, int] | None = None, digest: str = ""):
        self.path, self.rel, self.digest = path, rel, digest
        self._data, self._lines = data, lines if lines is not None else {}

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "rel": self.rel, "digest": self.digest}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._data, self._lines = _UNREAD, _UNREAD

    def _read_again(self) -> None:
        doc, _ = parse_yaml(self.path.read_text(encoding="utf-8"), self.path, self.rel)
        self._data, self._lines = (doc._data, doc._lines) if doc else (None, {})

    @property
    def data(self) -> Any:
        if self._data is _UNREAD:
            self._read_again()
        return self._data

    @property
    def lines(self) -> dict[Loc, int]:
        if self._lines is _UNREAD:
            self._read_again()
        return self._lines

    @property
    def id(self) -> str:
        return self.path.stem

    def line_of(self, loc: Loc) -> int:
        """The line of the deepest known part of loc (the file's first line if none)."""
        lines = self.lines
        for end in range(len(loc), 0, -1):
            if loc[:end] in lines:
                return lines[loc[:end]]
        return 1


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int], rel: str, problems: list[Problem]) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(
                    Problem(rel, line, _dotted(loc + (key,)), say("doppelter-schluessel", zeile=seen[key]))
                )
                continue
            seen[key] = line
            lines[loc + (key,)] = line
            _walk(value_node, loc + (key,), lines, rel, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[loc + (index,)] = item.start_mark.line + 1
            _walk(item, loc + (index,), lines, rel, problems)


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_yaml(text: str, path: Path, rel: str) -> tuple[Document | None, list[Problem]]:
    """Parse one YAML text; return the document or the syntax problems."""
    problems: list[Problem] = []
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Document(path, rel, None), []
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        reason = exc.problem or str(exc)
        return None, [Problem(rel, line, "", say("yaml-syntaxfehler", grund=reason))]
    except yaml.YAMLError as exc:
        return None, [Problem(rel, 1, "", say("yaml-syntaxfehler", grund=exc))]
    finally:
        loader.dispose()
    lines: dict[Loc, int] = {}
    _walk(node, (), lines, rel, problems)
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()
    return Document(path, rel, data, lines, digest), problems


@functools.cache
def code_version() -> str:
    """Changes with the loader, the schema, the validator and its messages: cached models then expire."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha1()
    files = [here / "load.py", here / "validate.py", here / "messages.py", here / "messages.yaml",
             *sorted((here / "models").glob("*.py")),
             *sorted((here / "validation").glob("*.py"))]
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class ParseCache:
    """Parsed files keyed by path, size and modification time, kept between builds,
    with the models validated from them. Cross-references are checked on every build.
    A cache written by other code (another version of the schema) is not used.
    """

    def __init__(self, file: Path | None):
        self.file = file
        self.entries: dict[str, tuple[int, int, Document | None, list[Problem]]] = {}
        # Validated models by (model name, file digest): validation is a pure function of
        # the file's text, so an unchanged file need not be validated again.
        self.models: dict[tuple[str, str], Any] = {}
        self.changed = False
        self.seen: set[str] = set()
        if file is not None and file.is_file():
            try:
                with file.open("rb") as handle:
                    version, entries, models = pickle.load(handle)
                if version == code_version():
                    self.entries, self.models = entries, models
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, TypeError):
                self.entries, self.models = {}, {}

    def load(self, path: Path, root: Path) -> tuple[Document | None, list[Problem]]:
        stat = path.stat()
        key = str(path)
        self.seen.add(key)
        cached = self.entries.get(key)
        if cached is not None and cached[:2] == (stat.st_mtime_ns, stat.st_size):
            return cached[2], cached[3]
        doc, problems = load_file(path, root)
        self.entries[key] = (stat.st_mtime_ns, stat.st_size, doc, problems)
        self.changed = True
        return doc, problems

    def save(self) -> None:
        if self.file is None or not (self.changed or set(self.entries) - self.seen):
            return
        self.entries = {key: entry for key, entry in self.entries.items() if key in self.seen}
        current = {entry[2].digest for entry in self.entries.values() if entry[2] is not None}
        self.models = {key: model for key, model in self.models.items() if key[1] in current}
        self.file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.file.with_suffix(".tmp")
        with temporary.open("wb") as handle:
            pickle.dump((code_version(), self.entries, self.models), handle, protocol=pickle.HIGHEST_PROTOCOL)
        temporary.replace(self.file)


def load_file(path: Path, root: Path) -> tuple[Document | None, list[Problem]]:
    rel = _relative(path, root)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(rel, 1, "", say("keine-utf8-datei", grund=exc.reason, stelle=exc.start))]
    return parse_yaml(text, path, rel)


def _relative(path: Path, root: Path) -> str:
    """Paths in messages start at the content folder's name: content/services/x.yaml."""
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


@dataclass
class MarkdownFile:
    """A news article or plain page; Pelican reads it, we only list it."""

    path: Path
    rel: str


@dataclass
class MunicipalityFiles:
    slug: str
    municipality: Document | None
    units: list[Document] = field(default_factory=list)
    locations: list[Document] = field(default_factory=list)
    contacts: list[Document] = field(default_factory=list)
    services: list[Document] = field(default_factory=list)
    news: list[MarkdownFile] = field(default_factory=list)
    pages: list[MarkdownFile] = field(default_factory=list)
    folder: Path | None = None


@dataclass
class RawContent:
    root: Path
    cache: ParseCache
    services: list[Document] = field(default_factory=list)
    life_situations: list[Document] = field(default_factory=list)
    forms: list[Document] = field(default_factory=list)
    municipalities: list[MunicipalityFiles] = field(default_factory=list)
    everyday_words: Document | None = None
    portal: Document | None = None  # content/portal.yaml: the operator of the installation
    best_bets: Document | None = None


YAML_SUFFIXES = (".yaml", ".yml")


def _yaml_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file())


def _load_folder(folder: Path, root: Path, problems: list[Problem], cache: ParseCache) -> list[Document]:
    docs: list[Document] = []
    first_by_id: dict[str, str] = {}
    for path in _yaml_files(folder):
        doc, found = cache.load(path, root)
        problems.extend(found)
        if doc is None:
            continue
        if doc.id in first_by_id:
            problems.append(Problem(doc.rel, 1, "", say("doppelte-kennung", kennung=doc.id, datei=first_by_id[doc.id])))
            continue
        first_by_id[doc.id] = doc.rel
        docs.append(doc)
    return docs


def load_content(root: Path, cache: ParseCache | None = None) -> tuple[RawContent, list[Problem]]:
    """Read every content file below root. Problems are syntax-level only.

    With a cache, files unchanged since the last call are not parsed again.
    """
    cache = cache or ParseCache(None)
    cache.seen = set()
    problems: list[Problem] = []
    raw = RawContent(root=root, cache=cache)
    raw.services = _load_folder(root / "services", root, problems, cache)
    raw.life_situations = _load_folder(root / "life-situations", root, problems, cache)
    raw.forms = _load_folder(root / "forms", root, problems, cache)
    everyday = root / "search" / "everyday-words.yaml"
    if everyday.is_file():
        raw.everyday_words, found = cache.load(everyday, root)
        problems.extend(found)
    portal = root / "portal.yaml"
    if portal.is_file():
        raw.portal, found = cache.load(portal, root)
        problems.extend(found)
    else:
        problems.append(Problem(_relative(portal, root), 1, "", say("betreiberdatei-fehlt")))
    best_bets = root / "search" / "best-bets.yaml"
    if best_bets.is_file():
        raw.best_bets, found = cache.load(best_bets, root)
        problems.extend(found)
    municipalities = root / "municipalities"
    folders = sorted(p for p in municipalities.iterdir() if p.is_dir()) if municipalities.is_dir() else []
    for folder in folders:
        main = folder / "municipality.yaml"
        doc = None
        if main.is_file():
            doc, found = cache.load(main, root)
            problems.extend(found)
        else:
            problems.append(Problem(_relative(folder, root), 1, "", say("kommunendatei-fehlt")))
        files = MunicipalityFiles(slug=folder.name, municipality=doc, folder=folder)
        files.units = _load_folder(folder / "units", root, problems, cache)
        files.locations = _load_folder(folder / "locations", root, problems, cache)
        files.contacts = _load_folder(folder / "contacts", root, problems, cache)
        files.services = _load_folder(folder / "services", root, problems, cache)
        for kind in ("news", "pages"):
            sub = folder / kind
            if sub.is_dir():
                setattr(files, kind, [MarkdownFile(p, _relative(p, root)) for p in sorted(sub.glob("*.md"))])
        raw.municipalities.append(files)
    return raw, problems
