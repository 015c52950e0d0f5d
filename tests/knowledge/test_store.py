"""Opening the knowledge store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.access import Reader
from knowledge.chunking import Chunk
from knowledge.store import FileRecord, KnowledgeStore, open_client


def test_a_relative_data_dir_opens_the_store_of_the_current_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chroma shares one client per path string in a process: "data" opened from two working
    directories must still be two stores (the CLI tests run `--data-dir data` in many)."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    open_client(Path("data")).get_or_create_collection("only-in-a")
    monkeypatch.chdir(tmp_path / "b")
    assert [c.name for c in open_client(Path("data")).list_collections()] == []


def _record(path: str, chunks: tuple[str, ...], audience: tuple[str, ...] = ()) -> FileRecord:
    return FileRecord(path=path, root="/docs", sha256="0" * 64, chunk_ids=chunks, title=path,
                      confidential=False, indexed_at=0.0, size=1, audience=audience)


def test_file_records_are_read_once_per_revision_and_shared_not_copied(tmp_path: Path) -> None:
    """Every query reads the records: it gets the one read-only view of the revision, with the
    live ids and the audience groups worked out once, not a copy of every record."""
    store = KnowledgeStore(open_client(tmp_path), "viewkb")
    store.commit_file(_record("it/vpn.md", ("c1", "c2")))
    store.commit_file(_record("hr/pay.md", ("c3",), ("hr",)))
    view = store.view()
    assert store.view() is view and store.files() is view.records
    assert store.live_ids() is view.live_ids == {"c1", "c2", "c3"}
    with pytest.raises(TypeError):
        view.records["x"] = _record("x", ())  # type: ignore[index]
    assert view.denied(Reader()) == {"hr/pay.md"}
    assert view.denied(Reader(frozenset({"hr"}))) == frozenset()
    assert view.denied(Reader(frozenset({"hr"}), shared=True)) == {"hr/pay.md"}
    store.remove_file("hr/pay.md")
    assert store.view() is not view and set(store.files()) == {"it/vpn.md"}
    assert store.live_ids() == {"c1", "c2"} and view.live_ids == {"c1", "c2", "c3"}


def test_dense_search_filters_after_an_unfiltered_search_and_falls_back_to_chroma(
        tmp_path: Path) -> None:
    """Paths are filtered after an unfiltered Chroma query (a `where` filter makes Chroma scan
    every chunk's metadata); when hidden documents fill the neighbours, Chroma's filter is used."""
    store = KnowledgeStore(open_client(tmp_path), "densekb")
    rng = np.random.default_rng(7)
    near = rng.normal(size=8)
    vectors = [near + rng.normal(scale=0.05, size=8) for _ in range(80)]  # hr's, near the query
    vectors.append(-near)  # it's one chunk, far away
    chunks = [Chunk(f"h{i}", "hr/pay.md", "Pay", "", f"pay {i}", i) for i in range(80)]
    chunks.append(Chunk("far", "it/vpn.md", "VPN", "", "vpn", 0))
    unit = np.asarray([v / np.linalg.norm(v) for v in vectors], dtype=np.float32)
    store.add_chunks(chunks, unit)
    store.commit_file(_record("hr/pay.md", tuple(c.id for c in chunks[:80]), ("hr",)))
    store.commit_file(_record("it/vpn.md", ("far",)))
    query = near / np.linalg.norm(near)
    assert [c for c, _ in store.dense_search(query, 1, exclude_paths=["hr/pay.md"])] == ["far"]
    assert len(store.dense_search(query, 3)) == 3  # nothing hidden: the nearest, live
    top = store.dense_search(query, 5, only_paths=["hr/pay.md"])
    assert len(top) == 5 and all(c.startswith("h") for c, _ in top)
    floor = top[2][1]
    assert store.dense_search(query, 5, only_paths=["hr/pay.md"], floor=floor) == top[:3]
    assert store.dense_search(query, 5, only_paths=["it/vpn.md"], floor=0.5) == []
