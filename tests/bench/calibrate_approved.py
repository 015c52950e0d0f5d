"""Calibrating the approved answers' similarity thresholds (FIRSTLINE_APPROVED_SIMILARITY, _JA),
cross-fitted.

    python tests/bench/calibrate_approved.py [--pairs tests/eval/approved-pairs.jsonl] [--splits 10]

Approved answers are matched with each language's encoder, as shipped
(``approved_encoders``): English with the main embeddings (all-MiniLM), Japanese with the
multilingual Universal Sentence Encoder v3 and a topic guard (the questions' kanji, katakana and
latin marks differ in at most an allowance of items; the shipped one is
``APPROVED_TOPIC_DIFFERENCE``).
``tests/eval/approved-pairs.jsonl`` holds question pairs about the sample knowledge base
(paraphrases ``"same": true``; different questions sharing topic words ``false``).

The pairs are split into two folds by a stable hash of the pair (SHA-256 of its two questions),
stratified by language and by same/different. Per language, the threshold (and, for Japanese,
the guard's allowance) is fitted on one fold — the one with the best recall among those with
precision >= 0.95 there (a wrong approved answer is served with confidence, so precision comes
first) — and scored on the other fold, and vice versa; the held-out counts of both folds are
added up, over ``--splits`` different splits (10; the hash salted by the split's number).
Printed beside them, on the same held-out folds in the same run: the answer cache's
rule (all-MiniLM >= FIRSTLINE_CACHE_SIMILARITY + the cache's guard), the shipped and the former
defaults (both in-sample: chosen on these pairs), a cross-fitted threshold on the other encoder
(for English, the former rule: USE v3, as the question traces); and the former defaults on the
pairs added after the 50 they were chosen on (truly held out).
Last, the fit on all pairs (the candidate default; its figures there are a fit, not an
estimate). Figures print; nothing is asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.answering.approved import APPROVED_TOPIC_DIFFERENCE  # noqa: E402
from bot.answering.cache import MAX_TOPIC_DIFFERENCE, topic_marks  # noqa: E402
from bot.settings import Settings  # noqa: E402
from knowledge.embeddings import LocalEmbeddings, MultilingualUSE  # noqa: E402

THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.60, 0.99, 0.01))
ALL_ALLOWANCES = (1, 2, 3, 4, 5, None)  # None: no guard
MIN_PRECISION = 0.95
FORMER = {"en": (0.91, None), "ja": (0.82, 3)}  # USE v3, chosen on the first 50 pairs
SHIPPED = {"en": "all-MiniLM", "ja": "USE v3"}  # each language's encoder (approved_encoders)
FORMER_FIT = 50  # the pairs after these are a true held-out test of FORMER
Rule = tuple[float, int | None]  # (threshold, guard allowance)
Counts = tuple[int, int, int]  # (true hits, wrong hits, missed paraphrases)


def folds(rows: list[dict[str, Any]], split: int = 0) -> list[int]:
    """Fold 0 or 1 of each pair: per (language, same), pairs in the order of their hash
    alternate between the folds (``split`` > 0 salts the hash: another split)."""
    salt = f"{split}:" if split else ""

    def key(i: int) -> str:
        return hashlib.sha256(f"{salt}{rows[i]['a']}\n{rows[i]['b']}".encode()).hexdigest()
    out = [0] * len(rows)
    for stratum in {(r["language"], r["same"]) for r in rows}:
        members = [i for i, r in enumerate(rows) if (r["language"], r["same"]) == stratum]
        for n, i in enumerate(sorted(members, key=key)):
            out[i] = n % 2
    return out


def cosines(rows: list[dict[str, Any]], model: Any) -> np.ndarray:
    a = model.encode([r["a"] for r in rows])
    b = model.encode([r["b"] for r in rows])
    return np.asarray((a * b).sum(axis=1))


def marks_apart(rows: list[dict[str, Any]]) -> list[int]:
    """How many topic marks the two questions of each pair do not share (0 for English)."""
    return [len(topic_marks(r["a"], r["language"]) ^ topic_marks(r["b"], r["language"]))
            for r in rows]


def count(rows: list[dict[str, Any]], keep: list[int], hit: Callable[[int], bool]) -> Counts:
    tp = sum(1 for i in keep if hit(i) and rows[i]["same"])
    fp = sum(1 for i in keep if hit(i) and not rows[i]["same"])
    fn = sum(1 for i in keep if not hit(i) and rows[i]["same"])
    return tp, fp, fn


def rule_hit(cos: np.ndarray, apart: list[int], rule: Rule) -> Callable[[int], bool]:
    threshold, allowance = rule
    return lambda i: bool(cos[i] >= threshold) and (allowance is None or apart[i] <= allowance)


def precision(c: Counts) -> float:
    return c[0] / (c[0] + c[1]) if c[0] + c[1] else 1.0


def recall(c: Counts) -> float:
    return c[0] / (c[0] + c[2]) if c[0] + c[2] else 0.0


def fit(rows: list[dict[str, Any]], keep: list[int], cos: np.ndarray, apart: list[int],
        allowances: tuple[int | None, ...]) -> Rule:
    """The rule with the best recall among those with precision >= 0.95 on ``keep`` (ties: the
    higher threshold, then the tighter guard); the strictest rule when none qualifies."""
    best: tuple[float, float, int] | None = None
    chosen: Rule = (THRESHOLDS[-1], allowances[0])
    for threshold in THRESHOLDS:
        for n, allowance in enumerate(allowances):
            c = count(rows, keep, rule_hit(cos, apart, (threshold, allowance)))
            score = (recall(c), threshold, -n)
            if precision(c) >= MIN_PRECISION and (best is None or score > best):
                best, chosen = score, (threshold, allowance)
    return chosen


def add(a: Counts, b: Counts) -> Counts:
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=Path, default=ROOT / "tests/eval/approved-pairs.jsonl")
    ap.add_argument("--splits", type=int, default=10,
                    help="add up the held-out figures of this many different fold splits")
    args = ap.parse_args()
    rows = [json.loads(line) for line in args.pairs.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    use, mini = cosines(rows, MultilingualUSE()), cosines(rows, LocalEmbeddings())
    apart, splits = marks_apart(rows), [folds(rows, n) for n in range(args.splits)]
    settings = Settings.load({}, environ={})
    defaults = {"en": (settings.approved_similarity, None),
                "ja": (settings.approved_similarity_ja, APPROVED_TOPIC_DIFFERENCE)}
    cache_rule = (settings.cache_similarity, MAX_TOPIC_DIFFERENCE)
    print(f"{len(rows)} pairs; fold sizes {splits[0].count(0)} / {splits[0].count(1)}; "
          f"{args.splits} split(s); fit: best recall with precision >= {MIN_PRECISION} on the "
          "fit fold")
    report(rows, {"USE v3": use, "all-MiniLM": mini}, apart, splits, defaults, cache_rule)
    return 0


def variants(lang: str) -> dict[str, tuple[int | None, ...]]:
    """What is fitted on the shipped encoder: the threshold (with the shipped guard), and for
    Japanese also the threshold and the guard's allowance together."""
    if lang == "en":
        return {f"cross-fitted threshold ({SHIPPED[lang]}, shipped)": (None,)}
    shipped = APPROVED_TOPIC_DIFFERENCE
    return {f"cross-fitted threshold ({SHIPPED[lang]}), guard {shipped}": (shipped,),
            f"cross-fitted threshold ({SHIPPED[lang]}) + guard": ALL_ALLOWANCES}


