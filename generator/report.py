"""`build.py bericht`: for editors, per municipality, how much of what the portal says is sourced
(issue 17): files and values with a source, checks that are too old, examples, and services that
lack a LeiKa key, a text in Leichte Sprache or opening hours of the office that does them.

Pure: reads validated content and its Catalogs, returns lines of German text.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field

from .catalog import Catalog
from .models import Fee, Sourced
from .validation.content import MunicipalityContent, ValidContent
from .validation.provenance import months_before, municipality_files, shared_files

WIDTH = 100


@dataclass
class Tally:
    """What the files of one group say about their sources."""

    files: int = 0
    sourced: int = 0
    stale: list[str] = field(default_factory=list)
    example_files: list[str] = field(default_factory=list)
    example_fields: list[str] = field(default_factory=list)
    fees: int = 0
    sourced_fees: int = 0
    example_fees: int = 0


def _fees(model: Sourced) -> Iterable[Fee]:
    return getattr(model, "fees", None) or ()


def tally(files: Iterable[tuple[str, Sourced]], oldest: dt.date) -> Tally:
    result = Tally()
    for name, model in files:
        result.files += 1
        result.sourced += bool(model.quellen)
        if model.geprueft_am is not None and model.geprueft_am < oldest:
            result.stale.append(f"{name} ({model.geprueft_am.isoformat()})")
        if model.beispiel:
            result.example_files.append(name)
        result.example_fields += [f"{name}: {field_name}" for field_name in model.beispiel_felder]
        for fee in _fees(model):
            result.fees += 1
            result.sourced_fees += fee.source is not None
            result.example_fees += fee.example
    return result


def _listed(label: str, items: list[str], total: int | None = None) -> list[str]:
    count = f"{len(items)} von {total}" if total is not None else f"{len(items)}"
    if not items:
        return [f"  {label}: {count}"]
    return textwrap.wrap(f"{label}: {count}: {', '.join(items)}", WIDTH, initial_indent="  ",
                         subsequent_indent="      ", break_on_hyphens=False)


def _tally_lines(t: Tally, max_age_months: int) -> list[str]:
    lines = [f"  Dateien mit Quellenangabe: {t.sourced} von {t.files}"]
    if t.fees:
        lines.append(f"  Gebühren mit eigener Quelle: {t.sourced_fees} von {t.fees}")
    lines += _listed(f"Seit mehr als {max_age_months} Monaten nicht geprüft", t.stale)
    lines += _listed("Dateien, die ganz Beispiel sind", t.example_files)
    lines += _listed("Felder mit Beispielangaben", t.example_fields)
    if t.example_fees:
        lines.append(f"  Gebühren als Beispiel gekennzeichnet: {t.example_fees}")
    return lines


def _name(doc_rel: str) -> str:
    return doc_rel.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def _easy_read_links(content: MunicipalityContent) -> str:
    """The text of the municipality's pages in Leichte Sprache (pages/leichte-sprache*.md)."""
    return "\n".join(page.path.read_text(encoding="utf-8") for page in content.pages
                     if page.path.stem.startswith("leichte-sprache"))


def _without_hours(catalog: Catalog) -> list[str]:
    """Services one of whose responsible offices shows no opening hours (no location, or none with hours)."""
    found = []
    for sid, entry in catalog.services.items():
        for resp in entry.responsibilities:
            if not any(catalog.locations[lid].opening_hours for lid in resp.location_ids):
                found.append(sid)
                break
    return found


def report(valid: ValidContent, catalogs: dict[str, Catalog], only: str | None = None, *,
           today: dt.date | None = None, max_age_months: int = 12) -> list[str]:
    oldest = months_before(today or dt.date.today(), max_age_months)
    lines = [f"Bericht über Quellen und Lücken (veraltet: vor mehr als {max_age_months} Monaten geprüft)", ""]
    lines.append("Gemeinsame Leistungsbeschreibungen (content/services/)")
    lines += _tally_lines(tally([(_name(doc.rel), model) for doc, model in shared_files(valid)], oldest),
                          max_age_months)
    for slug, content in sorted(valid.municipalities.items()):
        if only is not None and slug != only:
            continue
        catalog = catalogs[slug]
        lines += ["", f"{content.municipality.name} ({slug})"]
        files = [(_name(doc.rel) if doc is not content.doc else "municipality", model)
                 for doc, model in municipality_files(content)]
        lines += _tally_lines(tally(files, oldest), max_age_months)
        services = catalog.services
        total = len(services)
        lines += _listed("Leistungen ohne LeiKa-Schlüssel",
                         [sid for sid, entry in services.items() if not entry.service.leika], total)
        easy = _easy_read_links(content)
        lines += _listed("Leistungen ohne Text in Leichter Sprache",
                         [sid for sid in services if f"leistungen/{sid}/" not in easy], total)
        lines += _listed("Leistungen, deren zuständige Stelle keine Öffnungszeiten zeigt", _without_hours(catalog),
                         total)
    return lines


__all__ = ["Tally", "report", "tally"]
