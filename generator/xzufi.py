"""The Portalverbund: our services as XZuFi for the state's search engine, and links to the
same service in the state and federal portals.

`xzufi_xml` writes one municipality's Catalog in the structure of XZuFi 2.2.0 (DOMAIN.md):
Leistungen with their LeiKa key, text modules, fees, deadlines and processing time;
Organisationseinheiten with addresses, contact and opening hours, each holding its
Zuständigkeiten (which Leistung it performs for which area, per member town in a district);
and the Onlinedienste we run (forms, appointment booking) with their trust level. Another
body's online service (ELSTER, i-Kfz) is only linked from the Leistung's further information.

The official XSD could not be obtained here, so `xzufi_problems` checks the rules that
DOMAIN.md and the XZuFi structure justify: required elements, LeiKa key and area key
formats, codes from the lists below, unique ids and references that resolve, ISO dates,
times and durations, and absolute https addresses. Element names and code list values
that DOMAIN.md does not give are ours and are kept in this module so that they can be
corrected in one place.

Only services that this municipality performs (level kommune or kreis) and that have a
LeiKa key are exported: PVOG matches services by that key, and state and federal services
are published by the state and the federation themselves.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from portal.levels import LEVELS
from portal.text import markdown

from .catalog import Catalog, ServiceEntry
from .models import TYPISIERUNG, WEEKDAYS, Address, Duration, Fee, Location, Service, Town, Unit

XZUFI_NS = "http://xoev.de/schemata/xzufi/2_2_0"
XZUFI_VERSION = "2.2.0"
LEIKA_LIST_URI = "urn:de:fim:leika:leistung"
LEIKA_PATTERN = re.compile(r"99[0-9]{12}")
# Area keys (gebietID): the official municipality key AGS (8 digits) or the regional key ARS (12).
GEBIET_PATTERN = re.compile(r"[0-9]{8}|[0-9]{12}")

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
REQUIRED_TEXTMODULE = "02"
# Trust levels (portal.levels); "basis" is the portal account, which is no eIDAS level.
VERTRAUENSNIVEAU: tuple[str, ...] = LEVELS
# The role of an office in a Zuständigkeit, named after the text modules 22 and 23.
ROLLE: dict[str, str] = {"zustaendige_stelle": "Zuständige Stelle", "ansprechpunkt": "Ansprechpunkt"}
# Weekdays as in ISO 8601: 1 Monday … 7 Sunday.
WOCHENTAG: dict[str, str] = {day: str(number) for number, day in enumerate(WEEKDAYS, start=1)}
WAEHRUNG: tuple[str, ...] = ("EUR",)
ISO_UNITS = {"minutes": "TM", "hours": "TH", "days": "D", "weeks": "W", "months": "M", "years": "Y"}
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")  # development builds; never published


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


# Neither DOMAIN.md nor shared/data documents these portals' addresses or a search by LeiKa
# key, so no link is made yet. Fill in what a source confirms; the page and its JSON-LD follow.
PORTALS: tuple[Portal, ...] = (
    # Start pages only: no confirmed address pattern for one service by its key is known to us,
    # so the page tells citizens to search there for the LeiKa key.
    Portal("Serviceportal NRW", "im Serviceportal NRW", home_url="https://service.nrw.de"),
    Portal("Verwaltungsportal des Bundes", "im Verwaltungsportal des Bundes", home_url="https://verwaltung.bund.de"),
)


@dataclass(frozen=True)
class PortalLink:
    portal: str
    url: str
    text: str  # the link text: says what opens and where
    to_service: bool  # False: the portal's start page, where citizens search by the key


def portal_links(service: Service, portals: tuple[Portal, ...] | None = None) -> list[PortalLink]:
    """Links to the same service in the state and federal portals, for a service that the
    state or the federation is responsible for, found by its LeiKa key."""
    if service.level not in ("land", "bund") or not service.leika:
        return []
    links = []
    for portal in PORTALS if portals is None else portals:
        if portal.leistung_url:
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
        if not content:
            continue
        module = _add(element, "modulText")
        _code(module, "leikaTextmodul", code)
        _add(module, "inhalt", content)
        for url, title in links:
            link = _add(module, "weiterfuehrenderLink")
            _add(link, "uri", url)
            _add(link, "titel", title)
    if entry.fees:
        module = _add(element, "modulKosten")
        for fee in entry.fees:
            _kosten(module, fee)
    if s.deadlines:
        module = _add(element, "modulFrist")
        for deadline in s.deadlines:
            frist = _add(module, "frist")
            _add(frist, "beschreibung", deadline.description)
            if deadline.value is not None and deadline.unit is not None:
                _add(frist, "dauer", iso_duration(deadline.value, deadline.unit))
    if entry.processing_time:
        _bearbeitungsdauer(_add(element, "modulBearbeitungsdauer"), entry.processing_time)
    for synonym in s.synonyms:
        _add(_add(element, "begriffImKontext"), "begriff", synonym)
    for online_id in online_ids:
        _add(element, "onlinedienstID", online_id)


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
    if unit.phone:
        _add(contact, "telefon", unit.phone)
    if unit.email:
        _add(contact, "email", unit.email)
    _add(contact, "internetadresse", unit.website or f"{base}/{catalog.slug}/organisation/{uid}/")
    for lid in unit.locations:
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
    if location.geo:
        geo = _add(element, "geokoordinaten")
        _add(geo, "breite", f"{location.geo.lat}")
        _add(geo, "laenge", f"{location.geo.lon}")
    if not (location.opening_hours or location.exceptions):
        return
    hours = _add(element, "oeffnungszeiten")
    for day in WEEKDAYS:
        for span in sorted((h.opens, h.closes) for h in location.opening_hours if day in h.days):
            zeitraum = _add(hours, "zeitraum")
            _code(zeitraum, "wochentag", WOCHENTAG[day])
            _add(zeitraum, "beginn", f"{span[0]}:00")
            _add(zeitraum, "ende", f"{span[1]}:00")
    for exception in location.exceptions:
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


# --- checking ---------------------------------------------------------------------------------

_DURATION = re.compile(r"P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
                       r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?")
_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]")
_AMOUNT = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}")
_HREF = re.compile(r"""href=["']([^"']*)["']""")


class _Check:
    """Collects problems as 'where: what was expected'."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def text(self, element: ET.Element | None, where: str, name: str, required: bool = True) -> str | None:
        """The stripped text of child `name`; a problem if it is required and missing or empty."""
        child = None if element is None else element.find(_q(name))
        value = (child.text or "").strip() if child is not None else ""
        if not value:
            if required:
                self.add(where, f"{name} is missing or empty")
            return None
        return value

    def code(self, element: ET.Element, where: str, name: str, allowed: Collection[str],
             required: bool = True) -> str | None:
        child = element.find(_q(name))
        if child is None:
            if required:
                self.add(where, f"{name} is missing")
            return None
        value = (child.findtext("code") or "").strip()
        if value not in allowed:
            self.add(where, f'{name}: "{value}" is not one of {", ".join(allowed)}')
            return None
        return value

    def url(self, value: str | None, where: str, name: str) -> None:
        if value is None or value.startswith(("mailto:", "tel:")):
            return
        parts = urlsplit(value)
        secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)
        if not (secure and parts.hostname):
            self.add(where, f'{name}: "{value}" is not an absolute https address')

    def pattern(self, value: str | None, pattern: re.Pattern[str], where: str, name: str, expected: str) -> None:
        if value is not None and not pattern.fullmatch(value):
            self.add(where, f'{name}: "{value}" is not {expected}')


