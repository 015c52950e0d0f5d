"""Hybrid retrieval: dense (sentence-transformers in Chroma) fused with BM25 by weighted
reciprocal rank fusion.

RRF needs no score calibration between the two retrievers, which matters because cosine
similarities and BM25 scores live on unrelated scales. Japanese queries weight the lexical side
more, since the default embedding model is English-only.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from knowledge.access import PUBLIC, Reader
from knowledge.chunking import units
from knowledge.coarse import DocumentVectors, window_ranking, windows
from knowledge.embeddings import Embedder
from knowledge.lexical import LexicalCache, LexicalIndex, content_terms
from knowledge.store import MAIN, MULTILINGUAL, FileRecord, KnowledgeStore, StoredChunk, StoreView

log = logging.getLogger(__name__)

RRF_K = 60
CROSS = "cross"  # the multilingual side over other-language documents
WINDOW = "window"  # the main side's nearest chunks scored by their windows (knowledge.coarse)
WINDOW_RADIUS = 1  # neighbours on each side of a chunk in its window
DOCUMENT = "document"  # documents by their mean chunk vector (knowledge.coarse)


@dataclass(frozen=True)
class Hit:
    """A retrieved document: its best-matching chunk, and the section around it."""

    id: str
    path: str
    title: str
    heading: str
    text: str  # the matching chunk
    score: float  # fused RRF score of the file, normalised so that rank 1 everywhere is 1.0
    dense: float | None = None  # cosine similarity (main embedder), when that side found it
    lexical: float | None = None  # BM25 score, when the lexical side found it
    confidential: bool = False
    audience: tuple[str, ...] = ()  # () is everyone
    # the enclosing section (neighbouring chunks under the same heading, within a budget) for
    # the prompt to show; the chunk itself when none was built
    passage: str = ""
    multilingual: float | None = None  # cosine similarity on the multilingual side

    def __post_init__(self) -> None:
        if not self.passage:
            object.__setattr__(self, "passage", self.text)


@dataclass
class SearchResult:
    hits: list[Hit]
    seconds: float
    query_terms: list[str] = field(default_factory=list)
    term_coverage: float = 0.0  # share of the query's terms found in the top passages
    unknown_terms: list[str] = field(default_factory=list)  # terms no document contains
    # audiences of the documents the reader may not see that would have ranked (no paths or
    # titles: only what is needed to tell a member to ask in a direct message)
    held_back: list[tuple[str, ...]] = field(default_factory=list)


@dataclass(frozen=True)
class Weights:
    """RRF weights of each retriever for questions in one language."""

    dense: float  # the main embedder (all-MiniLM by default)
    lexical: float  # BM25
    multilingual: float = 0.0  # the multilingual embedder, when there is one
    # the multilingual embedder over documents written in another language than the question
    # only, and only above a cosine floor: how an English question finds a Japanese-only page
    # without the multilingual side's weaker English ranking diluting the main one
    cross: float = 0.0
    cross_floor: float = 0.3
    # the main embedder's nearest chunks re-scored by their windows (each with its neighbours
    # under the same heading): a coarser view of the same vectors
    window: float = 0.0
    # documents ranked by their mean chunk vector on the main side (what a page is about)
    document: float = 0.0


# Fitted per question language on fold 0 of the hard sets by tests/bench/tune_fusion.py
# (recall@1 + 0.5 recall@5; figures on fold 1 in the README's Trust section). English: all-MiniLM
# alone beat every mix with BM25 and with the multilingual encoder over English text, so the
# multilingual side only adds Japanese documents; Japanese: the multilingual encoder alone beat
# every mix (BM25 over bigrams included) on the helpdesk set and lost a little on JSQuAD. The
# English cross side (:func:`cross_language`, weight 1.05) had the best fold-0 mean over
# helpdesk-en and pyfaq-ref (1.159 against 0.998 for all-MiniLM alone and 1.008 for a fixed
# cosine floor): it is what finds a Japanese-only page. The coarser views (:mod:`knowledge.coarse`)
# are off: fitted on fold 0 (dense 0.3, cross 2.0, window 0.5, document 1.0) they lifted the
# Python reference set's fold-1 recall@1 from 0.419 to 0.486, cost helpdesk-en two questions at
# rank 1, and made the sample knowledge base's near miss "Are dogs allowed in the office?" rank
# the office page first and be answered, confidently and wrongly, from its parking line.
WEIGHTS = {"en": Weights(1.0, 0.0, 0.0, cross=1.05, cross_floor=0.3),
           "ja": Weights(0.0, 0.0, 1.0)}

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


def script_language(text: str) -> str:
    """"ja" when at least a fifth of the text's letters are kana or kanji, else "en"."""
    letters = sum(ch.isalpha() for ch in text)
    return "ja" if letters and len(_CJK.findall(text)) / letters >= 0.2 else "en"


