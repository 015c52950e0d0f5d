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

import json
import logging
import os
import re
import shutil
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

import bm25s
import numpy as np

log = logging.getLogger(__name__)

FORMAT = 1  # of the saved copy: bump when tokenize() or the saved layout changes

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
    """BM25 over a fixed list of documents; rebuilt when the knowledge base changes, or loaded
    (memory-mapped) from the copy :meth:`save` wrote (see :class:`LexicalCache`)."""

    def __init__(self, ids: Sequence[str], texts: Sequence[str],
                 paths: Sequence[str] | None = None) -> None:
        vocab: dict[str, int] = {}
        corpus = [_token_ids(vocab, tokenize(t), grow=True) for t in texts]
        bm25 = bm25s.BM25()
        if ids:
            bm25.index(bm25s.tokenization.Tokenized(ids=corpus, vocab=vocab), show_progress=False)
        names = sorted(set(paths or [""]))
        number = {name: n for n, name in enumerate(names)}
        rows = np.asarray([number[p] for p in paths or [""] * len(ids)], dtype=np.int32)
        self._attach(list(ids), names, rows, vocab, bm25)

    def _attach(self, ids: list[str], path_names: list[str], path_rows: np.ndarray,
                vocab: dict[str, int], bm25: bm25s.BM25) -> None:
        self.ids = ids
        self._path_names, self._path_rows = path_names, path_rows
        order = np.argsort(path_rows, kind="stable")
        bounds = np.searchsorted(path_rows[order], np.arange(len(path_names) + 1))
        self._rows_of = {name: order[bounds[n]:bounds[n + 1]]
                         for n, name in enumerate(path_names)}
        self._vocab, self._bm25 = vocab, bm25

    # -- persistence ---------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Write the index into the new folder ``folder``: BM25's arrays (bm25s' own format),
        the chunk ids and their paths, and a manifest checked by :meth:`load`."""
        folder.mkdir(parents=True)
        if self.ids:
            self._bm25.save(str(folder / "bm25"), show_progress=False)
        np.save(folder / "path_rows.npy", self._path_rows)
        (folder / "chunks.json").write_text(
            json.dumps({"ids": self.ids, "paths": self._path_names}, ensure_ascii=False))
        (folder / "manifest.json").write_text(json.dumps(
            {"format": FORMAT, "chunks": len(self.ids), "vocabulary": len(self._vocab)}))

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """The index :meth:`save` wrote, its BM25 arrays memory-mapped (pages are read as
        queries touch them, and shared between processes). Raises ``ValueError`` or
        ``OSError`` when the copy is missing, incomplete or from another format."""
        manifest = json.loads((folder / "manifest.json").read_text())
        if manifest.get("format") != FORMAT:
            raise ValueError(f"format {manifest.get('format')!r}, expected {FORMAT}")
        chunks = json.loads((folder / "chunks.json").read_text())
        ids, names = list(chunks["ids"]), list(chunks["paths"])
        rows = np.load(folder / "path_rows.npy", mmap_mode=None)
        bm25 = bm25s.BM25()
        if ids:
            bm25 = bm25s.BM25.load(str(folder / "bm25"), mmap=True, show_progress=False)
        vocab = {str(k): int(v) for k, v in (getattr(bm25, "vocab_dict", None) or {}).items()}
        if len(ids) != manifest["chunks"] or len(rows) != len(ids) or (
                len(vocab) != manifest["vocabulary"]) or (ids and not _consistent(bm25, ids)):
            raise ValueError("the saved parts do not match each other")
        index = cls.__new__(cls)
        index._attach(ids, names, rows, vocab, bm25)
        return index

    # -- queries ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.ids)

    def path(self, row: int) -> str:
        """The path of the document the chunk at ``row`` belongs to."""
        return self._path_names[int(self._path_rows[row])]

    def knows(self, token: str) -> bool:
        """Whether any indexed document contains ``token``."""
        return token in self._vocab

    def query_terms(self, text: str) -> list[str]:
        return [t for t in tokenize(text) if t in self._vocab]

    def scores(self, text: str) -> np.ndarray | None:
        """BM25 scores of every chunk for ``text`` (None when no query term is indexed)."""
        query = _token_ids(self._vocab, tokenize(text))
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


def _token_ids(vocab: dict[str, int], tokens: list[str], grow: bool = False) -> list[int]:
    out = []
    for token in tokens:
        if token not in vocab:
            if not grow:
                continue
            vocab[token] = len(vocab)
        out.append(vocab[token])
    return out


def _consistent(bm25: bm25s.BM25, ids: list[str]) -> bool:
    """Whether bm25s' loaded arrays are whole: the document count and the sparse matrix's
    pointers agree (a truncated array fails to map before this)."""
    scores = bm25.scores
    indptr = scores["indptr"]
    return (scores.get("num_docs") == len(ids) and len(indptr) > 0
            and int(indptr[-1]) == len(scores["data"]) == len(scores["indices"]))


class LexicalCache:
    """Saved lexical indexes under ``root``, a folder per key (a store's name and revision).

    The first process that needs the index of a revision builds and saves it; a restart, or a
    second replica sharing ``root``, loads it instead of re-reading and re-tokenising every
    chunk. A copy is written to a temporary folder and renamed into place, so a reader sees all
    of it or nothing; an unreadable copy is logged, removed and rebuilt.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def get(self, key: str) -> LexicalIndex | None:
        """The saved index for ``key``; None when there is none or it is unreadable."""
        folder = self.root / key
        if not folder.is_dir():
            log.info("lexical index: no saved copy %s: building it", folder)
            return None
        try:
            return LexicalIndex.load(folder)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("lexical index: the saved copy %s is unreadable (%s): rebuilding it",
                        folder, exc)
            shutil.rmtree(folder, ignore_errors=True)
            return None

    def put(self, key: str, index: LexicalIndex, stale: Callable[[str], bool]) -> None:
        """Save ``index`` under ``key`` (unless another process just did) and remove the saved
        copies whose key ``stale`` names (older revisions)."""
        self.root.mkdir(parents=True, exist_ok=True)
        temporary = self.root / f".{key}.{os.getpid()}.{threading.get_ident()}"
        shutil.rmtree(temporary, ignore_errors=True)
        try:
            index.save(temporary)
            os.rename(temporary, self.root / key)
        except OSError:
            if not (self.root / key).is_dir():
                raise
        finally:
            shutil.rmtree(temporary, ignore_errors=True)
        for old in self.root.iterdir():
            if old.name.startswith("."):  # a half-written copy: its writer died an hour ago
                if time.time() - old.stat().st_mtime > 3600:
                    shutil.rmtree(old, ignore_errors=True)
            elif old.name != key and stale(old.name):
                shutil.rmtree(old, ignore_errors=True)