def compared(lang: str, cos: dict[str, np.ndarray], defaults: dict[str, Rule],
             cache_rule: Rule) -> dict[str, tuple[np.ndarray, Rule | None, tuple[int | None, ...]]]:
    """The rules scored on the held-out folds: (cosines, fixed rule or None to fit, the guard
    allowances to fit)."""
    shipped = cos[SHIPPED[lang]]
    other = next(name for name in cos if name != SHIPPED[lang])
    guard = cache_rule[1] if lang == "ja" else None
    rules = {name: (shipped, None, allowances) for name, allowances in variants(lang).items()}
    rules[f"cross-fitted threshold ({other}"
          + (", former)" if lang == "en" else ", for comparison)")] = (cos[other], None, (guard,))
    rules[f"shipped defaults {defaults[lang]} (in-sample)"] = (shipped, defaults[lang], ())
    rules[f"former defaults {FORMER[lang]} (USE v3, in-sample)"] = (cos["USE v3"], FORMER[lang],
                                                                      ())
    rules[f"baseline: cache rule (MiniLM {cache_rule[0]:.2f})"] = (cos["all-MiniLM"],
                                                                   (cache_rule[0], guard), ())
    return rules


def report(rows: list[dict[str, Any]], cos: dict[str, np.ndarray], apart: list[int],
           splits: list[list[int]], defaults: dict[str, Rule], cache_rule: Rule) -> None:
    for lang in ("en", "ja"):
        idx = [i for i, r in enumerate(rows) if r["language"] == lang]
        negatives = sum(1 for i in idx if not rows[i]["same"])
        print(f"\n[{lang}] {len(idx)} pairs ({len(idx) - negatives} paraphrases, "
              f"{negatives} different questions); held out (each pair scored once per split, "
              "by the rule fitted on the other fold):")
        for name, (sims, fixed, allowances) in compared(lang, cos, defaults, cache_rule).items():
            held, fitted = (0, 0, 0), []
            for fold, k in ((f, k) for f in splits for k in (0, 1)):
                rule = fixed or fit(rows, [i for i in idx if fold[i] == k], sims, apart,
                                    allowances)
                fitted.append(rule)
                held = add(held, count(rows, [i for i in idx if fold[i] != k],
                                       rule_hit(sims, apart, rule)))
            print(f"  {name:<52} P {precision(held):.2f}  R {recall(held):.2f}  "
                  f"wrong {held[1]}/{negatives * len(splits)}  "
                  f"found {held[0]}/{held[0] + held[2]}"
                  + ("" if fixed else f"  (fits: {_rules(fitted)})"))
        later = [i for i in idx if i >= FORMER_FIT]
        c = count(rows, later, rule_hit(cos["USE v3"], apart, FORMER[lang]))
        print(f"  former defaults on the {len(later)} pairs after the first {FORMER_FIT} (held "
              f"out): P {precision(c):.2f} R {recall(c):.2f} wrong {c[1]}/"
              f"{sum(1 for i in later if not rows[i]['same'])} found {c[0]}/{c[0] + c[2]}")
        for name, allowances in variants(lang).items():
            rule = fit(rows, idx, cos[SHIPPED[lang]], apart, allowances)
            c = count(rows, idx, rule_hit(cos[SHIPPED[lang]], apart, rule))
            print(f"  on all {lang} pairs, {name.removeprefix('cross-fitted ')}: "
                  f"{_rules([rule])} (there, a fit: P {precision(c):.2f} R {recall(c):.2f})")


def _rules(rules: list[Rule]) -> str:
    return ", ".join(f"{t:.2f}" + ("" if g is None else f" guard {g}") for t, g in rules)


if __name__ == "__main__":
    raise SystemExit(main())
