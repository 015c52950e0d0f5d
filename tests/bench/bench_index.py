"""Indexing throughput against the embedding model's raw encode throughput on the same chunks,
and the time of a no-change reindex against a full index.

    python tests/bench/bench_index.py [CORPUS_DIR]   (default: ../shared/eval/python-faq/corpus)

Targets (issue 2): throughput ratio >= 0.85; no-change reindex < 5% of a full index.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, load_average

from knowledge.chunking import chunk_document
from knowledge.embeddings import LocalEmbeddings
from knowledge.indexer import EMBED_BATCH, Indexer, discover
from knowledge.loaders import load_document
from knowledge.store import KnowledgeStore, open_client


def main() -> None:
    corpus = (
        Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/eval/python-faq/corpus"
    )
    embeddings = LocalEmbeddings()
    embeddings.encode(["warm up"])
    chunks = [
        c for f in discover([corpus]) for c in chunk_document(load_document(f.path, f.relative))
    ]
    texts = [c.embed_text for c in chunks]
    started = time.perf_counter()
    for i in range(0, len(texts), EMBED_BATCH):
        embeddings.encode(texts[i : i + EMBED_BATCH])
    raw = time.perf_counter() - started
    store = KnowledgeStore(open_client(Path(tempfile.mkdtemp(prefix="fl-idx-"))), "bench")
    indexer = Indexer(store, embeddings)
    full = indexer.index([corpus])
    again = indexer.index([corpus])
    raw_rate, index_rate = len(texts) / raw, full.chunks_total / full.seconds
    print(f"load average: {load_average()}")
    print(f"corpus: {corpus} ({len(full.added)} files, {full.chunks_total} chunks)")
    print(f"raw encode:   {raw:7.2f} s  {raw_rate:7.1f} chunks/s")
    print(f"full index:   {full.seconds:7.2f} s  {index_rate:7.1f} chunks/s")
    ratio = index_rate / raw_rate
    print(f"throughput ratio {ratio:.2f} (target >= 0.85): {'MET' if ratio >= 0.85 else 'MISSED'}")
    share = again.seconds / full.seconds
    print(
        f"no-change reindex {again.seconds:.3f} s = {share:.2%} of full (target < 5%): "
        f"{'MET' if share < 0.05 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
