"""Indexing the knowledge base for the bot: which folders, with which settings, and the index's
metrics. Used by `firstline index`, the admin `reindex` command and evaluation sets."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot.ops.metrics import REINDEX, observe_index
from bot.settings import Settings
from knowledge import SAMPLES
from knowledge.access import AccessRule
from knowledge.embeddings import Embedder
from knowledge.indexer import (
    MAX_CHUNKS_PER_FILE,
    MAX_FILE_BYTES,
    Indexer,
    IndexSummary,
    ProgressCallback,
)
from knowledge.store import KnowledgeStore

log = logging.getLogger(__name__)

LAST_SUMMARY = "last-index.json"  # in the data dir


def knowledge_roots(settings: Settings) -> list[Path]:
    """``FIRSTLINE_KNOWLEDGE_PATHS``, or the bundled sample knowledge base."""
    return [Path(p) for p in settings.knowledge_paths] or [SAMPLES]


class Indexing:
    """Incremental indexing of ``roots`` (or given paths) into ``store``.

    ``configured`` roots (``FIRSTLINE_KNOWLEDGE_PATHS``) are the whole knowledge base: a run
    without paths indexes them and drops everything else. Without them, a run without paths
    re-indexes the folders already in the store (the samples only when it is empty), so a
    ``reindex`` after ``firstline index mydocs`` keeps to ``mydocs``.
    """

    def __init__(self, store: KnowledgeStore, embeddings: Embedder, *, roots: Sequence[Path],
                 chunk_chars: int, confidential_paths: tuple[str, ...],
                 access: Sequence[AccessRule] = (), max_file_bytes: int = MAX_FILE_BYTES,
                 max_chunks: int = MAX_CHUNKS_PER_FILE,
                 multilingual: Embedder | None = None, configured: bool = False,
                 warm: Callable[[], None] | None = None,
                 summary_file: Path | None = None) -> None:
        self.summary_file = summary_file  # the last run's summary, for the admin console
        self.configured = configured
        self.warm = warm  # builds (and saves) the search's lexical index for the new revision
        self.multilingual = multilingual
        self.max_file_bytes = max_file_bytes
        self.max_chunks = max_chunks
        self.store = store
        self.embeddings = embeddings
        self.roots = list(roots)
        self.chunk_chars = chunk_chars
        self.confidential_paths = confidential_paths
        self.access = tuple(access)

    @classmethod
    def from_settings(cls, settings: Settings, store: KnowledgeStore, embeddings: Embedder,
                      multilingual: Embedder | None = None,
                      warm: Callable[[], None] | None = None) -> Indexing:
        return cls(store, embeddings, roots=knowledge_roots(settings),
                   chunk_chars=settings.chunk_chars,
                   confidential_paths=settings.confidential_paths,
                   access=[AccessRule.from_table(t) for t in settings.access],
                   max_file_bytes=int(settings.max_file_mb * 2**20),
                   max_chunks=settings.max_chunks_per_file, multilingual=multilingual,
                   configured=bool(settings.knowledge_paths), warm=warm,
                   summary_file=settings.data_dir / LAST_SUMMARY)

    def index(self, paths: Sequence[Path] | None = None, *, full: bool = False,
              progress: ProgressCallback | None = None, replace: bool = False) -> IndexSummary:
        """Index ``paths`` (default: :meth:`default_roots`); ``replace`` drops every indexed
        document not under them."""
        replace = replace or (not paths and self.configured)
        indexer = Indexer(self.store, self.embeddings, self.chunk_chars, self.confidential_paths,
                          self.access, max_file_bytes=self.max_file_bytes,
                          max_chunks=self.max_chunks, multilingual=self.multilingual)
        try:
            summary = indexer.index(paths or self.default_roots(), full=full,
                                    progress=progress, replace=replace)
        except FileNotFoundError as exc:
            REINDEX.labels("error").inc()
            if paths or not self.configured:
                raise
            raise FileNotFoundError(f"{exc} (in FIRSTLINE_KNOWLEDGE_PATHS)") from exc
        except Exception:
            REINDEX.labels("error").inc()
            raise
        REINDEX.labels("failed-files" if summary.failed else "ok").inc()
        self._keep(summary)
        self.observe()
        self._warm()
        return summary

    def _keep(self, summary: IndexSummary) -> None:
        """Write the run's summary (counts, failed and flagged files) for :meth:`last_run`."""
        if self.summary_file is None:
            return
        record = {"finished_at": time.time(), "line": summary.line(), **summary.as_dict()}
        try:
            self.summary_file.parent.mkdir(parents=True, exist_ok=True)
            self.summary_file.write_text(json.dumps(record, ensure_ascii=False), "utf-8")
        except OSError:
            log.warning("could not keep the index summary in %s", self.summary_file,
                        exc_info=True)

    def last_run(self) -> dict[str, Any] | None:
        """The last run's summary (by any process on this data dir), or None."""
        try:
            if self.summary_file is not None:
                return dict(json.loads(self.summary_file.read_text("utf-8")))
        except (OSError, ValueError):
            pass
        return None

    def _warm(self) -> None:
        """The lexical index of the new revision now, so that the first question after a
        reindex does not pay for it (13-23 s at 100k chunks, README "Scale"); saved, it is also
        what other replicas and the next start load."""
        if self.warm is None:
            return
        started = time.perf_counter()
        try:
            self.warm()
        except Exception:  # the index itself is done; the first search will try again
            log.warning("could not prepare the lexical index after indexing", exc_info=True)
            return
        log.info("lexical index ready in %.2fs", time.perf_counter() - started)

    def default_roots(self) -> list[Path]:
        """What a run without paths indexes: the configured roots, else the folders in the
        store that still exist, else the samples."""
        if self.configured:
            return self.roots
        indexed = sorted({Path(r.root) for r in self.store.files().values()})
        present = [root for root in indexed if root.exists()]
        for root in set(indexed) - set(present):
            log.warning("not re-indexed: %s is gone (index it again or use --replace)", root)
        return present or self.roots

    def others(self, paths: Sequence[Path]) -> dict[str, int]:
        """Indexed documents not under ``paths``: how many per root folder."""
        wanted = {str(Path(p).resolve()) for p in paths}
        counts: dict[str, int] = {}
        for record in self.store.files().values():
            if record.root not in wanted:
                counts[record.root] = counts.get(record.root, 0) + 1
        return counts

    def observe(self) -> None:
        """Publish the index's size as metrics."""
        files = self.store.files()
        observe_index(len(files), sum(len(r.chunk_ids) for r in files.values()))
