"""BM25 tokens for Japanese: character bigrams (what :mod:`knowledge.lexical` ships) against
SudachiPy words (sudachidict_core, split mode C and A), BM25 alone, on the Japanese hard sets.

    python tests/bench/bench_lexical.py /work/hard-sets [--sets helpdesk-ja,jsquad-ref] [--fold 1]

Reports recall@1/@5 of the gold file (top 30 chunks de-duplicated to files) and the time to
tokenise the corpus, each tokeniser beside the shipped bigrams. Not a test module.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

import bm25s
import numpy as np

from knowledge.chunking import chunk_document
from knowledge.indexer import discover
from knowledge.lexical import tokenize
from knowledge.loaders import LoadError, load_document

log = logging.getLogger("bench_lexical")


def sudachi(mode: str) -> Callable[[str], list[str]]:
    from sudachipy import Dictionary, SplitMode

    tokenizer = Dictionary(dict="core").tokenizer()
    split = getattr(SplitMode, mode)
    keep = {"名詞", "動詞", "形容詞", "副詞", "接頭辞", "形状詞"}

    def tokens(text: str) -> list[str]:
        out = []
        for start in range(0, len(text), 4000):  # Sudachi refuses inputs over ~49 KB
            for m in tokenizer.tokenize(text[start:start + 4000], split):
                if m.part_of_speech()[0] in keep and m.normalized_form().strip():
                    out.append(m.normalized_form().lower())
        return out

    return tokens


def recall(set_dir: Path, fold: int, tokens: Callable[[str], list[str]]) -> dict[str, float]:
    chunks = []
    for source in discover([set_dir / "corpus"]):
        try:
            chunks += chunk_document(load_document(source.path, source.relative), 350)
        except LoadError:
            continue
    started = time.perf_counter()
    corpus = [tokens(c.lexical_text) for c in chunks]
    seconds = time.perf_counter() - started
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    rows = [json.loads(line) for line in (set_dir / "questions.jsonl").open(encoding="utf-8")]
    items = [q for q in rows if q["answerable"] and q.get("fold") == fold and q.get("gold")
             and q.get("kind") != "follow-up"]
    at1 = at5 = 0
    vocab = {t for doc in corpus for t in doc}
    for q in items:
        golds = set(q["gold"]) if isinstance(q["gold"], list) else {q["gold"]}
        query = [t for t in tokens(q["question"]) if t in vocab]
        if not query:
            continue
        scores = np.asarray(retriever.get_scores(query))
        files: list[str] = []
        for i in np.argsort(-scores)[:30]:
            if scores[i] > 0 and chunks[i].path not in files:
                files.append(chunks[i].path)
        at1 += bool(files) and files[0] in golds
        at5 += bool(set(files[:5]) & golds)
    n = max(1, len(items))
    return {"questions": len(items), "recall@1": at1 / n, "recall@5": at5 / n,
            "tokenise_s": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("hard_sets", type=Path)
    parser.add_argument("--sets", default="helpdesk-ja,jsquad-ref")
    parser.add_argument("--fold", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    tokenisers = {"bigrams (shipped)": tokenize, "sudachi C": sudachi("C"),
                  "sudachi A": sudachi("A")}
    print(f"{'set / tokeniser':<34} {'n':>4} {'recall@1':>9} {'recall@5':>9} {'tokenise':>9}")
    for name in args.sets.split(","):
        for label, fn in tokenisers.items():
            r = recall(args.hard_sets / name, args.fold, fn)
            print(f"{name + ' / ' + label:<34} {r['questions']:>4} {r['recall@1']:>9.3f} "
                  f"{r['recall@5']:>9.3f} {r['tokenise_s']:>8.1f}s")


if __name__ == "__main__":
    main()
