"""The Portalverbund: our services as XZuFi for the state's search engine, and links to the
same service in the state and federal portals.

`xzufi_xml` writes one municipality's Catalog in the structure of XZuFi 2.2.0 (DOMAIN.md):
Leistungen with their LeiKa key, text modules, fees, deadlines and processing time;
Organisationseinheiten with addresses, contact and opening hours, each holding its
Zuständigkeiten (which Leistung it performs for which area, per member town in a district);
and the Onlinedienste we run (forms, appointment booking) with their trust level. Another
body's online service (ELSTER, i-Kfz) is only linked from the Leistung's further information.

The official XSD could not be obtained here; the tests check every export against the
rules that DOMAIN.md and the XZuFi structure justify (tests/generator/xzufi_rules.py).
Element names and code list values that DOMAIN.md does not give are ours and are kept in
this module so that they can be corrected in one place.

Only services that this municipality performs (level kommune or kreis) and that have a
LeiKa key are exported: PVOG matches services by that key, and state and federal services
are published by the state and the federation themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from xml.etree import ElementTree as ET

from portal.text import markdown

from .catalog import Catalog, ServiceEntry
from .models import WEEKDAYS, Address, Duration, Fee, Location, Service, Town, Unit

XZUFI_NS = "http://xoev.de/schemata/xzufi/2_2_0"
XZUFI_VERSION = "2.2.0"
LEIKA_LIST_URI = "urn:de:fim:leika:leistung"

# Text modules and their codes (DOMAIN.md, "In XZuFi the texts are modules with codes").
TEXTMODULE: dict[str, str] = {
    "02": "Leistungsbezeichnung",
    "03": "Leistungsname",
    "05": "Kurztext",
    "06": "Volltext",
    "07": "Handlungsgrundlagen",
    "08": "Unterlagen",
    "09": "Voraussetzungen",
    "11": "Verfahrensablauf",
    "14": "Formulare",
    "15": "Weiterführende Informationen",
    "16": "Hinweise",
    "22": "Zuständige Stelle",
    "23": "Ansprechpunkt",
    "24": "Teaser",
    "25": "Rechtsbehelf",
}
# The role of an office in a Zuständigkeit, named after the text modules 22 and 23.
ROLLE: dict[str, str] = {"zustaendige_stelle": "Zuständige Stelle", "ansprechpunkt": "Ansprechpunkt"}
# Weekdays as in ISO 8601: 1 Monday … 7 Sunday.
WOCHENTAG: dict[str, str] = {day: str(number) for number, day in enumerate(WEEKDAYS, start=1)}
ISO_UNITS = {"minutes": "TM", "hours": "TH", "days": "D", "weeks": "W", "months": "M", "years": "Y"}


# --- the state and federal portals ---------------------------------------------------------


@dataclass(frozen=True)
class Portal:
    """A portal of the Portalverbund that describes state and federal services.

    leistung_url: the address of one service, with {leika} for its LeiKa key; home_url: the
    portal's start page. Leave either None until a source documents it: a guessed address
    sends citizens to an error page.
    """

    name: str
    in_name: str  # "im Serviceportal NRW": how link texts name the portal
    leistung_url: str | None = None
    home_url: str | None = None


# The federal service directory (Verwaltungsportal des Bundes) gives each service a page under
# its LeiKa key: https://verwaltung.bund.de/leistungsverzeichnis/DE/leistung/<key>. Seen on the
# directory's own pages (for example …/leistung/99012078261000/… for "Abbruch anzeigen", cited in
# content/services/abbruch-anzeigen.yaml) and linked in this short form by independent public
# projects (for 99115005104000 and 99108014042000). The Serviceportal NRW has no confirmed
# address pattern by key: its start page only, where citizens search for the service.
PORTALS: tuple[Portal, ...] = (
    Portal("Verwaltungsportal des Bundes", "im Verwaltungsportal des Bundes",
           leistung_url="https://verwaltung.bund.de/leistungsverzeichnis/DE/leistung/{leika}",
           home_url="https://verwaltung.bund.de"),
    Portal("Serviceportal NRW", "im Serviceportal NRW", home_url="https://service.nrw.de"),
)


@dataclass(frozen=True)
class PortalLink:
    portal: str
    url: str
    text: str  # the link text: says what opens and where
    to_service: bool  # False: the portal's start page, where citizens search by the key


def names_an_action(leika: str) -> bool:
    """Whether a LeiKa key names a service with its action (Verrichtung, digits 9–11), as the
    federal directory's pages do, not only the subject (…001000000 "BAföG" as a whole): a page
    address made from a subject key would not exist."""
    return len(leika) == 14 and leika[8:11] != "000"


def portal_links(service: Service, portals: tuple[Portal, ...] | None = None) -> list[PortalLink]:
    """Links to the same service in the state and federal portals, for a service that the
    state or the federation is responsible for, found by its LeiKa key."""
    if service.level not in ("land", "bund") or not service.leika:
        return []
    links = []
    for portal in PORTALS if portals is None else portals:
        if portal.leistung_url and names_an_action(service.leika):
            url = portal.leistung_url.format(leika=service.leika)
            links.append(PortalLink(portal.name, url, f"„{service.name}“ {portal.in_name}", True))
        elif portal.home_url:
            links.append(PortalLink(portal.name, portal.home_url, f"{portal.name}: Startseite", False))
    return links


# --- writing ---------------------------------------------------------------------------------


def _q(name: str) -> str:
    return f"{{{XZUFI_NS}}}{name}"


def _add(parent: ET.Element, name: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, _q(name), attributes)
    if text is not None:
        element.text = text
    return element


def _code(parent: ET.Element, name: str, value: str, **attributes: str) -> ET.Element:
    """An XÖV code: the element carries the list, its unqualified child `code` the value."""
    element = _add(parent, name, **attributes)
    ET.SubElement(element, "code").text = value
    return element


@dataclass(frozen=True)
class _Ids:
    slug: str

    def leistung(self, sid: str) -> str:
        return f"{self.slug}.leistung.{sid}"

    def unit(self, uid: str) -> str:
        return f"{self.slug}.organisationseinheit.{uid}"

    def online(self, kind: str, key: str) -> str:
        return f"{self.slug}.onlinedienst.{kind}.{key}"

    def zustaendigkeit(self, uid: str, sid: str, gebiet: str) -> str:
        return f"{self.slug}.zustaendigkeit.{uid}.{sid}.{gebiet}"


@dataclass(frozen=True)
class _Onlinedienst:
    id: str
    name: str
    url: str
    title: str
    trust_level: str


def xzufi_xml(catalog: Catalog, base_url: str) -> str:
    """The municipality's services, offices, responsibilities and online services as XZuFi."""
    base = base_url.rstrip("/")
    ids = _Ids(catalog.slug)
    m = catalog.municipality
    areas = {sid: _areas(catalog, entry) for sid, entry in catalog.services.items()}
    exported = [entry for sid, entry in catalog.services.items() if entry.service.leika and areas[sid]]

    root = ET.Element(_q("transfer"), {"version": XZUFI_VERSION})
    head = _add(root, "nachrichtenkopf")
    author = _add(head, "autor")
    _add(author, "name", m.name)
    _add(author, "gebietID", m.ags)
    _add(author, "internetadresse", f"{base}/{catalog.slug}/")

    online: list[_Onlinedienst] = []
    for entry in exported:
        services = _onlinedienste(catalog, entry, base, ids)
        online += services
        _leistung(root, catalog, entry, base, ids, [o.id for o in services])
    for uid, unit in catalog.units.items():
        zustaendig = [(entry.id, gebiet) for entry in exported for unit_id, gebiet in areas[entry.id] if unit_id == uid]
        _organisationseinheit(root, catalog, uid, unit, base, ids, zustaendig)
    for service in online:
        element = _add(root, "onlinedienst")
        _add(element, "id", service.id)
        _add(element, "bezeichnung", service.name)
        link = _add(element, "link")
        _add(link, "uri", service.url)
        _add(link, "titel", service.title)
        _code(element, "vertrauensniveau", service.trust_level)

    ET.register_namespace("xzufi", XZUFI_NS)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _areas(catalog: Catalog, entry: ServiceEntry) -> list[tuple[str, str]]:
    """(unit, area key) for every responsibility whose area has a key: a member town's AGS,
    else the municipality's (the district itself, or the city)."""
    found = []
    for r in entry.responsibilities:
        gebiet = catalog.municipality.ags if r.town is None else r.town.ags
        if gebiet:
            found.append((r.unit_id, gebiet))
    return found


