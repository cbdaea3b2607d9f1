"""The export as a change set: what changed since the export before it.

Each build records a fingerprint per object (`.xzufi-objekte.json` in the site folder, not
served). `xzufi-aenderungen.xml` writes the objects that are new or changed against the
previous build's record and deletes (`loesche`) those that disappeared. A rebuild that changes
no object keeps the change set it had, so a reader that fetches after a no-op rebuild still
gets the last change. `xzufi.xml` stays the full export, for a first import or on demand.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from xml.etree import ElementTree as ET

from ..write import read_json
from .export import XObject

CHANGES = "xzufi-aenderungen.xml"
RECORD = ".xzufi-objekte.json"

Prints = dict[str, list[str]]  # object id → [class, fingerprint]


def prints_of(found: list[XObject]) -> Prints:
    return {item.id: [item.klasse, hashlib.sha1(ET.tostring(item.element)).hexdigest()] for item in found}


def read_record(folder: Path | None) -> dict[str, Prints]:
    """The record a build left: {"objects": …, "basis": …} (empty when there is none)."""
    return read_json(folder, RECORD)


def change_set(found: list[XObject], previous: dict[str, Prints]
               ) -> tuple[list[XObject], list[tuple[str, str]], dict[str, Prints]]:
    """(objects to write, (class, id) to delete, the record to keep) against the previous record."""
    now = prints_of(found)
    before = previous.get("objects")
    if before is None:
        basis: Prints = {}  # no export before: everything is new
    elif before == now:
        basis = previous.get("basis", {})  # nothing changed: the last change set stands
    else:
        basis = before
    schreibe = [item for item in found if basis.get(item.id) != now[item.id]]
    loesche = sorted((klasse, object_id) for object_id, (klasse, _print) in basis.items() if object_id not in now)
    return schreibe, loesche, {"objects": now, "basis": basis}
