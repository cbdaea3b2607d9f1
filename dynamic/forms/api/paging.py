"""Pages of a list joined by an opaque cursor over (time, id), so nothing is missed or
doubled while rows arrive between pages; and the refusal of a bad query parameter.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re

from .errors import ApiError
from .models import CURSOR, MAX_ID, RFC3339


def bad_parameter(name: str, message: str) -> ApiError:
    return ApiError(400, "bad_request", f"{name}: {message}")


def timestamp(text: str) -> dt.datetime | None:
    """An RFC 3339 date-time as aware UTC, or None. Beyond the range of datetime once in UTC
    (0001-01-01T00:00:00+05:00) it is the earliest or latest moment there is."""
    if RFC3339.fullmatch(text) is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text.upper())
    except ValueError:
        return None
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        return (dt.datetime.min if value.year == 1 else dt.datetime.max).replace(tzinfo=dt.UTC)


def cursor_at(when: dt.datetime, row_id: int) -> str:
    """Opaque to the office: base64url of the last listed row's (time, id)."""
    raw = json.dumps([when.isoformat(), row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def after(text: str) -> tuple[dt.datetime, int]:
    refused = bad_parameter("after", "Dieser Cursor ist ungültig. Geben Sie unverändert den Wert von next aus der "
                                     "vorigen Antwort an.")
    if re.fullmatch(CURSOR[1:-1], text) is None:
        raise refused
    try:
        parts = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error):
        raise refused from None
    if not (isinstance(parts, list) and len(parts) == 2 and isinstance(parts[0], str)
            and type(parts[1]) is int and 1 <= parts[1] <= MAX_ID):
        raise refused
    when = timestamp(parts[0])
    if when is None:
        raise refused
    return when, parts[1]
