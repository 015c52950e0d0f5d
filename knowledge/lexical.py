"""A BM25 index (bm25s) with tokens that work for English and Japanese alike.

all-MiniLM-L6-v2 barely understands Japanese, so Japanese retrieval leans on this index.
Japanese has no spaces: runs of CJK characters become overlapping character bigrams (plus the
kanji/katakana unigrams, so one-character terms still match), the classic CJK indexing scheme of
Lucene's CJKAnalyzer. Latin text becomes lower-cased words minus common stop words.

SudachiPy words (sudachidict_core, content words, normalised forms) were measured against these
bigrams, BM25 alone, by ``tests/bench/bench_lexical.py`` (recall@1 / recall@5 of the gold file,
hard sets' report fold): helpdesk-ja bigrams 0.508 / 0.557, Sudachi split C 0.492 / 0.705,
split A 0.525 / 0.656; jsquad-ref bigrams 0.956 / 0.967, C 0.933 / 0.967, A 0.933 / 0.978.
Sudachi finds more helpdesk pages in the top 5 but does not put more first, and fused retrieval
takes Japanese top-5 recall from the multilingual encoder anyway, so bigrams stay: no dictionary
to ship (sudachidict_core is 193 MB installed) and 3× faster tokenising.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import bm25s
import numpy as np

_TOKEN = re.compile(
    r"[a-z0-9][a-z0-9_'\-]*"  # latin words, ids like "vpn-2", numbers
    r"|[\u3040-\u309f\u30a0-\u30ff\u3400-\u9fff\uf900-\ufaff\u30fc]+"  # kana/kanji runs
)
_KANA_ONLY = re.compile(r"^[\u3040-\u309f]+$")
_UNIGRAM_KEEP = re.compile(r"[\u30a0-\u30ff\u3400-\u9fff\uf900-\ufaff]")

STOPWORDS = frozenset(
    [
        "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could",
        "do", "does", "did", "for", "from", "has", "have", "how", "i", "if", "in", "into",
        "is", "it", "its", "me", "my", "of", "on", "or", "our", "should", "so", "than",
        "that", "the", "their", "them", "then", "there", "these", "they", "this", "to",
        "was", "we", "were", "what", "when", "where", "which", "who", "why", "will", "with",
        "would", "you", "your"
    ]
)


def tokenize(text: str) -> list[str]:
    """Tokens for BM25: latin words and CJK character bigrams."""
    text = unicodedata.normalize("NFKC", text).lower()
    tokens: list[str] = []
    for match in _TOKEN.finditer(text):
        word = match.group()
        if word.isascii():
            word = word.strip("'-")
            if word and word not in STOPWORDS:
                tokens.append(word)
            continue
        tokens.extend(ch for ch in word if _UNIGRAM_KEEP.match(ch))
        tokens.extend(
            word[i : i + 2] for i in range(len(word) - 1) if not _KANA_ONLY.match(word[i : i + 2])
        )
    return tokens


_HIRAGANA = re.compile(r"[\u3040-\u309f]")


def content_terms(text: str) -> set[str]:
    """The question's meaningful terms: latin words and CJK bigrams without kana particles
    (single characters and "の締"-style pairs say little about what is being asked)."""
    return {
        t
        for t in tokenize(text)
        if (t.isascii() and len(t) > 1) or (len(t) == 2 and not _HIRAGANA.search(t))
    }


class LexicalIndex:
    """BM25 over a fixed list of documents; rebuilt (fast) when the knowledge base changes."""

    def __init__(self, ids: Sequence[str], texts: Sequence[str],
                 paths: Sequence[str] | None = None) -> None:
        self.ids = list(ids)
        self.paths = list(paths) if paths is not None else [""] * len(self.ids)
        rows: dict[str, list[int]] = {}
        for row, path in enumerate(self.paths):
            rows.setdefault(path, []).append(row)
        self._rows_of = {path: np.asarray(r) for path, r in rows.items()}
        self._vocab: dict[str, int] = {}
        corpus = [self._ids_of(tokenize(t), grow=True) for t in texts]
        self._bm25 = bm25s.BM25()
        if self.ids:
            self._bm25.index(
                bm25s.tokenization.Tokenized(ids=corpus, vocab=self._vocab), show_progress=False
            )

    def _ids_of(self, tokens: list[str], grow: bool = False) -> list[int]:
        out = []
        for token in tokens:
            if token not in self._vocab:
                if not grow:
                    continue
                self._vocab[token] = len(self._vocab)
            out.append(self._vocab[token])
        return out

    def __len__(self) -> int:
        return len(self.ids)

    def knows(self, token: str) -> bool:
        """Whether any indexed document contains ``token``."""
        return token in self._vocab

    def query_terms(self, text: str) -> list[str]:
        return [t for t in tokenize(text) if t in self._vocab]

    def scores(self, text: str) -> np.ndarray | None:
        """BM25 scores of every chunk for ``text`` (None when no query term is indexed)."""
        query = self._ids_of(tokenize(text))
        if not query or not self.ids:
            return None
        return np.asarray(self._bm25.get_scores(query), dtype=np.float64)

    def search(self, text: str, k: int) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) pairs, best first; only documents sharing a term."""
        scores = self.scores(text)
        return [] if scores is None else self.top(scores, k)

    def masked(self, scores: np.ndarray, exclude_paths: frozenset[str]) -> np.ndarray:
        """``scores`` with the chunks of ``exclude_paths`` at 0 (so they never rank)."""
        hidden = [self._rows_of[p] for p in exclude_paths if p in self._rows_of]
        if not hidden:
            return scores
        masked = scores.copy()
        masked[np.concatenate(hidden)] = 0.0
        return masked

    def top_rows(self, scores: np.ndarray, k: int) -> list[int]:
        """The rows of the ``k`` best positive scores, best first."""
        k = min(k, len(self.ids))
        top = np.argpartition(-scores, k - 1)[:k]
        return [int(i) for i in top[np.argsort(-scores[top])] if scores[i] > 0]

    def top(self, scores: np.ndarray, k: int) -> list[tuple[str, float]]:
        return [(self.ids[i], float(scores[i])) for i in self.top_rows(scores, k)]
