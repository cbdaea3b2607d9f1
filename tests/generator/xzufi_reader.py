"""A reader of XZuFi 2.2.0 transfer files, written from what the public readers of real PVOG
exports require, not from our writer.

Those readers (a Python reader of the Sammlerdienst files of amt24, service-bw and the PVOG,
and a TypeScript importer of the PVOG Bereitstelldienst) and FITKO's published XZuFi 2.2
examples expect:
- a root with `xzufiVersion` 2.2 or 2.2.0, `produktbezeichnung` and `produkthersteller`; exactly
  one `nachrichtenkopf`; otherwise only `transaktionID`, `transaktionPosition`, `schreibe` and
  `loesche` (with `klasse` and an `id`);
- one object per `schreibe`: leistung, organisationseinheit, zustaendigkeitTransferObjekt,
  spezialisierung or onlinedienst;
- identifiers with `schemeAgencyID` and `schemeID` (ids are unique only with their agency);
- texts with `languageCode` de or en (the PVOG takes no other), HTML in texts only from the
  PVOG's list of tags;
- codes as an element with `listURI` and `listVersionID` and an unqualified child `code`;
- an online service's link typed with list `urn:xoev-de:fim:codeliste:onlinedienstlinktyp`
  code 01, and a link address;
- a Leistung named by text module 03 or 02, with its LeiKa key; an Organisationseinheit named
  by `name/name`, each of its Zuständigkeiten for exactly one Leistung;
- the municipality key as `anschrift/verwaltungspolitischeKodierung/gemeindeschluessel`.
`read` returns the problems found, each as "where: what".
"""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

NS = "http://xoev.de/schemata/xzufi/2_2_0"
ROOT_CHILDREN = {"nachrichtenkopf", "transaktionID", "transaktionPosition", "schreibe", "loesche"}
OBJECTS = {"leistung", "organisationseinheit", "zustaendigkeitTransferObjekt", "spezialisierung", "onlinedienst"}
DELETABLE = {"Leistung", "Organisationseinheit", "Zustaendigkeit", "LeistungSpezialisierung", "Onlinedienst"}
ID_ELEMENTS = {"id", "leistungID", "uebergeordnetesObjektID", "uebergeordneteOrganisationseinheitID"}
TEXT_ELEMENTS = {"inhalt", "bezeichnung", "begriff", "beschreibung", "fachlichFreigegebenDurch", "hinweis"}
LANGUAGES = {"de", "en"}
PVOG_TAGS = {"p", "br", "h1", "h2", "h3", "h4", "h5", "h6", "b", "strong", "i", "em", "sup", "sub", "ul", "ol",
             "li", "a"}
LINK_TYPE = "urn:xoev-de:fim:codeliste:onlinedienstlinktyp:01"
_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)")


