"""The ledger's reads for the admin console (tallies, latency quantiles, a page of the latest
answers) give the same results in memory, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from test_ledger import JST, database_url

from bot.ledger.memory import MemoryLedger
from bot.ledger.roles import AnswerLog
from bot.ledger.rows import LedgerRow
from bot.ledger.store import Ledger
from bot.ledger.tally import ModelTokens, Tally, quantiles

START = datetime(2024, 5, 1, 12, tzinfo=UTC)


def row(n: int, when: datetime, route: str = "local", vote: str | None = None,
        models: tuple[str, ...] = ("slm",), cost: float = 0.0,
        tokens: dict[str, dict[str, int]] | None = None) -> LedgerRow:
    return LedgerRow(f"a{n:03d}", when, "slack", "u", f"c{n}", route, "r", {}, list(models),
                     tokens or {}, 10.0 * n, cost, 0.001, [], feedback=vote)


def used(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt": prompt, "completion": completion}


ESCALATED = {"slm": used(900, 100), "gpt": used(1000, 200)}  # the local draft, then the cloud
ROWS = [row(1, START, tokens={"slm": used(50, 5)}),
        row(2, START + timedelta(minutes=1), vote="up", tokens={"slm": used(60, 6)}),
        row(3, START + timedelta(hours=11, minutes=30), "cloud", "down", ("slm", "gpt"), 0.002,
            ESCALATED),
        row(4, datetime(2024, 5, 2, 8, 30, tzinfo=JST), "declined"),  # 23:30 UTC on May 1
        row(5, START + timedelta(days=1), "cloud", None, ("gpt",), 0.003)]


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def answers(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[AnswerLog]:
    if request.param == "memory":
        ledger: AnswerLog = MemoryLedger()
        for r in ROWS:
            ledger.record(r)
        yield ledger
        return
    with database_url(request.param, tmp_path) as url, Ledger(url) as opened:
        for r in ROWS:
            opened.record(r)
        yield opened


def test_tallies_sum_per_utc_day_route_models_and_vote(answers: AnswerLog) -> None:
    got = sorted(answers.tallies(), key=lambda t: (t.day, t.route, t.feedback or ""))
    assert [(t.day, t.route, t.models, t.feedback, t.handed_off, t.answers) for t in got] == [
        ("2024-05-01", "cloud", ("slm", "gpt"), "down", False, 1),
        ("2024-05-01", "declined", ("slm",), None, False, 1),
        ("2024-05-01", "local", ("slm",), None, False, 1),
        ("2024-05-01", "local", ("slm",), "up", False, 1),
        ("2024-05-02", "cloud", ("gpt",), None, False, 1)]
    assert sum(t.cost_usd for t in got) == pytest.approx(0.005)
    assert sum(t.latency_ms for t in got) == pytest.approx(150.0)
    later = answers.tallies(START + timedelta(hours=11))  # 23:30 UTC twice, then May 2
    assert sorted((t.day, t.route) for t in later) == [
        ("2024-05-01", "cloud"), ("2024-05-01", "declined"), ("2024-05-02", "cloud")]
    assert isinstance(later[0], Tally)


def test_tallies_sum_each_models_tokens(answers: AnswerLog) -> None:
    answers.record(row(6, START + timedelta(hours=11, minutes=40), "cloud", "down",
                       ("slm", "gpt"), 0.002, {"slm": used(1, 2), "gpt": {"prompt": 3}}))
    got = {(t.day, t.route, t.feedback): t for t in answers.tallies()}
    escalated = got["2024-05-01", "cloud", "down"]
    assert escalated.tokens == (ModelTokens("gpt", 1003, 200), ModelTokens("slm", 901, 102))
    assert (escalated.prompt_tokens, escalated.completion_tokens) == (1904, 302)
    assert got["2024-05-01", "local", "up"].tokens == (ModelTokens("slm", 60, 6),)
    assert got["2024-05-01", "declined", None].tokens == ()  # no tokens recorded
    assert sum(t.prompt_tokens for t in answers.tallies(START + timedelta(minutes=1))) == 1964
    assert {t.tokens for t in answers.tallies(tokens=False)} == {()}  # (the overview's read)


def test_tallies_count_answers_handed_off_to_a_person(answers: AnswerLog) -> None:
    assert answers.claim_handoff("a001", "webhook") == "claimed"  # type: ignore[attr-defined]
    handed = [(t.route, t.feedback, t.answers) for t in answers.tallies() if t.handed_off]
    assert handed == [("local", None, 1)]
    assert sum(t.answers for t in answers.tallies() if not t.handed_off) == len(ROWS) - 1


def test_latency_quantiles_are_nearest_rank(answers: AnswerLog) -> None:
    assert answers.latency_quantiles((0.5, 0.95)) == [30.0, 50.0]
    assert answers.latency_quantiles((0.5,), START + timedelta(days=3)) == [0.0]
    assert quantiles([10.0, 20.0, 30.0, 40.0], (0.5, 0.95)) == [20.0, 40.0]


def test_latest_pages_newest_first_with_filters(answers: AnswerLog) -> None:
    assert [r.answer_id for r in answers.latest(2)] == ["a005", "a004"]
    assert [r.answer_id for r in answers.latest(2, 2)] == ["a003", "a002"]
    assert [r.answer_id for r in answers.latest(9, route="cloud")] == ["a005", "a003"]
    assert [r.answer_id for r in answers.latest(9, feedback="down")] == ["a003"]
    assert [r.answer_id for r in answers.latest(9, feedback="none")] == ["a005", "a004", "a001"]
