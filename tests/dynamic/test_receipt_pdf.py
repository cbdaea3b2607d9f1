"""The PDFs a citizen and an office get print every name as typed, in any script the font
covers: read back with an independent PDF reader (pypdf), not with the library that wrote them."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from dynamic.forms import receipt
from dynamic.forms.receipt import application_pdf, receipt_pdf

NAMES = ["Ayşe Yılmaz", "Łukasz Wójcik", "Nguyễn Văn An", "Ελένη Παπαδοπούλου", "Сергей Иванов", "Zoë Ødegård-Čapek"]
WHEN = dt.datetime(2026, 12, 5, 9, 30, tzinfo=dt.UTC)


def _text(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    return [line.strip() for page in reader.pages for line in page.extract_text().splitlines()]


def test_the_citizens_receipt_prints_names_from_several_scripts_exactly() -> None:
    copy = {"office": "Steueramt", "title": "Hund zur Hundesteuer anmelden",
            "answers": [{"label": f"Name {n}", "text": name} for n, name in enumerate(NAMES, start=1)]}
    lines = _text(receipt_pdf("Stadt Hamm", "HAM-2026-0001", WHEN, copy))
    assert lines[:5] == ["Eingangsbestätigung", "Steueramt, Stadt Hamm", "Antrag: Hund zur Hundesteuer anmelden",
                         "Vorgangsnummer: HAM-2026-0001", "Eingegangen am 05.12.2026 um 10:30 Uhr"]
    for name in NAMES:
        assert name in lines
    assert "?" not in "".join(lines)


def test_the_offices_pdf_of_the_whole_application_prints_the_names_exactly() -> None:
    payload = {"reference": "HAM-2026-0002", "municipality": "hamm", "municipality_name": "Stadt Hamm",
               "form": {"id": "hundesteuer", "version": 1, "title": "Hund zur Hundesteuer anmelden"},
               "office": {"name": "Steueramt"}, "submitted_at": WHEN.isoformat(),
               "identification": {"trust_level": "basis", "means": "Portalkonto"},
               "answers": [{"step": "Halterin oder Halter", "label": "Name", "text": name} for name in NAMES],
               "files": [{"name": "Nachweis Łukasz.pdf", "content_type": "application/pdf", "size": 1234}]}
    lines = _text(application_pdf(payload))
    assert "Empfangende Stelle: Steueramt, Stadt Hamm" in lines
    for name in NAMES:
        assert name in lines
    assert "Nachweis Łukasz.pdf (application/pdf, 1.234 Bytes)" in lines


def test_without_the_font_the_receipt_still_prints_with_latin_names_intact(monkeypatch: pytest.MonkeyPatch,
                                                                            tmp_path: Path) -> None:
    monkeypatch.setattr(receipt, "FONT_DIR", tmp_path)
    copy = {"office": "Steueramt", "title": "Antrag", "answers": [{"label": "Name", "text": "Jörg Müller"}]}
    assert "Jörg Müller" in _text(receipt_pdf("Stadt Hamm", "HAM-3", WHEN, copy))
