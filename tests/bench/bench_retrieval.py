"""Retrieval benchmark on the hard sets: recall@1/@5 of the gold file for our retrieval (both
dense sides + BM25, fused per document) beside the plain dense baseline (all-MiniLM over
1,000-unit chunks, top 30 chunks de-duplicated to files, no BM25), computed in the same run,
plus index throughput against the raw encoders.

    python tests/bench/bench_retrieval.py [SET ...] [--fold 1] [--hard-sets /work/hard-sets]

Figures are reported on fold 1 (fold 0 is for fitting). Not a test module; run it on a quiet
machine for throughput figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import load_average

from bot.language import detect_language
from knowledge.chunking import chunk_document
from knowledge.embeddings import Embedder, LocalEmbeddings, MultilingualUSE
from knowledge.indexer import Indexer, discover
from knowledge.loaders import LoadError, load_document
from knowledge.retrieval import HybridRetriever
from knowledge.store import KnowledgeStore, open_client

SETS = ["helpdesk-en", "helpdesk-ja", "jsquad-ref", "pyfaq-ref"]
RAW_SAMPLE = 256  # chunks encoded directly to measure each encoder's own throughput


def questions(folder: Path, fold: int) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (folder / "questions.jsonl").open(encoding="utf-8")]
    return [q for q in rows if q["answerable"] and q.get("fold") == fold and q.get("gold")]


def golds(item: dict[str, Any]) -> set[str]:
    gold = item["gold"]
    return set(gold) if isinstance(gold, list) else {gold}


def recall(ranked: list[list[str]], items: list[dict[str, Any]]) -> tuple[float, float]:
    at1 = sum(bool(r[:1]) and r[0] in golds(q) for r, q in zip(ranked, items, strict=True))
    at5 = sum(bool(set(r[:5]) & golds(q)) for r, q in zip(ranked, items, strict=True))
    return at1 / len(items), at5 / len(items)


def baseline(corpus: Path, items: list[dict[str, Any]], minilm: Embedder) -> list[list[str]]:
    """all-MiniLM over 1,000-unit chunks; top 30 chunks de-duplicated to files."""
    chunks = []
    for source in discover([corpus]):
        try:
            chunks += chunk_document(load_document(source.path, source.relative), 1000)
        except LoadError:
            continue
    vectors = minilm.encode([c.embed_text for c in chunks])
    queries = minilm.encode([q["question"] for q in items])
    ranked = []
    for row in queries @ vectors.T:
        files: list[str] = []
        for i in np.argsort(-row)[:30]:
            if chunks[i].path not in files:
                files.append(chunks[i].path)
        ranked.append(files)
    return ranked


def raw_throughput(texts: list[str], model: Embedder) -> float:
    sample = texts[:RAW_SAMPLE]
    started = time.perf_counter()
    model.encode(sample)
    return len(sample) / (time.perf_counter() - started)


def ours(corpus: Path, items: list[dict[str, Any]], minilm: Embedder, use: Embedder,
         budget: int, data: Path) -> tuple[list[list[str]], dict[str, float]]:
    store = KnowledgeStore(open_client(data), "bench")
    started = time.perf_counter()
    summary = Indexer(store, minilm, budget, multilingual=use).index([corpus])
    seconds = time.perf_counter() - started
    retriever = HybridRetriever(store, minilm, 30, multilingual=use)
    ranked = [[h.path for h in retriever.search(q["question"], 5,
                                                detect_language(q["question"])).hits]
              for q in items]
    texts = [c.text for c in store.live_chunks()]
    speed = {"chunks": summary.chunks_total, "index": summary.chunks_total / seconds,
             "minilm": raw_throughput(texts, minilm), "use": raw_throughput(texts, use)}
    return ranked, speed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", default=SETS)
    parser.add_argument("--fold", type=int, default=1)
    parser.add_argument("--budget", type=int, default=350, help="chunk size in units (ours)")
    parser.add_argument("--hard-sets", type=Path, default=Path("/work/hard-sets"))
    args = parser.parse_args(argv)
    minilm, use = LocalEmbeddings(), MultilingualUSE()
    print(f"load average before: {load_average()}")
    print(f"{'set':<12} {'n':>4}  {'baseline r@1':>12} {'r@5':>5}  {'ours r@1':>8} {'r@5':>5}  "
          f"{'chunks':>6} {'index/s':>7} {'minilm/s':>8} {'use/s':>6}")
    for name in args.sets:
        folder = args.hard_sets / name
        if not (folder / "questions.jsonl").is_file():
            print(f"{name:<12} (not built)")
            continue
        items = questions(folder, args.fold)
        base = recall(baseline(folder / "corpus", items, minilm), items)
        with tempfile.TemporaryDirectory() as data:
            ranked, speed = ours(folder / "corpus", items, minilm, use, args.budget, Path(data))
        mine = recall(ranked, items)
        print(f"{name:<12} {len(items):>4}  {base[0]:>12.3f} {base[1]:>5.3f}  {mine[0]:>8.3f} "
              f"{mine[1]:>5.3f}  {speed['chunks']:>6.0f} {speed['index']:>7.1f} "
              f"{speed['minilm']:>8.1f} {speed['use']:>6.1f}", flush=True)
    print(f"load average after: {load_average()} (fold {args.fold}; index/s embeds with both)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
