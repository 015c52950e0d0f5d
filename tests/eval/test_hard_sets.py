"""The hard development sets: the builder's invariants, run into a temporary folder.

The helpdesk sets need only the repository. ``pyfaq-ref`` and ``jsquad-ref`` also need the shared
evaluation sets (``../shared/eval`` beside the checkout, or ``FIRSTLINE_SHARED_EVAL``) and the
``python3.11-doc`` sources; without the shared sets those tests are skipped. A full build takes
well under a second, so the real documentation is used.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import build_hard_sets as builder
import pytest

from bot.language import detect_language
from knowledge.loaders import load_document

SHARED = Path(os.environ.get("FIRSTLINE_SHARED_EVAL", builder.DEFAULT_SHARED))
HAVE_SHARED = (SHARED / "python-faq").is_dir() and (SHARED / "jsquad").is_dir()
HELPDESK = ("helpdesk-en", "helpdesk-ja")
ALL_SETS = builder.SET_NAMES if HAVE_SHARED else HELPDESK
needs_shared = pytest.mark.skipif(not HAVE_SHARED, reason=f"shared eval sets not at {SHARED}")

Question = dict[str, Any]
FIELDS = {"id", "question", "answerable", "gold", "answers", "language", "kind", "fold"}
KINDS = {"answerable", "removed", "out-of-domain", "cross-language", "follow-up"}


def build(out: Path) -> Path:
    """Run the command line into ``out``; fail the test on a non-zero exit."""
    args = [str(out), "--shared", str(SHARED), "--sets", *ALL_SETS]
    assert builder.main(args) == 0
    return out


def questions(root: Path, name: str) -> list[Question]:
    with (root / name / "questions.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def corpus(root: Path, name: str) -> set[str]:
    base = root / name / "corpus"
    return {p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file()}


def normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("**", "").replace("`", ""))


def document_text(root: Path, name: str, gold: str) -> str:
    path = root / name / "corpus" / gold
    return " ".join(s.text for s in load_document(path, gold).sections)


def japanese_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    return sum(detect_language(ch) == "ja" for ch in letters) / max(len(letters), 1)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("hard-sets"))


@pytest.mark.parametrize("name", ALL_SETS)
def test_each_line_has_the_documented_fields(built: Path, name: str) -> None:
    lines = questions(built, name)
    assert len({q["id"] for q in lines}) == len(lines)
    for q in lines:
        assert set(q) >= FIELDS
        assert q["kind"] in KINDS
        assert q["fold"] in (0, 1) and q["language"] in ("en", "ja")
        assert q["answerable"] == (q["gold"] is not None)
        assert q["answerable"] != (q["kind"] in ("removed", "out-of-domain"))
        assert ("removed_gold" in q) == (q["kind"] == "removed")
        assert detect_language(q["question"]) == q["language"]


@pytest.mark.parametrize("name", ALL_SETS)
def test_answerable_golds_are_in_the_corpus_and_removed_ones_are_not(
    built: Path, name: str
) -> None:
    files = corpus(built, name)
    lines = questions(built, name)
    assert all(q["gold"] in files for q in lines if q["answerable"])
    assert all(set(q.get("also", [])) <= files for q in lines)
    removed = {q["removed_gold"] for q in lines if q["kind"] == "removed"}
    assert removed and not removed & files
    listed = re.findall(r"^- `(.+)`$", (built / name / "SET.md").read_text(), re.M)
    assert removed <= set(listed) and not set(listed) & files
    golds = {q["gold"] for q in lines if q["gold"]} | set(listed)
    assert 0.15 <= len(listed) / len(golds) <= 0.25


@pytest.mark.parametrize("name", ALL_SETS)
def test_a_documents_questions_never_straddle_the_folds(built: Path, name: str) -> None:
    folds: dict[str, set[int]] = defaultdict(set)
    lines = questions(built, name)
    for q in lines:
        folds[q["gold"] or q.get("removed_gold") or q["id"]].add(q["fold"])
    assert all(len(f) == 1 for f in folds.values())
    report = sum(q["fold"] for q in lines) / len(lines)
    assert 0.35 <= report <= 0.65
    for kind in ("removed", "answerable"):
        assert {q["fold"] for q in lines if q["kind"] == kind} == {0, 1}


@pytest.mark.parametrize("name", HELPDESK)
def test_helpdesk_sets_meet_the_minimum_counts(built: Path, name: str) -> None:
    kinds = [q["kind"] for q in questions(built, name)]
    assert len(kinds) >= 90
    assert kinds.count("cross-language") >= 20
    assert kinds.count("follow-up") >= 15
    assert kinds.count("out-of-domain") >= 30 and kinds.count("removed") >= 10


@pytest.mark.parametrize("name", ALL_SETS)
def test_follow_ups_carry_a_two_turn_history(built: Path, name: str) -> None:
    follow_ups = [q for q in questions(built, name) if q["kind"] == "follow-up"]
    if name == "jsquad-ref":
        assert not follow_ups
        return
    assert len(follow_ups) >= 15
    for q in follow_ups:
        assert [turn["role"] for turn in q["history"]] == ["user", "assistant"]
        assert all(turn["text"].strip() for turn in q["history"])
        assert q["question"] != q["history"][0]["text"]


@pytest.mark.parametrize("name", HELPDESK)
def test_cross_language_golds_are_written_in_the_other_language(built: Path, name: str) -> None:
    language = name.removeprefix("helpdesk-")
    for q in questions(built, name):
        if not q["answerable"]:
            continue
        share = japanese_share(document_text(built, name, q["gold"]))
        doc_language = "ja" if share > 0.3 else "en"
        assert doc_language == builder.document_language(q["gold"])
        if q["kind"] == "cross-language":
            assert doc_language != language
        elif q["kind"] == "answerable":
            assert doc_language == language


@pytest.mark.parametrize("name", ALL_SETS)
def test_extractive_answers_are_quoted_from_the_gold_document(built: Path, name: str) -> None:
    authored = [q for q in questions(built, name) if q["id"].startswith(("hd-", "pyfaq-fu-"))]
    if name == "jsquad-ref":
        return
    assert authored
    for q in authored:
        if q["answerable"]:
            text = normalised(document_text(built, name, q["gold"]))
            assert all(normalised(a) in text for a in q["answers"]), q["id"]


def test_two_runs_give_identical_files(built: Path, tmp_path: Path) -> None:
    again = build(tmp_path / "again")
    for name in ALL_SETS:
        first = sorted(p.relative_to(built) for p in (built / name).rglob("*") if p.is_file())
        second = sorted(p.relative_to(again) for p in (again / name).rglob("*") if p.is_file())
        assert first == second
        assert all((built / p).read_bytes() == (again / p).read_bytes() for p in first)


@needs_shared
def test_pyfaq_ref_adds_the_reference_manuals_but_not_the_faq_sources(built: Path) -> None:
    files = corpus(built, "pyfaq-ref")
    parts = {path.split("/")[0] for path in files}
    assert parts == {"faq", "howto", "library", "tutorial"}
    assert sum(p.startswith("library/") for p in files) > 250
    assert not any(p.endswith(".rst.txt") for p in files)
    assert all(re.fullmatch(r"faq/[a-z]+-\d{3}\.md", p) for p in files if p.startswith("faq/"))
    assert not (built / "pyfaq-ref" / "corpus").is_symlink()


@needs_shared
def test_jsquad_ref_keeps_at_most_eight_questions_per_article(built: Path) -> None:
    per_article: dict[str, int] = defaultdict(int)
    for q in questions(built, "jsquad-ref"):
        per_article[q["gold"] or q["removed_gold"]] += 1
    assert max(per_article.values()) == builder.JSQUAD_CAP


def test_a_missing_input_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = builder.main([str(tmp_path), "--shared", str(tmp_path / "nowhere")])
    error = capsys.readouterr().err.strip()
    assert code == 2
    assert error.startswith("error: missing input: python-faq set") and "\n" not in error


@needs_shared
def test_pyfaq_ref_never_removes_a_page_the_reference_manuals_answer(built: Path) -> None:
    covered = builder.read_path_list(builder.EVAL / "pyfaq-covered.txt")
    lines = questions(built, "pyfaq-ref")
    assert covered <= {q["gold"] or q["removed_gold"] for q in lines}
    assert not covered & {q["removed_gold"] for q in lines if q["kind"] == "removed"}
