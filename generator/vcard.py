"""vCards (RFC 6350, vCard 4.0) of a site's locations and offices, for the open data page
(generator/opendata.py). A value marked as an example (`beispiel`, `beispiel_felder`) is left
out, as in JSON-LD: a card states only what the content has from a source."""

from __future__ import annotations

import re
import uuid

from .catalog import Catalog
from .models import Address, Location, Unit

PRODID = "-//Bürgerportal//Offene Daten//DE"
_PHONE = re.compile(r"0[1-9][0-9 /()-]*[0-9]")


def text(value: str) -> str:
    """A text value escaped as RFC 6350 3.4 asks: backslash, comma, semicolon, line break."""
    return (value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def fold(line: str) -> str:
    """A content line folded after at most 75 octets (RFC 6350 3.2), never inside a character."""
    parts, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > 75:
            parts.append(current)
            current, size = " ", 1
        current += char
        size += width
    parts.append(current)
    return "\r\n".join(parts)


def card(lines: list[str]) -> bytes:
    """One vCard from its content lines (without BEGIN, VERSION, PRODID and END)."""
    every = ["BEGIN:VCARD", "VERSION:4.0", f"PRODID:{text(PRODID)}", *lines, "END:VCARD"]
    return "".join(fold(line) + "\r\n" for line in every).encode("utf-8")


def phone(number: str) -> str:
    """A TEL property: a German number as a tel: URI (+49, digits only), anything else as text."""
    if _PHONE.fullmatch(number.strip()):
        digits = re.sub(r"[^0-9]", "", number)
        return f"TEL;VALUE=uri;TYPE=work,voice:tel:+49{digits[1:]}"
    return f"TEL;VALUE=text;TYPE=work,voice:{text(number)}"


def address(value: Address) -> str:
    """ADR: post office box, extended address, street, locality, region, postal code, country."""
    parts = ["", "", value.street, value.city, "", value.postal_code, "Deutschland"]
    return "ADR;TYPE=work:" + ";".join(text(part) for part in parts)


def uid(url: str) -> str:
    """A UID that stays the same from build to build: a name-based UUID of the page's address."""
    return f"UID:urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, url)}"


def _organisation(catalog: Catalog, town: str | None) -> str:
    """Who a place or office belongs to: the member town in a district, else the municipality."""
    return catalog.town_name(town) or catalog.municipality.name


def location_card(catalog: Catalog, lid: str, location: Location, base_url: str) -> bytes:
    url = f"{base_url}/{catalog.slug}/standorte/{lid}/"
    lines = ["KIND:location", f"FN:{text(location.name)}", f"ORG:{text(_organisation(catalog, location.town))}"]
    if not location.is_example("address"):
        lines.append(address(location.address))
    if location.geo and not location.is_example("geo"):
        lines.append(f"GEO:geo:{location.geo.lat},{location.geo.lon}")
    if location.phone and not location.is_example("phone"):
        lines.append(phone(location.phone))
    if location.email and not location.is_example("email"):
        lines.append(f"EMAIL;TYPE=work:{text(location.email)}")
    lines += [f"URL:{url}", f"SOURCE:{base_url}/{catalog.slug}/offene-daten/vcard/standorte/{lid}.vcf", uid(url)]
    return card(lines)


def unit_card(catalog: Catalog, uid_: str, unit: Unit, base_url: str) -> bytes:
    """An office: its name under the organisation and the offices above it, the addresses of its
    locations, phone, e-mail, its page and its own website."""
    url = f"{base_url}/{catalog.slug}/organisation/{uid_}/"
    chain = [unit.name]
    parent = unit.parent
    while parent is not None and parent in catalog.units and len(chain) < 10:
        chain.insert(0, catalog.units[parent].name)
        parent = catalog.units[parent].parent
    org = [_organisation(catalog, unit.town), *chain]
    lines = ["KIND:org", f"FN:{text(unit.name)}", "ORG:" + ";".join(text(name) for name in org)]
    if not unit.is_example("locations"):
        places = [catalog.locations[lid] for lid in unit.locations if lid in catalog.locations]
        lines += dict.fromkeys(address(place.address) for place in places if not place.is_example("address"))
    if unit.phone and not unit.is_example("phone"):
        lines.append(phone(unit.phone))
    if unit.email and not unit.is_example("email"):
        lines.append(f"EMAIL;TYPE=work:{text(unit.email)}")
    lines.append(f"URL:{url}")
    if unit.website and not unit.is_example("website"):
        lines.append(f"URL;TYPE=work:{unit.website}")
    lines += [f"SOURCE:{base_url}/{catalog.slug}/offene-daten/vcard/stellen/{uid_}.vcf", uid(url)]
    return card(lines)
