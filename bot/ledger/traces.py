"""What an answer keeps of its question even when its text is not logged: the question's
embedding (float16 bytes, with the name of the encoder that made it) and its key terms.

Knowledge gaps (:mod:`bot.answering.gaps`) group questions by these, so they still group with
``FIRSTLINE_LOG_QUESTION_TEXT`` off. Key terms are the lexical index's content terms (latin
words without stop words, CJK character bigrams without kana particles:
:func:`knowledge.lexical.content_terms`), so a gap's terms are the words BM25 searches with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from bot.ledger.rows import LedgerRow
from knowledge.lexical import content_terms

MAX_TERMS = 16


@dataclass(frozen=True)
class QuestionTrace:
    """One answer's question as an embedding and key terms (no text)."""

    answer_id: str
    created_at: datetime
    language: str
    encoder: str  # the embedder's name; vectors of different encoders are never compared
    vector: bytes  # float16, unit length when made
    terms: tuple[str, ...]

    def array(self) -> np.ndarray:
        """The embedding as float32."""
        return np.frombuffer(self.vector, dtype=np.float16).astype(np.float32)


@dataclass(frozen=True)
class TracedAnswer:
    """A ledger row with its question trace (for the gaps report)."""

    row: LedgerRow
    trace: QuestionTrace


def pack(vector: np.ndarray) -> bytes:
    """A float vector as compact float16 bytes."""
    return np.asarray(vector, dtype=np.float16).tobytes()


def key_terms(text: str, limit: int = MAX_TERMS) -> tuple[str, ...]:
    """The question's content terms, sorted (the first ``limit``)."""
    return tuple(sorted(content_terms(text)))[:limit]


def make_trace(answer_id: str, created_at: datetime, language: str, encoder: str,
               vector: np.ndarray, text: str) -> QuestionTrace:
    """The trace of a question (its text is not kept)."""
    return QuestionTrace(answer_id, created_at, language, encoder, pack(vector), key_terms(text))
