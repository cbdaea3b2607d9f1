"""What can be found: the search document (one per service, life situation, unit, location,
contact person, news article or fixed page of a site; the generator makes them from its
Catalog, generator/search_documents.py), and what the query engines need besides the
documents (`extras`): the best bets and the places (member towns) a query can name."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .analysis import query_key

KINDS = {
    "service": "Leistungen",
    "life_situation": "Lebenslagen",
    "unit": "Ämter und Einrichtungen",
    "location": "Standorte",
    "contact": "Ansprechpersonen",
    "news": "Aktuelles",
    "page": "Seiten",
}
FIELDS = ("title", "synonyms", "teaser", "body")


@dataclass(frozen=True)
class SearchDoc:
    kind: str
    title: str
    url: str
    snippet: str  # shown under the title, matched words highlighted
    fields: dict[str, str] = field(default_factory=dict)
    # A service's responsible office per member town ("" where one office serves everybody):
    # name, address of its page, postal address; shown when a query names the town.
    offices: dict[str, tuple[str, str, str]] = field(default_factory=dict)

    def passages(self, limit: int = 400) -> list[str]:
        """Sentences of the body, for showing where a query matched (up to limit characters).
        Only prose has sentences: a contact's body lists service names, a location's its buses."""
        if self.kind not in ("service", "life_situation", "unit", "news"):
            return []
        chosen, used = [], 0
        for sentence in re.split(r"(?<=[.!?])\s+|\n+", self.fields.get("body", "")):
            sentence = " ".join(sentence.split())
            if len(sentence) < 20 or used + len(sentence) > limit:
                continue
            chosen.append(sentence)
            used += len(sentence)
        return chosen


def extras(docs: list[SearchDoc], bets: list[tuple[list[str], list[str]]],
           places: list[tuple[str, str]]) -> dict[str, Any]:
    """What meta.json holds besides the index, for both query engines:

    best_bets  {query key (search_index.analysis.query_key): [document number, …]}
    places     [[town id or "", name, [term, …]], …]: names a query may add to a best bet's
               words ("personalausweis dülmen"); the longest first. A town's id selects
               the offices shown; "" is the municipality itself.

    bets: each best bet as (queries, addresses of its pages); places: (town id or "", name),
    the member towns first, then the municipality's names.
    """
    number = {doc.url: n for n, doc in enumerate(docs)}
    best_bets: dict[str, list[int]] = {}
    for queries, urls in bets:
        for query in queries:
            best_bets.setdefault(query_key(query), [number[url] for url in urls if url in number])
    named: list[list[Any]] = []
    seen: set[str] = set()
    for place_id, name in places:
        key = query_key(name)
        if key and key not in seen:
            seen.add(key)
            named.append([place_id, name, key.split()])
    named.sort(key=lambda place: -len(place[2]))
    return {"best_bets": best_bets, "places": named}
