"""Evaluation sets and their scores.

Set format (../shared/eval/, and the hard sets of ``tests/eval/build_hard_sets.py``): ``corpus/``
plus ``questions.jsonl`` lines of ``{"id", "question", "answerable", "gold", "answers"?, "kind"?,
"fold"?, "language"?, "history"?}``. Metrics: recall@1/@5 and MRR@10 of the gold file, the share
of answers citing it, unanswerable questions handled (declined) and answerable ones wrongly
declined, the precision of answers shown as confident, exact match and character F1 against
``answers``, latency p50/p95, the route mix, and recall per kind of question.
"""

from __future__ import annotations

import json
import re
import statistics
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    answerable: bool
    gold: str | None
    answers: tuple[str, ...] = ()
    kind: str = ""  # answerable, removed, out-of-domain, cross-language, follow-up
    fold: int | None = None  # 0: fit on it; 1: report on it
    language: str | None = None
    history: tuple[tuple[str, str], ...] = ()  # (role, text) turns before the question
    also: tuple[str, ...] = ()  # other documents that answer it as well

    @property
    def golds(self) -> tuple[str, ...]:
        return ((self.gold,) if self.gold else ()) + self.also


@dataclass
class EvalResult:
    question: EvalQuestion
    ranked_paths: list[str]
    answer: str = ""
    covered: bool = True
    cited: list[str] = field(default_factory=list)
    route: str = ""
    reason: str = ""
    latency_ms: float = 0.0
    retrieval_ms: float = 0.0
    signals: dict[str, Any] = field(default_factory=dict)
    cost_usd: float = 0.0
    confident: bool = False  # shown as a confident answer (not declined, not hedged)


def load_questions(path: Path, limit: int = 0, fold: int | None = None) -> list[EvalQuestion]:
    """The set's questions (only ``fold``'s when given), ``limit`` of them spread evenly."""
    items = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                d = json.loads(line)
                q = EvalQuestion(
                    str(d["id"]),
                    d["question"],
                    bool(d.get("answerable", True)),
                    d.get("gold"),
                    tuple(d.get("answers") or ()),
                    str(d.get("kind") or ("answerable" if d.get("answerable", True)
                                          else "out-of-domain")),
                    d.get("fold"),
                    d.get("language"),
                    tuple((t["role"], t["text"]) for t in d.get("history") or ()),
                    tuple(d.get("also") or ()),
                )
                if fold is None or q.fold == fold:
                    items.append(q)
    if limit and limit < len(items):  # an even spread, so every document area is sampled
        step = len(items) / limit
        items = [items[int(i * step)] for i in range(limit)]
    return items


# -- answer scoring (SQuAD-style, character level for Japanese) ------------------------------
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
_CITE = re.compile(r"\[\d+(?:,\s*\d+)*\]")


def normalize_answer(text: str) -> str:
    text = unicodedata.normalize("NFKC", _CITE.sub("", text)).lower()
    return _PUNCT.sub("", text)


def exact_match(prediction: str, golds: tuple[str, ...]) -> bool:
    pred = normalize_answer(prediction)
    return any(pred == normalize_answer(g) for g in golds)


def contains_match(prediction: str, golds: tuple[str, ...]) -> bool:
    pred = normalize_answer(prediction)
    return any(normalize_answer(g) and normalize_answer(g) in pred for g in golds)


def char_f1(prediction: str, golds: tuple[str, ...]) -> float:
    pred = Counter(normalize_answer(prediction))
    best = 0.0
    for gold in golds:
        ref = Counter(normalize_answer(gold))
        common = sum((pred & ref).values())
        if common:
            p, r = common / sum(pred.values()), common / sum(ref.values())
            best = max(best, 2 * p * r / (p + r))
    return best


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def unique_paths(paths: list[str]) -> list[str]:
    out: list[str] = []
    for p in paths:
        if p not in out:
            out.append(p)
    return out


def score(results: list[EvalResult], answered: bool) -> dict[str, Any]:
    answerable = [r for r in results if r.question.answerable and r.question.gold]
    unanswerable = [r for r in results if not r.question.answerable]
    n = max(1, len(answerable))

    def rank(r: EvalResult) -> int | None:
        found = [r.ranked_paths.index(g) + 1 for g in r.question.golds if g in r.ranked_paths]
        return min(found) if found else None

    def cites_gold(r: EvalResult) -> bool:
        return any(g in r.cited for g in r.question.golds)

    ranks = [rank(r) for r in answerable]
    metrics: dict[str, Any] = {
        "questions": len(results),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "recall@1": sum(1 for k in ranks if k and k <= 1) / n,
        "recall@5": sum(1 for k in ranks if k and k <= 5) / n,
        "mrr@10": sum(1 / k for k in ranks if k and k <= 10) / n,
        "retrieval_p50_ms": percentile([r.retrieval_ms for r in results], 0.5),
    }
    for kind in sorted({r.question.kind for r in answerable} - {"answerable"}):
        of_kind = [rank(r) for r in answerable if r.question.kind == kind]
        metrics[f"recall@5[{kind}]"] = sum(1 for k in of_kind if k and k <= 5) / len(of_kind)
    if not answered:
        return metrics
    shown = [r for r in results if r.confident]
    right = [r for r in shown if r.question.answerable and cites_gold(r)]
    with_answers = [r for r in answerable if r.question.answers]
    metrics.update(
        {
            "cited_gold": sum(cites_gold(r) for r in answerable) / n,
            "answered_share": sum(r.covered for r in answerable) / n,
            "unanswerable_handled": (
                sum(not r.covered for r in unanswerable) / len(unanswerable)
                if unanswerable
                else None
            ),
            "wrongly_declined": sum(not r.covered for r in answerable) / n,
            "confident_share": len(shown) / max(1, len(results)),
            # of the answers shown as confident: answerable, and citing the gold document
            "confident_precision": len(right) / len(shown) if shown else None,
            "latency_p50_ms": percentile([r.latency_ms for r in results], 0.5),
            "latency_p95_ms": percentile([r.latency_ms for r in results], 0.95),
            "routes": dict(Counter(r.route for r in results)),
            "cost_usd": sum(r.cost_usd for r in results),
        }
    )
    if with_answers:
        m = len(with_answers)
        metrics["exact_match"] = (
            sum(exact_match(r.answer, r.question.answers) for r in with_answers) / m
        )
        metrics["contains_answer"] = (
            sum(contains_match(r.answer, r.question.answers) for r in with_answers) / m
        )
        metrics["char_f1"] = statistics.fmean(
            char_f1(r.answer, r.question.answers) for r in with_answers
        )
    return metrics
