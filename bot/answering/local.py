"""Steps around the local model: draft an answer, let the router judge it, settle on it.

* :class:`LocalDraft` — the SLM answers from the top passage(s) with a lead sentence, shown over
  the cited passage's own lines (an echo, a worked-example leak or an unsupported lead is not
  covered: :mod:`bot.answering.faithful`); skipped when the router already
  sent the question to the cloud (the SLM then drafts only if the cloud does not answer).
* :class:`CheckDraft` — the router's second decision, from the draft itself (not covered, low
  token confidence, no citation, the calibrated score): keep it, or want the cloud.
* :class:`SettleLocal` — last: when no one else answered, the local draft is the answer (marked
  ``local-fallback`` when the cloud was tried and failed; declined when the SLM said it is not
  covered, or its draft was not kept, with that reason).
"""

from __future__ import annotations

from bot.answering.grounding import grounded_answer
from bot.answering.prompt import Helpdesk, shown_passages
from bot.answering.record import AnswerRecord, Outcome, Usage
from bot.models.base import ChatModel, Draft
from bot.routing.router import Decision, Router
from bot.types import Route

LEAD_TOKENS = 48  # the SLM writes one lead sentence; the excerpt under it is the document's


def problem(draft: Draft) -> str | None:
    """Why a draft was not kept although the model answered: ``slm-echo``, ``example-leak``
    or ``unsupported`` (:mod:`bot.answering.faithful`); None otherwise."""
    flags = draft.grounding
    return next((reason for reason in PROBLEMS if flags.get(reason.replace("-", "_"))), None)


PROBLEMS = ("example-leak", "slm-echo", "unsupported")


class Drafter:
    """The local model answering from the first ``top_k`` passages of the evidence: a lead
    sentence (at most :data:`LEAD_TOKENS`) over the cited passage's own lines."""

    def __init__(self, model: ChatModel, helpdesk: Helpdesk, *, top_k: int, max_tokens: int,
                 passage_units: int) -> None:
        self.model = model
        self.helpdesk = helpdesk
        self.top_k = top_k
        self.max_tokens = max_tokens
        self.passage_units = passage_units

    async def draft(self, answer: AnswerRecord) -> Draft:
        """Draft, and record the draft and its usage on ``answer``."""
        if answer.evidence is None:
            raise RuntimeError("drafting needs the evidence")
        q, hits = answer.question, answer.evidence.hits[: self.top_k]
        draft = await grounded_answer(
            self.model, q.text, hits, answer.language,
            history=q.history, helpdesk=self.helpdesk(answer.language),
            max_tokens=min(self.max_tokens, LEAD_TOKENS), passage_units=self.passage_units,
            quote=True, on_text=answer.on_text())
        answer.draft = draft
        answer.usage.append(Usage.of(draft.completion, cloud=False))
        answer.passages += shown_passages(q.text, hits, self.passage_units)
        return draft


class LocalDraft:
    def __init__(self, drafter: Drafter) -> None:
        self.drafter = drafter

    async def __call__(self, answer: AnswerRecord) -> None:
        if answer.cloud_wanted is None:
            await self.drafter.draft(answer)


class CheckDraft:
    def __init__(self, router: Router) -> None:
        self.router = router

    async def __call__(self, answer: AnswerRecord) -> None:
        if answer.draft is None:
            return
        after = self.observe(answer, answer.draft)
        answer.reason = problem(answer.draft) or after.reason
        if after.route is Route.CLOUD:
            answer.cloud_wanted = answer.reason

    def observe(self, answer: AnswerRecord, draft: Draft) -> Decision:
        """The router's view of ``draft``, its signals added to the record's."""
        if answer.evidence is None:
            raise RuntimeError("checking a draft needs the evidence")
        after = self.router.after(answer.question, answer.evidence, draft)
        c = draft.completion
        answer.signals.update(after.signals)
        answer.signals["slm_prompt_ms"] = round(c.prompt_seconds * 1000, 2)
        answer.signals["slm_generation_ms"] = round(c.generation_seconds * 1000, 2)
        answer.signals["slm_prompt_tokens"] = c.prompt_tokens
        answer.signals["slm_cached_tokens"] = c.cached_tokens  # of them, reused from the last
        return after


class SettleLocal:
    def __init__(self, drafter: Drafter, check: CheckDraft) -> None:
        self.drafter = drafter
        self.check = check

    async def __call__(self, answer: AnswerRecord) -> None:
        draft = answer.draft
        if draft is None:  # the cloud was wanted first and did not answer
            draft = await self.drafter.draft(answer)
            self.check.observe(answer, draft)
        if not draft.covered:
            why = problem(draft) or "slm-not-covered"
            answer.finish(Outcome(draft.text, Route.DECLINED, why, False))
            return
        route = Route.LOCAL_FALLBACK if answer.fallback else Route.LOCAL
        answer.finish(Outcome(draft.text, route, answer.reason, True, draft.cited_paths))
