"""Answer a query from the exported files, as the browser script does (search.js).

The two must rank alike: the same cleaning of what was typed (clean), the same analysis
rules (from meta.json), the same matching (exact, prefix, compound split, bounded typo
tolerance), the same scoring (BM25 over weighted fields) and the same best bets first.
tests/search checks that both give the same results.

Best bets: a query whose words, without a place it names ("dülmen", "kreis coesfeld"),
are those of a best bet (content/search/best-bets.yaml) gets the bet's pages first, in the
bet's order. A place that is a member town makes each service hit show that town's office.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

K1, B = 1.2, 0.75
WORD = re.compile(r"[^\s,.;:()]+")
EXACT, PREFIX, PART, TYPO = 1.0, 0.7, 0.8, 0.6
MAX_QUERY = 200  # characters searched for; the rest of a longer query is left out
MAX_TERMS = 10  # words searched for; each costs a shard and a scan of it
# Control and invisible characters (as search.js CONTROL): they are read as spaces.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def clean(text: str) -> tuple[str, bool]:
    """What is searched for, and whether text was cut: control characters read as spaces,
    spaces collapsed, at most MAX_QUERY characters."""
    text = " ".join(CONTROL.sub(" ", text).split())
    return text[:MAX_QUERY].strip(), len(text) > MAX_QUERY


@dataclass(frozen=True)
class Office:
    """The office responsible in the town the query named, for a service hit."""

    town: str
    name: str
    url: str
    address: str


@dataclass(frozen=True)
class Hit:
    kind: str
    title: str
    url: str
    snippet: str
    score: float
    passages: tuple[str, ...] = ()
    best: bool = False  # a best bet for the query
    office: Office | None = None


class Index:
    """The exported index of one site, read through fetch(path) → bytes or None."""

    def __init__(self, fetch: Callable[[str], bytes | None]):
        self._fetch = fetch
        self.fetched_bytes = 0
        self.meta: dict[str, Any] = self._json("meta.json") or {}
        self.rules: dict[str, Any] = self.meta.get("rules", {})
        self._shards: dict[str, dict[str, list[list[int]]]] = {}
        self._chunks: dict[int, list[list[str]]] = {}

    @classmethod
    def from_folder(cls, folder: Path) -> Index:
        def read(path: str) -> bytes | None:
            target = folder / path
            return target.read_bytes() if target.is_file() else None

        return cls(read)

    def _json(self, path: str) -> Any:
        data = self._fetch(path)
        if data is None:
            return None
        self.fetched_bytes += len(data)
        return json.loads(data)

    # --- analysis (the same rules as search_index.analysis, read from meta.json) -------

    def fold(self, text: str) -> str:
        text = text.lower()
        for letter, spelled in self.rules["fold"].items():
            text = text.replace(letter, spelled)
        return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))

    def stem(self, word: str) -> str:
        for suffix in self.rules["suffixes"]:
            if word.endswith(suffix) and len(word) - len(suffix) >= self.rules["min_stem"]:
                return word[: len(word) - len(suffix)] + self.rules["replace"].get(suffix, "")
        return word

    def words(self, text: str) -> list[str]:
        out, current = [], []
        for char in self.fold(text):
            if ("a" <= char <= "z") or ("0" <= char <= "9"):
                current.append(char)
            elif current:
                out.append("".join(current))
                current = []
        if current:
            out.append("".join(current))
        return out

    def terms(self, text: str) -> list[str]:
        stop = set(self.rules["stop"])
        found: list[str] = []
        for word in self.words(text):
            if word in stop or (len(word) < 2 and not word.isdigit()):
                continue
            term = self.stem(word)
            if term not in found:
                found.append(term)
        return found

    # --- matching -------------------------------------------------------------------

    def shard(self, term: str) -> dict[str, list[list[int]]]:
        key = term[: self.meta["shard_prefix"]]
        if key not in self._shards:
            self._shards[key] = self._json(f"t/{key}.json") if key in self.meta["shards"] else {}
            self._shards[key] = self._shards[key] or {}
        return self._shards[key]

    def split(self, term: str, tried: dict[str, list[str] | None] | None = None) -> list[str] | None:
        """A compound as known terms: personalausweisantrag → personalausweis, antrag.
        tried: the parts of the tails split before (a long word of repeated parts would
        otherwise be split in exponentially many ways)."""
        tried = {} if tried is None else tried
        if term in tried:
            return tried[term]
        shortest = self.rules["compound_min"]
        found: list[str] | None = None
        if len(term) >= 2 * shortest:
            for cut in range(len(term) - shortest, shortest - 1, -1):
                head, tail = term[:cut], term[cut:]
                if head in self.shard(head):
                    tail_stem = self.stem(tail)
                    if tail_stem in self.shard(tail_stem):
                        found = [head, tail_stem]
                        break
                    rest = self.split(tail_stem, tried)
                    if rest:
                        found = [head, *rest]
                        break
        tried[term] = found
        return found

    def candidates(self, term: str) -> dict[str, float]:
        table = self.shard(term)
        found: dict[str, float] = {}
        if term in table:
            found[term] = EXACT
        if len(term) >= 3:
            for other in table:
                if other != term and other.startswith(term):
                    found[other] = PREFIX
        if not found and len(term) >= 5:
            limit = 1 if len(term) < 8 else 2
            for other in table:
                if abs(len(other) - len(term)) <= limit and distance(term, other, limit) <= limit:
                    found[other] = TYPO
        return found

    # --- scoring --------------------------------------------------------------------

    def place(self, terms: list[str]) -> tuple[list[Any] | None, list[str]]:
        """The place a query names besides other words ([town id or "", name, terms]), and
        the query's other terms."""
        for place in self.meta.get("places", []):
            if len(terms) > len(place[2]) and all(t in terms for t in place[2]):
                return place, [t for t in terms if t not in place[2]]
        return None, terms

    def search(self, query: str, limit: int = 10) -> list[Hit]:
        if not self.meta:
            return []
        terms = self.terms(clean(query)[0])[:MAX_TERMS]
        place, rest = self.place(terms)
        bets = self.meta.get("best_bets", {}).get(" ".join(sorted(rest)), [])
        town = place[0] if place else ""
        hits = [self.hit(doc, 0.0, True, town) for doc in bets[:limit]]
        ranked = [(score, doc) for score, doc in self.ranked(terms) if doc not in bets]
        return hits + [self.hit(doc, score, False, town) for score, doc in ranked[: limit - len(hits)]]

    def ranked(self, terms: list[str]) -> list[tuple[float, int]]:
        """Documents by score, best first, as (score, document number)."""
        tokens: list[tuple[str, float]] = []
        tried: dict[str, list[str] | None] = {}
        for term in terms:
            if term in self.shard(term):
                tokens.append((term, 1.0))
                continue
            parts = self.split(term, tried)
            if parts:
                tokens += [(part, PART) for part in parts]
            else:
                tokens.append((term, 1.0))
        if not tokens:
            return []
        scores: dict[int, float] = {}
        matched: dict[int, int] = {}
        for term, weight in tokens:
            best: dict[int, float] = {}
            for candidate, quality in self.candidates(term).items():
                for doc, value in self.term_scores(candidate).items():
                    value *= quality * weight
                    if value > best.get(doc, 0.0):
                        best[doc] = value
            for doc, value in best.items():
                scores[doc] = scores.get(doc, 0.0) + value
                matched[doc] = matched.get(doc, 0) + 1
        ranked = []
        for doc, score in scores.items():
            final = score * self.kind_boost(doc) * (0.5 + 0.5 * matched[doc] / len(tokens))
            ranked.append((-round(final, 6), doc))
        ranked.sort()
        return [(-score, doc) for score, doc in ranked]

    def term_scores(self, term: str) -> dict[int, float]:
        postings = self.shard(term).get(term, [])
        docs = {p[0] for p in postings}
        n = self.meta["documents"]
        idf = math.log(1 + (n - len(docs) + 0.5) / (len(docs) + 0.5))
        scores: dict[int, float] = {}
        for doc, field, frequency, length in postings:
            average = self.meta["average_lengths"][field] or 1
            norm = frequency * (K1 + 1) / (frequency + K1 * (1 - B + B * length / average))
            scores[doc] = scores.get(doc, 0.0) + self.meta["boosts"][field] * idf * norm
        return scores

    def kind_of(self, doc: int) -> str:
        for kind, start, end in self.meta["kind_ranges"]:
            if start <= doc < end:
                return str(kind)
        return "service"

    def kind_boost(self, doc: int) -> float:
        return float(self.meta["kind_boosts"].get(self.kind_of(doc), 1.0))

    def hit(self, doc: int, score: float, best: bool = False, town: str = "") -> Hit:
        chunk_number = doc // self.meta["doc_chunk"]
        if chunk_number not in self._chunks:
            self._chunks[chunk_number] = self._json(f"d/{chunk_number}.json") or []
        kind, title, url, snippet, passages, offices = self._chunks[chunk_number][doc % self.meta["doc_chunk"]]
        office = None
        found = offices.get(town) or offices.get("") if town else None
        if found:
            office = Office(self.town_name(town), *found)
        return Hit(kind, title, url, snippet, score, tuple(passages), best, office)

    def town_name(self, town: str) -> str:
        return next((str(place[1]) for place in self.meta.get("places", []) if place[0] == town), town)

    def best_snippet(self, hit: Hit, query: str) -> str:
        """The teaser, or the sentence that holds more of the query's words."""
        wanted = self.terms(query)

        def matches(text: str) -> int:
            stems = [self.stem(w) for w in self.words(text)]
            return sum(any(s.startswith(t) for s in stems) for t in wanted)

        best, best_count = hit.snippet, matches(hit.snippet)
        for sentence in hit.passages:
            count = matches(sentence)
            if count > best_count:
                best, best_count = sentence, count
        return best

    def highlighted(self, text: str, query: str) -> list[tuple[str, bool]]:
        """The text in pieces, each marked when it is a word of the query (as search.js marks it)."""
        wanted = self.terms(query)
        pieces: list[tuple[str, bool]] = []
        last = 0
        for match in WORD.finditer(text):
            stems = [self.stem(w) for w in self.words(match.group())]
            hit = any(s.startswith(t) or (t.startswith(s) and len(s) >= 4) for s in stems for t in wanted)
            if hit:
                pieces += [(text[last:match.start()], False), (match.group(), True)]
                last = match.end()
        pieces.append((text[last:], False))
        return [(piece, marked) for piece, marked in pieces if piece]


def distance(a: str, b: str, limit: int) -> int:
    """Edit distance with transpositions (optimal string alignment), cut off above limit."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[len(b)]