class Searcher(Protocol):
    """The retrieval seam: ranked passages for a query, with the index's lifecycle.

    Subclass it for the no-op lifecycle defaults; :class:`HybridRetriever` is the real one and
    :class:`knowledge.fakes.StaticSearcher` answers from fixed hits in unit tests.
    """

    def search(self, query: str, k: int = 3, language: str = "en",
               reader: Reader = PUBLIC) -> SearchResult:
        """The ``k`` best passages for ``query`` that ``reader`` may see, best first."""
        ...

    def load(self) -> None:
        """Build what the first search would (the lexical index)."""
        return None

    def close(self) -> None:
        """Drop in-memory indexes."""
        return None


class HybridRetriever(Searcher):
    """Dense search in Chroma (one or two embedders) fused with BM25 over the live chunks,
    ranked per document: each retriever's chunk list becomes a list of files (by their best
    chunk), the file lists are fused, and each file is represented by its best chunk, with the
    enclosing section as its passage. Two coarser views of the main side's stored vectors can
    be fused too (:mod:`knowledge.coarse`): the nearest chunks by their windows, and the
    documents by their mean chunk vector."""

    def __init__(self, store: KnowledgeStore, embeddings: Embedder, search_k: int = 30, *,
                 multilingual: Embedder | None = None, passage_units: int = 1200,
                 weights: dict[str, Weights] | None = None,
                 lexical_dir: Path | None = None) -> None:
        self.store = store
        self.embeddings = embeddings
        self.multilingual = multilingual
        self.search_k = search_k
        self.passage_units = passage_units
        self.weights = weights or WEIGHTS
        self._lexical: LexicalIndex | None = None
        self._lexical_revision: str | None = None
        self._documents: tuple[str, DocumentVectors] | None = None  # (revision, vectors)
        # where the lexical index is saved per store revision (None: built in memory only)
        self._saved = LexicalCache(lexical_dir) if lexical_dir is not None else None
        self.lexical_source = ""  # how the current lexical index came: "built" or "loaded"
        self._lock = threading.Lock()

    def load(self) -> None:
        for embedder in self._embedders().values():
            embedder.load()
        self.lexical_index()
        if any(w.document > 0 for w in self.weights.values()) and MAIN in self._live_sides():
            self.document_vectors()

    def close(self) -> None:
        with self._lock:
            self._lexical, self._lexical_revision, self._documents = None, None, None

    def _embedders(self) -> dict[str, Embedder]:
        sides = {MAIN: self.embeddings}
        if self.multilingual is not None:
            sides[MULTILINGUAL] = self.multilingual
        return sides

    def _live_sides(self) -> dict[str, Embedder]:
        """The dense sides whose stored vectors this process's models made (a side another
        model made, or one being re-embedded, is left out until the indexer has finished)."""
        recorded = self.store.models()
        live = {}
        for side, embedder in self._embedders().items():
            made_by = recorded.get(side)
            if made_by is not None and made_by != getattr(embedder, "name", ""):
                log.warning("%s vectors were made by %s, not %s: side skipped until reindexed",
                            side, made_by, getattr(embedder, "name", ""))
                continue
            live[side] = embedder
        return live

    def lexical_index(self, revision: str | None = None) -> LexicalIndex:
        """BM25 over the live chunks at the store's ``revision`` (now, when not given): kept
        until the revision changes, loaded from its saved copy when there is one."""
        with self._lock:
            revision = self.store.revision() if revision is None else revision
            if self._lexical is None or revision != self._lexical_revision:
                started = time.perf_counter()
                self._lexical, self.lexical_source = self._load_or_build(revision)
                self._lexical_revision = revision
                log.info("lexical index: %d chunks %s in %.2fs", len(self._lexical),
                         self.lexical_source, time.perf_counter() - started)
            return self._lexical

    def _load_or_build(self, revision: str) -> tuple[LexicalIndex, str]:
        key = f"{self.store.name}@{revision}"
        saved = self._saved.get(key) if self._saved is not None else None
        if saved is not None:
            return saved, "loaded"
        chunks = self.store.live_chunks()
        index = LexicalIndex([c.id for c in chunks], [c.lexical_text for c in chunks],
                             [c.path for c in chunks])
        # saved only when the store did not change while the chunks were read
        if self._saved is not None and revision != "0" and self.store.revision() == revision:
            try:
                self._saved.put(key, index, lambda name: name.startswith(f"{self.store.name}@"))
            except OSError as exc:
                log.warning("lexical index: could not save it in %s (%s)", self._saved.root, exc)
        return index, "built"

    def search(self, query: str, k: int = 3, language: str = "en",
               reader: Reader = PUBLIC) -> SearchResult:
        started = time.perf_counter()
        live = self._live_sides()
        weights = self._weights_for(language, live)
        view = self.store.view()  # one read of the records per revision, shared by queries
        lexical = self.lexical_index(view.revision)
        records, denied = view.records, view.denied(reader)
        scores = lexical.scores(query)
        ranked: dict[str, list[tuple[str, float]]] = {
            "lexical": [] if scores is None else lexical.top(lexical.masked(scores, denied),
                                                             self.search_k)}
        vectors: dict[str, np.ndarray] = {}
        raw: dict[str, list[tuple[str, float]]] = {}  # each dense side's own list, unfiltered
        for side, embedder in live.items():
            wanted = (max(weights.dense, weights.window, weights.document) if side == MAIN
                      else max(weights.multilingual, weights.cross))
            if wanted <= 0:
                continue
            vectors[side] = embedder.encode([query])[0]
            nearest = self.store.dense_search(vectors[side], self.search_k, sorted(denied),
                                              side=side, live=view.live_ids)
            raw[side] = nearest
            if side == MAIN or weights.multilingual > 0:
                ranked[side] = nearest
            if side == MULTILINGUAL and weights.cross > 0:
                ranked[CROSS] = nearest  # filtered to other-language documents below
        candidates = self.store.get_chunks(sorted({c for hits in ranked.values() for c, _ in hits}))
        if weights.document > 0 and MAIN in raw:
            ranked[DOCUMENT] = self.document_view(vectors[MAIN], raw[MAIN], candidates, view,
                                                  denied)
            candidates.update(self.store.get_chunks(
                [c for c, _ in ranked[DOCUMENT] if c not in candidates]))
        if CROSS in ranked:
            ranked[CROSS] = cross_language(ranked[CROSS], candidates, language,
                                           weights.cross_floor)
        if weights.window > 0 and MAIN in raw:
            ranked[WINDOW] = self.window_view(vectors[MAIN], raw[MAIN], candidates, records)
        weight_of = {"lexical": weights.lexical, MAIN: weights.dense,
                     MULTILINGUAL: weights.multilingual, CROSS: weights.cross,
                     WINDOW: weights.window, DOCUMENT: weights.document}
        files, best = fuse_by_file(ranked, weight_of, {c: ch.path for c, ch in candidates.items()})
        norm = sum(weight_of[name] for name, found in ranked.items()
                   if found or name != CROSS) / (RRF_K + 1)
        top = [p for p in sorted(files, key=lambda p: -files[p]) if best[p] in candidates][:k]
        passages = self._passages([candidates[best[p]] for p in top], records)
        signal = {name: dict(hits) for name, hits in ranked.items()}
        hits = [self._hit(candidates[best[p]], files[p] / norm, signal, records.get(p),
                          passages.get(best[p], "")) for p in top]
        terms = sorted(content_terms(query))
        found: set[str] = set()
        for hit in hits:
            found |= content_terms(f"{hit.title} {hit.heading} {hit.text}")
        coverage = len(found & set(terms)) / len(terms) if terms else 1.0
        unknown = [t for t in terms if not lexical.knows(t)]
        held = self._held_back(denied, view, lexical, scores, vectors, k, raw)
        return SearchResult(hits, time.perf_counter() - started, terms, coverage, unknown, held)

    def window_view(self, vector: np.ndarray, nearest: list[tuple[str, float]],
                    chunks: Mapping[str, StoredChunk],
                    records: Mapping[str, FileRecord]) -> list[tuple[str, float]]:
        """The main side's ``nearest`` chunks ranked by their windows (:mod:`knowledge.coarse`),
        from the vectors already stored."""
        return window_ranking(vector, nearest, document_order(chunks.values(), records),
                              lambda ids: self.store.stored_vectors(ids, MAIN), WINDOW_RADIUS)

    def document_vectors(self, view: StoreView | None = None) -> DocumentVectors:
        """Each document's mean main-side vector at ``view``'s revision (now, when not given):
        built from the stored vectors and kept until the revision changes."""
        view = self.store.view() if view is None else view
        with self._lock:
            if self._documents is None or self._documents[0] != view.revision:
                started = time.perf_counter()
                built = DocumentVectors({p: r.chunk_ids for p, r in view.records.items()},
                                        lambda ids: self.store.stored_vectors(ids, MAIN))
                self._documents = (view.revision, built)
                log.info("document vectors: %d documents in %.2fs", len(built),
                         time.perf_counter() - started)
            return self._documents[1]

    def document_view(self, vector: np.ndarray, nearest: list[tuple[str, float]],
                      chunks: Mapping[str, StoredChunk], view: StoreView,
                      denied: frozenset[str]) -> list[tuple[str, float]]:
        """The ``search_k`` documents nearest ``vector`` by their mean chunk vector, each as
        (its chunk among the main side's ``nearest``, else its first chunk; similarity)."""
        documents = self.document_vectors(view)
        best: dict[str, str] = {}
        for cid, _ in nearest:
            if cid in chunks:
                best.setdefault(chunks[cid].path, cid)
        return [(best.get(path) or view.records[path].chunk_ids[0], similarity)
                for path, similarity in documents.nearest(vector, self.search_k, denied)
                if path in view.records and view.records[path].chunk_ids]

    def _weights_for(self, language: str, live: dict[str, Embedder]) -> Weights:
        """The language's weights, or — when none of its weighted retrievers is available (no
        multilingual encoder configured, a side being re-embedded) — every available one at 1."""
        w = self.weights.get(language, self.weights["en"])
        if max(w.dense, w.window, w.document) > 0 and MAIN in live or (
                max(w.multilingual, w.cross) > 0 and MULTILINGUAL in live) or w.lexical > 0:
            return w
        return Weights(1.0 if MAIN in live else 0.0, 1.0, 1.0 if MULTILINGUAL in live else 0.0)

    @staticmethod
    def _hit(chunk: StoredChunk, score: float, signal: dict[str, dict[str, float]],
             record: FileRecord | None, passage: str) -> Hit:
        return Hit(chunk.id, chunk.path, chunk.title, chunk.heading, chunk.text, score,
                   signal.get(MAIN, {}).get(chunk.id), signal["lexical"].get(chunk.id),
                   record.confidential if record else False,
                   record.audience if record else (), passage,
                   signal.get(MULTILINGUAL, {}).get(chunk.id, signal.get(CROSS, {}).get(chunk.id)))

    def _passages(self, chunks: list[StoredChunk],
                  records: Mapping[str, FileRecord]) -> dict[str, str]:
        """Each chunk's enclosing section: the chunk, then its neighbours under the same heading
        (nearest first, alternating after and before) while the whole fits ``passage_units``."""
        around = windows([c.id for c in chunks], document_order(chunks, records), _NEIGHBOURS)
        stored = self.store.get_chunks(sorted({c for w in around.values() for c in w}))
        return {chunk.id: section_text(chunk, [stored[c] for c in around[chunk.id]
                                               if c in stored], self.passage_units)
                for chunk in chunks}

    def _held_back(self, denied: frozenset[str], view: StoreView,
                   lexical: LexicalIndex, scores: np.ndarray | None,
                   vectors: dict[str, np.ndarray], k: int,
                   ranked: dict[str, list[tuple[str, float]]]) -> list[tuple[str, ...]]:
        """The audiences of denied documents that would have made the top ``k`` of any
        retriever without the filter."""
        if not denied:
            return []
        paths: set[str] = set()
        if scores is not None:
            paths |= {lexical.path(row) for row in lexical.top_rows(scores, k)} & denied
        for side, vector in vectors.items():
            hits = ranked[side]
            floor = hits[k - 1][1] if len(hits) >= k else -1.0
            found = [cid for cid, _ in
                     self.store.dense_search(vector, k, only_paths=sorted(denied), side=side,
                                             live=view.live_ids, floor=floor)]
            paths |= {chunk.path for chunk in self.store.get_chunks(found).values()}
        return [view.records[p].audience for p in sorted(paths) if p in view.records]


