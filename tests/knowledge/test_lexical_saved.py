"""The lexical index saved per store revision: written once, loaded (not rebuilt) by a second
open of the store and by a second process, rebuilt after a change, and rebuilt with a log line
when the saved copy is corrupt or missing. Real Chroma, the real embedding model, small data."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from kb_files import KB, write

from knowledge.access import Reader
from knowledge.retrieval import HybridRetriever
from knowledge.store import KnowledgeStore, open_client

ROOT = Path(__file__).resolve().parents[2]
FILES = {
    "it/vpn.md": "# VPN password reset\n\nReset your VPN password at the self-service portal "
                 "vpn.northwind.example before it expires.\n",
    "hr/leave.md": "---\naudience: [hr]\n---\n# Parental leave\n\nParental leave is 16 weeks "
                   "on full pay.\n",
    "ja/expense.md": "# 経費精算の締め切り\n\n前月分の経費は、毎月5営業日目の17:00までに申請して"
                     "ください。\n",
}


@pytest.fixture
def kb(tmp_path: Path, embeddings: Any) -> KB:
    kb = KB.create(tmp_path, embeddings, FILES)
    kb.index()
    return kb


def _retriever(kb: KB, lexical_dir: Path) -> HybridRetriever:
    """A fresh open of the same store, as a restarted bot does."""
    store = KnowledgeStore(open_client(kb.root.parent / "data"), kb.store.name)
    return HybridRetriever(store, kb.indexer.embeddings, lexical_dir=lexical_dir)


def _saved(lexical_dir: Path) -> list[str]:
    return sorted(p.name for p in lexical_dir.iterdir() if not p.name.startswith("."))


def test_saved_once_per_revision_then_loaded_by_a_second_open(kb: KB, tmp_path: Path) -> None:
    lexical_dir = tmp_path / "lexical"
    first = _retriever(kb, lexical_dir)
    found = first.search("How do I reset my VPN password?", 2)
    assert first.lexical_source == "built"
    assert _saved(lexical_dir) == [f"testkb@{kb.store.revision()}"]
    manifest = lexical_dir / _saved(lexical_dir)[0] / "manifest.json"
    written = manifest.stat().st_mtime_ns

    second = _retriever(kb, lexical_dir)
    again = second.search("How do I reset my VPN password?", 2)
    assert second.lexical_source == "loaded"
    assert [h.id for h in again.hits] == [h.id for h in found.hits]
    assert again.hits[0].lexical == pytest.approx(found.hits[0].lexical)
    assert manifest.stat().st_mtime_ns == written  # not written again
    # the loaded index keeps the paths for the audience filter
    hr = second.search("parental leave weeks", 3, reader=Reader(frozenset({"hr"})))
    public = second.search("parental leave weeks", 3)
    assert hr.hits[0].path == "hr/leave.md"
    assert "hr/leave.md" not in [h.path for h in public.hits] and public.held_back == [("hr",)]


def test_a_second_process_loads_the_saved_copy(kb: KB, tmp_path: Path) -> None:
    lexical_dir = tmp_path / "lexical"
    _retriever(kb, lexical_dir).lexical_index()
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from knowledge.retrieval import HybridRetriever\n"
        "from knowledge.store import KnowledgeStore, open_client\n"
        "store = KnowledgeStore(open_client(Path(sys.argv[1])), 'testkb')\n"
        "retriever = HybridRetriever(store, None, lexical_dir=Path(sys.argv[2]))\n"
        "index = retriever.lexical_index()\n"
        "print(json.dumps([retriever.lexical_source, len(index), index.search('経費精算', 1)]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(kb.root.parent / "data"), str(lexical_dir)],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    source, count, top = json.loads(result.stdout)
    assert source == "loaded" and count == len(kb.store.live_ids())
    assert kb.store.get_chunks([top[0][0]])[top[0][0]].path == "ja/expense.md"


def test_a_change_rebuilds_it_and_drops_the_old_copy(kb: KB, tmp_path: Path) -> None:
    lexical_dir = tmp_path / "lexical"
    retriever = _retriever(kb, lexical_dir)
    retriever.lexical_index()
    before = _saved(lexical_dir)
    write(kb.root / "it/printer.md", "# Printers\n\nColour printing works on floor 8 only.\n")
    kb.index()
    found = retriever.search("colour printing floor", 1)
    assert retriever.lexical_source == "built" and found.hits[0].path == "it/printer.md"
    assert _saved(lexical_dir) == [f"testkb@{kb.store.revision()}"] != before
    assert _retriever(kb, lexical_dir).search("colour printing", 1).hits[0].path == "it/printer.md"


@pytest.mark.parametrize("damage", ["truncated array", "garbage manifest", "missing file"])
def test_a_corrupt_copy_is_logged_and_rebuilt(kb: KB, tmp_path: Path, damage: str,
                                              caplog: pytest.LogCaptureFixture) -> None:
    lexical_dir = tmp_path / "lexical"
    _retriever(kb, lexical_dir).lexical_index()
    folder = lexical_dir / _saved(lexical_dir)[0]
    if damage == "truncated array":
        data = folder / "bm25" / "data.csc.index.npy"
        data.write_bytes(data.read_bytes()[:200])
    elif damage == "garbage manifest":
        (folder / "manifest.json").write_text("{not json")
    else:
        (folder / "chunks.json").unlink()
    with caplog.at_level(logging.WARNING, logger="knowledge.lexical"):
        retriever = _retriever(kb, lexical_dir)
        hits = retriever.search("How do I reset my VPN password?", 1).hits
    assert retriever.lexical_source == "built" and hits[0].path == "it/vpn.md"
    [line] = [r.getMessage() for r in caplog.records
               if r.name == "knowledge.lexical" and r.levelno >= logging.WARNING]
    assert str(folder) in line and "rebuilding" in line
    assert _saved(lexical_dir) == [folder.name]
    third = _retriever(kb, lexical_dir)
    third.lexical_index()
    assert third.lexical_source == "loaded"  # the rebuilt copy was saved again


def test_a_missing_copy_is_rebuilt_with_a_log_line(kb: KB, tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    lexical_dir = tmp_path / "lexical"
    _retriever(kb, lexical_dir).lexical_index()
    for folder in lexical_dir.iterdir():
        for part in sorted(folder.rglob("*"), reverse=True):
            part.rmdir() if part.is_dir() else part.unlink()
        folder.rmdir()
    with caplog.at_level(logging.INFO, logger="knowledge"):
        retriever = _retriever(kb, lexical_dir)
        retriever.lexical_index()
    assert retriever.lexical_source == "built"
    lines = [r.getMessage() for r in caplog.records]
    assert any("no saved copy" in line and str(lexical_dir) in line for line in lines)
    assert any("chunks built" in line for line in lines)
    assert _saved(lexical_dir) == [f"testkb@{kb.store.revision()}"]
