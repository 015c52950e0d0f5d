"""Step: with nothing indexed yet, say how to add documents rather than a bare "I don't know".

Runs after retrieval and only when it found nothing, so a knowledge base with documents pays
nothing for it; documents the asker may not read do not count as "nothing indexed"."""

from __future__ import annotations

import asyncio

from bot.answering.record import AnswerRecord, Outcome
from bot.types import Language, Route
from knowledge.store import KnowledgeStore


class EmptyKnowledge:
    def __init__(self, store: KnowledgeStore) -> None:
        self.store = store

    async def __call__(self, answer: AnswerRecord) -> None:
        if answer.evidence is None or answer.evidence.hits or answer.evidence.held_back:
            return
        if await asyncio.to_thread(self.store.files):
            return
        answer.finish(Outcome(empty_hint(answer.language), Route.DECLINED, "nothing-indexed",
                              covered=False))


def empty_hint(language: Language) -> str:
    """What an asker is told while the knowledge base is empty."""
    if language == "ja":
        return ("まだ資料が登録されていないため、お答えできません。管理者が `firstline index "
                "フォルダ` で社内の資料を登録すると、その資料からお答えします"
                "（サンプル資料は `firstline index` で登録できます）。")
    return ("I can't answer yet: no documents have been indexed. An administrator can add the "
            "company's documents with `firstline index FOLDER` (or the sample documents with "
            "`firstline index`), and I will answer from them.")
