"""Build a municipality's Whoosh index and export it as static shards.

Layout below `suche/`:
  meta.json       analysis rules, field boosts, document count, average field lengths,
                  the list of term shards
  t/<ab>.json     terms starting with <ab>: {term: [[doc, field, frequency, field length], …]}
  d/<n>.json      documents n*DOC_CHUNK … : [[kind, title, url, snippet, [sentence, …],
                  {town id or "": [office, its address, postal address]}], …]

meta.json also holds the best bets and the places a query can name (documents.extras).

A query fetches meta.json, one term shard per query word and the document chunks of the
hits it shows: a few kilobytes, never the whole index.
"""

from __future__ import annotations

import functools
import hashlib
import json
import pickle
import shutil
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from whoosh.analysis import Filter, RegexTokenizer, Token
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.index import exists_in

from .analysis import RULES, compound_parts, term_of, vocabulary
from .documents import FIELDS, KINDS, SearchDoc

FORMAT_VERSION = 2
DOC_CHUNK = 10
SHARD_PREFIX = 2
BOOSTS = {"title": 6.0, "synonyms": 4.0, "teaser": 1.5, "body": 1.0}
KIND_BOOSTS = {"service": 1.0, "life_situation": 0.9, "page": 0.9, "unit": 0.8, "contact": 0.8, "location": 0.7,
               "news": 0.5}


class GermanFilter(Filter):
    """Folds, drops stop words, stems, and adds the known words a compound ends with."""

    def __init__(self, vocabulary: set[str]):
        self.vocabulary = vocabulary
        self._parts: dict[str, tuple[str, ...]] = {}

    def parts(self, term: str) -> tuple[str, ...]:
        if term not in self._parts:
            self._parts[term] = tuple(compound_parts(term, self.vocabulary))
        return self._parts[term]

    def __call__(self, tokens: Any) -> Any:
        for token in tokens:
            term = term_of(token.text)
            if term is None:
                continue
            token.text = term
            yield token
            for part in self.parts(term):
                extra = Token(positions=False, chars=False, removestops=True, mode=token.mode)
                extra.text, extra.boost, extra.stopped = part, 1.0, False
                yield extra


def _schema(vocab: set[str]) -> Schema:
    analyzer = RegexTokenizer(r"[^\W_]+") | GermanFilter(vocab)
    return Schema(
        key=ID(unique=True, stored=True),
        digest=STORED,
        **{name: TEXT(analyzer=analyzer, phrase=False) for name in FIELDS},
    )


def compound_vocabulary(docs: list[SearchDoc]) -> set[str]:
    """The words compounds are split into: those of names and synonyms. Body text does not
    count, so that editing a text rarely changes how every other document is analysed."""
    return vocabulary(doc.fields.get(name, "") for doc in docs for name in ("title", "synonyms"))


@functools.cache
def _code_version() -> str:
    here = Path(__file__).resolve().parent
    return hashlib.sha1(
        b"".join((here / name).read_bytes() for name in ("analysis.py", "documents.py", "index.py"))
    ).hexdigest()


def index_name(vocab: set[str]) -> str:
    """A new vocabulary or new analysis code makes a new index (and drops the cache)."""
    vocab_digest = hashlib.sha1(" ".join(sorted(vocab)).encode("utf-8")).hexdigest()
    return f"v{FORMAT_VERSION}-{_code_version()[:12]}-{vocab_digest[:12]}"


def _doc_digest(doc: SearchDoc) -> str:
    return hashlib.sha1(repr(doc.fields).encode("utf-8")).hexdigest()


def open_index(
    docs: list[SearchDoc],
    folder: Path | None,
    known: dict[str, str] | None = None,
    vocab: set[str] | None = None,
) -> tuple[Any, set[str]]:
    """The Whoosh index of docs, and the keys of the documents (re)indexed now. With a
    folder, the index is kept there between builds and only documents that changed are
    analysed again (all of them when the compound vocabulary changed). known: the
    digests of the indexed documents, if the caller has them (saves reading them)."""
    vocab = compound_vocabulary(docs) if vocab is None else vocab
    schema = _schema(vocab)
    if folder is None:
        # Whoosh names its temporary folder after the index, in the shared temp directory;
        # a unique name keeps parallel builds (one process per municipality) apart.
        index = RamStorage().create_index(schema, indexname=f"portal-{uuid.uuid4().hex}")
        existing: dict[str, str] = {}
    else:
        name = index_name(vocab)
        storage = FileStorage(str(folder))
        if folder.is_dir() and exists_in(str(folder), indexname=name):
            index = storage.open_index(indexname=name, schema=schema)
        else:
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            index = FileStorage(str(folder)).create_index(schema, indexname=name)
        if known is not None and exists_in(str(folder), indexname=name):
            existing = known
        else:
            with index.searcher() as searcher:
                existing = {fields["key"]: fields["digest"] for fields in searcher.all_stored_fields()}
    wanted = {doc.url: _doc_digest(doc) for doc in docs}
    changed = [doc for doc in docs if existing.get(doc.url) != wanted[doc.url]]
    removed = [key for key in existing if key not in wanted]
    if changed or removed or folder is None:
        writer = index.writer()
        for key in removed:
            writer.delete_by_term("key", key)
        for doc in changed:
            fields = {name: doc.fields.get(name, "") for name in FIELDS}
            writer.update_document(key=doc.url, digest=wanted[doc.url], **fields)
        writer.commit()
    return index, {doc.url for doc in changed}