def _onlinedienste(catalog: Catalog, entry: ServiceEntry, base: str, ids: _Ids) -> list[_Onlinedienst]:
    s, found = entry.service, []
    online = s.online
    if entry.form_enabled and online and online.form and online.form in catalog.forms:
        form = catalog.forms[online.form].form
        found.append(_Onlinedienst(ids.online("antrag", online.form), form.title,
                                   f"{base}/{catalog.slug}/antrag/{online.form}/", "Antrag online stellen",
                                   form.trust_level))
    if entry.booking and entry.appointment:
        found.append(_Onlinedienst(ids.online("termin", entry.id), f"Termin buchen: {s.name}",
                                   f"{base}/{catalog.slug}/termine/{entry.id}/", "Termin online buchen",
                                   entry.appointment.trust_level))
    return found


def _leistung(root: ET.Element, catalog: Catalog, entry: ServiceEntry, base: str, ids: _Ids,
              online_ids: list[str]) -> None:
    s = entry.service
    element = _add(root, "leistung")
    _add(element, "id", ids.leistung(entry.id))
    _code(element, "referenzLeiKa", s.leika or "", listURI=LEIKA_LIST_URI)
    if s.typisierung:
        _code(element, "typisierung", s.typisierung)
    page = f"{base}/{catalog.slug}/leistungen/{entry.id}/"
    hints = "\n\n".join(text for text in (s.hints, entry.notes) if text)
    texts: list[tuple[str, str, list[tuple[str, str]]]] = [
        ("02", s.name, []),  # names and the teaser are plain text, the other modules HTML
        ("24", s.teaser, []),
        ("06", _html(s.description, base), []),
        ("09", _html_list(s.prerequisites), []),
        ("08", _html_list(s.documents), []),
        ("11", _html_list(s.procedure, ordered=True), []),
        ("07", _html_list([law.title for law in s.legal_basis]),
         [(law.url, law.title) for law in s.legal_basis if law.url]),
        ("16", _html(hints, base), []),
    ]
    if entry.form_enabled and s.online and s.online.form:
        url = f"{base}/{catalog.slug}/antrag/{s.online.form}/"
        texts.append(("14", f'<p><a href="{url}">Antrag online stellen</a></p>', [(url, "Antrag online stellen")]))
    further = [(page, f"{s.name} im Bürgerportal")]
    if s.online and s.online.url and s.online.label:  # another body's online service: a link, not ours to publish
        further.append((s.online.url, s.online.label))
    texts.append(("15", "".join(f'<p><a href="{escape(url)}">{escape(title)}</a></p>' for url, title in further),
                  further))
    for code, content, links in texts:
        if not content or entry.is_example(_MODULE_FIELDS.get(code, "")):
            continue  # an example is never published as a fact
        module = _add(element, "modulText")
        _code(module, "leikaTextmodul", code)
        _add(module, "inhalt", content)
        for url, title in links:
            link = _add(module, "weiterfuehrenderLink")
            _add(link, "uri", url)
            _add(link, "titel", title)
    fees = [] if entry.is_example("fees") else [fee for fee in entry.fees if not fee.example]
    if fees:
        module = _add(element, "modulKosten")
        for fee in fees:
            _kosten(module, fee)
    if s.deadlines and not entry.is_example("deadlines"):
        module = _add(element, "modulFrist")
        for deadline in s.deadlines:
            frist = _add(module, "frist")
            _add(frist, "beschreibung", deadline.description)
            if deadline.value is not None and deadline.unit is not None:
                _add(frist, "dauer", iso_duration(deadline.value, deadline.unit))
    if entry.processing_time and not entry.is_example("processing_time"):
        _bearbeitungsdauer(_add(element, "modulBearbeitungsdauer"), entry.processing_time)
    for synonym in s.synonyms:  # not search_only: typos and colloquial words serve our search only
        _add(_add(element, "begriffImKontext"), "begriff", synonym)
    for online_id in online_ids:
        _add(element, "onlinedienstID", online_id)


