"""Where a news article comes from (issue 17): the header keys `Quelle:` (the public source of
what it reports) and `Beispiel: ja` (an invented example). News speak in the name of a real
authority, so an article without a source is an example, and says so wherever it appears: on
its page, in the lists of news and in the feed; its page publishes no NewsArticle data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EXAMPLE_NEWS = "Beispielmeldung – nicht amtlich"
YES, NO = "ja", "nein"


def is_example_news(metadata: Mapping[str, Any]) -> bool:
    """Whether an article's header (Pelican's metadata, keys in lower case) marks it as an example."""
    return str(metadata.get("beispiel", "")).strip().lower() == YES


def source_of_news(metadata: Mapping[str, Any]) -> str | None:
    """The address an article names as its source, if any."""
    value = str(metadata.get("quelle", "")).strip()
    return value or None
