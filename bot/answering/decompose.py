"""Multi-part questions, Collab-RAG style: the SLM splits, retrieval runs per part, the cloud
answers from the combined passages.

"How do I reset my VPN password? And where is the guest Wi-Fi password?" retrieves poorly as one
query: each part's best passage competes with the other part's. The local model (cheap, on-prem)
rewrites the message as at most :data:`MAX_SUB_QUERIES` self-contained questions; when its output
is unusable (one line, too many, lines sharing no term with the message) the message is split on
question marks and "and"/「また」 instead. Each sub-query is searched on its own and the rankings
are merged by reciprocal rank fusion (the whole message's own ranking is left out: it favours
whichever part dominates it), so every part gets its best passages into the prompt.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence

from bot.answering.record import AnswerRecord
from bot.models.base import ChatModel, Message
from knowledge.lexical import content_terms
from knowledge.retrieval import RRF_K, Hit, Searcher, SearchResult

log = logging.getLogger(__name__)

MAX_SUB_QUERIES = 3
PASSAGES_PER_PART = 3  # each part's best passages reach the prompt
SPLIT_PROMPT = (
    "Split the user's message into the separate questions it asks. Write each as a short, "
    "self-contained question on its own line, at most three lines, with nothing else: no "
    "numbering, no answers. Keep the language of the message: "
    "日本語の質問は日本語のまま分けてください。"
)
_BULLET = re.compile(r"^\s*(?:[-*•・]|\(?\d+[.)、:]|[Qq]\d*[:.]|質問\d*[:：])\s*")
_QUESTION_END = re.compile(r"(?<=[?？])\s*")
_JOINERS = re.compile(r"\s*(?:[,;]?\s+\band\b\s+|、?また、?|、?それと、?|。)\s*", re.I)


async def sub_queries(model: ChatModel, text: str) -> tuple[list[str], str]:
    """(the sub-queries, "model" or "rules"); a single-part message comes back as itself."""
    try:
        completion = await model.complete(
            [Message("system", SPLIT_PROMPT), Message("user", text)], max_tokens=160)
        parsed = parse_lines(completion.text)
        if usable(parsed, text):
            return parsed, "model"
        log.info("decomposition: model output unusable (%d lines); splitting by rules",
                 len(parsed))
    except Exception:  # the SLM is an optimisation here; the rules always work
        log.exception("decomposition: the local model failed; splitting by rules")
    return split_by_rules(text), "rules"


def parse_lines(output: str) -> list[str]:
    """Non-empty lines without bullets, numbering or quotes, deduplicated."""
    lines: list[str] = []
    for raw in output.splitlines():
        line = _BULLET.sub("", raw).strip().strip("\"'「」").strip()
        if line and line.lower() not in (seen.lower() for seen in lines):
            lines.append(line)
    return lines


def usable(parts: Sequence[str], original: str) -> bool:
    """2..3 parts, none much longer than the message, each sharing a term with it."""
    if not 2 <= len(parts) <= MAX_SUB_QUERIES:
        return False
    terms = content_terms(original)
    return all(len(p) <= len(original) + 40 and content_terms(p) & terms for p in parts)


def split_by_rules(text: str) -> list[str]:
    """Split on ?/？, then on "and"/「また」/「それと」; at most :data:`MAX_SUB_QUERIES` parts."""
    parts = [p.strip() for p in _QUESTION_END.split(text) if p.strip()]
    if len(parts) < 2:
        parts = [p.strip() for p in _JOINERS.split(text) if p and p.strip()]
    parts = [p for p in parts if content_terms(p)] or [text.strip()]
    if len(parts) > MAX_SUB_QUERIES:  # keep the first parts, fold the rest into the last
        parts = [*parts[: MAX_SUB_QUERIES - 1], " ".join(parts[MAX_SUB_QUERIES - 1 :])]
    return parts


def merge(results: Sequence[SearchResult], limit: int) -> SearchResult:
    """Reciprocal rank fusion of several rankings, one entry per chunk, best first."""
    fused: dict[str, float] = {}
    best: dict[str, Hit] = {}
    for result in results:
        for rank, hit in enumerate(result.hits, 1):
            fused[hit.id] = fused.get(hit.id, 0.0) + 1.0 / (RRF_K + rank)
            if hit.id not in best or hit.score > best[hit.id].score:
                best[hit.id] = hit
    order = sorted(fused, key=lambda cid: -fused[cid])[:limit]
    terms = sorted({t for r in results for t in r.query_terms})
    coverage = min((r.term_coverage for r in results), default=0.0)
    return SearchResult([best[cid] for cid in order], sum(r.seconds for r in results), terms,
                        coverage)


class Decomposer:
    """The passages for a multi-part question: per sub-query retrieval, merged."""

    def __init__(self, local: ChatModel, searcher: Searcher, depth: int, top_k: int) -> None:
        self.local = local
        self.searcher = searcher
        self.depth = depth
        self.top_k = top_k

    async def evidence(self, answer: AnswerRecord) -> SearchResult:
        """Merged evidence of the sub-queries (the whole message's is kept for a single part);
        the answer's signals record the sub-queries' count and how they were made."""
        if answer.evidence is None:
            raise RuntimeError("decomposition needs the evidence")
        parts, how = await sub_queries(self.local, answer.question.text)
        answer.signals.update(sub_queries=len(parts), decomposition=how)
        if len(parts) < 2:
            return answer.evidence
        found = [await asyncio.to_thread(self.searcher.search, part, self.depth, answer.language,
                                         answer.reader)
                 for part in parts]
        return merge(found, passage_limit(len(parts), self.top_k))


def passage_limit(parts: int, top_k: int) -> int:
    """How many merged passages the cloud prompt gets for a message of ``parts`` parts."""
    return max(top_k, 5, PASSAGES_PER_PART * parts)
