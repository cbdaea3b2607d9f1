"""One municipality's Catalog as XZuFi 2.2.0 objects: Leistungen, Organisationseinheiten (with
the Zuständigkeiten they hold), Onlinedienste and the Zuständigkeiten that tie an online
service to its areas.

The structure follows what the public readers of real PVOG exports expect (see
tests/generator/xzufi_reader.py): a root with `xzufiVersion`, `produktbezeichnung` and
`produkthersteller`; one `nachrichtenkopf`; every object wrapped in `schreibe` (and `loesche`
for what disappeared, see changes.py); multilingual texts with `languageCode`; identifiers with
`schemeAgencyID` and `schemeID`; codes from published lists (codes.py). The root element's
name and the order of children follow our best reading; the official XSD could not be
obtained here.

Only services that this municipality performs (level kommune or kreis) and that have a LeiKa
key are exported: PVOG matches services by that key, and state and federal services are
published by the state and the federation themselves. Values marked as examples (issue 17)
are never published.
"""

from __future__ import annotations

import copy
import re
import uuid
from dataclasses import dataclass
from html import escape
from xml.etree import ElementTree as ET

from portal.text import duration_text, fee_text, markdown

from ..catalog import Catalog, ServiceEntry
from ..models import WEEKDAYS, Address, Duration, Fee, Location, Town, Unit
from . import codes
from .codes import CodeList

XZUFI_NS = "http://xoev.de/schemata/xzufi/2_2_0"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XZUFI_VERSION = "2.2.0"
PRODUCT = "Bürgerportal"
MAKER = "Bürgerportal – Open-Source-Projekt"
LANGUAGE = "de"
SCHEME_ID = "urn:de:buergerportal:xzufi:id"  # our identifiers, unique per municipality (schemeAgencyID)
# The prefixes are registered once, at import: the fingerprints of objects (changes.py) are
# taken from their serialisation, which must not depend on whether a document was written before.
ET.register_namespace("xzufi", XZUFI_NS)
ET.register_namespace("xsi", XSI_NS)
# Weekdays as in ISO 8601: 1 Monday … 7 Sunday.
WOCHENTAG: dict[str, str] = {day: str(number) for number, day in enumerate(WEEKDAYS, start=1)}
# The fields a text module is made from: a module whose field is an example is left out.
_MODULE_FIELDS = {"09": "prerequisites", "08": "documents", "11": "procedure", "07": "legal_basis", "16": "hints"}


def q(name: str) -> str:
    return f"{{{XZUFI_NS}}}{name}"


def add(parent: ET.Element, name: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, q(name), attributes)
    if text is not None:
        element.text = text
    return element


def text(parent: ET.Element, name: str, value: str) -> ET.Element:
    """A text in a language (every text of XZuFi carries its language)."""
    return add(parent, name, value, languageCode=LANGUAGE)


def code(parent: ET.Element, name: str, value: str, codelist: CodeList) -> ET.Element:
    """An XÖV code: the element names its list and version, its unqualified child the value."""
    element = add(parent, name, listURI=codelist.uri, listVersionID=codelist.version)
    ET.SubElement(element, "code").text = value
    return element


@dataclass(frozen=True)
class Ids:
    """Our identifiers: unique within the municipality, which is their scheme agency."""

    slug: str

    @property
    def agency(self) -> str:
        return f"buergerportal:{self.slug}"

    def add(self, parent: ET.Element, name: str, value: str) -> ET.Element:
        return add(parent, name, value, schemeAgencyID=self.agency, schemeID=SCHEME_ID)

    def leistung(self, sid: str) -> str:
        return f"{self.slug}.leistung.{sid}"

    def unit(self, uid: str) -> str:
        return f"{self.slug}.organisationseinheit.{uid}"

    def online(self, kind: str, key: str) -> str:
        return f"{self.slug}.onlinedienst.{kind}.{key}"

    def zustaendigkeit(self, owner: str, sid: str, gebiet: str) -> str:
        return f"{self.slug}.zustaendigkeit.{owner}.{sid}.{gebiet}"


@dataclass(frozen=True)
class XObject:
    """One object of the export: its class (as `loesche` names it), id and element."""

    klasse: str
    id: str
    element: ET.Element


@dataclass(frozen=True)
class _Onlinedienst:
    id: str
    name: str
    url: str
    title: str
    service_id: str


