"""Calibrating the approved answers' similarity threshold (FIRSTLINE_APPROVED_SIMILARITY).

    python tests/bench/calibrate_approved.py [--pairs tests/eval/approved-pairs.jsonl]

Approved answers are matched with the question traces' encoder (the multilingual Universal
Sentence Encoder v3) and, for Japanese, a topic guard (the questions' kanji, katakana and latin
marks differ in at most ``APPROVED_TOPIC_DIFFERENCE`` items; the cache allows 2, which turns
away most looser Japanese paraphrases). Each pair of
``tests/eval/approved-pairs.jsonl`` (questions about the sample knowledge base: looser
paraphrases ``"same": true``, different questions about nearby topics ``false``) is scored, and
per threshold the precision and recall of "give the approved answer" are printed, beside the
answer cache's rule (all-MiniLM, FIRSTLINE_CACHE_SIMILARITY, topic guard) on the same pairs as
the baseline. A wrong approved answer is worse than a miss, so the chosen threshold, per
language, is the lowest with precision 1.0, rounded up for margin. (The guard's allowance and
the thresholds were chosen on these same 50 pairs: treat the figures as a fit, not a held-out
estimate.)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.answering.approved import approved_topic  # noqa: E402
from bot.answering.cache import same_topic, topic_marks  # noqa: E402
from bot.settings import Settings  # noqa: E402
from knowledge.embeddings import LocalEmbeddings, MultilingualUSE  # noqa: E402

THRESHOLDS = (0.70, 0.75, 0.78, 0.80, 0.82, 0.85, 0.88, 0.90, 0.92)


def cosines(rows: list[dict[str, Any]], model: Any) -> np.ndarray:
    a = model.encode([r["a"] for r in rows])
    b = model.encode([r["b"] for r in rows])
    return np.asarray((a * b).sum(axis=1))


def scores(rows: list[dict[str, Any]], cos: np.ndarray, threshold: float,
           lang: str, cache_guard: bool = False) -> tuple[float, float, int]:
    """(precision, recall, wrong) of matching at ``threshold`` among ``lang`` pairs."""
    tp = fp = fn = 0
    rule = same_topic if cache_guard else approved_topic
    for row, c in zip(rows, cos.tolist(), strict=True):
        if row["language"] != lang:
            continue
        guard = lang != "ja" or rule(topic_marks(row["a"], lang), topic_marks(row["b"], lang))
        hit = c >= threshold and guard
        tp += hit and row["same"]
        fp += hit and not row["same"]
        fn += (not hit) and row["same"]
    return tp / max(1, tp + fp), tp / max(1, tp + fn), fp


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=Path, default=ROOT / "tests/eval/approved-pairs.jsonl")
    args = ap.parse_args()
    rows = [json.loads(line) for line in args.pairs.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    use, mini = cosines(rows, MultilingualUSE()), cosines(rows, LocalEmbeddings())
    settings = Settings.load({}, environ={})
    print(f"{len(rows)} pairs; precision / recall / wrong matches per language")
    print(f"{'rule':<34} {'en P':>5} {'en R':>5} {'en x':>4}   {'ja P':>5} {'ja R':>5} {'ja x':>4}")
    chosen: dict[str, float | None] = {"en": None, "ja": None}
    for t in THRESHOLDS:
        en, ja = scores(rows, use, t, "en"), scores(rows, use, t, "ja")
        for lang, got in (("en", en), ("ja", ja)):
            if chosen[lang] is None and got[2] == 0:
                chosen[lang] = t
        print(_line(f"approved: USE v3 >= {t:.2f}", en, ja))
    cache_t = settings.cache_similarity
    print(_line(f"baseline cache: MiniLM >= {cache_t:.2f}",
                scores(rows, mini, cache_t, "en", True), scores(rows, mini, cache_t, "ja", True)))
    en_t, ja_t = settings.approved_similarity, settings.approved_similarity_ja
    print(_line(f"defaults: en {en_t:.2f}, ja {ja_t:.2f}", scores(rows, use, en_t, "en"),
                scores(rows, use, ja_t, "ja")))
    print(f"lowest threshold without a wrong match: en {chosen['en']}, ja {chosen['ja']}")
    return 0


def _line(name: str, en: tuple[float, float, int], ja: tuple[float, float, int]) -> str:
    return (f"{name:<34} {en[0]:>5.2f} {en[1]:>5.2f} {en[2]:>4}   "
            f"{ja[0]:>5.2f} {ja[1]:>5.2f} {ja[2]:>4}")


if __name__ == "__main__":
    raise SystemExit(main())
