"""Evaluation sets and their scores.

Set format (../shared/eval/): ``corpus/`` plus ``questions.jsonl`` lines of
``{"id", "question", "answerable", "gold", "answers"?}``. Metrics: recall@1/@5 and MRR@10 of the
gold file, the share of answers citing it, abstention on unanswerable questions, exact match and
character F1 against ``answers``, latency p50/p95, and the route mix.
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


def load_questions(path: Path, limit: int = 0) -> list[EvalQuestion]:
    items = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                d = json.loads(line)
                items.append(
                    EvalQuestion(
                        str(d["id"]),
                        d["question"],
                        bool(d.get("answerable", True)),
                        d.get("gold"),
                        tuple(d.get("answers") or ()),
                    )
                )
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
        paths = r.ranked_paths
        return paths.index(r.question.gold) + 1 if r.question.gold in paths else None

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
    if not answered:
        return metrics
    with_answers = [r for r in answerable if r.question.answers]
    metrics.update(
        {
            "cited_gold": sum(r.question.gold in r.cited for r in answerable) / n,
            "answered_share": sum(r.covered for r in answerable) / n,
            "abstention_unanswerable": (
                sum(not r.covered for r in unanswerable) / len(unanswerable)
                if unanswerable
                else None
            ),
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