def objects(catalog: Catalog, base_url: str) -> list[XObject]:
    """Every object of the municipality's export, in a stable order."""
    base = base_url.rstrip("/")
    ids = Ids(catalog.slug)
    areas = {sid: _areas(catalog, entry) for sid, entry in catalog.services.items()}
    exported = [entry for sid, entry in catalog.services.items() if entry.service.leika and areas[sid]]
    found: list[XObject] = []
    online: list[_Onlinedienst] = []
    for entry in exported:
        online += _onlinedienste(catalog, entry, base, ids)
        found.append(XObject("Leistung", ids.leistung(entry.id), _leistung(catalog, entry, base, ids)))
    for uid, unit in catalog.units.items():
        zustaendig = [(entry.id, gebiet) for entry in exported for unit_id, gebiet in areas[entry.id] if unit_id == uid]
        found.append(XObject("Organisationseinheit", ids.unit(uid),
                             _organisationseinheit(catalog, uid, unit, base, ids, zustaendig)))
    for service in online:
        found.append(XObject("Onlinedienst", service.id, _onlinedienst(service, ids)))
        for gebiet in sorted({g for _unit, g in areas[service.service_id]}):
            zid = ids.zustaendigkeit(service.id, service.service_id, gebiet)
            found.append(XObject("Zustaendigkeit", zid, _online_zustaendigkeit(service, gebiet, zid, ids)))
    return found


def document(catalog: Catalog, schreibe: list[XObject], loesche: list[tuple[str, str]], fingerprint: str) -> str:
    """A transfer document: the header, then `schreibe` per object and `loesche` per (class, id)."""
    ids = Ids(catalog.slug)
    root = ET.Element(q("transfer"), {"xzufiVersion": XZUFI_VERSION, "produktbezeichnung": PRODUCT,
                                      "produkthersteller": MAKER})
    head = add(root, "nachrichtenkopf")
    # The same content gives the same message id, so an unchanged export stays byte-identical.
    add(head, "nachrichtUUID", str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ids.agency}:{fingerprint}")))
    sender = add(head, "sender")
    text(sender, "name", catalog.municipality.name)
    code(sender, "gemeindeschluessel", catalog.municipality.ags, codes.AGS)
    for item in schreibe:  # a copy: the objects are shared by the full export and the change set
        add(root, "schreibe").append(copy.deepcopy(item.element))
    for klasse, object_id in loesche:
        ids.add(add(root, "loesche", klasse=klasse), "id", object_id)
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


def _onlinedienste(catalog: Catalog, entry: ServiceEntry, base: str, ids: Ids) -> list[_Onlinedienst]:
    s, found = entry.service, []
    online = s.online
    if entry.form_enabled and online and online.form and online.form in catalog.forms:
        form = catalog.forms[online.form].form
        found.append(_Onlinedienst(ids.online("antrag", online.form), form.title,
                                   f"{base}/{catalog.slug}/antrag/{online.form}/", "Antrag online stellen", entry.id))
    if entry.booking and entry.appointment:
        found.append(_Onlinedienst(ids.online("termin", entry.id), f"Termin buchen: {s.name}",
                                   f"{base}/{catalog.slug}/termine/{entry.id}/", "Termin online buchen", entry.id))
    return found


