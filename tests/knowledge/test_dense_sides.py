"""The second dense side and per-document ranking: vectors of two embedders kept under the same
chunk ids, a changed embedder re-embedded cleanly, the audience filter on both sides, distinct
files in the results and the enclosing section as each hit's passage.

The model-bookkeeping tests use the hashing embedder (fast, model-free) over a real Chroma store;
cross-language retrieval with the real encoders is in test_retrieval.py."""

from __future__ import annotations

from pathlib import Path

from knowledge.access import Reader
from knowledge.fakes import HashingEmbedder
from knowledge.indexer import Indexer
from knowledge.retrieval import HybridRetriever, Weights
from knowledge.store import MAIN, MULTILINGUAL, KnowledgeStore, open_client

SALARY = "---\naudience: [HR]\n---\n# Salary bands\n\nThe L4 Japan salary band is 11,000,000 " \
         "to 13,200,000 yen.\n"
PTO = "# Paid time off\n\nYou get 20 days of paid time off a year; the salary is paid as usual.\n"
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
# one section long enough for several small chunks, then a second section
GUIDE = (
    "# Travel guide\n\n## Booking\n\n"
    + "\n\n".join(f"Booking rule {word}: flights are booked in the travel portal, the {word} "
                  "way." for word in WORDS)
    + "\n\n## Receipts\n\nKeep every receipt for seven years.\n"
)


def embedder(name: str, dimensions: int = 384) -> HashingEmbedder:
    model = HashingEmbedder(dimensions)
    model.name = name
    return model


def store_at(tmp_path: Path) -> tuple[KnowledgeStore, Path]:
    root = tmp_path / "kb"
    (root / "hr").mkdir(parents=True, exist_ok=True)
    (root / "hr/salary-bands.md").write_text(SALARY, encoding="utf-8")
    (root / "hr/pto.md").write_text(PTO, encoding="utf-8")
    (root / "travel.md").write_text(GUIDE, encoding="utf-8")
    return KnowledgeStore(open_client(tmp_path / "chroma"), "sides"), root


def test_both_sides_get_vectors_under_the_same_ids_and_the_models_are_recorded(
        tmp_path: Path) -> None:
    store, root = store_at(tmp_path)
    summary = Indexer(store, embedder("main-a"), 700,
                      multilingual=embedder("multi-a", 128)).index([root])
    assert store.all_chunk_ids(MAIN) == store.all_chunk_ids(MULTILINGUAL) == store.live_ids()
    assert summary.chunks_embedded == summary.chunks_total
    assert store.models() == {MAIN: "main-a", MULTILINGUAL: "multi-a"}


def test_a_changed_embedder_re_embeds_everything_and_is_skipped_until_then(
        tmp_path: Path) -> None:
    store, root = store_at(tmp_path)
    first = Indexer(store, embedder("main-a"), 700).index([root])
    stale = HybridRetriever(store, embedder("main-b", 256), 20)  # other model, other dimensions
    result = stale.search("How many days of paid time off?", 3)  # lexical only, no crash
    assert result.hits and all(h.dense is None for h in result.hits)
    again = Indexer(store, embedder("main-b", 256), 700).index([root])
    assert again.chunks_embedded == first.chunks_total and again.chunks_reused == 0
    assert store.models()[MAIN] == "main-b"
    assert stale.search("How many days of paid time off?", 3).hits[0].dense is not None


def test_adding_changing_and_dropping_the_second_side(tmp_path: Path) -> None:
    store, root = store_at(tmp_path)
    Indexer(store, embedder("main-a"), 700).index([root])
    Indexer(store, embedder("main-a"), 700, multilingual=embedder("multi-a", 128)).index([root])
    assert store.all_chunk_ids(MULTILINGUAL) == store.live_ids()  # old files got vectors too
    changed = Indexer(store, embedder("main-a"), 700,
                      multilingual=embedder("multi-b", 64)).index([root])
    assert changed.chunks_embedded == changed.chunks_total
    assert store.models()[MULTILINGUAL] == "multi-b"
    Indexer(store, embedder("main-a"), 700).index([root])  # switched off: its vectors go
    assert store.all_chunk_ids(MULTILINGUAL) == set()


def test_the_second_side_filters_before_ranking_too(tmp_path: Path) -> None:
    store, root = store_at(tmp_path)
    main, multi = embedder("main-a"), embedder("multi-a", 128)
    Indexer(store, main, 700, multilingual=multi).index([root])
    # the multilingual side alone ranks: a filter missing there would show the salary band
    only_multi = {"en": Weights(dense=0.0, lexical=0.0, multilingual=1.0)}
    retriever = HybridRetriever(store, main, 20, multilingual=multi, weights=only_multi)
    outsider = retriever.search("What is the L4 Japan salary band?", 5, "en", Reader())
    assert "hr/salary-bands.md" not in [h.path for h in outsider.hits]
    assert outsider.held_back == [("hr",)]
    member = retriever.search("What is the L4 Japan salary band?", 5, "en",
                              Reader(frozenset({"hr"})))
    assert member.hits[0].path == "hr/salary-bands.md"
    assert member.hits[0].multilingual is not None and member.hits[0].dense is None


def test_results_are_distinct_files_with_the_enclosing_section(tmp_path: Path) -> None:
    store, root = store_at(tmp_path)
    main = embedder("main-a")
    Indexer(store, main, 120).index([root])  # small chunks: the booking section is several
    booking = [c for c in store.live_chunks() if c.heading == "Booking"]
    assert len(booking) >= 3
    retriever = HybridRetriever(store, main, 20, passage_units=400)
    hits = retriever.search("How do I book the echo way?", 5,
                            reader=Reader(frozenset({"hr"}))).hits
    assert len({h.path for h in hits}) == len(hits) == 3  # three files, each once
    top = hits[0]
    assert top.path == "travel.md" and "echo" in top.text
    assert top.text in top.passage and len(top.passage) > len(top.text)
    assert "delta" in top.passage or "foxtrot" in top.passage  # its neighbours, same heading
    assert "receipt" not in top.passage  # never across a heading
    assert len(top.passage) + top.passage.count("\n") <= 400 + 1
