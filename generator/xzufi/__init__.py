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
from .changes import CHANGES, RECORD, Prints, change_set, prints_of, read_record
from .export import WOCHENTAG, XZUFI_NS, XZUFI_VERSION, XObject, document, gemeindeschluessel, objects
from .portals import PORTALS, Portal, PortalLink, names_an_action, portal_links


def full_document(catalog: Catalog, found: list[XObject]) -> str:
    """The municipality's full export: every object written."""
    return document(catalog, found, [], _fingerprint(found))


def change_document(catalog: Catalog, found: list[XObject], previous: dict[str, Prints]
                    ) -> tuple[str, dict[str, Prints]]:
    """The change set against the previous build's record, and the record to keep."""
    schreibe, loesche, record = change_set(found, previous)
    return document(catalog, schreibe, loesche, _fingerprint(schreibe) + repr(loesche)), record


def xzufi_xml(catalog: Catalog, base_url: str) -> str:
    return full_document(catalog, objects(catalog, base_url))


def _fingerprint(found: list[XObject]) -> str:
    return repr(sorted(prints_of(found).items()))


__all__ = ["CHANGES", "PORTALS", "RECORD", "WOCHENTAG", "XZUFI_NS", "XZUFI_VERSION", "Portal", "PortalLink", "XObject",
           "change_document", "full_document", "gemeindeschluessel", "names_an_action", "objects", "portal_links",
           "read_record", "xzufi_xml"]
