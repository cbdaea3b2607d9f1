"""Whether the content of an uploaded file may be kept: an image by its header, before it is
decoded; a PDF by every object in it, for code, actions and embedded files.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from typing import Any

from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

IMAGE_PIXELS = 40_000_000  # larger images are refused before they are decoded (decompression bombs)
# Names in a PDF that run code, open other programs or carry other files.
PDF_FORBIDDEN = frozenset({"/JS", "/JavaScript", "/Launch", "/EmbeddedFile", "/EmbeddedFiles"})
PDF_FORBIDDEN_BYTES = re.compile(rb"/(?:JS|JavaScript|Launch|EmbeddedFiles?)(?=[\s()<>\[\]{}/%]|$)")
PDF_OBJECTS = 200_000


def image_problem(data: bytes) -> str | None:
    """Why an image is refused, or None. Only the header is read before the size is known, so an
    image that would fill the memory when decoded (a decompression bomb) is never decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > IMAGE_PIXELS:
                    return _too_many_pixels()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return _too_many_pixels()
    except Exception:  # noqa: BLE001 - whatever Pillow cannot read is refused, never an error page
        return "lässt sich nicht als Bild lesen. Bitte speichern Sie das Bild neu oder wählen Sie eine andere Datei."
    return None


def _too_many_pixels() -> str:
    return (f"hat zu viele Bildpunkte (höchstens {IMAGE_PIXELS // 1_000_000} Megapixel). Bitte verkleinern Sie "
            "das Bild oder wählen Sie eine andere Datei.")


def pdf_problem(data: bytes) -> str | None:
    """Why a PDF is refused, or None: it must be readable (pypdf, with its own repair of a missing
    cross-reference table) and must not contain JavaScript, actions that start programs, or
    embedded files. Every object is looked at, also those in object streams; a byte search
    finds what hides outside the cross-reference table."""
    unsafe = ("enthält Programmcode, Aktionen oder eingebettete Dateien. Bitte speichern Sie das Dokument "
              "als einfaches PDF (zum Beispiel über »Drucken als PDF«) und laden Sie es erneut hoch.")
    unreadable = ("lässt sich nicht als PDF lesen. Bitte speichern Sie das Dokument neu als PDF oder wählen Sie "
                  "eine andere Datei.")
    if PDF_FORBIDDEN_BYTES.search(_unescaped_names(data)):
        return unsafe
    try:
        found = _pdf_names(data)
    except Exception:  # noqa: BLE001 - pypdf cannot read it: refused
        return unreadable
    if found is None:
        return unreadable
    return unsafe if found & PDF_FORBIDDEN else None


def _unescaped_names(data: bytes) -> bytes:
    """PDF names may write characters as #xx (/J#61vaScript): the bytes with those decoded."""
    return re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), data)


def _pdf_names(data: bytes) -> set[str] | None:
    """Every name (dictionary key or value) in every object of the PDF; None if it is encrypted."""
    pdf_log = logging.getLogger("pypdf")
    level = pdf_log.level
    pdf_log.setLevel(logging.ERROR)  # its notes on repairs would fill the log
    try:
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
        except Exception:  # noqa: BLE001 - no usable end of file: let pypdf rebuild the table
            reader = PdfReader(io.BytesIO(data + b"\nstartxref\n0\n%%EOF\n"), strict=False)
        if reader.is_encrypted:
            return None
        numbers = [(number, generation) for generation, entries in reader.xref.items() for number in entries]
        numbers += [(number, 0) for number in reader.xref_objStm]
        if len(numbers) > PDF_OBJECTS:
            return None
        names: set[str] = set()
        _collect(reader.trailer, names, 0)
        for number, generation in numbers:
            _collect(reader.get_object(IndirectObject(number, generation, reader)), names, 0)
        return names
    finally:
        pdf_log.setLevel(level)


def _collect(value: Any, names: set[str], depth: int) -> None:
    """Names in a PDF object and in the objects written inside it (references are visited as
    objects of their own)."""
    if depth > 100:
        raise ValueError("objects nested too deeply")
    if isinstance(value, NameObject):
        names.add(str(value))
    elif isinstance(value, DictionaryObject):  # streams are dictionaries too
        for key, item in value.items():
            names.add(str(key))
            _collect(item, names, depth + 1)
    elif isinstance(value, ArrayObject):
        for item in value:
            _collect(item, names, depth + 1)