# The fields a text module is made from: a module whose field is an example is left out.
_MODULE_FIELDS = {"09": "prerequisites", "08": "documents", "11": "procedure", "07": "legal_basis", "16": "hints"}


def _html(text: str | None, base: str) -> str:
    # Links inside our Markdown may be site paths; a service finder needs whole addresses.
    return str(markdown(text)).replace('href="/', f'href="{base}/').strip() if text else ""


def _html_list(items: list[str], ordered: bool = False) -> str:
    if not items:
        return ""
    tag = "ol" if ordered else "ul"
    return f"<{tag}>" + "".join(f"<li>{escape(item)}</li>" for item in items) + f"</{tag}>"


def _amount(value: float) -> str:
    return f"{value:.2f}"


def _kosten(module: ET.Element, fee: Fee) -> None:
    kosten = _add(module, "kosten")
    _add(kosten, "beschreibung", fee.label)
    if fee.amount is not None:
        _add(kosten, "betrag", _amount(fee.amount))
    elif fee.amount_min is not None and fee.amount_max is not None:
        _add(kosten, "betragVon", _amount(fee.amount_min))
        _add(kosten, "betragBis", _amount(fee.amount_max))
    if fee.amount is not None or fee.amount_min is not None:
        _add(kosten, "waehrung", "EUR")
    if fee.note:
        _add(kosten, "hinweis", fee.note)


def iso_duration(value: float, unit: str) -> str:
    """3, 'weeks' → 'P3W'; 90, 'minutes' → 'PT90M' (ISO 8601)."""
    number = str(int(value)) if float(value).is_integer() else str(value)
    designator = ISO_UNITS[unit]
    return f"PT{number}{designator[1]}" if designator.startswith("T") else f"P{number}{designator}"


