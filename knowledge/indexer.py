"""Incremental indexing: new and changed files are (re)embedded, unchanged ones left alone,
deleted ones removed; a corrupt file is reported as failed, an empty one as empty and a file no
loader reads as skipped, while the rest goes on (:mod:`knowledge.summary`).

Chunks whose content did not change keep their ids and vectors, so editing one paragraph of a long
guide re-embeds only that paragraph. Files are embedded in batches across file boundaries to keep
the embedding model busy (indexing throughput is measured against raw encode throughput).

With a second (multilingual) embedder, each chunk gets a vector on both dense sides before its
file record is committed. The store records which model made each side's vectors: a run with a
different model drops that side (or, for the main side, overwrites it) and re-embeds every file,
and the new names are recorded only once the run has finished, so an interrupted re-embed is
taken up again by the next run.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from knowledge.access import AccessRule, Labels, label
from knowledge.chunking import Chunk, chunk_document
from knowledge.embeddings import Embedder
from knowledge.flags import instruction_flags
from knowledge.loaders import EmptyDocument, LoadError, load_document, supported
from knowledge.store import MAIN, MULTILINGUAL, REEMBEDDING, FileRecord, KnowledgeStore
from knowledge.summary import IndexSummary

__all__ = ["Indexer", "IndexSummary", "ProgressCallback", "SourceFile", "discover"]

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, str], None]  # (files done, files total, current path)
EMBED_BATCH = 128
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_CHUNKS_PER_FILE = 5000


@dataclass(frozen=True)
class SourceFile:
    path: Path
    relative: str
    root: str


def discover(roots: Iterable[Path], refused: dict[str, str] | None = None,
             skipped: dict[str, str] | None = None) -> list[SourceFile]:
    """Supported files under ``roots``; folders starting with '.' or '_' are left out, and so
    are symbolic links (files or folders) that lead outside their root (``refused`` gets them)
    and files of a type no loader reads (``skipped`` gets them)."""
    roots = [Path(r).resolve() for r in roots]
    found: list[SourceFile] = []
    for root in roots:
        if root.is_file():
            found.append(SourceFile(root, root.name, str(root)))
            continue
        if not root.is_dir():
            raise FileNotFoundError(f"no such file or folder: {root}")
        for folder, dirs, files in os.walk(root):  # does not descend into linked folders
            for name in [d for d in dirs if (Path(folder) / d).is_symlink()]:
                _refuse_link(Path(folder) / name, root, refused)
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_"))
                             and not (Path(folder) / d).is_symlink())
            for name in sorted(files):
                path = Path(folder) / name
                if name.startswith((".", "~$")):
                    continue
                if not supported(path):
                    _skip(path, root, skipped)
                    continue
                if path.is_symlink() and not path.resolve().is_relative_to(root):
                    _refuse_link(path, root, refused)
                    continue
                found.append(SourceFile(path, path.relative_to(root).as_posix(), str(root)))
    return found


def _skip(path: Path, root: Path, skipped: dict[str, str] | None) -> None:
    if skipped is not None:
        kind = path.suffix.lower() or "(no extension)"
        skipped[path.relative_to(root).as_posix()] = f"unsupported type {kind}"


def _refuse_link(path: Path, root: Path, refused: dict[str, str] | None) -> None:
    relative = path.relative_to(root).as_posix()
    inside = path.resolve().is_relative_to(root)
    why = "a linked folder (not followed)" if inside else "a link that leads outside the root"
    log.warning("not indexed: %s is %s", relative, why)
    if refused is not None:
        refused[relative] = why


def disambiguate(sources: list[SourceFile], records: dict[str, FileRecord]) -> list[SourceFile]:
    """Paths stay relative to their root; only where two roots hold the same relative path
    (in this run, or against what is already indexed) is the root's folder name put in front.
    A path that was prefixed once stays prefixed, so records are stable across runs."""
    counts: dict[str, int] = {}
    for source in sources:
        counts[source.relative] = counts.get(source.relative, 0) + 1
    out = []
    for source in sources:
        prefixed = f"{Path(source.root).name}/{source.relative}"
        other_root = source.relative in records and records[source.relative].root != source.root
        kept = prefixed in records and records[prefixed].root == source.root
        if counts[source.relative] > 1 or other_root or kept:
            source = SourceFile(source.path, prefixed, source.root)
        out.append(source)
    return out


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class _Pending:
    source: SourceFile
    sha: str
    chunks: list[Chunk]
    title: str
    labels: Labels
    declared: Labels
    is_new: bool
    flags: tuple[str, ...] = ()


class Indexer:
    def __init__(
        self,
        store: KnowledgeStore,
        embeddings: Embedder,
        chunk_budget: int = 700,
        confidential_globs: tuple[str, ...] = (),
        access_rules: Sequence[AccessRule] = (),
        *,
        max_file_bytes: int = MAX_FILE_BYTES,
        max_chunks: int = MAX_CHUNKS_PER_FILE,
        multilingual: Embedder | None = None,
    ) -> None:
        self.multilingual = multilingual
        self.max_file_bytes = max_file_bytes
        self.max_chunks = max_chunks
        self.store = store
        self.embeddings = embeddings
        self.chunk_budget = chunk_budget
        self.confidential_globs = confidential_globs
        self.access_rules = tuple(access_rules)

    def index(
        self, roots: Iterable[Path], *, full: bool = False,
        progress: ProgressCallback | None = None, replace: bool = False,
    ) -> IndexSummary:
        """Index ``roots``; files indexed before from these roots and gone now are removed, and
        with ``replace`` every indexed file that is not under ``roots`` too."""
        started = time.perf_counter()
        summary = IndexSummary()
        records = dict(self.store.files())  # one copy per run: the store's view is read-only
        full = self._models_changed(bool(records)) or full
        sources = disambiguate(discover(roots, summary.refused, summary.skipped), records)
        root_names = {s.root for s in sources} | {str(Path(r).resolve()) for r in roots}
        batch: list[_Pending] = []
        for n, source in enumerate(sources, 1):
            pending = self._prepare(source, records.get(source.relative), full, summary)
            if pending is not None:
                batch.append(pending)
            if sum(len(p.chunks) for p in batch) >= EMBED_BATCH:
                self._flush(batch, records, full, summary)
            if progress:
                progress(n, len(sources), source.relative)
        self._flush(batch, records, full, summary)
        seen = {s.relative for s in sources} - set(summary.refused)
        for path, record in records.items():
            if (replace or record.root in root_names) and path not in seen:
                self.store.remove_file(path)
                summary.removed.append(path)
        summary.orphans_swept = self.store.sweep_orphans()
        self.store.record_models(self._models())
        summary.chunks_total = len(self.store.live_ids())
        summary.seconds = time.perf_counter() - started
        log.info("index: %s", summary.line())
        return summary

    def _sides(self) -> dict[str, Embedder]:
        sides = {MAIN: self.embeddings}
        if self.multilingual is not None:
            sides[MULTILINGUAL] = self.multilingual
        return sides

    def _models(self) -> dict[str, str]:
        return {side: getattr(e, "name", "") for side, e in self._sides().items()}

    def _models_changed(self, indexed: bool) -> bool:
        """Whether the store's vectors were made by other models (then all is re-embedded)."""
        recorded, wanted = self.store.models(), self._models()
        changed = False
        for side, name in wanted.items():
            old = recorded.get(side)
            if side == MAIN and old is None:
                continue  # a store written before models were recorded: trusted as it is
            if old != name and (indexed or old is not None):
                log.warning("%s vectors were made by %s, now %s: re-embedding everything",
                            side, old or "no model", name)
                changed = True
                self.store.reset_side(side)
        if recorded.get(MULTILINGUAL, REEMBEDDING) != REEMBEDDING and MULTILINGUAL not in wanted:
            self.store.reset_side(MULTILINGUAL)  # switched off: its vectors would go stale
        return changed

    def _prepare(
        self, source: SourceFile, old: FileRecord | None, full: bool, summary: IndexSummary
    ) -> _Pending | None:
        try:
            size = source.path.stat().st_size
            if size > self.max_file_bytes:
                self._refuse(source, f"larger than {self.max_file_bytes // 2**20} MB "
                             f"({size / 2**20:.0f} MB)", summary)
                return None
            if size == 0:
                summary.empty[source.relative] = ""
                return None
            sha = sha256_file(source.path)
            if old is not None and old.sha256 == sha and not full:
                self._keep(source, old, summary)
                return None
            document = load_document(source.path, source.relative)
        except EmptyDocument as exc:
            summary.empty[source.relative] = str(exc)
            return None
        except (LoadError, OSError) as exc:
            summary.failed[source.relative] = str(exc)
            log.warning("skipped %s: %s", source.relative, exc)
            return None
        declared = Labels(document.audience, document.confidential)
        chunks = chunk_document(document, self.chunk_budget)
        if not chunks:
            summary.empty[source.relative] = ""
            return None
        if document.metadata.get("attachments"):
            summary.notes[source.relative] = (
                f"attachments not indexed: {document.metadata['attachments']}")
        if len(chunks) > self.max_chunks:
            self._refuse(source, f"more than {self.max_chunks} chunks ({len(chunks)})", summary)
            return None
        flags = instruction_flags("\n".join(s.text for s in document.sections))
        return _Pending(source, sha, chunks, document.title, self._label(source, declared),
                        declared, old is None, flags)

    def _refuse(self, source: SourceFile, why: str, summary: IndexSummary) -> None:
        log.warning("not indexed: %s is %s", source.relative, why)
        summary.refused[source.relative] = why

    def _label(self, source: SourceFile, declared: Labels) -> Labels:
        return label(source.relative, declared, self.access_rules, self.confidential_globs)

    def _keep(self, source: SourceFile, old: FileRecord, summary: IndexSummary) -> None:
        """An unchanged file: relabel it (record and chunks, nothing re-embedded) when its
        access rules changed; older records without their declared labels are read once."""
        if old.flags:
            summary.flagged[source.relative] = list(old.flags)
        known = old.declared_audience is not None and old.declared_confidential is not None
        if known:
            declared = Labels(old.declared_audience or (), bool(old.declared_confidential))
        else:
            document = load_document(source.path, source.relative)
            declared = Labels(document.audience, document.confidential)
        labels = self._label(source, declared)
        changed = labels != Labels(old.audience, old.confidential)
        if known and not changed:
            summary.unchanged.append(source.relative)
            return
        self.store.relabel_chunks(old.chunk_ids, labels.audience, labels.confidential)
        self.store.commit_file(replace(
            old, audience=labels.audience, confidential=labels.confidential,
            declared_audience=declared.audience, declared_confidential=declared.confidential))
        (summary.relabelled if changed else summary.unchanged).append(source.relative)

    def _flush(
        self,
        batch: list[_Pending],
        records: dict[str, FileRecord],
        full: bool,
        summary: IndexSummary,
    ) -> None:
        if not batch:
            return
        chunks = [c for p in batch for c in p.chunks]
        confidential = {p.source.relative: p.labels.confidential for p in batch}
        audience = {p.source.relative: p.labels.audience for p in batch}
        for side, embedder in self._sides().items():
            existing = set() if full else self.store.existing_chunk_ids([c.id for c in chunks],
                                                                        side)
            todo = [c for c in chunks if c.id not in existing]
            for start in range(0, len(todo), EMBED_BATCH):  # bounded: memory stays flat
                part = todo[start : start + EMBED_BATCH]
                vectors = embedder.encode([c.embed_text for c in part])
                if side == MAIN:
                    self.store.add_chunks(part, vectors, confidential, audience)
                else:
                    self.store.add_vectors(side, part, vectors)
            if side == MAIN:
                summary.chunks_embedded += len(todo)
                summary.chunks_reused += len(chunks) - len(todo)
        for pending in batch:
            self.store.commit_file(
                FileRecord(
                    path=pending.source.relative,
                    root=pending.source.root,
                    sha256=pending.sha,
                    chunk_ids=tuple(c.id for c in pending.chunks),
                    title=pending.title,
                    confidential=pending.labels.confidential,
                    indexed_at=time.time(),
                    size=pending.source.path.stat().st_size,
                    audience=pending.labels.audience,
                    declared_audience=pending.declared.audience,
                    declared_confidential=pending.declared.confidential,
                    flags=pending.flags,
                )
            )
            (summary.added if pending.is_new else summary.updated).append(pending.source.relative)
            if pending.flags:
                summary.flagged[pending.source.relative] = list(pending.flags)
                log.warning("flagged %s: %s", pending.source.relative, ", ".join(pending.flags))
        batch.clear()
