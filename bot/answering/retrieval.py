"""Step: retrieve the evidence for the question (hybrid search, in a worker thread)."""

from __future__ import annotations

import asyncio

from bot.answering.record import AnswerRecord
from knowledge.retrieval import Searcher


class Retrieve:
    """``depth`` passages from ``searcher``; the local prompt takes the first ``top_k``, the
    cloud at least five."""

    def __init__(self, searcher: Searcher, depth: int) -> None:
        self.searcher = searcher
        self.depth = depth

    async def __call__(self, answer: AnswerRecord) -> None:
        answer.evidence = await asyncio.to_thread(
            self.searcher.search, answer.question.text, self.depth, answer.language)
