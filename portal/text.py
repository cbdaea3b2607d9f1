"""German formatting of values for pages and mails: money, durations, dates, weekdays, Markdown."""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from typing import Protocol

import markdown as md
import nh3
from markupsafe import Markup


class Fee(Protocol):
    """A fee as content and the katalog describe it."""

    @property
    def amount(self) -> float | None: ...
    @property
    def amount_min(self) -> float | None: ...
    @property
    def amount_max(self) -> float | None: ...
    @property
    def note(self) -> str | None: ...


class Duration(Protocol):
    """A span of time as content and the katalog describe it."""

    @property
    def unit(self) -> str: ...
    @property
    def min(self) -> float | None: ...
    @property
    def max(self) -> float | None: ...


WEEKDAY_NAMES = {
    "mo": "Montag",
    "tu": "Dienstag",
    "we": "Mittwoch",
    "th": "Donnerstag",
    "fr": "Freitag",
    "sa": "Samstag",
    "su": "Sonntag",
}
WEEKDAY_SHORT = {"mo": "Mo", "tu": "Di", "we": "Mi", "th": "Do", "fr": "Fr", "sa": "Sa", "su": "So"}
SCHEMA_DAYS = {
    "mo": "Monday",
    "tu": "Tuesday",
    "we": "Wednesday",
    "th": "Thursday",
    "fr": "Friday",
    "sa": "Saturday",
    "su": "Sunday",
}
UNIT_NAMES = {
    "minutes": ("Minute", "Minuten"),
    "hours": ("Stunde", "Stunden"),
    "days": ("Tag", "Tage"),
    "weeks": ("Woche", "Wochen"),
    "months": ("Monat", "Monate"),
    "years": ("Jahr", "Jahre"),
}
MONTHS = (
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
)
LEVEL_NAMES = {
    "kommune": "Stadt oder Gemeinde",
    "kreis": "Kreis oder kreisfreie Stadt",
    "land": "Land Nordrhein-Westfalen",
    "bund": "Bund",
}
TOPICS = {
    "citizens_office": "Ausweise, Pässe und Meldewesen",
    "registry_office": "Standesamt und Urkunden",
    "elections": "Wahlen",
    "lost_property": "Fundsachen",
    "public_order": "Ordnung und öffentlicher Raum",
    "trade": "Gewerbe",
    "tax": "Steuern und Abgaben",
    "waste": "Abfall",
    "building": "Bauen",
    "planning": "Stadtplanung und Umwelt",
    "road_traffic": "Fahrzeuge und Zulassung",
    "driving_licences": "Führerschein",
    "foreigners": "Aufenthalt und Zuwanderung",
    "naturalisation": "Einbürgerung",
    "youth": "Kinder, Jugend und Familie",
    "social": "Soziale Hilfen",
    "housing": "Wohnen",
    "health": "Gesundheit",
    "parental_allowance": "Elterngeld",
    "disability": "Menschen mit Behinderung",
    "general": "Allgemeine Verwaltung",
}
def weekday(day: str) -> str | None:
    """'mo' → 'Montag'."""
    return WEEKDAY_NAMES.get(day)


def german_list(items: list[str]) -> str:
    """['A', 'B', 'C'] → 'A, B und C'."""
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} und {items[-1]}"


def euro(amount: float) -> str:
    whole, cents = f"{amount:,.2f}".split(".")
    return f"{whole.replace(',', '.')},{cents} €"


def fee_text(fee: Fee) -> str:
    if fee.amount is not None:
        return "gebührenfrei" if fee.amount == 0 else euro(fee.amount)
    if fee.amount_min is not None and fee.amount_max is not None:
        return f"{euro(fee.amount_min)} bis {euro(fee.amount_max)}"
    return fee.note or ""


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value}".replace(".", ",")


def amount_of(value: float, unit: str) -> str:
    one, many = UNIT_NAMES[unit]
    return f"{number(value)} {one if value == 1 else many}"


def duration_text(duration: Duration) -> str:
    one, many = UNIT_NAMES[duration.unit]
    if duration.min is not None and duration.max is not None and duration.min != duration.max:
        return f"{number(duration.min)} bis {number(duration.max)} {many}"
    value = duration.max if duration.max is not None else duration.min
    assert value is not None
    prefix = "bis zu " if duration.min is None else ("mindestens " if duration.max is None else "")
    return prefix + amount_of(value, duration.unit)


def date_de(value: dt.date) -> str:
    return f"{value.day}. {MONTHS[value.month - 1]} {value.year}"


def days_text(days: list[str]) -> str:
    """['mo','tu','we'] → 'Montag bis Mittwoch'; ['mo','we'] → 'Montag, Mittwoch'."""
    order = list(WEEKDAY_NAMES)
    idx = sorted(order.index(d) for d in days)
    if len(idx) > 2 and idx == list(range(idx[0], idx[-1] + 1)):
        return f"{WEEKDAY_NAMES[order[idx[0]]]} bis {WEEKDAY_NAMES[order[idx[-1]]]}"
    return ", ".join(WEEKDAY_NAMES[order[i]] for i in idx)


_converter = md.Markdown(extensions=["sane_lists"], output_format="html")

# What editors' Markdown may become on a page. Everything else is removed: other elements
# (scripts and styles with their content), event handlers, styles, targets and addresses
# other than web, mail and phone links. The page's own h1, forms and images from other
# servers therefore cannot come from content.
EDITOR_TAGS = {"p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "a", "strong", "em", "b", "i", "code", "pre",
               "blockquote", "br", "hr", "abbr", "dl", "dt", "dd", "table", "thead", "tbody", "tr", "th", "td"}
EDITOR_ATTRIBUTES = {"a": {"href", "title", "hreflang"}, "abbr": {"title"}, "ol": {"start"},
                     "th": {"scope", "colspan", "rowspan"}, "td": {"colspan", "rowspan"}}
EDITOR_URL_SCHEMES = {"http", "https", "mailto", "tel"}


def safe_html(html: str | None) -> Markup:
    """HTML from content, reduced to what editors' Markdown may contain (see EDITOR_TAGS)."""
    if not html:
        return Markup("")
    return Markup(nh3.clean(str(html), tags=EDITOR_TAGS, attributes=EDITOR_ATTRIBUTES,
                            url_schemes=EDITOR_URL_SCHEMES, link_rel=None))


@lru_cache(maxsize=8192)
def markdown(text: str | None) -> Markup:
    """Markdown to safe HTML. One converter is reused (building one costs more than converting)."""
    if not text:
        return Markup("")
    return safe_html(_converter.reset().convert(text))


def ld_json(data: object) -> Markup:
    """JSON-LD for a script block: '</' cannot close the block early."""
    if isinstance(data, list):
        data = {"@context": "https://schema.org", "@graph": data}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    return Markup(text)
