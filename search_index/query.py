"""Answer a query from the exported files, as the browser script does (search.js).

The two must rank alike: the same analysis rules (from meta.json), the same matching
(exact, prefix, compound split, bounded typo tolerance) and the same scoring (BM25 over
weighted fields). tests/search checks that both give the same results.
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


@dataclass(frozen=True)
class Hit:
    kind: str
    title: str
    url: str
    snippet: str
    score: float
    passages: tuple[str, ...] = ()


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

    def split(self, term: str) -> list[str] | None:
        """A compound as known terms: personalausweisantrag → personalausweis, antrag."""
        shortest = self.rules["compound_min"]
        if len(term) < 2 * shortest:
            return None
        for cut in range(len(term) - shortest, shortest - 1, -1):
            head, tail = term[:cut], term[cut:]
            if head in self.shard(head):
                tail_stem = self.stem(tail)
                if tail_stem in self.shard(tail_stem):
                    return [head, tail_stem]
                rest = self.split(tail_stem)
                if rest:
                    return [head, *rest]
        return None

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

    def search(self, query: str, limit: int = 10) -> list[Hit]:
        if not self.meta:
            return []
        tokens: list[tuple[str, float]] = []
        for term in self.terms(query):
            if term in self.shard(term):
                tokens.append((term, 1.0))
                continue
            parts = self.split(term)
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
        return [self.hit(doc, -score) for score, doc in ranked[:limit]]

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

    def hit(self, doc: int, score: float) -> Hit:
        chunk_number = doc // self.meta["doc_chunk"]
        if chunk_number not in self._chunks:
            self._chunks[chunk_number] = self._json(f"d/{chunk_number}.json") or []
        kind, title, url, snippet, passages = self._chunks[chunk_number][doc % self.meta["doc_chunk"]]
        return Hit(kind, title, url, snippet, score, tuple(passages))

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
