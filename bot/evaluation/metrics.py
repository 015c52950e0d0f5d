"""`firstline eval SET_DIR`: index a set's corpus into a fresh store, ask every question, score.

Set format (../shared/eval/): ``corpus/`` plus ``questions.jsonl`` lines of
``{"id", "question", "answerable", "gold", "answers"?}``. Metrics: recall@1/@5 and MRR@10 of the
gold file, the share of answers citing it, abstention on unanswerable questions, exact match and
character F1 against ``answers``, latency p50/p95, and the route mix.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import shutil
import statistics
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.settings import Settings

log = logging.getLogger(__name__)


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


async def evaluate(core: Any, questions: list[EvalQuestion], answer: bool) -> list[EvalResult]:
    from bot.prompt import detect_language
    from bot.types import Question

    results = []
    for q in questions:
        started = time.perf_counter()
        found = await asyncio.to_thread(
            core.retriever.search, q.question, 10, detect_language(q.question)
        )
        result = EvalResult(
            q,
            unique_paths([h.path for h in found.hits]),
            retrieval_ms=(time.perf_counter() - started) * 1000,
        )
        if answer:
            reply = await core.handle(Question(q.question, user="eval", channel="eval", id=q.id))
            result.answer, result.covered, result.cited = (
                reply.text,
                reply.covered,
                list(reply.cited),
            )
            result.route, result.reason, result.latency_ms = (
                reply.route.value,
                reply.reason,
                reply.latency_ms,
            )
            result.signals, result.cost_usd = reply.signals, reply.cost_usd
        results.append(result)
    return results


def run_eval_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core import Firstline
    from bot.errors import UserFacingError

    set_dir: Path = args.set_dir
    if (
        not (set_dir / "questions.jsonl").is_file()
        or not (args.corpus or set_dir / "corpus").is_dir()
    ):
        raise UserFacingError(f"{set_dir} needs corpus/ and questions.jsonl")
    questions = load_questions(set_dir / "questions.jsonl", args.limit)
    data_dir = settings.data_dir / f"eval-{set_dir.resolve().name}"
    shutil.rmtree(data_dir, ignore_errors=True)
    # A fresh store and ledger per run; the model is shared with the outer data dir, and the
    # answer cache is off so every question is scored on its own.
    from bot.models import resolve_slm_path

    slm = settings.slm_model or (
        "" if settings.slm_url else str(resolve_slm_path("", settings.data_dir))
    )
    core = Firstline.from_settings(
        settings.replace(
            data_dir=data_dir,
            collection="evalset",
            ledger_url="",
            slm_model=slm,
            cache_ttl_seconds=0,
        )
    )
    summary = core.index([args.corpus or set_dir / "corpus"])
    log.info("indexed %s", summary.line())
    results = asyncio.run(_evaluate_and_close(core, questions, not args.retrieval_only))
    metrics = score(results, not args.retrieval_only)
    if args.out:
        with args.out.open("w", encoding="utf-8") as fh:
            for r in results:
                fh.write(
                    json.dumps(
                        {
                            "id": r.question.id,
                            "gold": r.question.gold,
                            "ranked": r.ranked_paths[:5],
                            "answer": r.answer,
                            "covered": r.covered,
                            "cited": r.cited,
                            "route": r.route,
                            "reason": r.reason,
                            "latency_ms": r.latency_ms,
                            "signals": r.signals,
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )
    print(json.dumps(metrics, indent=2, ensure_ascii=False) if args.json else _table(metrics))
    return 0


async def _evaluate_and_close(
    core: Any, questions: list[EvalQuestion], answer: bool
) -> list[EvalResult]:
    try:
        return await evaluate(core, questions, answer)
    finally:
        await core.close()


def _table(metrics: dict[str, Any]) -> str:
    lines = []
    for key, value in metrics.items():
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        lines.append(f"{key:<26} {shown}")
    return "\n".join(lines)
