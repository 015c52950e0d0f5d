"""Fit the fusion weights of hybrid retrieval (MiniLM, its window and document views, BM25,
multilingual USE) per question language on fold 0 of the hard sets, and report them on fold 1
beside the shipped weights and the plain dense baseline, all computed in the same run.

    python tests/bench/tune_fusion.py /work/hard-sets [--sets helpdesk-en,...] [--json]

Each retriever's ranked chunk list is computed once per question; fusion is re-run offline for
every weight triple of the grid (weighted RRF by file, as :func:`knowledge.retrieval.fuse_by_file`
does). The objective is recall@1 + 0.5 · recall@5 over the fold-0 questions of that language
(follow-ups excluded: they are retrieved after the rewrite step). Not a test module.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.app.composition import isolated_firstline
from bot.app.evaluate import baseline_results
from bot.evaluation.metrics import EvalQuestion, load_questions
from bot.language import detect_language
from bot.settings import Settings
from knowledge.retrieval import (
    CROSS,
    DOCUMENT,
    RRF_K,
    WEIGHTS,
    WINDOW,
    Weights,
    fuse_by_file,
    script_language,
)
from knowledge.store import MAIN, MULTILINGUAL

log = logging.getLogger("tune_fusion")

SETS = ("helpdesk-en", "helpdesk-ja", "jsquad-ref", "pyfaq-ref")
GRID = (0.0, 0.3, 0.6, 1.0, 1.5, 2.0, 3.0)
COARSE = (0.0, 0.5, 1.0, 2.0)  # the window and document views' weights tried (main side)


@dataclass
class Item:
    question: EvalQuestion
    language: str
    ranked: dict[str, list[tuple[str, float]]]
    path_of: dict[str, str]
    baseline: list[str]
    script_of: dict[str, str]  # each candidate chunk's script language


def collect(set_dir: Path, settings: Settings, search_k: int) -> list[Item]:
    questions = [q for q in load_questions(set_dir / "questions.jsonl")
                 if q.answerable and q.golds and q.kind != "follow-up"]
    core = isolated_firstline(settings, f"tune-{set_dir.name}", fresh=True)
    core.indexing.index([set_dir / "corpus"])
    searcher: Any = core.searcher
    lexical = searcher.lexical_index()
    plain = baseline_results(core, set_dir / "corpus", questions)
    items = []
    for q, base in zip(questions, plain, strict=True):
        ranked: dict[str, list[tuple[str, float]]] = {}
        scores = lexical.scores(q.question)
        ranked["lexical"] = [] if scores is None else lexical.top(scores, search_k)
        vectors = {}
        for side, embedder in searcher._embedders().items():
            vectors[side] = embedder.encode([q.question])[0]
            ranked[side] = core.store.dense_search(vectors[side], search_k, side=side)
        ids = sorted({c for hits in ranked.values() for c, _ in hits})
        chunks = core.store.get_chunks(ids)
        view = core.store.view()
        ranked[WINDOW] = searcher.window_view(vectors[MAIN], ranked[MAIN], chunks, view.records)
        ranked[DOCUMENT] = searcher.document_view(vectors[MAIN], ranked[MAIN], chunks, view,
                                                  frozenset())
        chunks.update(core.store.get_chunks([c for c, _ in ranked[DOCUMENT]]))
        path_of = {c: ch.path for c, ch in chunks.items()}
        script_of = {c: script_language(ch.text) for c, ch in chunks.items()}
        items.append(Item(q, detect_language(q.question), ranked, path_of, base.ranked_paths,
                          script_of))
    import asyncio
    asyncio.run(core.aclose())
    return items


def ranking(item: Item, w: Weights) -> list[str]:
    files, _best = fuse_by_file(ranking_lists(item, w), weights_of(w), item.path_of)
    return sorted(files, key=lambda p: -files[p])


def weights_of(w: Weights) -> dict[str, float]:
    return {"lexical": w.lexical, MAIN: w.dense, MULTILINGUAL: w.multilingual,
            CROSS: w.cross, WINDOW: w.window, DOCUMENT: w.document}


def ranking_lists(item: Item, w: Weights) -> dict[str, list[tuple[str, float]]]:
    """The ranked lists that count for ``w`` (the cross side filtered as in retrieval)."""
    weight_of = weights_of(w)
    used = {k: v for k, v in item.ranked.items() if weight_of[k] > 0}
    if w.cross > 0:  # as knowledge.retrieval.cross_language filters it
        nearest = item.ranked.get(MULTILINGUAL, [])
        same = [sim for c, sim in nearest if item.script_of.get(c) == item.language]
        bar = max([w.cross_floor, *same[:1]])
        used[CROSS] = [(c, sim) for c, sim in nearest
                       if c in item.script_of and item.script_of[c] != item.language
                       and sim >= bar]
    return used


def recall(items: list[Item], ranked: list[list[str]]) -> tuple[float, float]:
    if not items:
        return 0.0, 0.0
    at1 = sum(bool(r) and r[0] in i.question.golds for i, r in zip(items, ranked, strict=True))
    at5 = sum(bool(set(r[:5]) & set(i.question.golds)) for i, r in zip(items, ranked,
                                                                         strict=True))
    return at1 / len(items), at5 / len(items)


SIGNALS = ("lexical", MAIN, MULTILINGUAL, CROSS, WINDOW, DOCUMENT)


def contributions(item: Item, floor: float) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate file's RRF share per signal (files x :data:`SIGNALS`, as
    :func:`fuse_by_file` adds them up), and which files are gold: the fused score of any weights
    is then one product. The cross side is filtered with ``floor``."""
    lists = dict(item.ranked)
    lists[CROSS] = ranking_lists(item, Weights(0.0, 0.0, 0.0, 1.0, floor))[CROSS]
    rows: dict[str, np.ndarray] = {}
    for column, name in enumerate(SIGNALS):
        seen: list[str] = []
        for cid, _ in lists.get(name, []):
            path = item.path_of.get(cid)
            if path is not None and path not in seen:
                seen.append(path)
                rows.setdefault(path, np.zeros(len(SIGNALS)))[column] = 1 / (RRF_K + len(seen))
    paths = list(rows)
    matrix = np.array([rows[p] for p in paths]) if paths else np.zeros((0, len(SIGNALS)))
    return matrix, np.array([p in item.question.golds for p in paths], dtype=bool)


