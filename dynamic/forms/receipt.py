"""The receipt as PDF (fpdf2, built-in fonts): reference, time, office and the answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fpdf import FPDF

from ..render import BERLIN

# The built-in PDF fonts know Latin-1 only; these are the characters outside it that our
# German texts use.
REPLACE = str.maketrans({"–": "-", "—": "-", "„": '"', "“": '"', "”": '"', "‚": "'", "‘": "'", "’": "'",
                         "…": "...", "€": "EUR", "\u00a0": " "})


def _latin(text: str) -> str:
    return text.translate(REPLACE).encode("latin-1", "replace").decode("latin-1")


def receipt_pdf(municipality: str, reference: str, submitted_at: dt.datetime, copy: dict[str, Any]) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(_latin(f"Eingangsbestätigung {reference}"))
    pdf.set_author(_latin(municipality))
    pdf.set_creator("Bürgerportal")
    pdf.set_lang("de")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 8, _latin("Eingangsbestätigung"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.ln(2)
    when = submitted_at.astimezone(BERLIN).strftime("%d.%m.%Y um %H:%M Uhr")
    for line in (f"{copy['office']}, {municipality}", f"Antrag: {copy['title']}", f"Vorgangsnummer: {reference}",
                 f"Eingegangen am {when}"):
        pdf.multi_cell(0, 6, _latin(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 12)
    pdf.multi_cell(0, 7, _latin("Ihre Angaben"), new_x="LMARGIN", new_y="NEXT")
    for answer in copy["answers"]:
        pdf.set_font("Helvetica", "B", 10)
        pdf.multi_cell(0, 5, _latin(answer["label"]), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(0, 5, _latin(answer["text"]), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(0, 5, _latin("Diese Bestätigung wurde automatisch erstellt. Antworten der Stelle erhalten Sie in "
                                "Ihrem Postfach im Bürgerportal."), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
