"""Calibrating the knowledge gaps' grouping threshold (FIRSTLINE_GAPS_SIMILARITY), cross-fitted.

    python tests/bench/calibrate_gaps.py [--groups tests/eval/gap-groups.jsonl] [--splits 10]

``tests/eval/gap-groups.jsonl`` holds unanswerable questions (EN and JA, around the sample
knowledge base's topics), each with the id of its need: several paraphrases per group, and
groups that share topic words but are different needs (car vs bike parking, VPN on Linux vs
abroad). The questions are embedded with the multilingual encoder the question traces use,
recorded as declined answers with their traces in a real SQLite ledger (text logging off), and
grouped by the real :class:`~bot.answering.gaps.GapFinder` (``min_count`` 1, so every group
counts), in an order fixed by a hash of the text (paraphrases are not adjacent).

The *groups* are split into two folds by a stable hash of the group id, stratified by language;
the threshold with the best adjusted Rand index (ARI) on one fold is scored on the other, and
vice versa. Printed beside it, on the same held-out folds in the same run: every question its
own group, one group per language, the former default (0.75) and the shipped one (in-sample: it
is the fit on all groups). The same is then summed up over ``--splits`` different splits (the
hash salted). Per row: ARI, pairwise precision /
recall / F1 (pairs of questions put in one group), and the groups found vs the true number.
Then the fit on all groups (the candidate default), and, as a check at a larger scale, each
held-out fold mixed with ``--noise`` other unanswered questions (``bench_gaps.py``'s: 50 topics
x 20 phrasings, in English), scored on the labelled questions only. Figures print; nothing is
asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.answering.gaps import GapFinder  # noqa: E402
from bot.ledger.rows import LedgerRow, utcnow  # noqa: E402
from bot.ledger.store import Ledger  # noqa: E402
from bot.ledger.traces import make_trace  # noqa: E402
from bot.settings import Settings  # noqa: E402
from knowledge.embeddings import MultilingualUSE  # noqa: E402

THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.40, 0.96, 0.01))
FORMER = 0.75  # the default before this calibration (never calibrated)
Grouper = Callable[[list[int]], list[str]]  # question indexes -> a label each


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def folds(rows: list[dict[str, Any]], split: int = 0) -> list[int]:
    """Fold 0 or 1 of each question: per language, groups in the order of their id's hash
    alternate between the folds (``split`` > 0 salts the hash: another split)."""
    salt = f"{split}:" if split else ""
    fold_of: dict[str, int] = {}
    for lang in sorted({r["language"] for r in rows}):
        ids = sorted({r["group"] for r in rows if r["language"] == lang},
                     key=lambda g: digest(salt + g))
        fold_of.update({g: n % 2 for n, g in enumerate(ids)})
    return [fold_of[r["group"]] for r in rows]


def finder_labels(rows: list[dict[str, Any]], vectors: np.ndarray, encoder: str,
                  folder: Path) -> Callable[[list[int], float], list[str]]:
    """GapFinder's group of each of the questions ``keep`` (indexes of ``rows``) at a
    threshold; the questions are recorded in a ledger of their own the first time."""
    def labels(keep: list[int], threshold: float) -> list[str]:
        path = folder / f"{digest(repr(sorted(keep)))[:16]}.sqlite3"
        fresh = not path.exists()
        with Ledger(f"sqlite:///{path}", keep_question_text=False) as ledger:
            if fresh:
                record(ledger, rows, vectors, encoder, keep)
            since = utcnow() - timedelta(days=1)
            finder = GapFinder(ledger, None, similarity=threshold, low_confidence=0.5,
                               min_count=1)
            group_of = {a: gap.id for gap in finder.find(since, limit=10**6)
                        for a in gap.as_dict()["answer_ids"]}
        return [group_of[f"q{i:04d}"] for i in keep]
    return labels


def record(ledger: Ledger, rows: list[dict[str, Any]], vectors: np.ndarray, encoder: str,
           keep: list[int]) -> None:
    """The questions as declined answers with their traces, in the order of their hash."""
    now = utcnow()
    order = sorted(keep, key=lambda i: digest(rows[i]["text"]))
    for n, i in enumerate(order):
        at = now - timedelta(seconds=len(order) - n)
        lang = rows[i]["language"]
        row = LedgerRow(f"q{i:04d}", at, "slack", "u", "c", "declined", "weak-evidence", {}, [],
                        {}, 100.0, 0.0, 0.0, [], lang, None)
        ledger.record(row, make_trace(row.answer_id, at, lang, encoder, vectors[i],
                                      rows[i]["text"]))


def ari(truth: list[str], found: list[str]) -> float:
    """Adjusted Rand index of two labellings."""
    def pairs(counts: Counter[Any]) -> float:
        return sum(c * (c - 1) / 2 for c in counts.values())
    n = len(truth)
    both = pairs(Counter(zip(truth, found, strict=True)))
    a, b, total = pairs(Counter(truth)), pairs(Counter(found)), n * (n - 1) / 2
    expected = a * b / total if total else 0.0
    top = (a + b) / 2 - expected
    return (both - expected) / top if top else 1.0


def pairwise(truth: list[str], found: list[str]) -> tuple[float, float, float]:
    """Precision, recall and F1 of "these two questions are in one group"."""
    tp = fp = fn = 0
    for i, j in combinations(range(len(truth)), 2):
        same, put = truth[i] == truth[j], found[i] == found[j]
        tp += same and put
        fp += put and not same
        fn += same and not put
    p, r = tp / max(1, tp + fp), tp / max(1, tp + fn)
    return p, r, 2 * p * r / max(1e-9, p + r)


def line(name: str, truth: list[str], found: list[str]) -> str:
    p, r, f1 = pairwise(truth, found)
    return (f"  {name:<40} ARI {ari(truth, found):5.2f}  P {p:.2f} R {r:.2f} F1 {f1:.2f}  "
            f"groups {len(set(found)):>3} (true {len(set(truth))})")


def fit(rows: list[dict[str, Any]], keep: list[int],
        labels: Callable[[list[int], float], list[str]]) -> float:
    """The threshold with the best ARI on ``keep`` (ties: the lowest)."""
    truth = [rows[i]["group"] for i in keep]
    scored = [(ari(truth, labels(keep, t)), -t) for t in THRESHOLDS]
    return -max(scored)[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", type=Path, default=ROOT / "tests/eval/gap-groups.jsonl")
    ap.add_argument("--noise", type=int, default=1000,
                    help="other unanswered questions (bench_gaps.py's) mixed into the held-out "
                         "folds for a last check (0: none)")
    ap.add_argument("--splits", type=int, default=10,
                    help="also sum up the held-out figures of this many different fold splits")
    args = ap.parse_args()
    rows = [json.loads(line) for line in args.groups.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    encoder = MultilingualUSE()
    vectors = encoder.encode([r["text"] for r in rows])
    default = Settings.load({}, environ={}).gaps_similarity
    fold = folds(rows)
    print(f"{len(rows)} questions in {len({r['group'] for r in rows})} groups; fold sizes "
          f"{fold.count(0)} / {fold.count(1)}; fit: best ARI on the fit fold")
    with tempfile.TemporaryDirectory() as tmp:
        labels = finder_labels(rows, vectors, encoder.name, Path(tmp))
        for k in (0, 1):
            report(rows, fold, k, labels, default)
        everything = list(range(len(rows)))
        t = fit(rows, everything, labels)
        truth = [r["group"] for r in rows]
        print(f"\nfit on all groups (candidate default): {t:.2f}; there (a fit, not held out):")
        print(line(f"GapFinder at {t:.2f}", truth, labels(everything, t)))
        print(line(f"former default {FORMER:.2f}", truth, labels(everything, FORMER)))
        curve(rows, fold, labels)
        summary(rows, [folds(rows, n) for n in range(args.splits)], labels, default)
    if args.noise:
        noisy(rows, vectors, encoder, fold, default, args.noise)
    return 0


def curve(rows: list[dict[str, Any]], fold: list[int],
          labels: Callable[[list[int], float], list[str]]) -> None:
    """ARI by threshold on each fold and on all groups (how flat the optimum is)."""
    parts = {"fold 0": [i for i, f in enumerate(fold) if f == 0],
             "fold 1": [i for i, f in enumerate(fold) if f == 1], "all": list(range(len(rows)))}
    print("\nARI by threshold  " + "  ".join(f"{t:.2f}" for t in THRESHOLDS[::5]))
    for name, keep in parts.items():
        truth = [rows[i]["group"] for i in keep]
        print(f"  {name:<15} " + "  ".join(f"{ari(truth, labels(keep, t)):4.2f}"
                                          for t in THRESHOLDS[::5]))


def report(rows: list[dict[str, Any]], fold: list[int], k: int,
           labels: Callable[[list[int], float], list[str]], default: float) -> None:
    fit_on = [i for i, f in enumerate(fold) if f == k]
    test_on = [i for i, f in enumerate(fold) if f != k]
    t = fit(rows, fit_on, labels)
    truth = [rows[i]["group"] for i in test_on]
    print(f"\nfitted on fold {k}: {t:.2f}; held out, fold {1 - k} ({len(test_on)} questions):")
    print(line(f"GapFinder at the fitted {t:.2f}", truth, labels(test_on, t)))
    print(line(f"former default {FORMER:.2f}", truth, labels(test_on, FORMER)))
    print(line(f"shipped default {default:.2f} (in-sample)", truth, labels(test_on, default)))
    print(line("baseline: each question its own group", truth,
               [str(i) for i in test_on]))
    print(line("baseline: one group per language", truth,
               [rows[i]["language"] for i in test_on]))


def summary(rows: list[dict[str, Any]], splits: list[list[int]],
            labels: Callable[[list[int], float], list[str]], default: float) -> None:
    """Held-out ARI (mean, min, max) and groups found over both folds of every split."""
    got: dict[str, list[tuple[float, int, int]]] = {}
    fits = []
    for fold, k in ((f, k) for f in splits for k in (0, 1)):
        test_on = [i for i, f in enumerate(fold) if f != k]
        fits.append(fit(rows, [i for i, f in enumerate(fold) if f == k], labels))
        truth = [rows[i]["group"] for i in test_on]
        for name, found in (("fitted on the other fold", labels(test_on, fits[-1])),
                            (f"former default {FORMER:.2f}", labels(test_on, FORMER)),
                            (f"shipped default {default:.2f} (in-sample)",
                             labels(test_on, default)),
                            ("each question its own group", [str(i) for i in test_on]),
                            ("one group per language", [rows[i]["language"] for i in test_on])):
            got.setdefault(name, []).append((ari(truth, found), len(set(found)),
                                             len(set(truth))))
    print(f"\nheld out over {len(splits)} splits x 2 folds (fits {min(fits):.2f}-{max(fits):.2f}):")
    for name, results in got.items():
        scores = [r[0] for r in results]
        print(f"  {name:<40} ARI mean {np.mean(scores):5.2f} (min {min(scores):5.2f}, max "
              f"{max(scores):5.2f})  groups {np.mean([r[1] for r in results]):5.1f} "
              f"(true {np.mean([r[2] for r in results]):.1f})")


def noisy(rows: list[dict[str, Any]], vectors: np.ndarray, encoder: MultilingualUSE,
          fold: list[int], default: float, n: int) -> None:
    """Each held-out fold among ``n`` other questions (all different needs, in English): are
    the labelled needs still kept apart and together? ARI and pairwise figures over the
    labelled questions only."""
    from bench_gaps import questions  # noqa: PLC0415 (the 10k benchmark's questions)
    extra = [{"language": "en", "group": f"noise-{i}", "text": t}
             for i, t in enumerate(questions(n))]
    everything = rows + extra
    stacked = np.concatenate([vectors, encoder.encode([r["text"] for r in extra])])
    print(f"\nheld out (split 0), each fold among {n} other questions (figures over the labelled "
          "questions only):")
    with tempfile.TemporaryDirectory() as tmp:
        plain = finder_labels(rows, vectors, encoder.name, Path(tmp) / "plain")
        labels = finder_labels(everything, stacked, encoder.name, Path(tmp))
        (Path(tmp) / "plain").mkdir()
        for k in (0, 1):
            test_on = [i for i, f in enumerate(fold) if f != k]
            t = fit(rows, [i for i, f in enumerate(fold) if f == k], plain)
            truth = [rows[i]["group"] for i in test_on]
            keep = test_on + list(range(len(rows), len(everything)))
            for name, threshold in ((f"fold {1 - k}, fitted {t:.2f}", t),
                                    (f"fold {1 - k}, former {FORMER:.2f}", FORMER),
                                    (f"fold {1 - k}, shipped {default:.2f}", default)):
                found = labels(keep, threshold)
                print(line(name, truth, found[:len(test_on)]) + f"  (all {len(set(found))})")


if __name__ == "__main__":
    raise SystemExit(main())
