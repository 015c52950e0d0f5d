"""Chroma as the knowledge store: chunks in one collection, a record per file in another.

Consistency without transactions: the per-file record (its content hash and the ids of its
chunks) is the commit point. The indexer adds new chunks first, then upserts the file record,
then deletes chunks no record points at any more. Retrieval only returns chunks that a file record
points at, so a crash at any step answers from the old or the new version of a file, never from
a mix or from a deleted file; the next index run sweeps the orphans.

A second dense side (the multilingual encoder's vectors) lives in its own collection,
``<name>_multilingual``, keyed by the same chunk ids and holding only the vectors and each chunk's
path (for the access filter). The indexer writes it before the file record, like the chunks, so
the same commit point covers both. The store records which model made each side's vectors; an
indexer with a different model drops that side and re-embeds everything (see
:meth:`KnowledgeStore.models`), and a retriever ignores a side whose vectors another model made.

Works the same over the embedded ``PersistentClient`` and a Chroma server (``HttpClient``), so
several bot replicas can share one store.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlparse

import numpy as np

from knowledge.access import Reader
from knowledge.chunking import Chunk

log = logging.getLogger(__name__)

_META_ID = "__firstline_meta__"
_MODELS_ID = "__firstline_models__"
MAIN, MULTILINGUAL = "main", "multilingual"  # the dense sides
REEMBEDDING = "(re-embedding)"  # the model recorded for a side whose vectors were dropped
_BATCH = 1000
# extra neighbours fetched when some paths are filtered out after the search, so that a few
# hidden documents near the top still leave enough allowed ones
OVERFETCH = 40


@dataclass(frozen=True)
class FileRecord:
    path: str
    root: str
    sha256: str
    chunk_ids: tuple[str, ...]
    title: str
    confidential: bool
    indexed_at: float
    size: int
    audience: tuple[str, ...] = ()  # groups that may read it; () is everyone
    # the file's own labels (front matter), so a changed access rule relabels it without reading
    # the file again; None in records written before audiences existed
    declared_audience: tuple[str, ...] | None = None
    declared_confidential: bool | None = None
    flags: tuple[str, ...] = ()  # instruction-like text found (knowledge.flags)


@dataclass(frozen=True)
class StoredChunk:
    id: str
    path: str
    title: str
    heading: str
    text: str
    lexical_text: str
    ordinal: int = 0


@dataclass(frozen=True)
class StoreView:
    """The committed file records at one revision, with what every query needs from them
    worked out once: the live chunk ids, and the paths per audience for the access filter.
    Shared by every query until the revision changes (read-only: nothing is copied per query)."""

    revision: str
    records: Mapping[str, FileRecord]
    live_ids: frozenset[str]
    paths_by_audience: Mapping[tuple[str, ...], frozenset[str]]

    @classmethod
    def of(cls, revision: str, records: dict[str, FileRecord]) -> StoreView:
        by_audience: dict[tuple[str, ...], set[str]] = {}
        for path, record in records.items():
            by_audience.setdefault(record.audience, set()).add(path)
        live = frozenset(cid for record in records.values() for cid in record.chunk_ids)
        return cls(revision, MappingProxyType(records), live,
                   MappingProxyType({a: frozenset(p) for a, p in by_audience.items()}))

    def denied(self, reader: Reader) -> frozenset[str]:
        """The paths ``reader`` may not read."""
        hidden = [paths for audience, paths in self.paths_by_audience.items()
                  if not reader.may_read(audience)]
        return frozenset().union(*hidden) if hidden else frozenset()


def open_client(data_dir: Path, chroma_url: str = "") -> Any:
    """An embedded PersistentClient in ``data_dir/chroma``, or an HttpClient for ``chroma_url``."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if chroma_url:
        url = urlparse(chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "localhost",
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    # absolute: Chroma shares one client per path string in a process, so a relative "data"
    # opened from two working directories would get the first one's store
    path = (data_dir / "chroma").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class KnowledgeStore:
    """Chunks with their vectors, and the file records that make them live."""

    def __init__(self, client: Any, name: str = "firstline") -> None:
        if len(name) < 3:
            raise ValueError("Chroma collection names need at least 3 characters")
        self.name = name
        self._client = client
        # embedding_function=None: we always pass vectors; Chroma's default would download one.
        self._chunks = client.get_or_create_collection(
            name, embedding_function=None, metadata={"hnsw:space": "cosine"}
        )
        self._files = client.get_or_create_collection(f"{name}_files", embedding_function=None)
        self._sides: dict[str, Any] = {MAIN: self._chunks, MULTILINGUAL: self._side_collection()}
        self._lock = threading.Lock()
        self._view: StoreView | None = None

    def _side_collection(self) -> Any:
        return self._client.get_or_create_collection(
            f"{self.name}_{MULTILINGUAL}", embedding_function=None,
            metadata={"hnsw:space": "cosine"})

    # -- which model made each side's vectors ----------------------------------------------
    def models(self) -> dict[str, str]:
        """The model name recorded for each dense side (none recorded: an empty dict)."""
        got = self._files.get(ids=[_MODELS_ID], include=["metadatas"])
        metas = got.get("metadatas") or []
        return {str(k): str(v) for k, v in (metas[0] or {}).items()} if metas else {}

    def record_models(self, models: dict[str, str]) -> None:
        """Record the models whose vectors each side now holds (after a complete index run)."""
        self._files.upsert(ids=[_MODELS_ID], embeddings=[[1.0]], documents=[""],
                           metadatas=[{**self.models(), **models}])

    def reset_side(self, side: str) -> None:
        """Drop every vector of a side (its model changed, or it is switched off; another model
        may not even have the same dimensions). The main side holds the chunks' text too: until
        the full re-embed that must follow commits them again, its files answer from nothing."""
        collection = self._chunks.name if side == MAIN else f"{self.name}_{side}"
        self._client.delete_collection(collection)
        if side == MAIN:
            self._chunks = self._client.get_or_create_collection(
                self.name, embedding_function=None, metadata={"hnsw:space": "cosine"})
            self._sides[MAIN] = self._chunks
        else:
            self._sides[side] = self._side_collection()
        # until a complete run records the new model, this side's vectors are nobody's
        self.record_models({side: REEMBEDDING})

    # -- file records ------------------------------------------------------------------
    def revision(self) -> str:
        got = self._files.get(ids=[_META_ID], include=["metadatas"])
        metas = got.get("metadatas") or []
        return str(metas[0].get("revision", "0")) if metas else "0"

    def _bump_revision(self) -> None:
        self._files.upsert(
            ids=[_META_ID],
            embeddings=[[1.0]],
            documents=[""],
            metadatas=[{"revision": f"{time.time_ns()}"}],
        )

    def view(self) -> StoreView:
        """The committed records at the current revision (read again only when it changed)."""
        with self._lock:
            revision = self.revision()
            if self._view is None or revision != self._view.revision:
                self._view = StoreView.of(revision, self._load_records())
            return self._view

    def files(self) -> Mapping[str, FileRecord]:
        """Committed file records by path (read-only; shared until the revision changes)."""
        return self.view().records

    def _load_records(self) -> dict[str, FileRecord]:
        got = self._files.get(include=["documents"])
        records = {}
        for rid, doc in zip(got["ids"], got["documents"] or [], strict=False):
            if rid == _META_ID or not doc:
                continue
            data = json.loads(doc)
            data["chunk_ids"] = tuple(data["chunk_ids"])
            data["audience"] = tuple(data.get("audience") or ())
            data["flags"] = tuple(data.get("flags") or ())
            if data.get("declared_audience") is not None:
                data["declared_audience"] = tuple(data["declared_audience"])
            records[data["path"]] = FileRecord(**data)
        return records

    def commit_file(self, record: FileRecord) -> None:
        """Make ``record`` (and so its chunks) live, replacing the file's previous version."""
        self._files.upsert(
            ids=[record.path],
            embeddings=[[1.0]],
            documents=[json.dumps(asdict(record), ensure_ascii=False)],
            metadatas=[{"root": record.root}],
        )
        self._bump_revision()

    def remove_file(self, path: str) -> None:
        self._files.delete(ids=[path])
        self._bump_revision()

    # -- chunks ------------------------------------------------------------------------
    def existing_chunk_ids(self, ids: Sequence[str], side: str = MAIN) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), _BATCH):
            part = list(ids[start : start + _BATCH])
            found.update(self._sides[side].get(ids=part, include=[])["ids"])
        return found

    def add_vectors(self, side: str, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """A secondary side's vectors for ``chunks`` (same ids; the path for the filter)."""
        for start in range(0, len(chunks), _BATCH):
            part = chunks[start : start + _BATCH]
            self._sides[side].upsert(ids=[c.id for c in part],
                                     embeddings=vectors[start : start + _BATCH],
                                     metadatas=[{"path": c.path} for c in part])

    def add_chunks(
        self,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        confidential: dict[str, bool] | None = None,
        audience: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        confidential, audience = confidential or {}, audience or {}
        for start in range(0, len(chunks), _BATCH):
            part = chunks[start : start + _BATCH]
            self._chunks.upsert(
                ids=[c.id for c in part],
                embeddings=vectors[start : start + _BATCH],
                documents=[c.text for c in part],
                metadatas=[
                    {
                        "path": c.path,
                        "title": c.title,
                        "heading": c.heading,
                        "ordinal": c.ordinal,
                        "confidential": bool(confidential.get(c.path, False)),
                        "audience": _audience_text(audience.get(c.path, ())),
                    }
                    for c in part
                ],
            )

    def relabel_chunks(self, ids: Sequence[str], audience: tuple[str, ...],
                       confidential: bool) -> None:
        """Change the labels on stored chunks (a changed access rule: nothing is re-embedded)."""
        meta = {"audience": _audience_text(audience), "confidential": confidential}
        for start in range(0, len(ids), _BATCH):
            part = list(ids[start : start + _BATCH])
            self._chunks.update(ids=part, metadatas=[dict(meta) for _ in part])

    def delete_chunks(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        for collection in self._sides.values():
            for start in range(0, len(ids), _BATCH):
                collection.delete(ids=ids[start : start + _BATCH])

    def all_chunk_ids(self, side: str = MAIN) -> set[str]:
        ids: set[str] = set()
        offset = 0
        while True:
            got = self._sides[side].get(include=[], limit=5000, offset=offset)
            ids.update(got["ids"])
            if len(got["ids"]) < 5000:
                return ids
            offset += 5000

    def sweep_orphans(self) -> int:
        """Delete chunks (and vectors) no file record points at (left by a crash or a replaced
        file)."""
        live = self.live_ids()
        orphans: set[str] = set()
        for side in self._sides:
            orphans |= self.all_chunk_ids(side) - live
        self.delete_chunks(orphans)
        return len(orphans)

    def live_ids(self) -> frozenset[str]:
        return self.view().live_ids

    def live_chunks(self) -> list[StoredChunk]:
        """Every live chunk with its text, for the lexical index."""
        live = sorted(self.live_ids())
        out: list[StoredChunk] = []
        for start in range(0, len(live), _BATCH):
            got = self._chunks.get(
                ids=live[start : start + _BATCH], include=["documents", "metadatas"]
            )
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=False):
                out.append(_stored(cid, doc, meta))
        return out

    def get_chunks(self, ids: Sequence[str]) -> dict[str, StoredChunk]:
        if not ids:
            return {}
        got = self._chunks.get(ids=list(ids), include=["documents", "metadatas"])
        return {
            cid: _stored(cid, doc, meta)
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=False)
        }

    def stored_vectors(self, ids: Sequence[str],
                       side: str = MAIN) -> dict[str, tuple[np.ndarray, str]]:
        """(vector, heading) of each chunk of ``ids`` that ``side`` holds."""
        if not ids:
            return {}
        got = self._sides[side].get(ids=list(ids), include=["embeddings", "metadatas"])
        metas = got.get("metadatas") or [None] * len(got["ids"])
        return {cid: (np.asarray(vector, dtype=np.float32), str((meta or {}).get("heading", "")))
                for cid, vector, meta in zip(got["ids"], got["embeddings"], metas, strict=False)}

    def dense_search(self, vector: np.ndarray, k: int, exclude_paths: Sequence[str] = (),
                     only_paths: Sequence[str] = (), side: str = MAIN,
                     live: frozenset[str] | None = None,
                     floor: float | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of live chunks on one dense side, best first: chunks of
        ``exclude_paths`` never count, and with ``only_paths`` only theirs do (and, with
        ``floor``, only those at least that similar). ``live``: the ids of the caller's
        :meth:`view`.

        Chroma is asked without a filter and the paths are filtered here: any ``where`` filter
        makes it scan every chunk's metadata (0.2-1 s a query at 100k chunks against 3 ms
        without, ``tests/bench/bench_scale.py``). Only when the unfiltered neighbours cannot
        hold the answer (too few allowed chunks among them) is Chroma asked with the filter."""
        live = self.live_ids() if live is None else live
        collection = self._sides[side]
        count = int(collection.count())
        if not live or not count:
            return []
        allowed = set(only_paths) if only_paths else None
        hidden = set(exclude_paths)
        n = min(count, k + 10 + (OVERFETCH if allowed is not None or hidden else 0))
        near = self._nearest(collection, vector, n, None)
        found = [(cid, sim) for cid, sim, path in near if cid in live and (
            path in allowed if allowed is not None else path not in hidden)]
        if floor is not None:
            found = [(cid, sim) for cid, sim in found if sim >= floor]
        seen_all = len(near) == count or (floor is not None and (not near or near[-1][1] < floor))
        if len(found) >= k or seen_all or (allowed is None and not hidden):
            return found[:k]
        where = ({"path": {"$in": sorted(allowed)}} if allowed is not None
                 else {"path": {"$nin": sorted(hidden)}})
        filtered = self._nearest(collection, vector, min(count, k + 10), where)
        return [(cid, sim) for cid, sim, _ in filtered if cid in live
                and (floor is None or sim >= floor)][:k]

    @staticmethod
    def _nearest(collection: Any, vector: np.ndarray, n: int,
                 where: dict[str, Any] | None) -> list[tuple[str, float, str]]:
        """(chunk id, cosine similarity, path) of the ``n`` nearest chunks."""
        got = collection.query(query_embeddings=[vector], n_results=max(n, 1),
                               include=["distances", "metadatas"], where=where)
        metas = got["metadatas"][0] if got.get("metadatas") else [None] * len(got["ids"][0])
        return [(cid, 1.0 - float(dist), str((meta or {}).get("path", "")))
                for cid, dist, meta in zip(got["ids"][0], got["distances"][0], metas,
                                           strict=False)]

    def count(self) -> int:
        return int(self._chunks.count())


def _audience_text(audience: Sequence[str]) -> str:
    """Chroma metadata holds no lists: ``",hr,managers,"`` (``""`` for everyone)."""
    return f",{','.join(audience)}," if audience else ""


def _stored(cid: str, doc: str | None, meta: Any) -> StoredChunk:
    meta = meta or {}
    title, heading, text = str(meta.get("title", "")), str(meta.get("heading", "")), doc or ""
    return StoredChunk(
        cid,
        str(meta.get("path", "")),
        title,
        heading,
        text,
        f"{heading}\n{text}" if heading else text,
        int(meta.get("ordinal", 0) or 0),
    )
