"""A coarser dense view of the nearest chunks: each one scored by its window.

A chunk's window is the chunk with its neighbours under the same heading (``radius`` chunks on
each side, document order); its vector is the normalised mean of their stored vectors, so the
view needs no second embedding pass and no change to the index. A short chunk that happens to
share words with the question ranks lower when the text around it is about something else, and
a passage whose answer is spread over two chunks ranks higher: what 1,000-character chunks do,
while the prompt keeps the finer chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

# (chunk id) -> (stored vector, heading) of the chunks asked for that the store still holds
Fetch = Callable[[list[str]], dict[str, tuple[np.ndarray, str]]]


def windows(nearest: Sequence[str], order: Mapping[str, Sequence[str]],
            radius: int) -> dict[str, list[str]]:
    """Each chunk of ``nearest`` with the ids ``radius`` places either side of it in its
    document's chunk order (``order``: a chunk id's document order, ids of chunks it lacks
    stand alone)."""
    out: dict[str, list[str]] = {}
    for cid in nearest:
        ids = list(order.get(cid, ()))
        at = ids.index(cid) if cid in ids else None
        out[cid] = [cid] if at is None else ids[max(0, at - radius): at + radius + 1]
    return out


def window_ranking(query: np.ndarray, nearest: Sequence[tuple[str, float]],
                   order: Mapping[str, Sequence[str]], fetch: Fetch,
                   radius: int = 1) -> list[tuple[str, float]]:
    """``nearest`` (chunk id, similarity) re-ranked by the cosine similarity of each chunk's
    window (its neighbours under the same heading) to ``query``, best first."""
    spans = windows([cid for cid, _ in nearest], order, radius)
    stored = fetch(sorted({c for span in spans.values() for c in span}))
    scored = []
    for cid, similarity in nearest:
        if cid not in stored:
            scored.append((cid, similarity))
            continue
        heading = stored[cid][1]
        rows = [stored[c][0] for c in spans[cid] if c in stored and stored[c][1] == heading]
        mean = np.mean(rows, axis=0)
        norm = float(np.linalg.norm(mean))
        scored.append((cid, float(mean @ query) / norm if norm else similarity))
    return sorted(scored, key=lambda pair: -pair[1])


class DocumentVectors:
    """Each document's mean chunk vector (normalised) on the main side, for one store revision:
    what the document as a whole is about. A short page on one subject keeps its subject; a
    long reference page that touches everything averages out, so one of its many chunks
    matching the question by chance no longer outranks the page that answers it."""

    def __init__(self, chunk_ids: Mapping[str, Sequence[str]], fetch: Fetch,
                 batch: int = 200) -> None:
        paths, rows, names = [], [], list(chunk_ids)
        for start in range(0, len(names), batch):  # ``batch`` files per read
            part = names[start: start + batch]
            stored = fetch([c for p in part for c in chunk_ids[p]])
            for path in part:
                found = [stored[c][0] for c in chunk_ids[path] if c in stored]
                if found:
                    mean = np.mean(found, axis=0)
                    paths.append(path)
                    rows.append(mean / (float(np.linalg.norm(mean)) or 1.0))
        self.paths = paths
        self.matrix = np.array(rows, dtype=np.float32) if rows else np.zeros((0, 1), np.float32)

    def __len__(self) -> int:
        return len(self.paths)

    def nearest(self, query: np.ndarray, k: int,
                denied: frozenset[str] = frozenset()) -> list[tuple[str, float]]:
        """(path, cosine similarity) of the ``k`` documents nearest ``query``, best first,
        those in ``denied`` left out."""
        if not self.paths:
            return []
        scores = self.matrix @ query
        order = np.argsort(-scores)
        return [(self.paths[i], float(scores[i])) for i in order
                if self.paths[i] not in denied][:k]
