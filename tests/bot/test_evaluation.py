"""The evaluation scores and the plain dense baseline they are printed beside."""

from __future__ import annotations

import json
from pathlib import Path

from bot.app.evaluate import confident
from bot.evaluation.baseline import PlainDense, plain_chunks
from bot.evaluation.metrics import EvalQuestion, EvalResult, load_questions, score
from bot.types import Route
from knowledge.embeddings import LocalEmbeddings


def _q(qid: str, gold: str | None, kind: str = "answerable") -> EvalQuestion:
    return EvalQuestion(qid, f"question {qid}", gold is not None, gold, kind=kind)


def test_scores_separate_handled_unanswerable_wrong_declines_and_confident_precision() -> None:
    results = [
        EvalResult(_q("a", "a.md"), ["a.md"], covered=True, cited=["a.md"], confident=True),
        EvalResult(_q("b", "b.md"), ["x.md", "b.md"], covered=True, cited=["x.md"],
                   confident=True),
        EvalResult(_q("c", "c.md"), ["c.md"], covered=False),
        EvalResult(_q("d", None, "removed"), ["a.md"], covered=True, cited=["a.md"],
                   confident=True),
        EvalResult(_q("e", None, "removed"), ["a.md"], covered=False),
    ]
    m = score(results, answered=True)
    assert m["recall@1"] == 2 / 3 and m["recall@5"] == 1.0
    assert m["cited_gold"] == 1 / 3
    assert m["unanswerable_handled"] == 0.5
    assert m["wrongly_declined"] == 1 / 3
    assert m["confident_precision"] == 1 / 3  # a right, b cites the wrong file, d unanswerable


def test_recall_is_also_reported_per_kind_of_question() -> None:
    results = [
        EvalResult(_q("a", "a.md", "cross-language"), ["a.md"]),
        EvalResult(_q("b", "b.md", "cross-language"), ["x.md"]),
        EvalResult(_q("c", "c.md", "follow-up"), ["c.md"]),
    ]
    m = score(results, answered=False)
    assert m["recall@5[cross-language]"] == 0.5 and m["recall@5[follow-up]"] == 1.0


def test_load_questions_keeps_one_fold_and_the_history(tmp_path: Path) -> None:
    path = tmp_path / "questions.jsonl"
    rows = [
        {"id": "1", "question": "How long?", "answerable": True, "gold": "a.md", "fold": 1,
         "kind": "follow-up", "history": [{"role": "user", "text": "Parental leave?"},
                                          {"role": "assistant", "text": "Yes [1]."}]},
        {"id": "2", "question": "Other?", "answerable": False, "gold": None, "fold": 0},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    (only,) = load_questions(path, fold=1)
    assert only.kind == "follow-up" and only.history[0] == ("user", "Parental leave?")
    assert load_questions(path, fold=0)[0].kind == "out-of-domain"


def test_only_covered_answers_with_the_confident_reason_count_as_confident() -> None:
    assert confident(Route.LOCAL, "confident", True)
    assert not confident(Route.LOCAL, "below-threshold", True)
    assert not confident(Route.DECLINED, "weak-evidence", False)
    assert confident(Route.CLOUD, "long-form", True)


def test_plain_chunks_are_fixed_windows() -> None:
    assert [len(c) for c in plain_chunks("word " * 450)] == [1000, 1000, 249]


def test_the_plain_dense_baseline_ranks_files_of_a_real_corpus(
        tmp_path: Path, embeddings: LocalEmbeddings) -> None:
    (tmp_path / "vpn.md").write_text("# VPN\n\nReset your VPN password at the portal.\n")
    (tmp_path / "lunch.md").write_text("# Canteen\n\nThe canteen serves lunch from noon.\n")
    (tmp_path / "broken.pdf").write_bytes(b"not a pdf")
    plain = PlainDense(embeddings, tmp_path)
    assert plain.ranked_files("How do I reset my VPN password?") == ["vpn.md", "lunch.md"]
