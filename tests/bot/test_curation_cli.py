"""`firstline approved add|list|withdraw` and `firstline gaps` in-process, on a small knowledge
base really indexed (Chroma, both real encoders) and a real SQLite ledger."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from test_cli import isolated, run, write_docs
from test_ledger import make_row

from bot.app.cli import main
from bot.ledger.rows import utcnow
from bot.ledger.store import Ledger
from bot.ledger.traces import make_trace
from knowledge.embeddings import MultilingualUSE


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, slm_path: Path) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("curation")
    with isolated(base, slm_path):
        assert main(["index", str(write_docs(base / "docs")), "--data-dir", "data"]) == 0
    yield base


@pytest.fixture
def env(workdir: Path, slm_path: Path) -> Iterator[Path]:
    with isolated(workdir, slm_path):
        yield workdir


def test_approved_add_list_withdraw(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "approved", "add", "--question", "How do I reset my VPN password?",
                       "--answer", "Use the self-service portal.", "--language", "en",
                       "--owner", "it-desk", "--review-on", "2020-01-01",
                       "--cite", "it/vpn-password-reset.md", "--data-dir", "data")
    assert code == 0 and out.startswith("approved ap-")
    approved_id = out.split()[1]
    code, out, _ = run(capsys, "approved", "list", "--data-dir", "data")
    assert approved_id in out and "DUE FOR REVIEW" in out and "owner=it-desk" in out
    code, out, _ = run(capsys, "approved", "list", "--json", "--data-dir", "data")
    listed = json.loads(out)
    assert listed[0]["cited"][0]["path"] == "it/vpn-password-reset.md"
    assert len(listed[0]["cited"][0]["sha256"]) == 64 and listed[0]["due"] is True
    code, out, _ = run(capsys, "approved", "withdraw", approved_id, "--why", "outdated",
                       "--data-dir", "data")
    assert (code, out.strip()) == (0, f"withdrawn {approved_id}")
    _, out, _ = run(capsys, "approved", "list", "--all", "--data-dir", "data")
    assert "withdrawn (outdated)" in out


@pytest.mark.parametrize("argv, message", [
    (["--cite", "it/nope.md"], "cited document 'it/nope.md' is not indexed"),
    (["--review-on", "soon"], "--review-on: 'soon' is not a date like 2025-06-30"),
])
def test_approved_add_refuses_bad_input_in_one_line(
        env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = run(capsys, "approved", "add", "--question", "Q?", "--answer", "A.",
                         "--language", "en", "--owner", "me", *argv, "--data-dir", "data")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"firstline: {message}")


def test_gaps_groups_unanswered_questions_with_text_logging_off(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    questions = ["How do I get a parking permit?", "How can I get a parking permit for my car?",
                 "Where do I apply for a parking permit?", "What is the wifi password?"]
    encoder = MultilingualUSE()
    vectors = encoder.encode(questions)
    now = utcnow()
    with Ledger(f"sqlite:///{env / 'data' / 'ledger.sqlite3'}",
                keep_question_text=False) as ledger:
        for n, (q, v) in enumerate(zip(questions, vectors, strict=True)):
            at = now - timedelta(hours=n + 1)
            ledger.record(make_row(f"g{n}", created_at=at, route="declined",
                                   reason="weak-evidence", question=q),
                          make_trace(f"g{n}", at, "en", encoder.name, v, q))
    code, out, _ = run(capsys, "gaps", "--since", "7d", "--json", "--data-dir", "data")
    assert code == 0
    gaps = json.loads(out)["gaps"]
    assert len(gaps) == 1  # the single wifi question is below FIRSTLINE_GAPS_MIN_COUNT
    gap = gaps[0]
    assert (gap["count"], gap["previous"], gap["trend"]) == (3, 0, "new")
    assert gap["reasons"] == {"declined": 3} and gap["examples"] == []  # no text kept
    assert "parking" in gap["terms"] and "permit" in gap["terms"]
    assert gap["documents"] and {d["path"] for d in gap["documents"]} <= {
        "it/vpn-password-reset.md", "hr/paid-time-off.md"}
    code, out, _ = run(capsys, "gaps", "--data-dir", "data")
    assert "1. 3 questions (new) [en]" in out and "terms: " in out
    code, _, err = run(capsys, "gaps", "--since", "soon", "--data-dir", "data")
    assert code == 2 and "--since" in err