def xzufi_problems(xml_text: str) -> list[str]:
    """Every rule of our XZuFi export that the document breaks, as 'where: what is wrong'."""
    check = _Check()
    if re.search(r"<!DOCTYPE|<!ENTITY", xml_text):
        return ["document: a DOCTYPE or ENTITY declaration is not allowed"]
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as error:
        return [f"document: not well-formed XML: {error}"]
    if root.tag != _q("transfer"):
        return [f"document: the root element is {root.tag}, expected {{{XZUFI_NS}}}transfer"]
    if root.get("version") != XZUFI_VERSION:
        check.add("document", f'version "{root.get("version")}" is not {XZUFI_VERSION}')
    for element in root.iter():
        if element.tag != "code" and not element.tag.startswith(f"{{{XZUFI_NS}}}"):
            check.add("document", f"element {element.tag} is not in the XZuFi namespace")

    author = root.find(f"{_q('nachrichtenkopf')}/{_q('autor')}")
    check.text(author, "nachrichtenkopf/autor", "name")
    check.pattern(check.text(author, "nachrichtenkopf/autor", "gebietID"), GEBIET_PATTERN, "nachrichtenkopf/autor",
                  "gebietID", "an area key (AGS 8 or ARS 12 digits)")
    check.url(check.text(author, "nachrichtenkopf/autor", "internetadresse", required=False), "nachrichtenkopf/autor",
              "internetadresse")

    leistungen = root.findall(_q("leistung"))
    units = root.findall(_q("organisationseinheit"))
    online = root.findall(_q("onlinedienst"))
    all_ids = [(kind, (e.findtext(_q("id")) or "").strip()) for kind, group in
               (("leistung", leistungen), ("organisationseinheit", units), ("onlinedienst", online))
               for e in group]
    all_ids += [("zustaendigkeit", (z.findtext(_q("id")) or "").strip())
                for u in units for z in u.findall(_q("zustaendigkeit"))]
    for kind, value in all_ids:
        if not value:
            check.add(kind, "an id is missing or empty")
        elif re.search(r"\s", value):
            check.add(f'{kind} "{value}"', "id contains white space")
    for value, count in Counter(value for _, value in all_ids if value).items():
        if count > 1:
            kinds = sorted({kind for kind, other in all_ids if other == value})
            check.add(f'id "{value}"', f"is used {count} times (by {', '.join(kinds)}); ids must be unique")
    leistung_ids = {(e.findtext(_q("id")) or "").strip() for e in leistungen}
    unit_ids = {(e.findtext(_q("id")) or "").strip() for e in units}
    online_ids = {(e.findtext(_q("id")) or "").strip() for e in online}
    for element in leistungen:
        _check_leistung(check, element, online_ids)
    responsible: set[str] = set()
    for element in units:
        responsible |= _check_organisationseinheit(check, element, unit_ids, leistung_ids)
    for lid in sorted(leistung_ids - responsible):
        if lid:
            check.add(f'leistung "{lid}"', "no organisationseinheit has a zustaendigkeit for it")
    for element in online:
        where = f'onlinedienst "{element.findtext(_q("id"))}"'
        check.text(element, where, "bezeichnung")
        link = element.find(_q("link"))
        if link is None:
            check.add(where, "link is missing")
        else:
            check.url(check.text(link, where, "uri"), where, "link/uri")
            check.text(link, where, "titel")
        check.code(element, where, "vertrauensniveau", VERTRAUENSNIVEAU)
    return check.problems


