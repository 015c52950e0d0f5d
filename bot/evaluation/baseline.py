"""The plain dense baseline every retrieval figure is printed beside.

all-MiniLM-L6-v2 (or whichever :class:`knowledge.embeddings.Embedder` is given) over
1,000-character chunks of each document, cosine top 30 chunks, de-duplicated to files: what a
new user gets from a textbook RAG set-up, with no BM25, no headings, no access rules. It lives in
memory (numpy), so it is computed in the same run as the figure it is compared with.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from knowledge.embeddings import Embedder
from knowledge.loaders import LoadError, load_document, supported

log = logging.getLogger(__name__)

CHUNK_CHARS = 1000
TOP_CHUNKS = 30


def plain_chunks(text: str, size: int = CHUNK_CHARS) -> list[str]:
    """``text`` cut into consecutive windows of ``size`` characters (whitespace collapsed)."""
    flat = " ".join(text.split())
    return [flat[i : i + size] for i in range(0, len(flat), size)] or []


class PlainDense:
    """Dense-only retrieval of files over a corpus folder."""

    def __init__(self, embedder: Embedder, corpus: Path) -> None:
        self.embedder = embedder
        paths: list[str] = []
        texts: list[str] = []
        for path, relative in _files(corpus):
            try:
                document = load_document(path, relative)
            except LoadError as exc:
                log.warning("baseline skips %s: %s", relative, exc)
                continue
            body = "\n".join([document.title, *(s.text for s in document.sections)])
            for chunk in plain_chunks(body):
                paths.append(relative)
                texts.append(chunk)
        self.paths = paths
        self.vectors = embedder.encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)

    def ranked_files(self, query: str, k: int = 10) -> list[str]:
        """Files of the best :data:`TOP_CHUNKS` chunks, best first, at most ``k``."""
        if not self.paths:
            return []
        scores = self.vectors @ self.embedder.encode([query])[0]
        top = np.argsort(-scores)[:TOP_CHUNKS]
        files: list[str] = []
        for row in top:
            if self.paths[row] not in files:
                files.append(self.paths[row])
        return files[:k]


def _files(corpus: Path) -> Iterable[tuple[Path, str]]:
    for path in sorted(corpus.rglob("*")):
        if path.is_file() and supported(path):
            yield path, path.relative_to(corpus).as_posix()