def cross_language(nearest: list[tuple[str, float]], chunks: dict[str, StoredChunk],
                   language: str, floor: float) -> list[tuple[str, float]]:
    """The multilingual side's chunks written in another language than the question that it
    rates at least as high as its best chunk in the question's own language (and above
    ``floor``): a Japanese page enters an English question's ranking only when the one encoder
    that reads both finds it the better match."""
    script = {c: script_language(chunks[c].text) for c, _ in nearest if c in chunks}
    same = [sim for c, sim in nearest if script.get(c) == language]
    bar = max([floor, *same[:1]])
    return [(c, sim) for c, sim in nearest
            if c in script and script[c] != language and sim >= bar]


_NEIGHBOURS = 4  # chunks looked at on each side of the match when building its section


def fuse_by_file(ranked: dict[str, list[tuple[str, float]]], weights: dict[str, float],
                 path_of: dict[str, str]) -> tuple[dict[str, float], dict[str, str]]:
    """Weighted RRF over files: each retriever's chunk list, best first, ranks the files by
    their first chunk. Returns each file's fused score and its best chunk (by the chunks' own
    fused score)."""
    files: dict[str, float] = {}
    chunk_score: dict[str, float] = {}
    for name, hits in ranked.items():
        weight, seen = weights[name], 0
        firsts: set[str] = set()
        for rank, (cid, _score) in enumerate(hits, 1):
            chunk_score[cid] = chunk_score.get(cid, 0.0) + weight / (RRF_K + rank)
            path = path_of.get(cid)
            if path is not None and path not in firsts:
                firsts.add(path)
                seen += 1
                files[path] = files.get(path, 0.0) + weight / (RRF_K + seen)
    best: dict[str, str] = {}
    for cid, score in chunk_score.items():
        path = path_of.get(cid)
        if path is not None and (path not in best or score > chunk_score[best[path]]):
            best[path] = cid
    return files, best