def _check_leistung(check: _Check, element: ET.Element, online_ids: set[str]) -> None:
    where = f'leistung "{element.findtext(_q("id"))}"'
    leika = element.find(_q("referenzLeiKa"))
    if leika is None:
        check.add(where, "referenzLeiKa (the LeiKa key) is missing")
    else:
        if leika.get("listURI") != LEIKA_LIST_URI:
            check.add(where, f'referenzLeiKa: listURI "{leika.get("listURI")}" is not {LEIKA_LIST_URI}')
        check.pattern((leika.findtext("code") or "").strip(), LEIKA_PATTERN, where, "referenzLeiKa",
                      "a LeiKa key (14 digits starting with 99)")
    check.code(element, where, "typisierung", TYPISIERUNG, required=False)
    codes = []
    for module in element.findall(_q("modulText")):
        code = check.code(module, where, "leikaTextmodul", TEXTMODULE)
        inner = f"{where}, text module {code}"
        content = check.text(module, inner, "inhalt")
        for href in _HREF.findall(content or ""):
            check.url(href, inner, "a link in inhalt")
        for link in module.findall(_q("weiterfuehrenderLink")):
            check.url(check.text(link, inner, "uri"), inner, "weiterfuehrenderLink/uri")
            check.text(link, inner, "titel")
        if code:
            codes.append(code)
    if REQUIRED_TEXTMODULE not in codes:
        check.add(where, f"the text module {REQUIRED_TEXTMODULE} ({TEXTMODULE[REQUIRED_TEXTMODULE]}) is missing")
    for code, count in Counter(codes).items():
        if count > 1:
            check.add(where, f"the text module {code} ({TEXTMODULE[code]}) appears {count} times")
    for kosten in element.findall(f"{_q('modulKosten')}/{_q('kosten')}"):
        _check_kosten(check, kosten, f"{where}, kosten")
    for frist in element.findall(f"{_q('modulFrist')}/{_q('frist')}"):
        check.text(frist, f"{where}, frist", "beschreibung")
        check.pattern(check.text(frist, f"{where}, frist", "dauer", required=False), _DURATION, f"{where}, frist",
                      "dauer", "an ISO 8601 duration")
    for dauer in element.findall(f"{_q('modulBearbeitungsdauer')}/{_q('bearbeitungsdauer')}"):
        inner = f"{where}, bearbeitungsdauer"
        values = [check.text(dauer, inner, name, required=False) for name in ("von", "bis")]
        if not any(values):
            check.add(inner, "give von, bis or both")
        for name, value in zip(("von", "bis"), values, strict=True):
            check.pattern(value, _DURATION, inner, name, "an ISO 8601 duration")
    for reference in element.findall(_q("onlinedienstID")):
        target = (reference.text or "").strip()
        if target not in online_ids:
            check.add(where, f'onlinedienstID "{target}" names no onlinedienst in this document')


