"""`firstline eval SET_DIR`: index a set's corpus into a fresh store, ask every question, score.

The set's core is built by :func:`bot.app.composition.isolated_firstline` (its own store and
ledger, the outer data dir's model, no answer cache), as `router calibrate` builds its cores.
Every retrieval figure is printed beside the plain dense baseline
(:class:`bot.evaluation.baseline.PlainDense`), computed in the same run on the same questions;
``--fold 1`` scores only the questions a calibration was not fitted on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

from bot.answering.responder import Firstline
from bot.answering.rewrite import standalone
from bot.app.composition import isolated_firstline
from bot.errors import UserFacingError
from bot.evaluation.baseline import PlainDense
from bot.evaluation.metrics import EvalQuestion, EvalResult, load_questions, score, unique_paths
from bot.language import detect_language
from bot.settings import Settings
from bot.types import Question, Route, Turn
from knowledge.access import Reader

log = logging.getLogger(__name__)


def every_audience(core: Firstline) -> frozenset[str]:
    """The groups of every restricted document in the store: an evaluation asks as a member of
    all of them in a direct message (it scores answers, not access rules, which have their own
    tests)."""
    return frozenset(g for record in core.store.files().values() for g in record.audience)


async def evaluate(core: Firstline, questions: list[EvalQuestion],
                   answer: bool) -> list[EvalResult]:
    """Retrieval for every question (the gold file's rank; a follow-up searched with the
    standalone text :class:`~bot.answering.rewrite.Rewrite` gives it), and the answer when
    ``answer``."""
    results = []
    groups = every_audience(core)
    reader = Reader(groups)
    for q in questions:
        started = time.perf_counter()
        history = tuple(Turn("assistant" if role == "assistant" else "user", text)
                        for role, text in q.history)
        language = detect_language(q.question)
        query = standalone(q.question, history, language) or q.question  # as Rewrite does
        found = await asyncio.to_thread(core.searcher.search, query, 10, language, reader)
        result = EvalResult(q, unique_paths([h.path for h in found.hits]),
                            retrieval_ms=(time.perf_counter() - started) * 1000)
        if answer:
            reply = await core.handle(Question(q.question, user="eval", channel="eval", id=q.id,
                                               history=history, groups=groups))
            result.answer, result.covered = reply.text, reply.covered
            result.confident = confident(reply.route, reply.reason, reply.covered)
            result.cited = list(reply.cited)
            result.route, result.reason = reply.route.value, reply.reason
            result.latency_ms, result.signals = reply.latency_ms, reply.signals
            result.cost_usd = reply.cost_usd
        results.append(result)
    return results


def confident(route: Route, reason: str, covered: bool) -> bool:
    """Whether a reply is shown as a confident answer: covered, and not a hedged local answer
    (a local answer is confident only with the router's ``confident`` reason)."""
    if not covered or route in (Route.DECLINED, Route.FAILED, Route.COMMAND):
        return False
    return route is not Route.LOCAL or reason == "confident"


def baseline_results(embedder_core: Firstline, corpus: Path,
                     questions: list[EvalQuestion]) -> list[EvalResult]:
    """The plain dense baseline's ranking for every question (the same embedding model)."""
    plain = PlainDense(embedder_core.embeddings, corpus)
    return [EvalResult(q, plain.ranked_files(q.question, 10)) for q in questions]


def run_eval_command(args: argparse.Namespace, settings: Settings) -> int:
    set_dir: Path = args.set_dir
    corpus: Path = args.corpus or set_dir / "corpus"
    if not (set_dir / "questions.jsonl").is_file() or not corpus.is_dir():
        raise UserFacingError(f"{set_dir} needs corpus/ and questions.jsonl")
    questions = load_questions(set_dir / "questions.jsonl", args.limit, args.fold)
    if not questions:
        raise UserFacingError(f"{set_dir}/questions.jsonl has no questions"
                              + (f" in fold {args.fold}" if args.fold is not None else ""))
    core = isolated_firstline(settings, f"eval-{set_dir.resolve().name}", fresh=True)
    summary = core.indexing.index([corpus])
    log.info("indexed %s", summary.line())
    plain = score(baseline_results(core, corpus, questions), False)
    results = asyncio.run(_evaluate_and_close(core, questions, not args.retrieval_only))
    metrics = score(results, not args.retrieval_only)
    if args.out:
        with args.out.open("w", encoding="utf-8") as fh:
            for r in results:
                fh.write(json.dumps(_result_row(r), ensure_ascii=False) + "\n")
    if args.json:
        print(json.dumps({"firstline": metrics, "plain_dense": plain}, indent=2,
                         ensure_ascii=False))
    else:
        print(_table(metrics, plain))
    return 0


def _result_row(r: EvalResult) -> dict[str, Any]:
    return {"id": r.question.id, "gold": r.question.gold, "ranked": r.ranked_paths[:5],
            "answer": r.answer, "covered": r.covered, "cited": r.cited, "route": r.route,
            "reason": r.reason, "confident": r.confident, "kind": r.question.kind,
            "fold": r.question.fold, "latency_ms": r.latency_ms, "signals": r.signals}


async def _evaluate_and_close(core: Firstline, questions: list[EvalQuestion],
                              answer: bool) -> list[EvalResult]:
    try:
        return await evaluate(core, questions, answer)
    finally:
        await core.aclose()


def _table(metrics: dict[str, Any], plain: dict[str, Any]) -> str:
    def shown(value: Any) -> str:
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    lines = [f"{'':<28} {'firstline':>10} {'plain dense':>12}"]
    for key, value in metrics.items():
        other = shown(plain[key]) if key in plain and "_ms" not in key else ""
        lines.append(f"{key:<28} {shown(value):>10} {other:>12}")
    return "\n".join(lines)
