"""The rules of our XZuFi export (generator/xzufi.py), checked on the written document.

The official XSD could not be obtained here, so `xzufi_problems` checks the rules that
DOMAIN.md and the XZuFi structure justify: required elements, LeiKa key and area key
formats, codes from the lists of generator/xzufi.py and below, unique ids and references
that resolve, ISO dates, times and durations, and absolute https addresses.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Collection
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from generator.models import TYPISIERUNG
from generator.xzufi import LEIKA_LIST_URI, ROLLE, TEXTMODULE, WOCHENTAG, XZUFI_NS, XZUFI_VERSION
from portal.levels import LEVELS

LEIKA_PATTERN = re.compile(r"99[0-9]{12}")
# Area keys (gebietID): the official municipality key AGS (8 digits) or the regional key ARS (12).
GEBIET_PATTERN = re.compile(r"[0-9]{8}|[0-9]{12}")
REQUIRED_TEXTMODULE = "02"
# Trust levels (ARCHITECTURE.md); "basis" is the portal account, which is no eIDAS level.
VERTRAUENSNIVEAU: tuple[str, ...] = LEVELS  # portal.levels: "basis" is the portal account, no eIDAS level
WAEHRUNG: tuple[str, ...] = ("EUR",)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")  # development builds; never published


def _q(name: str) -> str:
    return f"{{{XZUFI_NS}}}{name}"


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
