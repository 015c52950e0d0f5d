"""One bot replica for bench_scale.py, in its own process so its memory is its own:

    python tests/bench/bench_scale_replica.py CHROMA_URL LEXICAL_DIR QUERIES_JSON

Loads the real encoders, opens the store on the Chroma server, gets the lexical index (built
and saved, or loaded from ``LEXICAL_DIR``), then asks every question twice, interleaved: through
the shared per-revision view of the file records, and through the old path that copied every
record (and rebuilt the live chunk ids) on each call and had Chroma filter the paths. Prints one
JSON line of figures.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from _common import percentile

from knowledge.access import Reader
from knowledge.embeddings import LocalEmbeddings, MultilingualUSE
from knowledge.retrieval import HybridRetriever
from knowledge.store import MAIN, KnowledgeStore, StoreView, open_client


class CopyingStore(KnowledgeStore):
    """The query path before this change, for the baseline: every call for the records copied
    them all, every dense search rebuilt the set of live chunk ids from that copy and had Chroma
    filter the paths (a `where` filter)."""

    def view(self) -> StoreView:
        shared = super().view()
        return StoreView.of(shared.revision, dict(shared.records))

    def dense_search(self, vector: np.ndarray, k: int, exclude_paths: Sequence[str] = (),
                     only_paths: Sequence[str] = (), side: str = MAIN,
                     live: frozenset[str] | None = None,
                     floor: float | None = None) -> list[tuple[str, float]]:
        live = self.live_ids()
        collection = self._sides[side]
        count = int(collection.count())
        if not live or not count:
            return []
        where: dict[str, Any] | None = None
        if only_paths:
            where = {"path": {"$in": list(only_paths)}}
        elif exclude_paths:
            where = {"path": {"$nin": list(exclude_paths)}}
        got = collection.query(query_embeddings=[vector], n_results=max(min(count, k + 10), 1),
                               include=["distances"], where=where)
        pairs = [(cid, 1.0 - float(d)) for cid, d in zip(got["ids"][0], got["distances"][0],
                                                         strict=False) if cid in live][:k]
        return [(c, sim) for c, sim in pairs if floor is None or sim >= floor]


def record_costs(store: KnowledgeStore, rounds: int = 30) -> tuple[float, float]:
    """Median ms of what one query spent on the file records: now the shared view and its
    denied set; before, a copy of every record for the query, the denied paths scanned from it,
    and a new copy plus a set of every live chunk id for each of the four dense searches (two
    sides, and the same two for the held-back check when some documents are denied)."""
    reader = Reader()
    new, old = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        store.view().denied(reader)
        new.append(1000 * (time.perf_counter() - started))
        started = time.perf_counter()
        store.revision()
        records = dict(store.view().records)
        frozenset(p for p, r in records.items() if not reader.may_read(r.audience))
        for _ in range(4):
            store.revision()
            {cid for record in dict(store.view().records).values() for cid in record.chunk_ids}
        old.append(1000 * (time.perf_counter() - started))
    return percentile(new, 0.5), percentile(old, 0.5)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def main() -> None:
    url, lexical_dir, queries = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    asked: list[list[str]] = json.loads(queries.read_text())
    main_model, multi = LocalEmbeddings(), MultilingualUSE()
    main_model.load()
    multi.load()
    figures: dict[str, Any] = {"rss_models_mb": rss_mb(), "queries": len(asked)}
    client = open_client(Path(tempfile.mkdtemp(prefix="fl-replica-")), url)
    store = KnowledgeStore(client, "scale")
    started = time.perf_counter()
    store.view()
    figures["records_s"] = time.perf_counter() - started
    new = HybridRetriever(store, main_model, multilingual=multi, lexical_dir=lexical_dir)
    started = time.perf_counter()
    index = new.lexical_index()
    figures.update(lexical_s=time.perf_counter() - started, lexical_source=new.lexical_source,
                   saved_mb=folder_mb(lexical_dir), rss_lexical_mb=rss_mb())
    old = HybridRetriever(CopyingStore(client, "scale"), main_model, multilingual=multi)
    old._lexical, old._lexical_revision = index, store.revision()  # the same index: bench only
    times: dict[str, list[float]] = {"new": [], "old": []}
    for question, language in asked[:3]:  # warm-up
        new.search(question, 3, language)
        old.search(question, 3, language)
    for question, language in asked:
        for name, retriever in (("new", new), ("old", old)):
            started = time.perf_counter()
            retriever.search(question, 3, language)
            times[name].append(1000 * (time.perf_counter() - started))
    figures["records_new_ms"], figures["records_old_ms"] = record_costs(store)
    figures.update(p50_ms=percentile(times["new"], 0.5), p95_ms=percentile(times["new"], 0.95),
                   old_p50_ms=percentile(times["old"], 0.5),
                   old_p95_ms=percentile(times["old"], 0.95), rss_end_mb=rss_mb(),
                   pid=os.getpid())
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