def _check_kosten(check: _Check, kosten: ET.Element, where: str) -> None:
    check.text(kosten, where, "beschreibung")
    amount = check.text(kosten, where, "betrag", required=False)
    low = check.text(kosten, where, "betragVon", required=False)
    high = check.text(kosten, where, "betragBis", required=False)
    note = check.text(kosten, where, "hinweis", required=False)
    for name, value in (("betrag", amount), ("betragVon", low), ("betragBis", high)):
        check.pattern(value, _AMOUNT, where, name, "an amount like 12.50")
    if amount is None and (low is None or high is None) and note is None:
        check.add(where, "give betrag, betragVon and betragBis, or a hinweis")
    if amount is not None and (low or high):
        check.add(where, "give either betrag or betragVon/betragBis, not both")
    if low and high and _AMOUNT.fullmatch(low) and _AMOUNT.fullmatch(high) and float(low) > float(high):
        check.add(where, f"betragVon {low} is larger than betragBis {high}")
    if amount is not None or low is not None:
        currency = check.text(kosten, where, "waehrung")
        if currency is not None and currency not in WAEHRUNG:
            check.add(where, f'waehrung "{currency}" is not one of {", ".join(WAEHRUNG)}')


def _check_organisationseinheit(check: _Check, element: ET.Element, unit_ids: set[str],
                                leistung_ids: set[str]) -> set[str]:
    """Checks one office; returns the Leistungen it is responsible for."""
    where = f'organisationseinheit "{element.findtext(_q("id"))}"'
    check.text(element, where, "name")
    parent = check.text(element, where, "uebergeordneteOrganisationseinheitID", required=False)
    if parent is not None and parent not in unit_ids:
        check.add(where, f'uebergeordneteOrganisationseinheitID "{parent}" names no organisationseinheit')
    contact = element.find(_q("kommunikation"))
    if contact is not None:
        check.pattern(check.text(contact, where, "email", required=False), _EMAIL, where, "email",
                      "an e-mail address")
        check.url(check.text(contact, where, "internetadresse", required=False), where, "internetadresse")
    for anschrift in element.findall(_q("anschrift")):
        _check_anschrift(check, anschrift, f"{where}, anschrift")
    found = set()
    for zustaendigkeit in element.findall(_q("zustaendigkeit")):
        inner = f"{where}, zustaendigkeit"
        leistung = check.text(zustaendigkeit, inner, "leistungID")
        if leistung is not None and leistung not in leistung_ids:
            check.add(inner, f'leistungID "{leistung}" names no leistung in this document')
        elif leistung is not None:
            found.add(leistung)
        check.pattern(check.text(zustaendigkeit, inner, "gebietID"), GEBIET_PATTERN, inner, "gebietID",
                      "an area key (AGS 8 or ARS 12 digits)")
        check.code(zustaendigkeit, inner, "rolle", ROLLE)
    return found


def _check_anschrift(check: _Check, anschrift: ET.Element, where: str) -> None:
    check.text(anschrift, where, "strasse")
    check.pattern(check.text(anschrift, where, "postleitzahl"), re.compile(r"[0-9]{5}"), where, "postleitzahl",
                  "a postal code of 5 digits")
    check.text(anschrift, where, "ort")
    check.pattern(check.text(anschrift, where, "gemeindeschluessel", required=False), re.compile(r"[0-9]{8}"), where,
                  "gemeindeschluessel", "an AGS of 8 digits")
    hours = anschrift.find(_q("oeffnungszeiten"))
    if hours is None:
        return
    for zeitraum in hours.findall(_q("zeitraum")):
        check.code(zeitraum, f"{where}, zeitraum", "wochentag", list(WOCHENTAG.values()))
        _check_span(check, zeitraum, f"{where}, zeitraum")
    for sondertag in hours.findall(_q("sondertag")):
        inner = f"{where}, sondertag"
        day = check.text(sondertag, inner, "datum")
        if day is not None:
            try:
                dt.date.fromisoformat(day)
                valid = len(day) == 10
            except ValueError:
                valid = False
            if not valid:
                check.add(inner, f'datum "{day}" is not an ISO date (YYYY-MM-DD)')
        closed = check.text(sondertag, inner, "geschlossen", required=False)
        if closed not in (None, "true"):
            check.add(inner, f'geschlossen "{closed}" is not true (leave it out on open days)')
        if closed is None:
            _check_span(check, sondertag, inner)


def _check_span(check: _Check, element: ET.Element, where: str) -> None:
    start, end = check.text(element, where, "beginn"), check.text(element, where, "ende")
    check.pattern(start, _TIME, where, "beginn", "a time HH:MM:SS")
    check.pattern(end, _TIME, where, "ende", "a time HH:MM:SS")
    if start and end and _TIME.fullmatch(start) and _TIME.fullmatch(end) and start >= end:
        check.add(where, f"beginn {start} is not before ende {end}")
