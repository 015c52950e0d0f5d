"""Steps: verify the local draft, judge it with the calibrated abstention model, and decline a
draft judged unsure when no one else answered.

* :class:`Verify` — right after :class:`~bot.answering.local.CheckDraft`, for a covered local
  draft: a second, separate pass of the local model over the answer prompt's own messages, the
  draft as the assistant's turn and one more user turn, "Does passage [1] answer the question
  above? Answer yes or no." Its P(yes) is read from one decoding step's token log-probabilities
  (:meth:`bot.models.base.ChatModel.choose`); as the prompt starts with the answer's prompt and
  answer, llama.cpp evaluates only the new turn. Decline instructions inside the answer prompt are
  not used: they made the 0.5B model decline everything. Then ``p_right``
  (:mod:`bot.routing.abstention`) from that P(yes) and the evidence and grounding signals; below
  the threshold the cloud is wanted with reason ``not-confident``. When the abstention model in
  use does not read the pass (no ``verify_logit`` among its features, as the shipped one since the
  pass did not separate right from wrong answers on held-out questions) the model call is skipped
  (signal ``verify_skipped``) and p_right is judged from the other signals; with the abstention
  off the pass still runs, so that rated answers carry its P(yes) for a refit that wants it.
* :class:`DeclineUnsure` — just before :class:`~bot.answering.local.SettleLocal`: a draft judged
  not confident that the cloud did not replace (no cloud, confidential sources, budget spent,
  cloud down) ends as an honest "not covered", never as a local answer.

Signals: ``verify_yes``, ``verify_ms`` (the pass's wall time), ``verify_skipped``, ``dense_gap``,
``multilingual_top``, ``multilingual_gap``, ``p_right``, ``p_right_threshold``, ``not_confident``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from bot.answering.prompt import Helpdesk, build_messages, not_covered_text
from bot.answering.record import AnswerRecord, Outcome
from bot.errors import CloudError, ModelUnavailableError
from bot.models.base import ChatModel, Draft, Message
from bot.routing.abstention import Abstention
from bot.types import Route
from knowledge.retrieval import Hit, SearchResult

log = logging.getLogger(__name__)

QUESTION = "Does passage [{n}] answer the question above? Answer yes or no."
OPTIONS = ("yes", "no")
NOT_CONFIDENT = "not-confident"


def margin_signals(evidence: SearchResult) -> dict[str, Any]:
    """How far the best document is ahead of the second on each dense side (0 when a side
    did not score them)."""
    hits = evidence.hits
    out: dict[str, Any] = {}
    for side in ("dense", "multilingual"):
        values = [getattr(h, side) for h in hits]
        known = [v for v in values if v is not None]
        top = values[0] if hits and values[0] is not None else 0.0
        rest = [v for v in values[1:] if v is not None]
        if side == "multilingual":
            out["multilingual_top"] = max(known) if known else 0.0
        out[f"{side}_gap"] = round(top - max(rest), 5) if rest else round(top, 5)
    return out


class Verify:
    """The verification pass and the abstention judgement (``abstention`` None: pass only)."""

    def __init__(self, model: ChatModel, abstention: Abstention | None, *, top_k: int,
                 passage_units: int) -> None:
        self.model = model
        self.abstention = abstention
        self.top_k = top_k
        self.passage_units = passage_units

    async def __call__(self, answer: AnswerRecord) -> None:
        draft, evidence = answer.draft, answer.evidence
        if draft is None or not draft.covered or evidence is None or answer.done:
            return
        answer.signals.update(margin_signals(evidence))
        if not self.needs_pass:
            answer.signals["verify_skipped"] = True
            self.judge(answer)
            return
        hits = evidence.hits[: self.top_k]
        started = time.perf_counter()
        try:
            chosen = await self.model.choose(self.messages(answer, draft, hits), OPTIONS)
        except (CloudError, ModelUnavailableError) as exc:
            log.warning("verification pass failed: %s", exc)
            answer.signals["verify_error"] = str(exc)[:200]
            chosen = {}
        answer.signals["verify_ms"] = round((time.perf_counter() - started) * 1000, 2)
        if chosen:
            answer.signals["verify_yes"] = round(chosen["yes"], 5)
        self.judge(answer)

    @property
    def needs_pass(self) -> bool:
        """The model call is made unless the abstention model in use ignores its P(yes)."""
        return self.abstention is None or self.abstention.uses_verification

    def messages(self, answer: AnswerRecord, draft: Draft, hits: list[Hit]) -> list[Message]:
        """The answer's prompt, the draft as it was generated, and the yes/no question about
        the passage the draft cites."""
        q = answer.question
        prompt = list(draft.prompt) or build_messages(
            q.text, hits, answer.language, q.history, self.passage_units).messages
        cited = [i for i, h in enumerate(hits, 1) if h.path in draft.cited_paths]
        n = cited[0] if cited else 1
        return [*prompt, Message("assistant", draft.raw), Message("user", QUESTION.format(n=n))]

    def judge(self, answer: AnswerRecord) -> None:
        """p_right against the threshold; a draft the pass could not judge (a model without
        log-probabilities) is left to the rules, as the model was fitted on judged ones only."""
        if self.abstention is None or (self.needs_pass and "verify_yes" not in answer.signals):
            return
        p = self.abstention.p_right(answer.signals, answer.language)
        answer.signals["p_right"] = round(p, 4)
        answer.signals["p_right_threshold"] = self.abstention.threshold
        if p >= self.abstention.threshold:
            return
        answer.signals["not_confident"] = True
        answer.reason = NOT_CONFIDENT
        if answer.cloud_wanted is None:
            answer.cloud_wanted = NOT_CONFIDENT


class DeclineUnsure:
    """A draft judged not confident that nobody replaced is declined, not shown."""

    def __init__(self, helpdesk: Helpdesk) -> None:
        self.helpdesk = helpdesk

    async def __call__(self, answer: AnswerRecord) -> None:
        if answer.done or not answer.signals.get("not_confident"):
            return
        language = answer.language
        answer.finish(Outcome(not_covered_text(language, self.helpdesk(language)),
                              Route.DECLINED, NOT_CONFIDENT, covered=False))
