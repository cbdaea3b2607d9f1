"""German text analysis shared by the index and both query engines.

The rules are data (RULES), exported with every index, so that the browser script and the
Python engine analyse a query exactly as the index analysed the documents.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator

RULES: dict[str, object] = {
    "fold": {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"},
    # Longest first; a suffix is removed only if at least min_stem letters remain.
    "suffixes": ["ungen", "heiten", "keiten", "ern", "em", "en", "er", "es", "e"],
    "replace": {"ungen": "ung", "heiten": "heit", "keiten": "keit"},
    "min_stem": 4,
    "stop": sorted(
        [
            "aber",
            "alle",
            "als",
            "am",
            "an",
            "auch",
            "auf",
            "aus",
            "bei",
            "beim",
            "bin",
            "bis",
            "da",
            "das",
            "dass",
            "dem",
            "den",
            "der",
            "des",
            "die",
            "du",
            "ein",
            "eine",
            "einem",
            "einen",
            "einer",
            "eines",
            "es",
            "für",
            "fuer",
            "gibt",
            "hab",
            "habe",
            "haben",
            "hat",
            "ich",
            "ihr",
            "im",
            "in",
            "ist",
            "ja",
            "kann",
            "man",
            "mein",
            "meine",
            "meinen",
            "meinem",
            "meiner",
            "mich",
            "mir",
            "mit",
            "muss",
            "nach",
            "neu",
            "nicht",
            "noch",
            "oder",
            "ohne",
            "sich",
            "sie",
            "sind",
            "so",
            "soll",
            "um",
            "und",
            "uns",
            "unser",
            "vom",
            "von",
            "vor",
            "was",
            "welche",
            "welcher",
            "wenn",
            "wer",
            "werden",
            "wie",
            "will",
            "wir",
            "wo",
            "zu",
            "zum",
            "zur",
            "zustaendig",
            "zustaendigkeit",
            "brauche",
            "brauchen",
            "beantragen",
            "bitte",
            "hilfe",
            "online",
            "amt",
            "stelle",
        ]
    ),
    "compound_min": 4,
}

_TOKEN = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lowercase, German umlauts and ß spelled out, other accents removed."""
    text = text.lower()
    for letter, spelled in RULES["fold"].items():  # type: ignore[attr-defined]
        text = text.replace(letter, spelled)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light German stemmer: removes one inflection ending."""
    minimum = int(RULES["min_stem"])  # type: ignore[call-overload]
    replace: dict[str, str] = RULES["replace"]  # type: ignore[assignment]
    for suffix in RULES["suffixes"]:  # type: ignore[attr-defined]
        if word.endswith(suffix) and len(word) - len(suffix) >= minimum:
            return word[: len(word) - len(suffix)] + replace.get(suffix, "")
    return word


def words(text: str) -> list[str]:
    """Folded words of a text, stop words kept (for snippets and compound splitting)."""
    return _TOKEN.findall(fold(text))


_STOP = frozenset(RULES["stop"])  # type: ignore[call-overload]


@functools.lru_cache(maxsize=200_000)
def term_of(word: str) -> str | None:
    """The index term of one word as written (None for a stop word); words repeat a lot."""
    folded = fold(word)
    if folded in _STOP or (len(folded) < 2 and not folded.isdigit()):
        return None
    return stem(folded)


def terms(text: str) -> list[str]:
    """The index terms of a text: folded, stemmed, without stop words."""
    return [stem(w) for w in words(text) if w not in _STOP and (len(w) > 1 or w.isdigit())]


def query_key(text: str) -> str:
    """A query as best bets are looked up: its distinct terms in alphabetical order, so that
    case, umlauts, endings, word order and stop words do not count ("" for none)."""
    return " ".join(sorted(set(terms(text))))


def compound_parts(term: str, vocabulary: set[str]) -> Iterator[str]:
    """Known words that a compound ends with: bewohnerparkausweis → parkausweis, ausweis."""
    minimum = int(RULES["compound_min"])  # type: ignore[call-overload]
    for start in range(1, len(term) - minimum + 1):
        tail = term[start:]
        if tail in vocabulary:
            yield tail


def vocabulary(texts: Iterable[str]) -> set[str]:
    return {t for text in texts for t in terms(text) if len(t) >= int(RULES["compound_min"])}  # type: ignore[call-overload]
