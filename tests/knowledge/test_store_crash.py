"""Crash safety of the store: the file record is the commit point.

A crash is simulated by doing part of what the indexer does — adding a new version's chunks
without committing its file record, or dropping a record without deleting its chunks — and then
asking the real retriever (BM25 and Chroma's dense search) what it returns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kb_files import KB

from knowledge.chunking import chunk_document
from knowledge.loaders import load_document

GATEWAY_V1 = "# Gateway\n\nThe Zanzibar gateway syncs passwords within 15 minutes.\n"
GATEWAY_V2 = "# Gateway\n\nThe Quokka gateway syncs passwords within 20 minutes.\n"
OTHER = {
    "hr/pto.md": "# Paid time off\n\nUS employees get 15 days of paid time off per year.\n",
    "facilities/badges.md": "# Badges\n\nA lost badge is deactivated within one hour.\n",
}


@pytest.fixture
def kb(tmp_path: Path, embeddings: Any) -> KB:
    kb = KB.create(tmp_path, embeddings, {"it/gateway.md": GATEWAY_V1, **OTHER})
    kb.index()
    return kb


def crash_after_adding_chunks(kb: KB, relative: str) -> set[str]:
    """What the indexer does for a changed file, stopped before ``commit_file``."""
    document = load_document(kb.root / relative, relative)
    chunks = chunk_document(document)
    kb.store.add_chunks(chunks, kb.embeddings.encode([c.embed_text for c in chunks]))
    return {c.id for c in chunks}


def everything_found(kb: KB, query: str) -> str:
    """All the text retrieval can return for ``query`` (k larger than the store)."""
    return kb.texts(query, k=50)


def test_uncommitted_chunks_are_never_returned(kb: KB) -> None:
    (kb.root / "it/gateway.md").write_text(GATEWAY_V2)
    uncommitted = crash_after_adding_chunks(kb, "it/gateway.md")
    assert uncommitted <= kb.store.all_chunk_ids()  # they are in Chroma ...
    assert not uncommitted & kb.store.live_ids()  # ... but no record points at them

    found = everything_found(kb, "Quokka gateway 20 minutes")
    assert "Quokka" not in found  # neither BM25 nor the dense side serves them
    assert "Zanzibar" in found  # the committed version still answers
    vector = kb.embeddings.real.encode(["The Quokka gateway syncs passwords within 20 minutes."])
    assert not {cid for cid, _ in kb.store.dense_search(vector[0], 50)} & uncommitted
    assert not {c.id for c in kb.store.live_chunks()} & uncommitted


def test_next_index_commits_the_new_version_reusing_the_crashed_chunks(kb: KB) -> None:
    old = set(kb.store.files()["it/gateway.md"].chunk_ids)
    (kb.root / "it/gateway.md").write_text(GATEWAY_V2)
    crash_after_adding_chunks(kb, "it/gateway.md")

    summary = kb.index()
    assert summary.updated == ["it/gateway.md"]
    assert summary.chunks_embedded == 0  # the crashed run's vectors were already stored
    assert summary.orphans_swept == len(old)
    assert kb.store.all_chunk_ids() == kb.store.live_ids()
    found = everything_found(kb, "Which gateway syncs passwords?")
    assert "Quokka" in found and "Zanzibar" not in found


def test_next_index_sweeps_chunks_of_a_version_that_never_landed(kb: KB) -> None:
    (kb.root / "it/gateway.md").write_text(GATEWAY_V2)
    orphans = crash_after_adding_chunks(kb, "it/gateway.md")
    (kb.root / "it/gateway.md").write_text(GATEWAY_V1)  # the edit is reverted before the rerun

    summary = kb.index()
    assert sorted(summary.unchanged) == ["facilities/badges.md", "hr/pto.md", "it/gateway.md"]
    assert summary.orphans_swept == len(orphans)
    assert not orphans & kb.store.all_chunk_ids()
    assert kb.store.all_chunk_ids() == kb.store.live_ids()


def test_chunks_of_a_removed_record_are_never_returned(kb: KB) -> None:
    """A crash between dropping a deleted file's record and sweeping its chunks."""
    ids = set(kb.store.files()["hr/pto.md"].chunk_ids)
    assert kb.paths("How many days of paid time off?")[0] == "hr/pto.md"
    (kb.root / "hr/pto.md").unlink()
    kb.store.remove_file("hr/pto.md")  # ... and the process dies here

    assert ids <= kb.store.all_chunk_ids()
    assert "hr/pto.md" not in kb.paths("How many days of paid time off?", k=50)
    vector = kb.embeddings.real.encode(["US employees get 15 days of paid time off per year."])
    assert not {cid for cid, _ in kb.store.dense_search(vector[0], 50)} & ids

    summary = kb.index()
    assert summary.removed == []  # the record was already gone
    assert summary.orphans_swept == len(ids)
    assert not ids & kb.store.all_chunk_ids()


def test_a_second_store_on_the_same_folder_sees_committed_records(kb: KB, tmp_path: Path) -> None:
    """Records are read through Chroma, not a process cache: another replica (or a restart)
    sees exactly what was committed."""
    from knowledge.store import KnowledgeStore, open_client

    (kb.root / "it/gateway.md").write_text(GATEWAY_V2)
    crash_after_adding_chunks(kb, "it/gateway.md")
    other = KnowledgeStore(open_client(tmp_path / "data"), "testkb")
    assert other.files().keys() == kb.store.files().keys()
    assert other.live_ids() == kb.store.live_ids()
    revision = other.revision()
    kb.index()
    assert other.revision() != revision
    assert other.files()["it/gateway.md"].chunk_ids == kb.store.files()["it/gateway.md"].chunk_ids
