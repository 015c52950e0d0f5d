"""Knowledge gaps: which answers count, the greedy grouping, trend and examples, and the admin
chat command."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
from test_ledger import make_row
from unit_parts import ask, make_core

from bot.answering.gaps import GapFinder, gap_reason, group, render_gaps
from bot.ledger.memory import MemoryLedger
from bot.ledger.rows import utcnow
from bot.ledger.traces import make_trace
from bot.types import Route


def unit(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return np.asarray(v / np.linalg.norm(v), dtype=np.float32)


def test_which_answers_are_gaps() -> None:
    assert gap_reason(make_row("a", route="declined", reason="weak-evidence"), 0.5) == "declined"
    assert gap_reason(make_row("a", route="declined", reason="bad-question"), 0.5) is None
    assert gap_reason(make_row("a", route="declined", reason="nothing-indexed"), 0.5) is None
    assert gap_reason(make_row("a", feedback="down"), 0.5) == "voted-down"
    assert gap_reason(make_row("a", signals={"p_right": 0.3}), 0.5) == "low-confidence"
    assert gap_reason(make_row("a", route="cloud", signals={"not_confident": True}), 0.5) == \
        "low-confidence"
    assert gap_reason(make_row("a", signals={"p_right": 0.7}), 0.5) is None
    assert gap_reason(make_row("a"), 0.5) is None
    handed = make_row("a", route="local")
    handed.handed_off_at = handed.created_at
    assert gap_reason(handed, 0.5) == "handed-off"


def test_greedy_grouping_by_running_centroid() -> None:
    vectors = np.stack([unit(1, 0, 0), unit(0.95, 0.1, 0), unit(0, 1, 0), unit(1, 0.05, 0.05),
                        unit(0, 0.97, 0.1), unit(0, 0, 1)])
    assert group(vectors, 0.9) == [0, 0, 1, 0, 1, 2]
    assert group(vectors, 0.9999) == [0, 1, 2, 3, 4, 5]


def add(ledger: MemoryLedger, answer_id: str, hours_ago: float, v: np.ndarray, text: str, *,
        language: str = "en", route: str = "declined", feedback: str | None = None,
        logged: bool = True) -> None:
    at = utcnow() - timedelta(hours=hours_ago)
    ledger.record(make_row(answer_id, created_at=at, route=route, reason="weak-evidence",
                           feedback=feedback, language=language,
                           question=text if logged else None),
                  make_trace(answer_id, at, language, "enc", v, text))


def test_gaps_have_counts_trend_reasons_terms_and_logged_examples_only() -> None:
    ledger = MemoryLedger()
    parking = unit(1, 0, 0)
    add(ledger, "p0", 24 * 10, parking, "parking permit?")  # the week before
    add(ledger, "p1", 5, parking, "How do I get a parking permit?")
    add(ledger, "p2", 4, unit(0.97, 0.1, 0), "parking permit for my car", logged=False)
    add(ledger, "p3", 3, parking, "Where is the parking permit form?", route="local",
        feedback="down")
    add(ledger, "w1", 2, unit(0, 1, 0), "wifi?")  # one question only: below the minimum
    add(ledger, "j1", 2, unit(1, 0, 0), "駐車許可証の申請方法は？", language="ja")
    add(ledger, "j2", 1, unit(1, 0.02, 0), "駐車許可証はどこで申請しますか？", language="ja")
    add(ledger, "ok", 1, parking, "answered fine", route="local")  # not a gap
    finder = GapFinder(ledger, None, similarity=0.9, low_confidence=0.5, min_count=2)
    gaps = finder.find(utcnow() - timedelta(days=7))
    assert [(g.language, g.count, g.previous, g.trend) for g in gaps] == [
        ("en", 3, 1, "up"), ("ja", 2, 0, "new")]
    en = gaps[0].as_dict()
    assert en["reasons"] == {"declined": 2, "voted-down": 1}  # the period's own
    assert en["examples"] == ["Where is the parking permit form?",
                              "How do I get a parking permit?"]  # logged, of the period
    assert en["terms"][:2] == ["parking", "permit"] and "ok" not in en["answer_ids"]
    text = render_gaps(gaps, utcnow() - timedelta(days=7))
    assert "1. 3 questions (up from 1) [en] · terms: parking, permit" in text
    assert "前期間 1 件から増加" in render_gaps(gaps, utcnow(), ja=True)


async def test_the_gaps_command_is_for_admins_and_reads_the_ledger(tmp_path: Path) -> None:
    ledger = MemoryLedger()
    core = make_core(tmp_path, ledger=ledger, hits=[])  # no evidence: every question declined
    for q in ("How do I get a parking permit?", "How do I get a parking permit for my car?",
              "how do i get a parking permit"):
        assert (await ask(core, q)).route is Route.DECLINED
    refused = await ask(core, "gaps")
    assert refused.reason == "not-admin"
    got = await ask(core, "gaps 7d", is_admin=True)
    assert got.route is Route.COMMAND and got.reason == "gaps"
    assert "3 questions (new) [en]" in got.text and "parking" in got.text
    ja = await ask(core, "ギャップ", is_admin=True, language="ja")
    assert "知識のギャップ" in ja.text