def grid_values(parts: list[list[Item]], grid: np.ndarray, floor: float) -> np.ndarray:
    """recall@1 + 0.5 recall@5 of every weight row of ``grid`` (columns as :data:`SIGNALS`),
    averaged over ``parts`` (each set counts the same)."""
    total = np.zeros(len(grid))
    for part in parts:
        hits1, hits5 = np.zeros(len(grid)), np.zeros(len(grid))
        for item in part:
            matrix, gold = contributions(item, floor)
            if not len(gold):
                continue
            scores = matrix @ grid.T  # files x grid points
            top = np.argsort(-scores, axis=0, kind="stable")[:5]
            found = gold[top] & (np.take_along_axis(scores, top, axis=0) > 0)
            hits1 += found[0]
            hits5 += found.any(axis=0)
        total += (hits1 + 0.5 * hits5) / len(part) / len(parts)
    return total


def fit(items: list[Item], sets: list[list[Item]], cross: bool,
        multilingual: tuple[float, ...] = GRID) -> Weights:
    """The grid point with the best mean over ``sets`` (each set counts the same, so the large
    technical sets do not drown the helpdesk ones) of recall@1 + 0.5 recall@5 (the first one
    in grid order on a tie)."""
    wanted = {id(i) for i in items}
    parts = [p for p in ([i for i in s if id(i) in wanted] for s in sets) if p]
    floor = 0.3 if cross else 0.35
    crosses = (0.0, 0.5, 1.0, 1.05, 2.0) if cross else (0.0,)
    points = [(lex, d, m, c, win, doc) for d, lex, m, win, doc in
              itertools.product(GRID, GRID, multilingual, COARSE, COARSE) for c in crosses
              if not d == lex == m == win == doc == 0]
    values = grid_values(parts, np.array(points), floor)
    lex, d, m, c, win, doc = points[int(np.argmax(values))]
    return Weights(d, lex, m, c, floor, win, doc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("hard_sets", type=Path)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--search-k", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--en-multilingual-off", action="store_true",
                        help="fit English questions with the multilingual side over English "
                             "text at 0 (its fitted weight so far; needed when a set's cache "
                             "was collected without the multilingual encoder)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="keep each set's rankings here (pickles) and reuse them")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    by_set: dict[str, list[Item]] = {}
    for name in args.sets.split(","):
        cached = args.cache / f"{name}.pickle" if args.cache else None
        if cached is not None and cached.is_file():
            by_set[name] = pickle.loads(cached.read_bytes())
            continue
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings.load({"data_dir": tmp}, environ={},
                                     config_file=Path(tmp) / "none.toml")
            by_set[name] = collect(args.hard_sets / name, settings, args.search_k)
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_bytes(pickle.dumps(by_set[name]))
    everything = [i for items in by_set.values() for i in items]
    fitted = {lang: fit([i for i in everything if i.language == lang and i.question.fold == 0],
                        list(by_set.values()), cross=lang == "en",
                        multilingual=(0.0,) if lang == "en" and args.en_multilingual_off
                        else GRID)
              for lang in ("en", "ja")}
    report: dict[str, Any] = {"fitted": {k: vars(v) for k, v in fitted.items()},
                              "shipped": {k: vars(v) for k, v in WEIGHTS.items()}, "sets": {}}
    for name, items in by_set.items():
        for lang in ("en", "ja"):
            held = [i for i in items if i.question.fold == 1 and i.language == lang]
            if not held:
                continue
            row = {"questions": len(held),
                   "plain_dense": recall(held, [i.baseline for i in held]),
                   "shipped": recall(held, [ranking(i, WEIGHTS[lang]) for i in held]),
                   "fitted": recall(held, [ranking(i, fitted[lang]) for i in held])}
            report["sets"][f"{name}[{lang}]"] = row
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"fitted on fold 0: {report['fitted']}\nshipped: {report['shipped']}")
    print(f"\n{'fold 1 (recall@1 / @5)':<26} {'n':>4} {'plain dense':>13} {'shipped':>13} "
          f"{'fitted':>13}")
    for key, row in report["sets"].items():
        cells = [f"{row[c][0]:.3f}/{row[c][1]:.3f}" for c in ("plain_dense", "shipped", "fitted")]
        print(f"{key:<26} {row['questions']:>4} " + " ".join(f"{c:>13}" for c in cells))


if __name__ == "__main__":
    main()
