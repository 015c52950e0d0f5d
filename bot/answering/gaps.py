"""Knowledge gaps: the questions the bot could not answer well, grouped by similarity.

A question counts when its answer was declined (not for a bad question or an empty index),
got a 👎, was judged not confident (``not_confident``, or ``p_right`` below
``FIRSTLINE_GAPS_LOW_CONFIDENCE``), or was handed off to a person. Questions are grouped per
language (and encoder) from their traces — the stored embedding and key terms, so grouping works
with question-text logging off — greedily, in time order: a question joins the group whose
running centroid is most similar, if at least ``FIRSTLINE_GAPS_SIMILARITY``, else starts one.
Each gap has its count in the period and in the period before it (the trend), its reasons, its
most common key terms, up to three example questions (only texts the ledger kept), and the
closest documents (the store searched with the gap's centroid, on the dense side made by the
same encoder). ``firstline gaps``, the admin chat command ``gaps`` and the console show them.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from bot.ledger.roles import TraceLog
from bot.ledger.rows import LedgerRow, utcnow
from bot.ledger.traces import TracedAnswer
from knowledge.store import MAIN, MULTILINGUAL, KnowledgeStore

log = logging.getLogger(__name__)

NOT_GAPS = frozenset({"bad-question", "nothing-indexed"})  # declined, but not for knowledge
MAX_EXAMPLES, MAX_TERMS, MAX_DOCUMENTS = 3, 6, 3


def gap_reason(row: LedgerRow, low_confidence: float) -> str | None:
    """Why an answer counts as a knowledge gap, or None."""
    if row.handed_off_at is not None:
        return "handed-off"
    if row.feedback == "down":
        return "voted-down"
    if row.route == "declined" and row.reason not in NOT_GAPS:
        return "declined"
    p_right = row.signals.get("p_right")
    if row.signals.get("not_confident") or (
            isinstance(p_right, (int, float)) and p_right < low_confidence):
        return "low-confidence"
    return None


@dataclass(frozen=True)
class ClosestDocument:
    path: str
    title: str
    score: float


@dataclass
class Gap:
    """One group of similar unanswered questions: ``members`` (with ``reasons``) are those of
    the period; ``previous`` counts those of the period before, which only shaped the group."""

    language: str
    members: list[TracedAnswer] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    previous: int = 0  # in the period before
    centroid: np.ndarray | None = None
    documents: tuple[ClosestDocument, ...] = ()

    @property
    def count(self) -> int:
        """Questions in the period."""
        return len(self.members)

    @property
    def trend(self) -> str:
        if self.previous == 0:
            return "new"
        return "up" if self.count > self.previous else "down" if self.count < self.previous \
            else "same"

    @property
    def id(self) -> str:
        """Stable while the group keeps its first question."""
        return f"gap-{self.members[0].row.answer_id}"

    def examples(self) -> list[str]:
        """Up to three logged question texts, newest first (none when logging is off)."""
        texts = [m.row.question for m in reversed(self.members) if m.row.question]
        return list(dict.fromkeys(texts))[:MAX_EXAMPLES]

    def terms(self) -> list[str]:
        counts = Counter(t for m in self.members for t in m.trace.terms)
        return [t for t, _ in counts.most_common(MAX_TERMS)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "language": self.language, "count": self.count,
            "previous": self.previous, "trend": self.trend,
            "reasons": dict(Counter(self.reasons)), "terms": self.terms(),
            "examples": self.examples(),
            "documents": [{"path": d.path, "title": d.title, "score": round(d.score, 4)}
                          for d in self.documents],
            "answer_ids": [m.row.answer_id for m in self.members],
            "last_seen": self.members[-1].row.created_at.isoformat(),
        }


def group(vectors: np.ndarray, similarity: float) -> list[int]:
    """Greedy clustering of unit ``vectors`` in order: each joins the group whose running
    centroid is most similar (>= ``similarity``) or starts a new one. Returns the group index
    of each vector."""
    n, dims = vectors.shape
    sums = np.zeros((n, dims), dtype=np.float32)  # per group: the sum of its members
    centroids = np.zeros((n, dims), dtype=np.float32)
    labels: list[int] = []
    k = 0
    for v in vectors:
        best = -1
        if k:
            sims = centroids[:k] @ v
            best = int(np.argmax(sims))
            if sims[best] < similarity:
                best = -1
        if best < 0:
            best, k = k, k + 1
        sums[best] += v
        centroids[best] = sums[best] / max(float(np.linalg.norm(sums[best])), 1e-9)
        labels.append(best)
    return labels


class GapFinder:
    """Finds the knowledge gaps of a period in the ledger's question traces."""

    def __init__(self, traces: TraceLog, catalog: KnowledgeStore | None, *, similarity: float,
                 low_confidence: float, min_count: int = 2) -> None:
        self.traces = traces
        self.catalog = catalog
        self.similarity = similarity
        self.low_confidence = low_confidence
        self.min_count = min_count

    def find(self, since: datetime, until: datetime | None = None,
             limit: int = 20) -> list[Gap]:
        """Gaps with at least ``min_count`` questions in ``[since, until)``, the largest
        first; each also counted over the period of the same length before ``since``."""
        until = until or utcnow()
        before = since - (until - since)
        found = [(t, why) for t in self.traces.traced(before, until)
                 if (why := gap_reason(t.row, self.low_confidence)) is not None]
        gaps = []
        for key in sorted({(t.trace.language, t.trace.encoder) for t, _ in found}):
            part = [(t, why) for t, why in found if (t.trace.language, t.trace.encoder) == key]
            gaps += self._grouped(part, key[0], since)
        gaps = [g for g in gaps if g.count >= self.min_count]
        gaps.sort(key=lambda g: (-g.count, -g.members[-1].row.created_at.timestamp()))
        for gap in gaps[:limit]:
            gap.documents = self.closest(gap, key_encoder=gap.members[0].trace.encoder)
        return gaps[:limit]

    def _grouped(self, part: list[tuple[TracedAnswer, str]], language: str,
                 since: datetime) -> list[Gap]:
        vectors = np.stack([t.trace.array() for t, _ in part])
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
        labels = group(vectors, self.similarity)
        gaps: dict[int, Gap] = {}
        for (traced, why), label, v in zip(part, labels, vectors, strict=True):
            gap = gaps.setdefault(label, Gap(language))
            gap.centroid = v if gap.centroid is None else gap.centroid + v
            if traced.row.created_at < since:
                gap.previous += 1
                continue
            gap.members.append(traced)
            gap.reasons.append(why)
        return [g for g in gaps.values() if g.members]

    def closest(self, gap: Gap, key_encoder: str) -> tuple[ClosestDocument, ...]:
        """The documents nearest the gap's centroid (none when no side of the store was made
        by the gap's encoder, or the store cannot be read)."""
        if self.catalog is None or gap.centroid is None:
            return ()
        try:
            side = next((s for s, m in self.catalog.models().items()
                         if m == key_encoder and s in (MAIN, MULTILINGUAL)), None)
            if side is None:
                return ()
            centroid = gap.centroid / max(float(np.linalg.norm(gap.centroid)), 1e-9)
            near = self.catalog.dense_search(centroid, 12, side=side)
            chunks = self.catalog.get_chunks([cid for cid, _ in near])
        except Exception:  # the gap is still worth showing
            log.warning("closest documents unavailable", exc_info=True)
            return ()
        docs: dict[str, ClosestDocument] = {}
        for cid, score in near:
            chunk = chunks.get(cid)
            if chunk is not None and chunk.path not in docs and score > 0:
                docs[chunk.path] = ClosestDocument(chunk.path, chunk.title, score)
        return tuple(docs.values())[:MAX_DOCUMENTS]


