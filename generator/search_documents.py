"""The search documents of a site, made from its Catalog and its news (search_index holds
what a search document is and how it is indexed; it knows nothing of the Catalog)."""

from __future__ import annotations

import re
from typing import Any

from search_index.analysis import terms
from search_index.documents import SearchDoc, extras

from .catalog import Catalog

# The fixed pages a best bet can name (generator.models.FixedPage): title and path below the site.
FIXED_PAGES = {
    "termine": ("Termin buchen", "termine/"),
    "a-z": ("Leistungen von A bis Z", "a-z/"),
    "themen": ("Leistungen nach Themen", "leistungen/"),
    "lebenslagen": ("Lebenslagen", "lebenslagen/"),
    "organisation": ("Ämter und Einrichtungen", "organisation/"),
    "standorte": ("Standorte und Öffnungszeiten", "standorte/"),
}

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


def _offices(catalog: Catalog, sid: str) -> dict[str, tuple[str, str, str]]:
    """Who does the service for each member town: the town's own office, or the one office
    for everybody ("") at its first location, or at its location in a town that has one."""
    offices: dict[str, tuple[str, str, str]] = {}

    by_name = {town.name: town.id for town in catalog.municipality.towns}

    def town_of(lid: str) -> str | None:
        """The member town a location is in: as given, or the town its address names."""
        location = catalog.locations[lid]
        return location.town or by_name.get(location.address.city)

    def address(lid: str) -> str:
        a = catalog.locations[lid].address
        return f"{a.street}, {a.postal_code} {a.city}"

    for r in catalog.services[sid].responsibilities:
        name, url = catalog.units[r.unit_id].name, f"/{catalog.slug}/organisation/{r.unit_id}/"
        if r.town is not None:
            offices.setdefault(r.town.id, (name, url, address(r.location_ids[0]) if r.location_ids else ""))
            continue
        offices.setdefault("", (name, url, address(r.location_ids[0]) if r.location_ids else ""))
        for lid in r.location_ids[1:]:
            town = town_of(lid)
            if town and town != town_of(r.location_ids[0]):
                offices.setdefault(town, (name, url, address(lid)))
    return offices


def _fixed_pages(catalog: Catalog) -> dict[str, SearchDoc]:
    """The fixed pages this site has, as search documents."""
    base = f"/{catalog.slug}/"
    bookable = [entry.name for entry in catalog.services.values() if entry.booking]
    teasers = {
        "termine": "Termine online buchen für: " + ", ".join(bookable) if bookable else "",
        "a-z": "Alle Leistungen alphabetisch geordnet",
        "themen": "Alle Leistungen nach Themen geordnet",
        "lebenslagen": ", ".join(s.name for s in catalog.life_situations.values()),
        "organisation": "Wer wofür zuständig ist",
        "standorte": "Adressen und Öffnungszeiten aller Standorte",
    }
    pages = {}
    for key, (title, path) in FIXED_PAGES.items():
        if key == "termine" and not bookable:
            continue
        pages[key] = SearchDoc("page", title, base + path, teasers[key], {"title": title, "teaser": teasers[key]})
    return pages


def _bet_urls(catalog: Catalog, fixed: dict[str, SearchDoc]) -> list[tuple[list[str], list[str]]]:
    """Each best bet as (queries, addresses of its pages this site has)."""
    base = f"/{catalog.slug}/"
    bets = []
    for bet in catalog.best_bets:
        urls = []
        for page in bet.pages:
            if page.service in catalog.services:
                urls.append(f"{base}leistungen/{page.service}/")
            elif page.life_situation in catalog.life_situations:
                urls.append(f"{base}lebenslagen/{page.life_situation}/")
            elif page.page in fixed:
                urls.append(fixed[page.page].url)
        if urls:
            bets.append((list(bet.queries), urls))
    return bets


def search_extras(catalog: Catalog, docs: list[SearchDoc]) -> dict[str, Any]:
    """meta.json's best bets and places (search_index.documents.extras) for this site."""
    m = catalog.municipality
    places = [(town.id, town.name) for town in m.towns] + [("", m.name), ("", m.short_name)]
    return extras(docs, _bet_urls(catalog, _fixed_pages(catalog)), places)


def documents(catalog: Catalog, news: list[dict[str, Any]]) -> list[SearchDoc]:
    base = f"/{catalog.slug}/"
    docs = []
    meanings = _meanings(catalog)
    for sid, entry in catalog.services.items():
        s = entry.service
        searched = [*s.synonyms, *s.search_only]  # search-only words find the page like synonyms
        named = " ".join([s.name, *searched])
        docs.append(
            SearchDoc(
                "service",
                s.name,
                f"{base}leistungen/{sid}/",
                s.teaser,
                {
                    "title": s.name,
                    "synonyms": " ".join([*searched, *_everyday_words(meanings, named)]),
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
                _offices(catalog, sid),
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
    fixed = _fixed_pages(catalog)
    wanted = {address for _queries, bet_urls in _bet_urls(catalog, fixed) for address in bet_urls}
    docs += [page for page in fixed.values() if page.url in wanted]
    return docs
