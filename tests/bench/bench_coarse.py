"""What the coarse views (knowledge.coarse) cost at query time, beside the search without them,
in the same process over the same indexed store (the index itself is unchanged: both views read
the main side's stored vectors, so index throughput is not affected).

    python tests/bench/bench_coarse.py DATA_DIR QUESTIONS.jsonl [--collection evalset] [-n 60]

DATA_DIR holds an indexed store (the main side is enough), e.g. the folder `firstline eval`
indexes a set into. Prints the document vectors' build time (once per store revision) and the mean
search latency with and without the views, interleaved. Not a test module.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from _common import load_average

from knowledge.embeddings import LocalEmbeddings
from knowledge.retrieval import WEIGHTS, HybridRetriever
from knowledge.store import KnowledgeStore, open_client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("questions", type=Path)
    parser.add_argument("--collection", default="evalset")
    parser.add_argument("-n", type=int, default=60)
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.questions.open(encoding="utf-8")]
    texts = [r["question"] for r in rows if r.get("language", "en") == "en"][: args.n]
    store = KnowledgeStore(open_client(args.data_dir), args.collection)
    model = LocalEmbeddings()
    plain_weights = {lang: replace(w, window=0.0, document=0.0) for lang, w in WEIGHTS.items()}
    coarse_weights = {lang: replace(w, window=max(w.window, 1.0), document=max(w.document, 1.0))
                      for lang, w in WEIGHTS.items()}
    without = HybridRetriever(store, model, 30, weights=plain_weights)
    with_views = HybridRetriever(store, model, 30, weights=coarse_weights)
    without.search(texts[0], 5)  # model and lexical index loaded outside the timings
    started = time.perf_counter()
    with_views.search(texts[0], 5)
    first = time.perf_counter() - started
    spent = {"without": 0.0, "with": 0.0}
    for text in texts:
        for name, retriever in (("without", without), ("with", with_views)):
            started = time.perf_counter()
            retriever.search(text, 5)
            spent[name] += time.perf_counter() - started
    print(f"{store.count()} chunks, {len(store.files())} files; load average {load_average()}")
    print(f"first search with the views (builds the document vectors): {first:.2f} s")
    for name in ("without", "with"):
        print(f"search {name} the views: {1000 * spent[name] / len(texts):.1f} ms mean "
              f"over {len(texts)} questions")


if __name__ == "__main__":
    main()