Row = tuple[str, int, int, int]  # term, field number, frequency, field length


def _rows(reader: Any, schema: Schema, wanted: dict[int, SearchDoc], scan_all: bool) -> dict[int, list[Row]]:
    """What the index holds for the wanted documents, read from its postings. Only the
    terms of those documents are looked up, unless scan_all (most documents are wanted)."""
    rows: dict[int, list[Row]] = {docnum: [] for docnum in wanted}
    for number, name in enumerate(FIELDS):
        if scan_all:
            terms = [raw for field_name, raw in reader.all_terms() if field_name == name]
        else:
            analyzer = schema[name].analyzer
            terms = sorted({t.text for doc in wanted.values() for t in analyzer(doc.fields.get(name, ""))})
        lengths = {docnum: int(reader.doc_field_length(docnum, name, 0) or 0) for docnum in wanted}
        for raw in terms:
            term = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            if (name, term) not in reader:
                continue
            matcher = reader.postings(name, term)
            while matcher.is_active():
                docnum = matcher.id()
                if docnum in rows:
                    rows[docnum].append((term, number, int(matcher.weight()), lengths[docnum]))
                matcher.next()
    return rows


def export(docs: list[SearchDoc], folder: Path | None = None, extras: dict[str, Any] | None = None) -> dict[str, bytes]:
    """Every file of the exported index, by path below suche/; extras go into meta.json.

    Each document's rows are read from the Whoosh index; with a folder, the rows (and
    passages) of documents that were not re-indexed come from the previous export's cache.
    """
    cache_file = folder / "rows.pickle" if folder is not None else None
    vocab = compound_vocabulary(docs)
    name = index_name(vocab)
    cache: dict[str, tuple[str, list[Row], list[str]]] = {}
    if cache_file is not None and cache_file.is_file():
        try:
            stored = pickle.loads(cache_file.read_bytes())
        except (OSError, pickle.UnpicklingError, EOFError, ValueError):
            stored = {}
        if isinstance(stored, dict) and stored.get("index") == name:
            cache = stored["docs"]
    known = {key: entry[0] for key, entry in cache.items()} if cache else None
    index, reindexed = open_index(docs, folder, known, vocab)
    shards: dict[str, dict[str, list[list[int]]]] = defaultdict(dict)
    lengths = [[0] * len(docs) for _ in FIELDS]
    fresh: dict[str, tuple[str, list[Row], list[str]]] = {}
    with index.reader() as reader:
        reuse = {
            doc.url for doc in docs if doc.url not in reindexed and cache.get(doc.url, ("",))[0] == _doc_digest(doc)
        }
        missing = [doc for doc in docs if doc.url not in reuse]
        read: dict[str, list[Row]] = {}
        if missing:
            docnum_of = {fields["key"]: n for n, fields in reader.iter_docs()}
            wanted = {docnum_of[doc.url]: doc for doc in missing}
            by_docnum = _rows(reader, index.schema, wanted, scan_all=len(missing) > len(docs) // 4)
            read = {doc.url: by_docnum[number] for number, doc in wanted.items()}
        for position, doc in enumerate(docs):
            if doc.url in reuse:
                fresh[doc.url] = cache[doc.url]
            else:
                fresh[doc.url] = (_doc_digest(doc), read[doc.url], doc.passages())
            for term, field_number, frequency, length in fresh[doc.url][1]:
                shards[term[:SHARD_PREFIX]].setdefault(term, []).append([position, field_number, frequency, length])
                lengths[field_number][position] = length
    if cache_file is not None:
        cache_file.write_bytes(pickle.dumps({"index": name, "docs": fresh}, protocol=pickle.HIGHEST_PROTOCOL))
    count = len(docs)
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
        "average_lengths": [sum(field_lengths) / max(count, 1) for field_lengths in lengths],
        "kind_ranges": [[kind, start, end] for kind, (start, end) in ranges.items()],
        "doc_chunk": DOC_CHUNK,
        "shard_prefix": SHARD_PREFIX,
        "shards": sorted(shards),
        "rules": RULES,
        "best_bets": {},
        "places": [],
        **(extras or {}),
    }
    files = {"meta.json": _json(meta)}
    for key, table in shards.items():
        files[f"t/{key}.json"] = _json({term: sorted(table[term]) for term in sorted(table)})
    for start in range(0, len(docs), DOC_CHUNK):
        chunk = [[d.kind, d.title, d.url, d.snippet, fresh[d.url][2], {k: list(v) for k, v in d.offices.items()}]
                 for d in docs[start : start + DOC_CHUNK]]
        files[f"d/{start // DOC_CHUNK}.json"] = _json(chunk)
    return files


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
