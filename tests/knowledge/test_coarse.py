"""The window view (knowledge.coarse): each of the nearest chunks scored by the mean of its own
stored vector and its neighbours' under the same heading, read back from a real Chroma store."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from knowledge.coarse import DocumentVectors, window_ranking, windows
from knowledge.fakes import HashingEmbedder
from knowledge.indexer import Indexer
from knowledge.retrieval import WINDOW_RADIUS, HybridRetriever, Weights
from knowledge.store import MAIN, KnowledgeStore, open_client

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]
GUIDE = (
    "# Travel guide\n\n## Booking\n\n"
    + "\n\n".join(f"Booking rule {word}: flights are booked in the travel portal, the {word} "
                  "way." for word in WORDS)
    + "\n\n## Receipts\n\nKeep every receipt for seven years, in the expense tool, scanned.\n"
)


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_a_window_is_the_chunk_and_its_neighbours_in_document_order() -> None:
    order = {c: ["a", "b", "c", "d"] for c in "abcd"}
    assert windows(["a", "c", "z"], order, 1) == {"a": ["a", "b"], "c": ["b", "c", "d"],
                                                  "z": ["z"]}


def test_windows_average_neighbours_under_the_same_heading_only() -> None:
    stored = {"a": (unit(1, 0, 0), "Booking"), "b": (unit(0, 1, 0), "Booking"),
              "c": (unit(0, 0, 1), "Receipts")}
    order = {c: ["a", "b", "c"] for c in stored}
    query = unit(0, 1, 0)
    ranked = dict(window_ranking(query, [("a", 0.0), ("b", 1.0), ("c", 0.0), ("x", 0.4)],
                                 order, lambda ids: {c: stored[c] for c in ids if c in stored}))
    # a: mean of a and b; b: a and b (c is under another heading); c: alone; x: not stored
    assert np.isclose(ranked["a"], 1 / np.sqrt(2)) and np.isclose(ranked["b"], 1 / np.sqrt(2))
    assert np.isclose(ranked["c"], 0.0) and ranked["x"] == 0.4


def test_the_window_view_reads_the_stored_vectors_and_ranks_best_first(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    root.mkdir()
    (root / "travel.md").write_text(GUIDE, encoding="utf-8")
    store = KnowledgeStore(open_client(tmp_path / "chroma"), "coarse")
    model = HashingEmbedder(384)
    Indexer(store, model, 120).index([root])
    retriever = HybridRetriever(store, model, 20)
    query = model.encode(["Where do I keep a receipt?"])[0]
    nearest = store.dense_search(query, 20)
    chunks = store.get_chunks([c for c, _ in nearest])
    records = store.files()
    ranked = retriever.window_view(query, nearest, chunks, records)
    assert sorted(c for c, _ in ranked) == sorted(c for c, _ in nearest)
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)
    ids = list(records["travel.md"].chunk_ids)
    vectors = store.stored_vectors(ids, MAIN)
    last_booking = ids[-2]  # the receipts chunk (last) is under another heading
    expected = np.mean([vectors[c][0] for c in ids[-2 - WINDOW_RADIUS:-1]], axis=0)
    assert np.isclose(dict(ranked)[last_booking], expected @ query / np.linalg.norm(expected),
                      atol=1e-5)
    hits = HybridRetriever(store, model, 20, weights={
        "en": Weights(0.0, 0.0, window=1.0)}).search("receipts kept for seven years").hits
    assert [h.path for h in hits] == ["travel.md"] and hits[0].score == 1.0


def test_document_vectors_are_the_normalised_mean_of_each_documents_chunks() -> None:
    stored = {"a1": (unit(1, 0, 0), ""), "a2": (unit(0, 1, 0), ""), "b1": (unit(0, 0, 1), "")}
    docs = DocumentVectors({"a.md": ["a1", "a2"], "b.md": ["b1"], "gone.md": ["x"]},
                           lambda ids: {c: stored[c] for c in ids if c in stored}, batch=1)
    assert docs.paths == ["a.md", "b.md"]  # a document none of whose chunks is stored is left out
    ranked = docs.nearest(unit(1, 1, 0), 5)
    assert ranked[0][0] == "a.md" and np.isclose(ranked[0][1], 1.0)
    assert docs.nearest(unit(1, 1, 0), 5, frozenset({"a.md"})) == [("b.md", 0.0)]


def test_the_document_view_lifts_the_page_about_the_question_over_a_long_mixed_one(
        tmp_path: Path) -> None:
    """A long page whose one chunk shares the question's words against a short page that is
    about the question as a whole: the mean chunk vector ranks the short page first, reads
    only the stored vectors, and is rebuilt when the store changes."""
    root = tmp_path / "kb"
    root.mkdir()
    mixed = "# Office handbook\n\n" + "\n\n".join(
        f"## Topic {word}\n\nThe {word} desk handles {word} requests on the third floor."
        for word in WORDS) + "\n\n## Receipts\n\nReceipts go in the tool.\n"
    (root / "handbook.md").write_text(mixed, encoding="utf-8")
    (root / "receipts.md").write_text(
        "# Receipts\n\nKeep every receipt for seven years; scan each receipt into the expense "
        "tool; receipts older than seven years are shredded.\n", encoding="utf-8")
    store = KnowledgeStore(open_client(tmp_path / "chroma"), "coarse")
    model = HashingEmbedder(384)
    Indexer(store, model, 120).index([root])
    only_documents = {"en": Weights(0.0, 0.0, document=1.0)}
    retriever = HybridRetriever(store, model, 20, weights=only_documents)
    retriever.load()  # built at start, not on the first question
    built = retriever.document_vectors()
    assert sorted(built.paths) == ["handbook.md", "receipts.md"]
    hits = retriever.search("how long do I keep receipts", 2).hits
    assert retriever.document_vectors() is built
    assert [h.path for h in hits] == ["receipts.md", "handbook.md"]
    assert "receipt" in hits[0].text.lower()
    (root / "receipts.md").unlink()
    Indexer(store, model, 120).index([root])
    assert [h.path for h in retriever.search("how long do I keep receipts", 2).hits] == [
        "handbook.md"]
    assert retriever.document_vectors().paths == ["handbook.md"]
