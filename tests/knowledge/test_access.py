"""Document audiences in the knowledge library: labels from front matter and access rules,
stored on file records and chunks, relabelled without re-embedding, and filtered out inside both
retrievers before they rank."""

from __future__ import annotations

from pathlib import Path

from knowledge.access import AccessRule, Labels, Reader, groups_of, label
from knowledge.fakes import HashingEmbedder
from knowledge.indexer import Indexer
from knowledge.loaders import load_document
from knowledge.retrieval import HybridRetriever
from knowledge.store import KnowledgeStore, open_client

SALARY = "---\naudience: [HR, Managers]\nconfidential: true\n---\n# Salary bands\n\n" \
         "The L4 Japan salary band is 11,000,000 to 13,200,000 yen.\n"
PTO = "---\naudience: All employees\n---\n# Paid time off\n\nYou get 20 days of paid time " \
      "off a year; the salary is paid as usual.\n"


def kb(tmp_path: Path, rules: list[AccessRule] | None = None) -> tuple[KnowledgeStore, Indexer]:
    root = tmp_path / "kb"
    (root / "hr").mkdir(parents=True, exist_ok=True)
    (root / "hr/salary-bands.md").write_text(SALARY, encoding="utf-8")
    (root / "hr/pto.md").write_text(PTO, encoding="utf-8")
    store = KnowledgeStore(open_client(tmp_path / "chroma"), "access")
    return store, Indexer(store, HashingEmbedder(), 700, (), rules or [])


def test_groups_are_lower_case_and_only_a_bracketed_list_names_them(tmp_path: Path) -> None:
    assert groups_of("[HR, managers, hr]") == ("hr", "managers")
    (tmp_path / "a.md").write_text(SALARY, encoding="utf-8")
    (tmp_path / "b.md").write_text(PTO, encoding="utf-8")
    assert load_document(tmp_path / "a.md", "a.md").audience == ("hr", "managers")
    assert load_document(tmp_path / "b.md", "b.md").audience == ()  # a description, not groups


def test_rules_override_front_matter_and_can_mark_any_format_confidential() -> None:
    rules = [AccessRule(("hr/salary-*",), ("comp",)), AccessRule(("legal/**",), (), True)]
    declared = Labels(("hr",), False)
    assert label("hr/salary-bands.md", declared, rules) == Labels(("comp",), False)
    assert label("legal/cases/2024/x.pdf", Labels(), rules) == Labels((), True)
    assert label("it/vpn.md", declared, rules) == declared
    assert label("it/vpn.md", Labels(), (), ("it/*",)).confidential


def test_readers_see_public_documents_and_their_groups_in_private_only() -> None:
    member, outsider = Reader(frozenset({"hr"})), Reader()
    assert member.may_read(("hr", "managers")) and not outsider.may_read(("hr",))
    assert not Reader(frozenset({"hr"}), shared=True).may_read(("hr",))
    assert Reader(shared=True).may_read(())


def test_labels_are_stored_on_the_record_and_every_chunk(tmp_path: Path) -> None:
    store, indexer = kb(tmp_path)
    indexer.index([tmp_path / "kb"])
    record = store.files()["hr/salary-bands.md"]
    assert (record.audience, record.confidential) == (("hr", "managers"), True)
    metas = store._chunks.get(ids=list(record.chunk_ids), include=["metadatas"])["metadatas"]
    assert {m["audience"] for m in metas} == {",hr,managers,"}
    assert store.files()["hr/pto.md"].audience == ()


def test_a_changed_rule_relabels_at_the_next_index_without_re_embedding(tmp_path: Path) -> None:
    store, indexer = kb(tmp_path)
    indexer.index([tmp_path / "kb"])
    ruled = Indexer(store, indexer.embeddings, 700, (),
                    [AccessRule(("hr/pto*",), ("staff",), True)])
    summary = ruled.index([tmp_path / "kb"])
    assert summary.relabelled == ["hr/pto.md"] and summary.chunks_embedded == 0
    assert "1 relabelled" in summary.line() and summary.as_dict()["relabelled"] == 1
    record = store.files()["hr/pto.md"]
    assert (record.audience, record.confidential) == (("staff",), True)
    again = ruled.index([tmp_path / "kb"])
    assert again.relabelled == [] and sorted(again.unchanged) == ["hr/pto.md", "hr/salary-bands.md"]


def test_both_retrievers_filter_before_ranking_and_count_what_they_held_back(
        tmp_path: Path) -> None:
    store, indexer = kb(tmp_path)
    indexer.index([tmp_path / "kb"])
    retriever = HybridRetriever(store, indexer.embeddings, 20)
    question = "What is the L4 Japan salary band?"
    outsider = retriever.search(question, 5, "en", Reader())
    assert [h.path for h in outsider.hits] == ["hr/pto.md"]
    assert outsider.held_back == [("hr", "managers")]
    assert all("13,200,000" not in h.text for h in outsider.hits)
    member = retriever.search(question, 5, "en", Reader(frozenset({"hr"})))
    assert member.hits[0].path == "hr/salary-bands.md" and member.held_back == []
    in_channel = retriever.search(question, 5, "en", Reader(frozenset({"hr"}), shared=True))
    assert [h.path for h in in_channel.hits] == ["hr/pto.md"] and in_channel.held_back
