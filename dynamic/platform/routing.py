"""URL converters of the app."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter


class BoundedInt(IntegerConverter):
    """`<int:…>` in a route matches only what an INTEGER column holds (1 to 2**31 - 1): a larger
    id is a page that does not exist (404), not an overflow in the database driver (500)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(*args, **kwargs)
