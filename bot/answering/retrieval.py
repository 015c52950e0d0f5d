"""Step: retrieve the evidence the asker may see (hybrid search, in a worker thread).

Documents outside the asker's audience are filtered out inside both retrievers, before ranking,
so their text never reaches the prompt, the sources, the signals or the cache. The ledger gets
only how many were held back; a member asking in a shared channel is told to ask in a direct
message, without the document's title or content.
"""

from __future__ import annotations

import asyncio

from bot.answering.record import AnswerRecord
from bot.answering.streaming import SEARCHING
from bot.types import Language
from knowledge.retrieval import Searcher


class Retrieve:
    """``depth`` passages from ``searcher``; the local prompt takes the first ``top_k``, the
    cloud at least five."""

    def __init__(self, searcher: Searcher, depth: int) -> None:
        self.searcher = searcher
        self.depth = depth

    async def __call__(self, answer: AnswerRecord) -> None:
        reader = answer.reader
        query = answer.search_text or answer.question.text  # a follow-up's standalone text
        answer.status(SEARCHING)
        evidence = await asyncio.to_thread(
            self.searcher.search, query, self.depth, answer.language, reader)
        answer.evidence = evidence
        answer.signals["held_back"] = len(evidence.held_back)
        theirs = sorted({g for audience in evidence.held_back for g in audience
                         if reader.shared and g in reader.groups})
        if theirs:
            answer.add_notice(held_back_notice(theirs, answer.language))


def held_back_notice(groups: list[str], language: Language) -> str:
    label = "/".join(g.upper() if len(g) <= 3 else g for g in groups)
    if language == "ja":
        return f"{label} 向けの資料があります。ダイレクトメッセージでお尋ねください。"
    return f"There is a {label}-only document on this; ask me in a direct message."