def _leistung(catalog: Catalog, entry: ServiceEntry, base: str, ids: Ids) -> ET.Element:
    s = entry.service
    leika = s.leika or ""
    element = ET.Element(q("leistung"))
    ids.add(element, "id", ids.leistung(entry.id))
    struktur = add(element, "struktur", **{f"{{{XSI_NS}}}type": "xzufi:LeistungsstrukturObjekt"})
    add(struktur, "leistungsobjektID", leika[:8] + "000000", schemeID=codes.LEIKA.uri, schemeName="LeiKa")
    code(element, "referenzLeiKa", leika, codes.LEIKA)
    for position, (module, content, links) in enumerate(_texts(catalog, entry, base), start=1):
        modul = add(element, "modulText")
        add(modul, "positionDarstellung", str(position))
        text(modul, "inhalt", content)
        code(modul, "leikaTextmodul", module, codes.TEXTMODUL)
        for url, title in links:
            link = add(modul, "weiterfuehrenderLink", languageCode=LANGUAGE)
            add(link, "uri", url)
            add(link, "titel", title)
    if s.deadlines and not entry.is_example("deadlines"):
        modul = add(element, "modulFrist")
        text(modul, "beschreibung", " ".join(d.description for d in s.deadlines))
        for deadline in s.deadlines:
            if deadline.value is not None and deadline.unit is not None:
                _dauer(add(modul, "frist"), "dauer", deadline.value, deadline.unit)
    fees = [] if entry.is_example("fees") else [fee for fee in entry.fees if not fee.example]
    if fees:
        modul = add(element, "modulKosten")
        text(modul, "beschreibung", " ".join(_fee_words(fee) for fee in fees))
        for fee in fees:
            _kosten(modul, fee)
    if entry.processing_time and not entry.is_example("processing_time"):
        _bearbeitungsdauer(add(element, "modulBearbeitungsdauer"), entry.processing_time)
    if s.synonyms:  # not search_only: typos and colloquial words serve our search only
        modul = add(element, "modulBegriffImKontext")
        for synonym in s.synonyms:
            begriff = add(modul, "begriffImKontext")
            text(begriff, "begriff", synonym)
            code(begriff, "typ", codes.SYNONYM, codes.BEGRIFFTYP)
    if s.geprueft_am is not None:  # the day an editor last compared the facts with their sources
        freigabe = add(element, "modulFachlicheFreigabe")
        add(freigabe, "fachlichFreigegebenAm", s.geprueft_am.isoformat())
        text(freigabe, "fachlichFreigegebenDurch", catalog.municipality.name)
    if s.typisierung:
        code(element, "typisierung", s.typisierung, codes.TYPISIERUNG)
    version = add(element, "versionsinformation")
    if s.geprueft_am is not None:
        add(version, "geaendertDatumZeit", f"{s.geprueft_am.isoformat()}T00:00:00")
    sprache = add(element, "sprachversion")
    add(sprache, "languageCode", LANGUAGE)
    add(sprache, "sprachbezeichnungDeutsch", "Deutsch")
    add(sprache, "sprachbezeichnungNativ", "Deutsch")
    return element


