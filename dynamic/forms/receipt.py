"""The receipt as PDF (fpdf2): reference, time, office and the answers.

The text is set in DejaVu Sans (Debian package fonts-dejavu-core, installed by `./dev setup`),
embedded as a subset, so every name prints as typed: Ayşe, Łukasz, Nguyễn Văn An, Ελένη,
Сергей. Without the font the built-in Helvetica is used, which knows Latin-1 only."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from fpdf import FPDF

from portal.levels import level_of

from ..platform.render import BERLIN

log = logging.getLogger(__name__)

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")  # Debian: fonts-dejavu-core
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}

# The built-in PDF fonts know Latin-1 only; these are the characters outside it that our
# German texts use.
REPLACE = str.maketrans({"–": "-", "—": "-", "„": '"', "“": '"', "”": '"', "‚": "'", "‘": "'", "’": "'",
                         "…": "...", "€": "EUR", "\u00a0": " "})


def _latin(text: str) -> str:
    return text.translate(REPLACE).encode("latin-1", "replace").decode("latin-1")


class _Document(FPDF):  # type: ignore[misc]
    """An A4 page in the Unicode font where it is installed."""

    def __init__(self) -> None:
        super().__init__(format="A4")
        self._unicode_font = all((FONT_DIR / name).is_file() for name in FONT_FILES.values())
        if self._unicode_font:
            for style, name in FONT_FILES.items():
                self.add_font("DejaVu", style, str(FONT_DIR / name))
        else:
            log.warning("PDF font %s missing: names outside Latin-1 print as '?'", FONT_DIR)
        self._family = "DejaVu" if self._unicode_font else "Helvetica"

    def clean(self, value: str) -> str:
        return value if self._unicode_font else _latin(value)

    def use(self, bold: str, size: float) -> None:
        self.set_font(self._family, bold, size)

    def line_of(self, height: float, value: str) -> None:
        self.multi_cell(0, height, self.clean(value), new_x="LMARGIN", new_y="NEXT")


def receipt_pdf(municipality: str, reference: str, submitted_at: dt.datetime, copy: dict[str, Any]) -> bytes:
    pdf = _Document()
    pdf.set_title(pdf.clean(f"Eingangsbestätigung {reference}"))
    pdf.set_author(pdf.clean(municipality))
    pdf.set_creator("Bürgerportal")
    pdf.set_lang("de")
    pdf.add_page()
    pdf.use("B", 16)
    pdf.line_of(8, "Eingangsbestätigung")
    pdf.use("", 11)
    pdf.ln(2)
    when = submitted_at.astimezone(BERLIN).strftime("%d.%m.%Y um %H:%M Uhr")
    for line in (f"{copy['office']}, {municipality}", f"Antrag: {copy['title']}", f"Vorgangsnummer: {reference}",
                 f"Eingegangen am {when}"):
        pdf.line_of(6, line)
    pdf.ln(4)
    pdf.use("B", 12)
    pdf.line_of(7, "Ihre Angaben")
    for answer in copy["answers"]:
        pdf.use("B", 10)
        pdf.line_of(5, answer["label"])
        pdf.use("", 10)
        pdf.line_of(5, answer["text"])
        pdf.ln(1.5)
    pdf.ln(4)
    pdf.use("", 9)
    pdf.line_of(5, "Diese Bestätigung wurde automatisch erstellt. Antworten der Stelle erhalten Sie in Ihrem "
                   "Postfach im Bürgerportal.")
    return bytes(pdf.output())


def application_pdf(payload: dict[str, Any]) -> bytes:
    """The whole application for the office's e-file (the payload as `delivery.send` builds
    it): form title and version, reference, office, time, trust level, then every answer by
    step with its label, and the attached files."""
    reference = payload["reference"]
    form, office = payload["form"], payload["office"]
    place = payload.get("municipality_name") or payload["municipality"]
    pdf = _Document()
    pdf.set_title(pdf.clean(f"Antrag {reference}: {form['title']}"))
    pdf.set_author(pdf.clean(place))
    pdf.set_creator("Bürgerportal")
    pdf.set_lang("de")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.use("B", 16)
    pdf.line_of(8, form["title"])
    pdf.use("", 11)
    pdf.ln(2)
    when = dt.datetime.fromisoformat(payload["submitted_at"]).astimezone(BERLIN).strftime("%d.%m.%Y um %H:%M Uhr")
    identification = payload["identification"]
    named = level_of(identification["trust_level"])
    level = named.row.record if named is not None else identification["trust_level"]
    for line in (f"Vorgangsnummer: {reference}", f"Formular: {form['id']}, Version {form['version']}",
                 f"Empfangende Stelle: {office['name']}, {place}", f"Eingegangen am {when}",
                 f"Identifiziert mit Vertrauensniveau {level} ({identification['means']})"):
        pdf.line_of(6, line)
    step = None
    for answer in payload["answers"]:
        if answer["step"] != step:
            step = answer["step"]
            pdf.ln(3)
            pdf.use("B", 12)
            pdf.line_of(7, step)
        pdf.use("B", 10)
        pdf.line_of(5, answer["label"] + (" (bestätigt)" if answer.get("verified") else ""))
        pdf.use("", 10)
        pdf.line_of(5, answer["text"] or "-")
        pdf.ln(1.5)
    if payload.get("files"):
        pdf.ln(3)
        pdf.use("B", 12)
        pdf.line_of(7, "Anlagen")
        pdf.use("", 10)
        for file in payload["files"]:
            size = f"{file['size']:,}".replace(",", ".")
            pdf.line_of(5, f"{file['name']} ({file['content_type']}, {size} Bytes)")
            if file.get("sha512"):
                pdf.set_font("Courier", "", 7)
                pdf.multi_cell(0, 3.5, f"SHA-512: {file['sha512']}", new_x="LMARGIN", new_y="NEXT")
                pdf.use("", 10)
    pdf.ln(4)
    pdf.use("", 9)
    pdf.line_of(5, "Automatisch erstellt vom Bürgerportal beim Absenden des Antrags.")
    return bytes(pdf.output())
