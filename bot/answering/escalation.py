"""Step: send the question to the cloud model when the router wants it — or decide not to.

The cloud is skipped, and the local answer kept (:class:`bot.answering.local.SettleLocal`), when
no cloud is configured, when the question's evidence includes confidential documents or documents
for an audience (the cloud is nobody's audience), or when the
daily/monthly budget is spent. When the cloud fails after its retries, the local answer is used
and marked ``local-fallback``. Everything sent out is redacted first (e-mail addresses, phone
numbers ...) unless disabled. A multi-part question is first split into sub-queries whose
passages are merged (:mod:`bot.answering.decompose`); the confidential check covers those too.
Every skip and failure is recorded in the answer's signals (``cloud_skipped``, ``cloud_error``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from bot.answering.decompose import Decomposer, passage_limit
from bot.answering.grounding import grounded_answer
from bot.answering.prompt import Helpdesk, shown_passages
from bot.answering.record import AnswerRecord, Outcome, Usage
from bot.answering.streaming import ASKING, CHECKING
from bot.errors import CloudError
from bot.ledger.roles import AnswerLog
from bot.models.base import ChatModel
from bot.models.redacting import Redacting
from bot.models.redaction import company_patterns as company_patterns_of
from bot.types import Route, Turn
from knowledge.retrieval import Hit, SearchResult
from knowledge.store import KnowledgeStore

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
LONG_FORM_REASONS = frozenset({"long-form", "long-question", "multi-part"})
LONG_FORM_TOKENS = 700
CLOUD_PASSAGE_UNITS = 1400


class Budget:
    """Daily and monthly cloud spend caps (0: none), read from the answer log."""

    def __init__(self, answers: AnswerLog, daily_usd: float, monthly_usd: float) -> None:
        self.answers = answers
        self.daily_usd = daily_usd
        self.monthly_usd = monthly_usd

    def left(self, now: datetime | None = None) -> bool:
        day = (now or datetime.now(UTC)).replace(hour=0, minute=0, second=0, microsecond=0)
        if self.daily_usd and self.answers.cloud_spend(day) >= self.daily_usd:
            return False
        month = day.replace(day=1)
        return not (self.monthly_usd and self.answers.cloud_spend(month) >= self.monthly_usd)


class Escalate:
    def __init__(self, cloud: ChatModel | None, budget: Budget, decomposer: Decomposer,
                 helpdesk: Helpdesk, *, redact: bool, top_k: int, max_tokens: int,
                 company_patterns: Sequence[str], answers: AnswerLog,
                 catalog: KnowledgeStore) -> None:
        self.cloud = cloud
        self.answers = answers
        self.catalog = catalog
        self.budget = budget
        self.decomposer = decomposer
        self.helpdesk = helpdesk
        self.redact = redact
        self.company = company_patterns_of(company_patterns)
        self.top_k = top_k
        self.max_tokens = max_tokens

    async def __call__(self, answer: AnswerRecord) -> None:
        reason = answer.cloud_wanted
        if reason is None or answer.evidence is None:
            return
        answer.signals["escalation_wanted"] = reason
        evidence = await self._allowed_evidence(answer, reason, answer.evidence)
        if evidence is None or self.cloud is None:
            return
        model = Redacting(self.cloud, self.company) if self.redact else self.cloud
        hits = evidence.hits[: passage_limit(int(answer.signals.get("sub_queries", 0)),
                                             self.top_k)]
        q, language = answer.question, answer.language
        answer.status(CHECKING if answer.draft is not None else ASKING)
        try:
            history = await asyncio.to_thread(self._history_for_cloud, answer)
            draft = await grounded_answer(
                model, q.text, hits, language, history=history,
                helpdesk=self.helpdesk(language), passage_units=CLOUD_PASSAGE_UNITS,
                max_tokens=LONG_FORM_TOKENS if reason in LONG_FORM_REASONS else self.max_tokens,
                on_text=answer.on_text())
        except CloudError as exc:
            log.warning("cloud failed, answering on-prem: %s", exc)
            answer.signals["cloud_error"] = str(exc)[:200]
            answer.add_notice(NOTICE_DOWN[language])
            answer.fallback = True
            return
        if isinstance(model, Redacting) and model.masked:
            answer.signals["redacted"] = sum(model.masked.values())
        answer.usage.append(Usage.of(draft.completion, cloud=True))
        answer.passages += shown_passages(q.text, hits, CLOUD_PASSAGE_UNITS)  # what it saw
        route = Route.CLOUD if draft.covered else Route.DECLINED
        answer.finish(Outcome(draft.text, route, reason, draft.covered, draft.cited_paths))

    def _history_for_cloud(self, answer: AnswerRecord) -> tuple[Turn, ...]:
        """The thread's history, unless an earlier answer in this conversation used a
        confidential or restricted document (its text may be in that history)."""
        q = answer.question
        if not q.history:
            return q.history
        records = self.catalog.files()
        used = self.answers.conversation_sources(q.conversation) if q.conversation else set()
        if any(p in records and (records[p].confidential or records[p].audience) for p in used):
            answer.signals["history_withheld"] = "private-sources"
            return ()
        return q.history

    async def _allowed_evidence(self, answer: AnswerRecord, reason: str,
                                evidence: SearchResult) -> SearchResult | None:
        """The passages the cloud may see, or None (with the reason in the signals)."""
        if self.cloud is None:
            return self._skip(answer, "no-cloud", None)
        if answer.signals.get("confidential") or any(_private(h) for h in evidence.hits):
            log.info("kept on-prem: confidential or restricted evidence (%s)", reason)
            return self._skip(answer, "confidential", NOTICE_CONFIDENTIAL)
        if not await asyncio.to_thread(self.budget.left):
            return self._skip(answer, "budget", NOTICE_BUDGET)
        if reason == "multi-part":
            evidence = await self.decomposer.evidence(answer)
            if any(_private(h) for h in evidence.hits):
                return self._skip(answer, "confidential", NOTICE_CONFIDENTIAL)
        return evidence

    def _skip(self, answer: AnswerRecord, why: str,
              notice: dict[str, str] | None) -> SearchResult | None:
        answer.signals["cloud_skipped"] = why
        if notice is not None:
            answer.add_notice(notice[answer.language])
        return None


def _private(hit: Hit) -> bool:
    """Confidential, or for an audience: the cloud is nobody's audience."""
    return hit.confidential or bool(hit.audience)
