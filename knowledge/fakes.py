"""Small in-memory stand-ins for the knowledge seams, for fast unit tests.

:class:`HashingEmbedder` embeds by hashing content terms into a fixed number of buckets (texts
that share terms get similar vectors), so a real Chroma store and the real retriever work without
loading a neural model. :class:`StaticSearcher` answers every query with fixed passages, so a
test chooses exactly the evidence the router sees. Integration tests use the real parts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import numpy as np

from knowledge.access import PUBLIC, Reader
from knowledge.embeddings import Embedder
from knowledge.lexical import content_terms
from knowledge.retrieval import Hit, Searcher, SearchResult


class HashingEmbedder(Embedder):
    """Feature-hashed bags of content terms, unit length (``dimensions`` floats)."""

    def __init__(self, dimensions: int = 384) -> None:
        self.name = "hashing"
        self.dimensions = dimensions
        self.calls = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for term in content_terms(text):
                digest = hashlib.blake2b(term.encode(), digest_size=4).digest()
                out[row, int.from_bytes(digest, "little") % self.dimensions] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


def hit(path: str, text: str, *, dense: float = 0.8, lexical: float = 8.0, score: float = 1.0,
        heading: str = "", confidential: bool = False) -> Hit:
    """A retrieved passage with chosen signal values (title from the file name)."""
    title = path.rsplit("/", 1)[-1].rsplit(".", 1)[0].replace("-", " ")
    return Hit(f"{path}#{abs(hash(text)) % 10**8}", path, title, heading, text, score, dense,
               lexical, confidential)


class StaticSearcher(Searcher):
    """Returns the same passages for every query (or per query from ``by_query``), without
    those whose ``audiences[path]`` the reader may not see (counted as held back)."""

    def __init__(self, hits: Sequence[Hit] = (), *, coverage: float = 1.0,
                 by_query: Mapping[str, Sequence[Hit]] | None = None,
                 unknown: Callable[[str], list[str]] | None = None,
                 audiences: Mapping[str, tuple[str, ...]] | None = None) -> None:
        self.hits = list(hits)
        self.audiences = dict(audiences or {})
        self.coverage = coverage
        self.by_query = dict(by_query or {})
        self.unknown = unknown
        self.queries: list[str] = []
        self.loaded = False

    def search(self, query: str, k: int = 3, language: str = "en",
               reader: Reader = PUBLIC) -> SearchResult:
        self.queries.append(query)
        ranked = [replace(h, audience=self.audiences.get(h.path, h.audience))
                  for h in self.by_query.get(query, self.hits)]
        held = [h.audience for h in ranked[:k] if not reader.may_read(h.audience)]
        hits = [h for h in ranked if reader.may_read(h.audience)][:k]
        terms = sorted(content_terms(query))
        unknown = self.unknown(query) if self.unknown else []
        return SearchResult(hits, 0.001, terms, self.coverage if hits else 0.0, unknown,
                            sorted(set(held)))

    def load(self) -> None:
        self.loaded = True
