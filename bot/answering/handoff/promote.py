"""Promoting the helpdesk's reply to a hand-off into an approved answer, in one action.

The hand-off's thread (or ticket) finds its answer through the ledger row's
``handoff_reference``; the approved answer gets the hand-off's question (as the helpdesk saw
it: redacted), the reply as its text, the original answer's language, the promoting admin as
owner, a review date ``FIRSTLINE_HANDOFF_REVIEW_DAYS`` ahead and origin ``handoff:<answer id>``.
It cites no document and has no audience: the reply was written in the helpdesk's channel for
everyone who asks (an admin who wants it narrower edits it in the console). A hand-off is
promoted once; pressing again says which approved answer it became.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.answering.approved import ApprovedBook
from bot.ledger.roles import AnswerLog, ApprovedAnswers, Handoffs
from bot.types import Language, Promotion, PromotionResult

log = logging.getLogger(__name__)

_SAID: dict[str, dict[Language, str]] = {
    "done": {"en": "Promoted to approved answer {id}: the bot answers questions like this one "
                   "with this reply from now on.",
             "ja": "承認済み回答 {id} にしました。今後、同様の質問にはこの返信で回答します。"},
    "already": {"en": "This hand-off was already promoted (approved answer {id}).",
                "ja": "この引き継ぎはすでに承認済み回答 {id} になっています。"},
    "admins": {"en": "Only firstline admins can promote a reply to an approved answer.",
               "ja": "承認済み回答にできるのは firstline の管理者だけです。"},
    "unknown": {"en": "This hand-off is not in the ledger, so it cannot be promoted.",
                "ja": "この引き継ぎは台帳にないため、承認済み回答にできません。"},
    "empty": {"en": "There is no reply in this thread to promote yet.",
              "ja": "このスレッドにはまだ承認できる返信がありません。"},
}


class PromotionLedger(AnswerLog, Handoffs, ApprovedAnswers, Protocol):
    """The ledger roles promotion reads."""


class Promoter:
    def __init__(self, ledger: PromotionLedger, book: ApprovedBook, review_days: int) -> None:
        self.ledger, self.book, self.review_days = ledger, book, review_days

    async def __call__(self, promotion: Promotion) -> PromotionResult:
        answer_id = await asyncio.to_thread(self.ledger.handed_off_answer, promotion.reference)
        row = None if answer_id is None else await asyncio.to_thread(self.ledger.get, answer_id)
        language: Language = "ja" if row is not None and row.language == "ja" else "en"
        if not promotion.is_admin:
            return _said("admins", language)
        if row is None:
            return _said("unknown", language)
        if not promotion.answer.strip():
            return _said("empty", language)
        earlier = await asyncio.to_thread(self._promoted, row.answer_id)
        if earlier:
            return _said("already", language, earlier)
        return await asyncio.to_thread(self._add, promotion, row.answer_id, language)

    def _promoted(self, answer_id: str) -> str:
        origin = f"handoff:{answer_id}"
        return next((a.id for a in self.ledger.approved_list("active") if a.origin == origin), "")

    def _add(self, promotion: Promotion, answer_id: str, language: Language) -> PromotionResult:
        review = (datetime.now(UTC).date() + timedelta(days=self.review_days)
                  if self.review_days > 0 else None)
        item = self.book.add(promotion.question, promotion.answer, language, promotion.by,
                             review_on=review, origin=f"handoff:{answer_id}")
        log.info("hand-off %s promoted to approved answer %s", answer_id, item.id)
        return _said("done", language, item.id)


def _said(what: str, language: Language, approved_id: str = "") -> PromotionResult:
    made = approved_id if what == "done" else ""
    return PromotionResult(made, _SAID[what][language].format(id=approved_id))