def _bearbeitungsdauer(module: ET.Element, duration: Duration) -> None:
    element = _add(module, "bearbeitungsdauer")
    if duration.min is not None:
        _add(element, "von", iso_duration(duration.min, duration.unit))
    if duration.max is not None:
        _add(element, "bis", iso_duration(duration.max, duration.unit))
    if duration.note:
        _add(element, "beschreibung", duration.note)


def _organisationseinheit(root: ET.Element, catalog: Catalog, uid: str, unit: Unit, base: str, ids: _Ids,
                          zustaendig: list[tuple[str, str]]) -> None:
    element = _add(root, "organisationseinheit")
    _add(element, "id", ids.unit(uid))
    _add(element, "name", unit.name)
    if unit.parent:
        _add(element, "uebergeordneteOrganisationseinheitID", ids.unit(unit.parent))
    contact = _add(element, "kommunikation")
    if unit.phone and not unit.is_example("phone"):
        _add(contact, "telefon", unit.phone)
    if unit.email and not unit.is_example("email"):
        _add(contact, "email", unit.email)
    own_site = unit.website if not unit.is_example("website") else None
    _add(contact, "internetadresse", own_site or f"{base}/{catalog.slug}/organisation/{uid}/")
    for lid in unit.locations:
        if not catalog.locations[lid].is_example("address"):  # an example address is no address
            _anschrift(element, catalog, catalog.locations[lid])
    for sid, gebiet in zustaendig:
        zustaendigkeit = _add(element, "zustaendigkeit")
        _add(zustaendigkeit, "id", ids.zustaendigkeit(uid, sid, gebiet))
        _add(zustaendigkeit, "leistungID", ids.leistung(sid))
        _add(zustaendigkeit, "gebietID", gebiet)
        _code(zustaendigkeit, "rolle", "zustaendige_stelle")


def _street_and_number(address: Address) -> tuple[str, str | None]:
    """'Klemensstraße 10' → ('Klemensstraße', '10'); a street without a number stays whole."""
    match = re.fullmatch(r"(.+?)\s+(\d+\s*[a-zA-Z]?(?:\s*[-–/]\s*\d+\s*[a-zA-Z]?)?)", address.street)
    return (match.group(1), match.group(2)) if match else (address.street, None)


def gemeindeschluessel(catalog: Catalog, location: Location) -> str | None:
    """The AGS of the municipality a location lies in: its town's, the member town named in
    its address, or the city's own; None where none is known."""
    m = catalog.municipality
    towns: dict[str | None, Town] = {t.id: t for t in m.towns}
    town = towns.get(location.town) or next((t for t in m.towns if t.name == location.address.city), None)
    if town is not None:
        return town.ags
    if m.kind == "kreisfreie_stadt" and location.address.city in (m.short_name, m.address.city):
        return m.ags
    return None


def _anschrift(parent: ET.Element, catalog: Catalog, location: Location) -> None:
    element = _add(parent, "anschrift")
    _add(element, "bezeichnung", location.name)
    street, number = _street_and_number(location.address)
    _add(element, "strasse", street)
    if number:
        _add(element, "hausnummer", number)
    _add(element, "postleitzahl", location.address.postal_code)
    _add(element, "ort", location.address.city)
    key = gemeindeschluessel(catalog, location)
    if key:
        _add(element, "gemeindeschluessel", key)
    if location.geo and not location.is_example("geo"):
        geo = _add(element, "geokoordinaten")
        _add(geo, "breite", f"{location.geo.lat}")
        _add(geo, "laenge", f"{location.geo.lon}")
    regular = [] if location.is_example("opening_hours") else location.opening_hours
    exceptions = [] if location.is_example("exceptions") else location.exceptions
    if not (regular or exceptions):
        return
    hours = _add(element, "oeffnungszeiten")
    for day in WEEKDAYS:
        for span in sorted((h.opens, h.closes) for h in regular if day in h.days):
            zeitraum = _add(hours, "zeitraum")
            _code(zeitraum, "wochentag", WOCHENTAG[day])
            _add(zeitraum, "beginn", f"{span[0]}:00")
            _add(zeitraum, "ende", f"{span[1]}:00")
    for exception in exceptions:
        sondertag = _add(hours, "sondertag")
        _add(sondertag, "datum", exception.date.isoformat())
        if exception.closed:
            _add(sondertag, "geschlossen", "true")
        else:
            _add(sondertag, "beginn", f"{exception.opens}:00")
            _add(sondertag, "ende", f"{exception.closes}:00")
        if exception.note:
            _add(sondertag, "hinweis", exception.note)
    _add(hours, "geschlossenAnFeiertagen", "true" if location.closed_on_public_holidays else "false")
