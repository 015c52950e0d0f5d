"""Calibrating the answer cache's similarity threshold (FIRSTLINE_CACHE_SIMILARITY).

    python tests/bench/calibrate_cache.py [--pairs tests/eval/cache-pairs.jsonl]

Encodes each pair of questions in ``tests/eval/cache-pairs.jsonl`` (paraphrases marked
``"same": true``, different questions about nearby topics ``false``) with the default embedding
model and prints, per language and threshold, the share of paraphrases the cache would reuse and
the share of different questions it would wrongly answer — with and without the topic guard
(:func:`bot.cache.same_topic`) that Japanese questions also need. A wrong reuse is far worse than
a miss, so the default is the lowest threshold with no wrong reuse, rounded up for margin.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.answering.cache import same_topic, topic_marks  # noqa: E402
from knowledge.embeddings import LocalEmbeddings  # noqa: E402

THRESHOLDS = (0.80, 0.85, 0.88, 0.90, 0.92, 0.94, 0.96)


def scored_pairs(path: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    model = LocalEmbeddings()
    a = model.encode([r["a"] for r in rows])
    b = model.encode([r["b"] for r in rows])
    for row, va, vb in zip(rows, a, b, strict=True):
        row["cosine"] = float(va @ vb)
        lang = row["language"]
        row["guard"] = same_topic(topic_marks(row["a"], lang), topic_marks(row["b"], lang))
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'lang':<4} {'thr':>5} {'reuse':>6} {'wrong':>6}   {'reuse+g':>7} {'wrong+g':>7}"]
    for lang in sorted({r["language"] for r in rows}):
        same = [r for r in rows if r["language"] == lang and r["same"]]
        diff = [r for r in rows if r["language"] == lang and not r["same"]]
        for t in THRESHOLDS:
            def share(group: list[dict[str, Any]], guard: bool, t: float = t) -> float:
                hits = [r for r in group if r["cosine"] >= t and (r["guard"] or not guard)]
                return len(hits) / max(1, len(group))

            lines.append(f"{lang:<4} {t:>5.2f} {share(same, False):>6.2f} "
                         f"{share(diff, False):>6.2f}   {share(same, True):>7.2f} "
                         f"{share(diff, True):>7.2f}")
        top_diff = max(r["cosine"] for r in diff)
        lines.append(f"{lang}: paraphrases {len(same)}, different {len(diff)}; highest cosine of "
                     f"a different pair {top_diff:.3f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=ROOT / "tests/eval/cache-pairs.jsonl")
    args = parser.parse_args()
    print(table(scored_pairs(args.pairs)))


if __name__ == "__main__":
    main()