def _texts(catalog: Catalog, entry: ServiceEntry, base: str) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(module code, content, further links) of every text module that has content."""
    s = entry.service
    page = f"{base}/{catalog.slug}/leistungen/{entry.id}/"
    hints = "\n\n".join(part for part in (s.hints, entry.notes) if part)
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
    return [(module, content, links) for module, content, links in texts
            if content and not entry.is_example(_MODULE_FIELDS.get(module, ""))]


def _html(value: str | None, base: str) -> str:
    # Links inside our Markdown may be site paths; a service finder needs whole addresses.
    return str(markdown(value)).replace('href="/', f'href="{base}/').strip() if value else ""


def _html_list(items: list[str], ordered: bool = False) -> str:
    if not items:
        return ""
    tag = "ol" if ordered else "ul"
    return f"<{tag}>" + "".join(f"<li>{escape(item)}</li>" for item in items) + f"</{tag}>"


def _amount(value: float) -> str:
    return f"{value:.2f}"


def _fee_words(fee: Fee) -> str:
    return f"{fee.label}: {fee_text(fee)}."


def _kosten(module: ET.Element, fee: Fee) -> None:
    kosten = add(module, "kosten")
    text(kosten, "beschreibung", fee.label)
    if fee.amount is not None:
        add(kosten, "betrag", _amount(fee.amount))
    elif fee.amount_min is not None and fee.amount_max is not None:
        add(kosten, "betragVon", _amount(fee.amount_min))
        add(kosten, "betragBis", _amount(fee.amount_max))
    if fee.amount is not None or fee.amount_min is not None:
        code(kosten, "waehrung", "EUR", codes.WAEHRUNG)
    if fee.note:
        text(kosten, "hinweis", fee.note)


def _dauer(parent: ET.Element, name: str, value: float, unit: str) -> None:
    """A duration as a number with a unit code (not an ISO string)."""
    element = add(parent, name)
    add(element, "wert", str(int(value)) if float(value).is_integer() else str(value))
    code(element, "einheit", codes.UNIT_CODES[unit], codes.ZEITEINHEIT)


def _bearbeitungsdauer(module: ET.Element, duration: Duration) -> None:
    text(module, "beschreibung", duration.note or duration_text(duration))
    element = add(module, "bearbeitungsdauer")
    if duration.min is not None:
        _dauer(element, "von", duration.min, duration.unit)
    if duration.max is not None:
        _dauer(element, "bis", duration.max, duration.unit)


def _organisationseinheit(catalog: Catalog, uid: str, unit: Unit, base: str, ids: Ids,
                          zustaendig: list[tuple[str, str]]) -> ET.Element:
    element = ET.Element(q("organisationseinheit"), {f"{{{XSI_NS}}}type": "xzufi:OrganisationseinheitErweitert"})
    ids.add(element, "id", ids.unit(uid))
    text(add(element, "name"), "name", unit.name)
    if unit.parent:
        ids.add(element, "uebergeordneteOrganisationseinheitID", ids.unit(unit.parent))
    contact = add(element, "kommunikation")
    if unit.phone and not unit.is_example("phone"):
        add(contact, "telefon", unit.phone)
    if unit.email and not unit.is_example("email"):
        add(contact, "email", unit.email)
    own_site = unit.website if not unit.is_example("website") else None
    add(contact, "internetadresse", own_site or f"{base}/{catalog.slug}/organisation/{uid}/")
    for lid in unit.locations:
        if not catalog.locations[lid].is_example("address"):  # an example address is no address
            _anschrift(element, catalog, catalog.locations[lid])
    for sid, gebiet in zustaendig:
        zustaendigkeit = add(element, "zustaendigkeit")
        ids.add(zustaendigkeit, "id", ids.zustaendigkeit(uid, sid, gebiet))
        ids.add(zustaendigkeit, "leistungID", ids.leistung(sid))
        code(zustaendigkeit, "gebietID", gebiet, codes.AGS)
        code(zustaendigkeit, "rolle", codes.ZUSTAENDIGE_STELLE, codes.ROLLE)
    return element


def _onlinedienst(service: _Onlinedienst, ids: Ids) -> ET.Element:
    element = ET.Element(q("onlinedienst"))
    ids.add(element, "id", service.id)
    text(element, "bezeichnung", service.name)
    link = add(element, "link", languageCode=LANGUAGE)
    code(link, "typ", codes.LINK_ZUM_DIENST, codes.ONLINEDIENSTLINKTYP)
    add(link, "link", service.url)
    add(link, "titel", service.title)
    sprache = add(element, "sprachversion")
    add(sprache, "languageCode", LANGUAGE)
    return element


def _online_zustaendigkeit(service: _Onlinedienst, gebiet: str, zid: str, ids: Ids) -> ET.Element:
    """Ties an online service to an area for a Leistung (the online-service kind of Zuständigkeit)."""
    element = ET.Element(q("zustaendigkeitTransferObjekt"))
    ids.add(element, "uebergeordnetesObjektID", service.id)
    zustaendigkeit = add(element, "zustaendigkeit")
    add(zustaendigkeit, "id", zid, schemeAgencyID=ids.agency, schemeID="urn:de:buergerportal:xzufi:onlinedienst")
    ids.add(zustaendigkeit, "leistungID", ids.leistung(service.service_id))
    code(zustaendigkeit, "gebietID", gebiet, codes.AGS)
    return element


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
    element = add(parent, "anschrift")
    code(element, "typ", codes.HAUSANSCHRIFT, codes.ANSCHRIFTTYP)
    text(element, "bezeichnung", location.name)
    street, number = _street_and_number(location.address)
    add(element, "strasse", street)
    if number:
        add(element, "hausnummer", number)
    add(element, "postleitzahl", location.address.postal_code)
    add(element, "ort", location.address.city)
    key = gemeindeschluessel(catalog, location)
    if key:
        code(add(element, "verwaltungspolitischeKodierung"), "gemeindeschluessel", key, codes.AGS)
    if location.geo and not location.is_example("geo"):
        geo = add(element, "geokoordinaten")
        add(geo, "breite", f"{location.geo.lat}")
        add(geo, "laenge", f"{location.geo.lon}")
    _hours(element, location)


def _hours(parent: ET.Element, location: Location) -> None:
    regular = [] if location.is_example("opening_hours") else location.opening_hours
    exceptions = [] if location.is_example("exceptions") else location.exceptions
    if not (regular or exceptions):
        return
    hours = add(parent, "oeffnungszeiten")
    for day in WEEKDAYS:
        for span in sorted((h.opens, h.closes) for h in regular if day in h.days):
            zeitraum = add(hours, "zeitraum")
            code(zeitraum, "wochentag", WOCHENTAG[day], codes.WOCHENTAG)
            add(zeitraum, "beginn", f"{span[0]}:00")
            add(zeitraum, "ende", f"{span[1]}:00")
    for exception in exceptions:
        sondertag = add(hours, "sondertag")
        add(sondertag, "datum", exception.date.isoformat())
        if exception.closed:
            add(sondertag, "geschlossen", "true")
        else:
            add(sondertag, "beginn", f"{exception.opens}:00")
            add(sondertag, "ende", f"{exception.closes}:00")
        if exception.note:
            text(sondertag, "hinweis", exception.note)
    add(hours, "geschlossenAnFeiertagen", "true" if location.closed_on_public_holidays else "false")
