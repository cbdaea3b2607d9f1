"""The catalogue of messages (generator/messages.yaml): id, template, fix, example.

The checker writes a message with `say(ID, name=value, …)`; the handbook renders the same
entries (docs/hooks.py), and the tests match every message the checker prints against the
templates (`pattern`). A template is text with

- `{name}`: a value,
- `{name:a|b}`: one of the words a or b,
- `[[…]]`: a part that is left out when a value in it is None or empty,
- `{{` and `}}`: the braces themselves.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from portal.errors import PortalError

CATALOGUE = Path(__file__).resolve().parent / "messages.yaml"
KINDS = ("fehler", "warnung", "link")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)(?::([^{}]*))?\}")
_OPTIONAL = re.compile(r"\[\[(.*?)\]\]")
_PIECES = re.compile(r"(\[\[|\]\]|\{\{|\}\}|\{[a-z_]+(?::[^{}]*)?\})")


class CatalogueError(PortalError, ValueError):
    """messages.yaml is not as described in its header (found when the catalogue is read)."""


@dataclass(frozen=True)
class Message:
    id: str
    group: str
    kind: str  # fehler, warnung or link
    template: str
    fix: str
    entry: dict[str, Any]  # the whole entry, with the example (datei, modus, kodierung, beispiel)

    def names(self) -> list[str]:
        return _names(self.template)

    def __call__(self, **values: Any) -> str:
        missing = set(self.names()) - set(values)
        if missing or set(values) - set(self.names()):
            raise TypeError(f"message {self.id} takes {', '.join(self.names()) or 'no values'}, got "
                            f"{', '.join(values) or 'none'}")

        def optional(match: re.Match[str]) -> str:
            inner = match.group(1)
            shown = all(values[name] not in (None, "") for name in _names(inner))
            return inner if shown else ""

        def value(match: re.Match[str]) -> str:
            name, words = match.group(1), match.group(2)
            text = str(values[name])
            if words is not None and text not in words.split("|"):
                raise ValueError(f"message {self.id}: {name} is one of {words}, got {text!r}")
            return text

        out: list[str] = []
        for piece in _PIECES.split(_OPTIONAL.sub(optional, self.template)):
            placeholder = _PLACEHOLDER.fullmatch(piece)
            out.append(piece[0] if piece in ("{{", "}}") else value(placeholder) if placeholder else piece)
        return "".join(out)

    def pattern(self) -> re.Pattern[str]:
        """A regular expression that matches every message made from the template."""
        return _compiled(self.template)

    def readable(self) -> str:
        """The template as the handbook shows it: values as ‹name›, optional parts in [ ]."""
        out: list[str] = []
        for piece in _PIECES.split(self.template):
            placeholder = _PLACEHOLDER.fullmatch(piece)
            shown = {"[[": "[", "]]": "]", "{{": "{", "}}": "}"}.get(piece)
            out.append(shown or (f"‹{placeholder.group(1)}›" if placeholder else piece))
        return "".join(out)


def _names(template: str) -> list[str]:
    return [found.group(1) for piece in _PIECES.split(template) if (found := _PLACEHOLDER.fullmatch(piece))]


@functools.cache
def _compiled(template: str) -> re.Pattern[str]:
    return re.compile(_regex(template))


def _regex(template: str) -> str:
    out: list[str] = []
    for piece in _PIECES.split(template):
        placeholder = _PLACEHOLDER.fullmatch(piece)
        if piece == "[[":
            out.append("(?:")
        elif piece == "]]":
            out.append(")?")
        elif piece in ("{{", "}}"):
            out.append(re.escape(piece[0]))
        elif placeholder is not None:
            name, words = placeholder.groups()
            inner = "|".join(re.escape(word) for word in words.split("|")) if words is not None else ".+?"
            out.append(f"(?P<{name}>{inner})")
        else:
            out.append(re.escape(piece))
    return "".join(out)


@functools.cache
def catalogue() -> dict[str, Message]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    entries = yaml.load(CATALOGUE.read_text(encoding="utf-8"), Loader=loader)
    if not isinstance(entries, list):
        raise CatalogueError(f"{CATALOGUE.name}: expected a list of entries")
    found: dict[str, Message] = {}
    for number, entry in enumerate(entries, 1):
        missing = [key for key in ("id", "gruppe", "vorlage", "beispiel", "loesung") if key not in entry]
        if missing:
            raise CatalogueError(f"{CATALOGUE.name}: entry {number} lacks {', '.join(missing)}")
        if entry["id"] in found:
            raise CatalogueError(f"{CATALOGUE.name}: id {entry['id']} is used twice")
        kind = entry.get("art", "fehler")
        if kind not in KINDS:
            raise CatalogueError(f"{CATALOGUE.name}: {entry['id']}: art is one of {', '.join(KINDS)}, got {kind}")
        found[entry["id"]] = Message(entry["id"], entry["gruppe"], kind, str(entry["vorlage"]),
                                     str(entry["loesung"]).strip(), entry)
    return found


def say(message_id: str, **values: Any) -> str:
    """The text of a message of the catalogue with its values filled in."""
    return catalogue()[message_id](**values)


def documented(text: str, kind: str = "fehler") -> bool:
    """Whether a message fits a template of the catalogue of this kind."""
    return any(m.pattern().fullmatch(text) for m in catalogue().values() if m.kind == kind)
