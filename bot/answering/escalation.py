"""Sending a question to the cloud model — or deciding not to.

The cloud is skipped, and the local answer kept, when no cloud is configured, when the question's
evidence includes confidential documents, or when the daily/monthly budget is spent. When the
cloud fails after its retries, the local answer is used and marked ``local-fallback``.
Everything sent out is redacted first (e-mail addresses, phone numbers ...) unless disabled.
A multi-part question is first split into sub-queries whose passages are merged
(:mod:`bot.decompose`); the confidential check then covers those passages too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.answer import Draft, grounded_answer
from bot.errors import CloudError
from bot.router import Decision
from bot.types import ChatModel, Completion, Language, Message, Question, Route
from knowledge.retrieval import SearchResult

if TYPE_CHECKING:
    from bot.core import Firstline, _Outcome

log = logging.getLogger(__name__)

NOTICE_BUDGET = {
    "en": "Answered on-prem: the cloud budget for this period is spent.",
    "ja": "クラウド利用枠の上限に達したため、社内モデルで回答しました。",
}
NOTICE_DOWN = {
    "en": "Answered on-prem: the cloud model is unavailable right now.",
    "ja": "クラウドモデルに接続できないため、社内モデルで回答しました。",
}
NOTICE_CONFIDENTIAL = {
    "en": "Answered on-prem: the sources are confidential.",
    "ja": "機密文書が含まれるため、社内モデルで回答しました。",
}
LONG_FORM_TOKENS = 700


class _Redacting:
    """Wraps a chat model so every message is redacted before it leaves the machine."""

    def __init__(self, model: ChatModel) -> None:
        self.model = model
        self.name = model.name
        self.masked: dict[str, int] = {}

    async def complete(self, messages: list[Message], *, max_tokens: int = 256) -> Completion:
        from bot.redact import redact

        clean = []
        for message in messages:
            text, counts = redact(message.content)
            for kind, n in counts.items():
                self.masked[kind] = self.masked.get(kind, 0) + n
            clean.append(Message(message.role, text))
        return await self.model.complete(clean, max_tokens=max_tokens)


def budget_left(core: Firstline) -> bool:
    s = core.settings
    now = datetime.now(UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if s.budget_daily_usd and core.ledger.cloud_spend(day) >= s.budget_daily_usd:
        return False
    month = day.replace(day=1)
    return not (s.budget_monthly_usd and core.ledger.cloud_spend(month) >= s.budget_monthly_usd)


@dataclass(frozen=True)
class Escalation:
    """The cloud's outcome, or ``None`` with the notice and route for the local answer."""

    outcome: _Outcome | None
    notice: str | None = None
    fallback: bool = False  # the cloud was tried and failed


async def escalate(
    core: Firstline,
    question: Question,
    evidence: SearchResult,
    decision: Decision,
    local: Draft | None,
) -> Escalation:
    """Ask the cloud when allowed; ``decision.signals`` records why it was skipped or failed."""
    from bot.core import _Outcome

    language: Language = question.language or "en"
    signals = decision.signals
    signals["escalation_wanted"] = decision.reason
    if core.cloud is None:
        signals["cloud_skipped"] = "no-cloud"
        return Escalation(None)
    if signals.get("confidential") or any(h.confidential for h in evidence.hits):
        signals["cloud_skipped"] = "confidential"
        log.info("kept on-prem: confidential evidence (%s)", decision.reason)
        return Escalation(None, NOTICE_CONFIDENTIAL[language])
    if not budget_left(core):
        signals["cloud_skipped"] = "budget"
        return Escalation(None, NOTICE_BUDGET[language])
    if decision.reason == "multi-part":
        from bot.decompose import decomposed_evidence

        evidence = await decomposed_evidence(core, question, evidence, signals)
        if any(h.confidential for h in evidence.hits):
            signals["cloud_skipped"] = "confidential"
            return Escalation(None, NOTICE_CONFIDENTIAL[language])
    model = _Redacting(core.cloud) if core.settings.redact else core.cloud
    long_form = decision.reason in {"long-form", "long-question", "multi-part"}
    from bot.decompose import passage_limit

    hits = evidence.hits[: passage_limit(int(signals.get("sub_queries", 0)), core.settings.top_k)]
    try:
        draft = await grounded_answer(
            model,
            question.text,
            hits,
            language,
            history=question.history,
            helpdesk=core._helpdesk(language),
            max_tokens=LONG_FORM_TOKENS if long_form else core.settings.slm_max_tokens,
            passage_units=1400,
        )
    except CloudError as exc:
        log.warning("cloud failed, answering on-prem: %s", exc)
        signals["cloud_error"] = str(exc)[:200]
        return Escalation(None, NOTICE_DOWN[language], fallback=True)
    if isinstance(model, _Redacting) and model.masked:
        signals["redacted"] = sum(model.masked.values())
    c = draft.completion
    tokens = {c.model: {"prompt": c.prompt_tokens, "completion": c.completion_tokens}}
    slm_seconds = 0.0
    models: tuple[str, ...] = (c.model,)
    if local is not None:
        lc = local.completion
        tokens[lc.model] = {"prompt": lc.prompt_tokens, "completion": lc.completion_tokens}
        slm_seconds = lc.seconds
        models = (lc.model, c.model)
    route = Route.CLOUD if draft.covered else Route.DECLINED
    return Escalation(
        _Outcome(
            draft.text,
            route,
            decision.reason,
            draft.covered,
            draft.cited_paths,
            models,
            tokens,
            slm_seconds=slm_seconds,
            cloud_prompt=c.prompt_tokens,
            cloud_completion=c.completion_tokens,
        )
    )