def parse_period(text: str | None, default_days: int = 7) -> datetime:
    """The start of the period: ``7d``, ``24h`` (default ``7d``) before now."""
    text = (text or f"{default_days}d").strip().lower()
    amount, unit = text[:-1], text[-1:]
    if not amount.isdigit() or unit not in ("d", "h") or int(amount) == 0:
        raise ValueError(f"a period is like 7d or 24h, not {text!r}")
    delta = timedelta(days=int(amount)) if unit == "d" else timedelta(hours=int(amount))
    return utcnow() - delta


def render_gaps(gaps: list[Gap], since: datetime, ja: bool = False) -> str:
    """The gaps as chat / terminal text (EN or JA)."""
    if not gaps:
        return (f"{since:%Y-%m-%d %H:%M} UTC 以降、知識のギャップはありません。" if ja else
                f"No knowledge gaps since {since:%Y-%m-%d %H:%M} UTC.")
    head = (f"{since:%Y-%m-%d %H:%M} UTC 以降の知識のギャップ:" if ja else
            f"Knowledge gaps since {since:%Y-%m-%d %H:%M} UTC:")
    return "\n".join([head, *(_gap_line(n, g, ja) for n, g in enumerate(gaps, 1))])


TRENDS = {"en": {"new": "new", "up": "up from {p}", "down": "down from {p}", "same": "as before"},
          "ja": {"new": "新規", "up": "前期間 {p} 件から増加", "down": "前期間 {p} 件から減少",
                 "same": "前期間と同じ"}}


def _gap_line(n: int, gap: Gap, ja: bool) -> str:
    trend = TRENDS["ja" if ja else "en"][gap.trend].format(p=gap.previous)
    parts = [f"{n}. {gap.count} {'件' if ja else 'questions'} ({trend}) [{gap.language}]"]
    if gap.terms():
        parts.append(("語: " if ja else "terms: ") + ", ".join(gap.terms()))
    if gap.documents:
        parts.append(("近い文書: " if ja else "closest: ") + ", ".join(d.path for d in
                                                                   gap.documents))
    line = " · ".join(parts)
    for example in gap.examples():
        line += f"\n   “{example}”"
    return line