def local(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


def parse(document: str) -> ET.Element:
    if re.search(r"<!(DOCTYPE|ENTITY)", document):
        raise ValueError("a DOCTYPE or ENTITY declaration is not allowed")
    return ET.fromstring(document)


def read(document: str) -> list[str]:
    try:
        root = parse(document)
    except (ET.ParseError, ValueError) as error:
        return [f"document: {error}"]
    problems: list[str] = []
    if root.tag.split("}")[0].lstrip("{") != NS:
        problems.append(f"document: namespace {root.tag.split('}')[0].lstrip('{')}, expected {NS}")
    if root.get("xzufiVersion") not in ("2.2", "2.2.0"):
        problems.append(f"document: xzufiVersion is {root.get('xzufiVersion')!r}, expected 2.2.0")
    for name in ("produktbezeichnung", "produkthersteller"):
        if not (root.get(name) or "").strip():
            problems.append(f"document: the root has no {name}")
    heads = [child for child in root if local(child) == "nachrichtenkopf"]
    if len(heads) != 1:
        problems.append(f"document: {len(heads)} nachrichtenkopf, expected exactly one")
    for child in root:
        if local(child) not in ROOT_CHILDREN:
            problems.append(f"document: unexpected {local(child)} under the root")
    for position, entry in enumerate(root.findall(_q("schreibe")), start=1):
        where = f"schreibe {position}"
        if len(entry) != 1 or local(entry[0]) not in OBJECTS:
            problems.append(f"{where}: expected one of {', '.join(sorted(OBJECTS))}, got "
                            f"{[local(c) for c in entry] or 'nothing'}")
            continue
        problems += _object(entry[0], f"{where} ({local(entry[0])})")
    for position, entry in enumerate(root.findall(_q("loesche")), start=1):
        where = f"loesche {position}"
        if entry.get("klasse") not in DELETABLE:
            problems.append(f"{where}: klasse {entry.get('klasse')!r} is not one of {', '.join(sorted(DELETABLE))}")
        if entry.find(_q("id")) is None:
            problems.append(f"{where}: no id")
    problems += _everywhere(root)
    return problems


def _object(element: ET.Element, where: str) -> list[str]:
    kind = local(element)
    found: list[str] = []
    if element.find(_q("id")) is None and kind != "zustaendigkeitTransferObjekt":
        found.append(f"{where}: no id")
    if kind == "leistung":
        names = [m for m in element.findall(_q("modulText"))
                 if m.findtext(f"{_q('leikaTextmodul')}/code") in ("02", "03") and (m.findtext(_q("inhalt")) or "")]
        if not names:
            found.append(f"{where}: no name (text module 03 or 02)")
        key = element.findtext(f"{_q('referenzLeiKa')}/code") or ""
        if not re.fullmatch(r"99\d{12}", key):
            found.append(f"{where}: referenzLeiKa {key!r} is no LeiKa key")
    elif kind == "organisationseinheit":
        if not (element.findtext(f"{_q('name')}/{_q('name')}") or "").strip():
            found.append(f"{where}: no name/name")
        for zustaendigkeit in element.findall(_q("zustaendigkeit")):
            if len(zustaendigkeit.findall(_q("leistungID"))) != 1:
                found.append(f"{where}: a zustaendigkeit without exactly one leistungID")
        for anschrift in element.findall(_q("anschrift")):
            key = anschrift.findtext(f"{_q('verwaltungspolitischeKodierung')}/{_q('gemeindeschluessel')}/code")
            if key is not None and not re.fullmatch(r"\d{8}", key):
                found.append(f"{where}: gemeindeschluessel {key!r} is no AGS")
    elif kind == "onlinedienst":
        links = element.findall(_q("link"))
        if not links:
            found.append(f"{where}: no link")
        for link in links:
            typ = link.find(_q("typ"))
            kind_code = f"{typ.get('listURI')}:{typ.findtext('code')}" if typ is not None else None
            if kind_code != LINK_TYPE:
                found.append(f"{where}: link typ {kind_code!r}, expected {LINK_TYPE}")
            if not (link.findtext(_q("link")) or "").strip():
                found.append(f"{where}: a link without its address")
    elif kind == "zustaendigkeitTransferObjekt" and (
            element.find(_q("uebergeordnetesObjektID")) is None or element.find(_q("zustaendigkeit")) is None):
        found.append(f"{where}: needs uebergeordnetesObjektID and zustaendigkeit")
    return found


def _everywhere(root: ET.Element) -> list[str]:
    found: list[str] = []
    inner_names = {id(child) for parent in root.iter(_q("name")) for child in parent if local(child) == "name"}
    for element in root.iter():
        name = local(element)
        if element.tag == "code":
            continue
        if name in ID_ELEMENTS and element.text and not (element.get("schemeAgencyID") and element.get("schemeID")):
            found.append(f"{name} {element.text.strip()!r}: no schemeAgencyID and schemeID")
        has_code = element.find("code") is not None
        if has_code and not (element.get("listURI") and element.get("listVersionID")):
            found.append(f"{name} code {element.findtext('code')!r}: no listURI and listVersionID")
        if element.find(_q("code")) is not None:
            found.append(f"{name}: code must be unqualified")
        is_text = name in TEXT_ELEMENTS or id(element) in inner_names
        if is_text and element.get("languageCode") not in LANGUAGES:
            found.append(f"{name} {(element.text or '')[:30]!r}: languageCode {element.get('languageCode')!r}")
        if name == "inhalt":
            for tag in _TAG.findall(element.text or ""):
                if tag.lower() not in PVOG_TAGS:
                    found.append(f"inhalt: the PVOG takes no <{tag}>")
    return found


def objects(document: str) -> list[tuple[str, str]]:
    """(kind, id) of every object a document writes."""
    root = parse(document)
    found = []
    for entry in root.findall(_q("schreibe")):
        element = entry[0]
        object_id = element.findtext(_q("id")) or element.findtext(f"{_q('zustaendigkeit')}/{_q('id')}") or ""
        found.append((local(element), object_id.strip()))
    return found


def deleted(document: str) -> list[tuple[str, str]]:
    root = parse(document)
    return [(entry.get("klasse") or "", (entry.findtext(_q("id")) or "").strip()) for entry in root.findall(_q("loesche"))]
