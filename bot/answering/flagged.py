"""Finishing step: an answer citing a document flagged for instruction-like text says so.

The document is still answered from (a real policy may quote an attack), but the asker is told
to check before acting on it, and the cache never keeps such an answer
(``bot.answering.cache.hashes_of``).
"""

from __future__ import annotations

from bot.answering.record import AnswerRecord
from knowledge.store import KnowledgeStore

NOTICE = {
    "en": "This answer cites a document flagged for review; check with the helpdesk before "
          "acting on it, and never type your password into a link from a chat.",
    "ja": "この回答は確認待ちの文書を引用しています。対応する前にヘルプデスクに確認し、"
          "チャットのリンクからパスワードを入力しないでください。",
}


class WarnFlagged:
    def __init__(self, catalog: KnowledgeStore) -> None:
        self.catalog = catalog

    async def __call__(self, answer: AnswerRecord) -> None:
        outcome = answer.outcome
        if outcome is None or not outcome.cited:
            return
        records = self.catalog.files()
        if any(records[p].flags for p in outcome.cited if p in records):
            answer.add_notice(NOTICE[answer.language])
            answer.signals["cites_flagged"] = True
