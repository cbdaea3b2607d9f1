"""The code lists our XZuFi export uses, each with its list URI and version, in one place.

An XÖV code is written as an element that carries `listURI` and `listVersionID`, with an
unqualified child `code` (the form FITKO's XZuFi 2.2 examples show). Where no published list
is known to us for a value (our trust-level words, for example), the value is left out rather
than written with an invented code.

Provenance of each list (the official XSD and code list files could not be obtained here;
verify against XRepository when they are, and correct the entries below):
- anschrifttyp 2.0, codes 001–006: FITKO's EfA parameter catalogue (XZuFi 2.2 examples).
- onlinedienstlinktyp, code 01: the code every PVOG export read by a public reader carries (its
  version unverified).
- leistungstextmodulleika: the LeiKa text module codes (DOMAIN.md, public FIM tooling, which
  names the version 20240216).
- Term types 001–003, 999: the FIM portal API's enumeration (list URI unverified).
- Gemeindeschlüssel (AGS): Destatis' key list on XRepository, version of 2024-10-31.
- LeiKa: the Leistungskatalog's key list.
- The versions marked "unverified" are our best reading and not confirmed by a schema.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CodeList:
    uri: str
    version: str
    verified: bool = False


ANSCHRIFTTYP = CodeList("urn:xoev-de:fim:codeliste:xzufi.anschrifttyp", "2.0", verified=True)
HAUSANSCHRIFT = "001"
ONLINEDIENSTLINKTYP = CodeList("urn:xoev-de:fim:codeliste:onlinedienstlinktyp", "1.0", verified=True)
LINK_ZUM_DIENST = "01"
TEXTMODUL = CodeList("urn:de:xzufi:codeliste:leistungstextmodulleika", "20240216",
                     verified=True)
AGS = CodeList("urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:ags", "2024-10-31", verified=True)
LEIKA = CodeList("urn:de:fim:leika:leistung", "1.0")
TYPISIERUNG = CodeList("urn:xoev-de:fim:codeliste:xzufi.leistungstypisierung", "1.0")
ZEITEINHEIT = CodeList("urn:xoev-de:fim:codeliste:xzufi.zeiteinheit", "1.0")
ROLLE = CodeList("urn:xoev-de:fim:codeliste:xzufi.zustaendigkeitsrolle", "1.0")
ZUSTAENDIGE_STELLE = "01"  # the office that performs the service (FITKO: 01 or 02 "mindestens zuständige Stelle")
BEGRIFFTYP = CodeList("urn:xoev-de:fim:codeliste:xzufi.begriffimkontexttyp", "1.0")
SYNONYM = "001"  # the FIM portal's list of term types has 001, 002, 003 and 999 ("other")
WAEHRUNG = CodeList("urn:xoev-de:kosit:codeliste:currency-codes", "3")
WOCHENTAG = CodeList("urn:xoev-de:fim:codeliste:xzufi.wochentag", "1.0")

# Our duration units as codes of the time-unit list.
UNIT_CODES = {"minutes": "min", "hours": "h", "days": "d", "weeks": "wk", "months": "mo", "years": "a"}
