"""The Portalverbund: our services as XZuFi 2.2.0 for the state's search engine (PVOG), as a
full export and as a change set, and links to the same service in the state and federal
portals.

- export.py: the objects (Leistung, Organisationseinheit, Onlinedienst, Zuständigkeit) and
  the transfer document;
- changes.py: the change set against the previous build;
- codes.py: the code lists, with their URIs and versions, in one place;
- portals.py: links to the state and federal portals by LeiKa key.
"""

from __future__ import annotations

from ..catalog import Catalog
from .changes import RECORD, Prints, change_set, prints_of, read_record
from .codes import TEXTMODULE
from .export import WOCHENTAG, XZUFI_NS, XZUFI_VERSION, XObject, document, gemeindeschluessel, objects
from .portals import PORTALS, Portal, PortalLink, names_an_action, portal_links


def xzufi_xml(catalog: Catalog, base_url: str) -> str:
    """The municipality's full export: every object written."""
    found = objects(catalog, base_url)
    return document(catalog, found, [], _fingerprint(found))


def xzufi_changes(catalog: Catalog, base_url: str, previous: dict[str, Prints]) -> tuple[str, dict[str, Prints]]:
    """The change set against the previous build's record, and the record to keep."""
    schreibe, loesche, record = change_set(objects(catalog, base_url), previous)
    return document(catalog, schreibe, loesche, _fingerprint(schreibe) + repr(loesche)), record


def _fingerprint(found: list[XObject]) -> str:
    return repr(sorted(prints_of(found).items()))


__all__ = ["PORTALS", "RECORD", "TEXTMODULE", "WOCHENTAG", "XZUFI_NS", "XZUFI_VERSION", "Portal", "PortalLink",
           "gemeindeschluessel", "names_an_action", "portal_links", "read_record", "xzufi_changes", "xzufi_xml"]
