"""Build a municipality's Whoosh index and export it as static shards.

Layout below `suche/`:
  meta.json       analysis rules, field boosts, document count, average field lengths,
                  the list of term shards
  t/<ab>.json     terms starting with <ab>: {term: [[doc, field, frequency, field length], …]}
  d/<n>.json      documents n*DOC_CHUNK … : [[kind, title, url, snippet, [sentence, …]], …]

A query fetches meta.json, one term shard per query word and the document chunks of the
hits it shows: a few kilobytes, never the whole index.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from typing import Any

from whoosh.analysis import Filter, RegexTokenizer, Token
from whoosh.fields import STORED, TEXT, Schema
from whoosh.filedb.filestore import RamStorage

from .analysis import RULES, compound_parts, fold, stem, vocabulary
from .documents import FIELDS, KINDS, SearchDoc

FORMAT_VERSION = 1
DOC_CHUNK = 10
SHARD_PREFIX = 2
BOOSTS = {"title": 6.0, "synonyms": 4.0, "teaser": 1.5, "body": 1.0}
KIND_BOOSTS = {"service": 1.0, "life_situation": 0.9, "unit": 0.8, "contact": 0.8, "location": 0.7, "news": 0.5}


class GermanFilter(Filter):
    """Folds, drops stop words, stems, and adds the known words a compound ends with."""

    def __init__(self, vocabulary: set[str]):
        self.vocabulary = vocabulary
        self.stop = set(RULES["stop"])  # type: ignore[call-overload]

    def __call__(self, tokens: Any) -> Any:
        for token in tokens:
            word = fold(token.text)
            if word in self.stop or (len(word) < 2 and not word.isdigit()):
                continue
            term = stem(word)
            token.text = term
            yield token
            for part in compound_parts(term, self.vocabulary):
                extra = Token(positions=False, chars=False, removestops=True, mode=token.mode)
                extra.text, extra.boost, extra.stopped = part, 1.0, False
                yield extra


def build_index(docs: list[SearchDoc]) -> Any:
    vocab = vocabulary(text for doc in docs for text in doc.fields.values())
    analyzer = RegexTokenizer(r"[^\W_]+") | GermanFilter(vocab)
    schema = Schema(**{name: TEXT(analyzer=analyzer, phrase=False) for name in FIELDS}, ref=STORED)
    # Whoosh names its temporary folder after the index, in the shared temp directory;
    # a unique name keeps parallel builds (one process per municipality) apart.
    index = RamStorage().create_index(schema, indexname=f"portal-{uuid.uuid4().hex}")
    writer = index.writer()
    for number, doc in enumerate(docs):
        writer.add_document(ref=number, **{name: doc.fields.get(name, "") for name in FIELDS})
    writer.commit()
    return index


def export(docs: list[SearchDoc]) -> dict[str, bytes]:
    """Every file of the exported index, by path below suche/."""
    index = build_index(docs)
    reader = index.reader()
    shards: dict[str, dict[str, list[list[int]]]] = defaultdict(dict)
    field_numbers = {name: number for number, name in enumerate(FIELDS)}
    for field_name, raw in reader.all_terms():
        if field_name not in field_numbers:
            continue
        term = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        postings = []
        matcher = reader.postings(field_name, raw)
        while matcher.is_active():
            docnum = matcher.id()
            postings.append(
                [
                    reader.stored_fields(docnum)["ref"],
                    field_numbers[field_name],
                    int(matcher.weight()),
                    int(reader.doc_field_length(docnum, field_name, 0)),
                ]
            )
            matcher.next()
        shards[term[:SHARD_PREFIX]].setdefault(term, []).extend(postings)
    count = reader.doc_count()
    ranges: dict[str, list[int]] = {}
    for number, doc in enumerate(docs):
        ranges.setdefault(doc.kind, [number, number])[1] = number + 1
    meta = {
        "version": FORMAT_VERSION,
        "documents": count,
        "fields": list(FIELDS),
        "boosts": [BOOSTS[name] for name in FIELDS],
        "kind_boosts": KIND_BOOSTS,
        "kinds": KINDS,
        "average_lengths": [reader.field_length(name) / max(count, 1) for name in FIELDS],
        "kind_ranges": [[kind, start, end] for kind, (start, end) in ranges.items()],
        "doc_chunk": DOC_CHUNK,
        "shard_prefix": SHARD_PREFIX,
        "shards": sorted(shards),
        "rules": RULES,
    }
    files = {"meta.json": _json(meta)}
    for key, table in shards.items():
        files[f"t/{key}.json"] = _json({term: table[term] for term in sorted(table)})
    for start in range(0, len(docs), DOC_CHUNK):
        chunk = [[d.kind, d.title, d.url, d.snippet, d.passages()] for d in docs[start : start + DOC_CHUNK]]
        files[f"d/{start // DOC_CHUNK}.json"] = _json(chunk)
    return files


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
