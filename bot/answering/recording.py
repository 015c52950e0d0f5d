"""After the pipeline: the reply, its price, and its one ledger row (plus metrics and the log
record). The row is written even when the answer failed."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from bot.answering.record import AnswerRecord
from bot.ledger.pricing import Pricing
from bot.ledger.roles import AnswerLog
from bot.ledger.rows import LedgerRow, hash_user
from bot.ledger.traces import QuestionTrace, make_trace
from bot.ops.metrics import observe_reply
from bot.types import Reply, Route, Source
from knowledge.embeddings import Embedder

log = logging.getLogger(__name__)


def costs(answer: AnswerRecord, pricing: Pricing) -> tuple[float, float]:
    """(actual cost, what the same answer would have cost all-cloud), in USD."""
    on_prem = sum(u.seconds for u in answer.usage if not u.cloud)
    cloud = [u for u in answer.usage if u.cloud]
    prompt = sum(u.prompt_tokens for u in cloud)
    completion = sum(u.completion_tokens for u in cloud)
    actual = pricing.onprem_cost(on_prem) + pricing.cloud_cost(prompt, completion)
    if not cloud:  # priced as if the cloud had read and written the same tokens
        prompt = sum(u.prompt_tokens for u in answer.usage)
        completion = sum(u.completion_tokens for u in answer.usage)
    return round(actual, 8), round(pricing.all_cloud_cost(prompt, completion), 8)


def build_reply(answer: AnswerRecord, pricing: Pricing) -> Reply:
    """The :class:`Reply` of a finished record (sources: one per file, the outcome's own first,
    then the retrieved documents by rank)."""
    outcome = answer.outcome
    if outcome is None:
        raise RuntimeError("the answer is not finished")
    sources: list[Source] = []
    retrieved = [Source(h.path, h.title, round(h.score, 4), h.heading)
                 for h in (answer.evidence.hits if answer.evidence else [])]
    for source in [*(outcome.sources or ()), *retrieved]:
        if all(s.path != source.path for s in sources):
            sources.append(source)
    return Reply(
        text=outcome.text, answer_id=answer.answer_id, route=outcome.route,
        reason=outcome.reason, covered=outcome.covered, language=answer.language,
        sources=tuple(sources), cited=outcome.cited, latency_ms=answer_latency_ms(answer),
        cost_usd=costs(answer, pricing)[0], models=answer.models(), signals=dict(answer.signals),
        tokens=answer.tokens(), error=answer.error, notice=answer.notice)


def answer_latency_ms(answer: AnswerRecord) -> float:
    return round((time.perf_counter() - answer.started) * 1000, 1)


class AnswerRecorder:
    """Writes an answer's ledger row with its question's trace (embedding and key terms, made
    with ``encoder``; none for commands and empty questions), metrics and log record."""

    def __init__(self, answers: AnswerLog, pricing: Pricing, *, user_hash_salt: str,
                 keep_question_text: bool, encoder: Embedder | None = None) -> None:
        self.answers = answers
        self.pricing = pricing
        self.user_hash_salt = user_hash_salt
        self.keep_question_text = keep_question_text
        self.encoder = encoder

    def record(self, answer: AnswerRecord, reply: Reply) -> None:
        all_cloud = costs(answer, self.pricing)[1]
        row = self.row(answer, reply, all_cloud)
        try:
            self.answers.record(row, self.trace(answer, row))
        except Exception:  # the user already has the answer; the gap is logged loudly
            log.exception("ledger write failed for answer %s", reply.answer_id)
        observe_reply(reply, answer.question.channel, all_cloud)
        log.info("answer %s: %s (%s) in %.0f ms", reply.answer_id, reply.route.value,
                 reply.reason, reply.latency_ms, extra={"fields": _log_fields(row)})

    def row(self, answer: AnswerRecord, reply: Reply, all_cloud: float) -> LedgerRow:
        q = answer.question
        return LedgerRow(
            answer_id=reply.answer_id, created_at=datetime.now(UTC), channel=q.channel,
            user_hash=hash_user(q.user, self.user_hash_salt), conversation=q.conversation,
            route=reply.route.value, reason=reply.reason, signals=_jsonable(reply.signals),
            models=list(reply.models), tokens=reply.tokens, latency_ms=reply.latency_ms,
            cost_usd=reply.cost_usd, all_cloud_cost_usd=all_cloud,
            sources=[{"path": s.path, "title": s.title, "score": s.score} for s in reply.sources],
            language=reply.language, question=q.text if self.keep_question_text else None,
            error=reply.error)


    def trace(self, answer: AnswerRecord, row: LedgerRow) -> QuestionTrace | None:
        """The question's trace (the pipeline's embedding, or one made now)."""
        text = answer.question.text
        if self.encoder is None or row.route == Route.COMMAND.value or not text:
            return None
        try:
            vector = answer.question_vector
            if vector is None:
                vector = self.encoder.encode([text])[0]
            return make_trace(row.answer_id, row.created_at, row.language, self.encoder.name,
                              vector, text)
        except Exception:  # the row matters more than its trace
            log.exception("no question trace for answer %s", row.answer_id)
            return None


def _log_fields(row: LedgerRow) -> dict[str, Any]:
    """The answer's log record: the ledger row without sources and signals (question text only
    when FIRSTLINE_LOG_QUESTION_TEXT put it in the row)."""
    keep = ("answer_id", "channel", "user_hash", "route", "reason", "models", "tokens",
            "latency_ms", "cost_usd", "all_cloud_cost_usd", "language", "error")
    fields = {name: getattr(row, name) for name in keep}
    if row.question is not None:
        fields["question"] = row.question
    return fields


def _jsonable(signals: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in signals.items():
        if isinstance(value, float):
            out[key] = round(value, 5)
        elif isinstance(value, (int, str, bool)) or value is None:
            out[key] = value
        else:
            out[key] = str(value)
    return out
