"""Opening the knowledge store."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.access import Reader
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