def document_order(chunks: Iterable[StoredChunk],
                   records: Mapping[str, FileRecord]) -> dict[str, Sequence[str]]:
    """Each chunk's document's chunk ids in document order (chunks of unrecorded files left
    out)."""
    return {c.id: records[c.path].chunk_ids for c in chunks if c.path in records}


def section_text(chunk: StoredChunk, window: list[StoredChunk], budget: int) -> str:
    """``chunk`` grown with the contiguous chunks of ``window`` (document order) that share its
    heading, nearest first, while the text stays within ``budget`` units."""
    order = sorted(window, key=lambda c: c.ordinal)
    at = next((i for i, c in enumerate(order) if c.id == chunk.id), None)
    if at is None:
        return chunk.text
    lo = hi = at
    size = units(chunk.text)
    growing = {1: True, -1: True}  # after, before: each stops at the first misfit
    while any(growing.values()):
        for direction in (1, -1):
            step = hi + 1 if direction == 1 else lo - 1
            if not growing[direction]:
                continue
            extra = units(order[step].text) + 1 if 0 <= step < len(order) else budget + 1
            if order[min(max(step, 0), len(order) - 1)].heading != chunk.heading or (
                    size + extra > budget):
                growing[direction] = False
                continue
            size += extra
            lo, hi = min(lo, step), max(hi, step)
    return "\n".join(c.text for c in order[lo : hi + 1])
