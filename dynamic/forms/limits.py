"""How much a form page reads from a request.

Each route of the forms gets its own request size limit: a step as much as its file fields
allow (at least the 10 MB of the largest file plus the rest of the step, which a step without
files gets too), the start and the summary far less. Within that limit no text field is kept whole
beyond `FIELD_BYTES`: the parser cuts longer values while it reads, so a pasted document
costs no memory and reaches the form's own check, which answers at the field and keeps
everything else that was typed.
"""

from __future__ import annotations

import typing as t
from urllib.parse import parse_qsl

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.formparser import FormDataParser, MultiPartParser
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from katalog.models import FormStep

MB = 1024 * 1024
UPLOAD_LIMIT = 11 * MB  # the largest file (10 MB) and the rest of a step
# A step without files: text only, but a pasted document of up to 10 MB still reaches the
# field's own check (cut while read), which answers at the field and keeps the rest typed.
STEP_LIMIT = UPLOAD_LIMIT
PAGE_LIMIT = 64 * 1024  # the start and the summary: a choice, a token, a tick
FIELD_BYTES = 64 * 1024  # more than any text field allows (5,000 characters of four bytes)


def step_limit(step: FormStep | None) -> int:
    """The request size limit of a step's page: enough for every file it may take."""
    if step is None:
        return PAGE_LIMIT
    files = [f.max_size_mb for f in step.fields if f.type == "file"]
    if not files:
        return STEP_LIMIT
    return max(UPLOAD_LIMIT, int(sum(files) * MB) + MB)


def _cut(items: t.Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(key[:200], value[:FIELD_BYTES]) for key, value in items]


class CuttingMultiPartParser(MultiPartParser):
    """Werkzeug's multipart parser, but a text part longer than FIELD_BYTES is cut instead of
    held in memory or refused with 413 (files are streamed as before)."""

    def parse(self, stream: t.IO[bytes], boundary: bytes,
              content_length: int | None) -> tuple[MultiDict[str, str], MultiDict[str, FileStorage]]:
        decoder = MultipartDecoder(boundary, max_form_memory_size=None, max_parts=self.max_form_parts)
        fields: list[tuple[str, str]] = []
        files: list[tuple[str, FileStorage]] = []
        part: Field | File | None = None
        kept: list[bytes] = []
        size = 0
        container: t.IO[bytes] | None = None
        while True:
            data = stream.read(self.buffer_size)
            decoder.receive_data(data or None)
            event = decoder.next_event()
            while not isinstance(event, (Epilogue, NeedData)):
                if isinstance(event, Field):
                    part, kept, size, container = event, [], 0, None
                elif isinstance(event, File):
                    part, container = event, self.start_file_streaming(event, content_length)
                elif isinstance(event, Data) and part is not None:
                    if container is not None:
                        container.write(event.data)
                    elif size < FIELD_BYTES:
                        kept.append(event.data[:FIELD_BYTES - size])
                        size += len(kept[-1])
                    if not event.more_data:
                        if container is None:
                            value = b"".join(kept).decode(self.get_part_charset(part.headers), "replace")
                            fields.append((part.name, value))
                        else:
                            container.seek(0)
                            files.append((part.name, FileStorage(container, t.cast(File, part).filename, part.name,
                                                                 headers=part.headers)))
                event = decoder.next_event()
            if not data or isinstance(event, Epilogue):
                break
        return self.cls(_cut(fields)), self.cls(files)


class CuttingFormParser(FormDataParser):
    """The form parser of the forms' pages: long text values are cut (see module docstring)."""

    def _parse_multipart(self, stream: t.IO[bytes], mimetype: str, content_length: int | None,
                         options: dict[str, str]) -> tuple[t.IO[bytes], MultiDict[str, t.Any], MultiDict[str, t.Any]]:
        parser = CuttingMultiPartParser(stream_factory=self.stream_factory, max_form_parts=self.max_form_parts,
                                        cls=self.cls)
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("Missing boundary")
        form, files = parser.parse(stream, boundary, content_length)
        return stream, form, files

    def _parse_urlencoded(self, stream: t.IO[bytes], mimetype: str, content_length: int | None,
                          options: dict[str, str]) -> tuple[t.IO[bytes], MultiDict[str, t.Any], MultiDict[str, t.Any]]:
        # The stream is limited to the route's max_content_length; the values are cut after parsing.
        items = parse_qsl(stream.read().decode(errors="replace"), keep_blank_values=True, errors="replace")
        return stream, self.cls(_cut(items)), self.cls()
