"""What can be found: one search document per service, life situation, unit, location,
contact person and news article of a municipality, made from its Catalog."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from generator.catalog import Catalog

from .analysis import terms

KINDS = {
    "service": "Leistungen",
    "life_situation": "Lebenslagen",
    "unit": "Ämter und Einrichtungen",
    "location": "Standorte",
    "contact": "Ansprechpersonen",
    "news": "Aktuelles",
}
FIELDS = ("title", "synonyms", "teaser", "body")


@dataclass(frozen=True)
class SearchDoc:
    kind: str
    title: str
    url: str
    snippet: str  # shown under the title, matched words highlighted
    fields: dict[str, str] = field(default_factory=dict)

    def passages(self, limit: int = 400) -> list[str]:
        """Sentences of the body, for showing where a query matched (up to limit characters)."""
        chosen, used = [], 0
        for sentence in re.split(r"(?<=[.!?])\s+|\n+", self.fields.get("body", "")):
            sentence = " ".join(sentence.split())
            if len(sentence) < 20 or used + len(sentence) > limit:
                continue
            chosen.append(sentence)
            used += len(sentence)
        return chosen


def _plain(markdown: str | None) -> str:
    return re.sub(r"[*_#>`\[\]()]", " ", markdown or "")


Meanings = list[tuple[list[frozenset[str]], list[str]]]


def _meanings(catalog: Catalog) -> Meanings:
    """Each group of everyday words with the terms of its meanings, analysed once per build."""
    return [([frozenset(terms(meaning)) for meaning in group.means], list(group.words))
            for group in catalog.everyday_words]


def _everyday_words(meanings: Meanings, text: str) -> list[str]:
    """Colloquial words whose meaning appears in a service's name or synonyms."""
    present = set(terms(text))
    added = []
    for means, words in meanings:
        if any(meaning and meaning <= present for meaning in means):
            added.extend(words)
    return added


def documents(catalog: Catalog, news: list[dict[str, Any]]) -> list[SearchDoc]:
    base = f"/{catalog.slug}/"
    docs = []
    meanings = _meanings(catalog)
    for sid, entry in catalog.services.items():
        s = entry.service
        named = " ".join([s.name, *s.synonyms])
        docs.append(
            SearchDoc(
                "service",
                s.name,
                f"{base}leistungen/{sid}/",
                s.teaser,
                {
                    "title": s.name,
                    "synonyms": " ".join([*s.synonyms, *_everyday_words(meanings, named)]),
                    "teaser": s.teaser,
                    "body": " ".join(
                        [
                            _plain(s.description),
                            *s.prerequisites,
                            *s.documents,
                            *s.procedure,
                            _plain(s.hints),
                            _plain(entry.notes),
                        ]
                    ),
                },
            )
        )
    for lid, situation in catalog.life_situations.items():
        docs.append(
            SearchDoc(
                "life_situation",
                situation.name,
                f"{base}lebenslagen/{lid}/",
                situation.teaser,
                {"title": situation.name, "teaser": situation.teaser, "body": _plain(situation.description)},
            )
        )
    for uid, unit in catalog.units.items():
        town = catalog.town_name(unit.town) or ""
        snippet = ", ".join(x for x in (town, unit.phone or "") if x) or catalog.municipality.name
        docs.append(
            SearchDoc(
                "unit",
                unit.name,
                f"{base}organisation/{uid}/",
                snippet,
                {"title": unit.name, "teaser": town, "body": _plain(unit.description)},
            )
        )
    for lid, location in catalog.locations.items():
        a = location.address
        address = f"{a.street}, {a.postal_code} {a.city}"
        docs.append(
            SearchDoc(
                "location",
                location.name,
                f"{base}standorte/{lid}/",
                address,
                {
                    "title": location.name,
                    "teaser": f"{address} {catalog.town_name(location.town) or ''}",
                    "body": " ".join(location.transport),
                },
            )
        )
    for cid, person in catalog.contacts.items():
        unit_name = catalog.units[person.unit].name
        docs.append(
            SearchDoc(
                "contact",
                person.name,
                f"{base}ansprechpersonen/{cid}/",
                f"{person.role}, {unit_name}",
                {
                    "title": person.name,
                    "synonyms": " ".join(person.topics),
                    "teaser": f"{person.role} {unit_name}",
                    "body": " ".join(catalog.services[sid].name for sid in person.services),
                },
            )
        )
    for item in news:
        docs.append(
            SearchDoc(
                "news",
                item["title"],
                item["url"],
                item["summary"],
                {"title": item["title"], "teaser": item["summary"], "body": item.get("text", "")},
            )
        )
    return docs
