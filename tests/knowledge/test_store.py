"""Opening the knowledge store."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.store import open_client


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
