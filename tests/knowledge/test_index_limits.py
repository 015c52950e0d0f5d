"""What the indexer refuses: links out of the knowledge root, files over the size or chunk cap,
and bytes that decode to nothing readable — each reported, none indexed, the rest indexed."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

from knowledge.fakes import HashingEmbedder
from knowledge.indexer import Indexer
from knowledge.loaders import LoadError, load_document
from knowledge.store import KnowledgeStore, open_client


def indexer(tmp_path: Path, **limits: int) -> tuple[KnowledgeStore, Indexer]:
    store = KnowledgeStore(open_client(tmp_path / "chroma"), "limits")
    return store, Indexer(store, HashingEmbedder(), 700, (), (), **limits)


def test_links_that_leave_the_root_are_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "kb", tmp_path / "secret"
    (root / "it").mkdir(parents=True)
    outside.mkdir()
    (outside / "passwd.txt").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (root / "it/vpn.md").write_text("# VPN\n\nUse the portal.\n")
    os.symlink(outside / "passwd.txt", root / "it/notes.txt")
    os.symlink(outside, root / "shared")
    os.symlink(root / "it/vpn.md", root / "vpn-link.md")  # inside the root: fine
    store, idx = indexer(tmp_path)
    summary = idx.index([root])
    assert sorted(store.files()) == ["it/vpn.md", "vpn-link.md"]
    assert summary.refused == {"it/notes.txt": "a link that leads outside the root",
                               "shared": "a link that leads outside the root"}
    assert "2 refused" in summary.line() and summary.as_dict()["refused"] == 2


def test_files_over_the_caps_are_refused_and_a_grown_file_leaves_the_index(
        tmp_path: Path) -> None:
    root = tmp_path / "kb"
    root.mkdir()
    (root / "small.md").write_text("# Small\n\nShort.\n")
    (root / "grows.md").write_text("# Grows\n\nShort at first.\n")
    store, idx = indexer(tmp_path, max_file_bytes=2000, max_chunks=3)
    assert idx.index([root]).refused == {}
    (root / "grows.md").write_text("# Grows\n\n" + "A long line of policy text. " * 200)
    (root / "many.md").write_text("".join(f"# Part {n}\n\nText {n}.\n\n" for n in range(6)))
    summary = idx.index([root])
    assert summary.refused["grows.md"].startswith("larger than")
    assert summary.refused["many.md"] == "more than 3 chunks (6)"
    assert sorted(store.files()) == ["small.md"] and summary.removed == ["grows.md"]


def test_embedding_runs_in_bounded_batches(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    root.mkdir()
    (root / "big.md").write_text("".join(f"# Section {n}\n\n{'word ' * 60}{n}\n\n"
                                         for n in range(1000)))
    store, idx = indexer(tmp_path, max_chunks=10_000)
    tracemalloc.start()
    summary = idx.index([root])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert summary.chunks_embedded == 1000 and idx.embeddings.calls == 8  # 128 per call
    assert peak < 200 * 2**20


def test_undecodable_text_is_reported_not_indexed_as_mojibake(tmp_path: Path) -> None:
    bad = tmp_path / "broken.txt"  # not UTF-8, yet every byte pair is valid Shift_JIS
    bad.write_bytes(b"Policy \xb1\xb2\xb3\xc4\xc5 \x88\x9f\x93\xfa update \xdd\xde" * 20)
    assert bad.read_bytes().decode("cp932")  # cp932 alone would have indexed mojibake
    with pytest.raises(LoadError, match="not valid UTF-8"):
        load_document(bad, "broken.txt")
    sjis = tmp_path / "sjis.txt"
    sjis.write_bytes("経費精算の締め切りは毎月5営業日目です。".encode("cp932"))
    assert "締め切り" in load_document(sjis, "sjis.txt").sections[0].text


def test_a_200_mb_file_is_refused_without_being_read(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    root.mkdir()
    with (root / "dump.txt").open("wb") as fh:
        fh.truncate(200 * 2**20)  # sparse: 200 MB on paper
    (root / "ok.md").write_text("# OK\n\nFine.\n")
    store, idx = indexer(tmp_path)  # the default cap, 50 MB
    tracemalloc.start()
    summary = idx.index([root])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert summary.refused == {"dump.txt": "larger than 50 MB (200 MB)"}
    assert sorted(store.files()) == ["ok.md"] and peak < 50 * 2**20
