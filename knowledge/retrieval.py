"""Hybrid retrieval: dense (sentence-transformers in Chroma) fused with BM25 by weighted
reciprocal rank fusion.

RRF needs no score calibration between the two retrievers, which matters because cosine
similarities and BM25 scores live on unrelated scales. Japanese queries weight the lexical side
more, since the default embedding model is English-only.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from knowledge.access import PUBLIC, Reader
from knowledge.embeddings import Embedder
from knowledge.lexical import LexicalIndex, content_terms
from knowledge.store import FileRecord, KnowledgeStore, StoredChunk

log = logging.getLogger(__name__)

RRF_K = 60


@dataclass(frozen=True)
class Hit:
    id: str
    path: str
    title: str
    heading: str
    text: str
    score: float  # fused RRF score, normalised so that rank 1 in both lists is 1.0
    dense: float | None = None  # cosine similarity, when the dense side found it
    lexical: float | None = None  # BM25 score, when the lexical side found it
    confidential: bool = False
    audience: tuple[str, ...] = ()  # () is everyone


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
    dense: float
    lexical: float


# Japanese: the dense side only breaks ties and finds what BM25 misses entirely (measured on
# jsquad: dense weight 0.3 gives recall@1 0.81, 0.0 gives 0.98).
WEIGHTS = {"en": Weights(1.0, 1.0), "ja": Weights(0.01, 1.0)}


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
    """Dense search in Chroma fused with BM25 over the live chunks."""

    def __init__(self, store: KnowledgeStore, embeddings: Embedder, search_k: int = 20) -> None:
        self.store = store
        self.embeddings = embeddings
        self.search_k = search_k
        self._lexical: LexicalIndex | None = None
        self._lexical_revision: str | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        self.embeddings.load()
        self.lexical_index()

    def close(self) -> None:
        with self._lock:
            self._lexical, self._lexical_revision = None, None

    def lexical_index(self) -> LexicalIndex:
        with self._lock:
            revision = self.store.revision()
            if self._lexical is None or revision != self._lexical_revision:
                started = time.perf_counter()
                chunks = self.store.live_chunks()
                self._lexical = LexicalIndex(
                    [c.id for c in chunks], [c.lexical_text for c in chunks],
                    [c.path for c in chunks])
                self._lexical_revision = revision
                log.info(
                    "lexical index: %d chunks in %.2fs", len(chunks), time.perf_counter() - started
                )
            return self._lexical

    def search(self, query: str, k: int = 3, language: str = "en",
               reader: Reader = PUBLIC) -> SearchResult:
        started = time.perf_counter()
        weights = WEIGHTS.get(language, WEIGHTS["en"])
        lexical = self.lexical_index()
        records = self.store.files()
        denied = frozenset(p for p, r in records.items() if not reader.may_read(r.audience))
        scores = lexical.scores(query)
        lexical_hits = [] if scores is None else lexical.top(lexical.masked(scores, denied),
                                                             self.search_k)
        vector = self.embeddings.encode([query])[0]
        dense_hits = self.store.dense_search(vector, self.search_k, sorted(denied))
        fused: dict[str, float] = {}
        for weight, ranked in ((weights.dense, dense_hits), (weights.lexical, lexical_hits)):
            for rank, (cid, _score) in enumerate(ranked, 1):
                fused[cid] = fused.get(cid, 0.0) + weight / (RRF_K + rank)
        best = sorted(fused, key=lambda c: -fused[c])[:k]
        norm = (weights.dense + weights.lexical) / (RRF_K + 1)
        dense_of, lexical_of = dict(dense_hits), dict(lexical_hits)
        chunks = self.store.get_chunks(best)
        hits = [self._hit(chunks[cid], fused[cid] / norm, dense_of.get(cid), lexical_of.get(cid),
                          records.get(chunks[cid].path))
                for cid in best if cid in chunks]
        terms = sorted(content_terms(query))
        found: set[str] = set()
        for hit in hits:
            found |= content_terms(f"{hit.title} {hit.heading} {hit.text}")
        coverage = len(found & set(terms)) / len(terms) if terms else 1.0
        unknown = [t for t in terms if not lexical.knows(t)]
        held = self._held_back(denied, records, lexical, scores, vector, k, dense_hits)
        return SearchResult(hits, time.perf_counter() - started, terms, coverage, unknown, held)

    @staticmethod
    def _hit(chunk: StoredChunk, score: float, dense: float | None, lexical: float | None,
             record: FileRecord | None) -> Hit:
        return Hit(chunk.id, chunk.path, chunk.title, chunk.heading, chunk.text, score, dense,
                   lexical, record.confidential if record else False,
                   record.audience if record else ())

    def _held_back(self, denied: frozenset[str], records: dict[str, FileRecord],
                   lexical: LexicalIndex, scores: np.ndarray | None, vector: np.ndarray, k: int,
                   dense_hits: list[tuple[str, float]]) -> list[tuple[str, ...]]:
        """The audiences of denied documents that would have made the top ``k`` of either
        retriever without the filter."""
        if not denied:
            return []
        paths: set[str] = set()
        if scores is not None:
            paths |= {lexical.paths[row] for row in lexical.top_rows(scores, k)} & denied
        floor = dense_hits[k - 1][1] if len(dense_hits) >= k else -1.0
        ranked = [cid for cid, similarity in
                  self.store.dense_search(vector, k, only_paths=sorted(denied))
                  if similarity >= floor]
        paths |= {chunk.path for chunk in self.store.get_chunks(ranked).values()}
        return [records[p].audience for p in sorted(paths) if p in records]
