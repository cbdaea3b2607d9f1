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


TRUST_LEVELS = {"basis": "basis (Benutzername und Passwort)", "niedrig": "niedrig", "substantiell": "substantiell",
                "hoch": "hoch (Online-Ausweisfunktion)"}


def application_pdf(payload: dict[str, Any]) -> bytes:
    """The whole application for the office's e-file (the payload as `delivery.send` builds
    it): form title and version, reference, office, time, trust level, then every answer by
    step with its label, and the attached files. German; Helvetica covers the umlauts."""
    reference = payload["reference"]
    form, office = payload["form"], payload["office"]
    place = payload.get("municipality_name") or payload["municipality"]
    pdf = FPDF(format="A4")
    pdf.set_title(_latin(f"Antrag {reference}: {form['title']}"))
    pdf.set_author(_latin(place))
    pdf.set_creator("Bürgerportal")
    pdf.set_lang("de")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 8, _latin(form["title"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.ln(2)
    when = dt.datetime.fromisoformat(payload["submitted_at"]).astimezone(BERLIN).strftime("%d.%m.%Y um %H:%M Uhr")
    identification = payload["identification"]
    level = TRUST_LEVELS.get(identification["trust_level"], identification["trust_level"])
    for line in (f"Vorgangsnummer: {reference}", f"Formular: {form['id']}, Version {form['version']}",
                 f"Empfangende Stelle: {office['name']}, {place}", f"Eingegangen am {when}",
                 f"Identifiziert mit Vertrauensniveau {level} ({identification['means']})"):
        pdf.multi_cell(0, 6, _latin(line), new_x="LMARGIN", new_y="NEXT")
    step = None
    for answer in payload["answers"]:
        if answer["step"] != step:
            step = answer["step"]
            pdf.ln(3)
            pdf.set_font("Helvetica", "B", 12)
            pdf.multi_cell(0, 7, _latin(step), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "B", 10)
        pdf.multi_cell(0, 5, _latin(answer["label"] + (" (bestätigt)" if answer.get("verified") else "")),
                       new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(0, 5, _latin(answer["text"] or "-"), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
    if payload.get("files"):
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 7, _latin("Anlagen"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        for file in payload["files"]:
            size = f"{file['size']:,}".replace(",", ".")
            pdf.multi_cell(0, 5, _latin(f"{file['name']} ({file['content_type']}, {size} Bytes)"),
                           new_x="LMARGIN", new_y="NEXT")
            if file.get("sha512"):
                pdf.set_font("Courier", "", 7)
                pdf.multi_cell(0, 3.5, f"SHA-512: {file['sha512']}", new_x="LMARGIN", new_y="NEXT")
                pdf.set_font("Helvetica", "", 10)
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(0, 5, _latin("Automatisch erstellt vom Bürgerportal beim Absenden des Antrags."),
                   new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
