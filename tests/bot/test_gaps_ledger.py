"""Question traces and approved answers in the ledger: in memory and on SQLite and PostgreSQL
(``FIRSTLINE_TEST_POSTGRES_URL``), with the same rules."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from test_ledger import database_url, make_row

from bot.ledger.approved import Approved, CitedDocument
from bot.ledger.memory import MemoryLedger
from bot.ledger.schema import answers, question_traces
from bot.ledger.store import Ledger
from bot.ledger.traces import key_terms, make_trace, pack

T0 = datetime(2024, 5, 1, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryLedger()
        return
    with database_url(request.param, tmp_path) as url, Ledger(url) as opened:
        yield opened


def vector(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return np.asarray(v / np.linalg.norm(v), dtype=np.float32)


def test_a_trace_is_written_with_its_row_and_read_back_joined(ledger: Any) -> None:
    row = make_row("a1", created_at=T0, route="declined", question=None)
    trace = make_trace("a1", T0, "en", "use-v3", vector(3, 4), "How do I reset my VPN password?")
    ledger.record(row, trace)
    ledger.record(make_row("a2", created_at=T0 + timedelta(hours=1)))  # no trace (a command)
    traced = ledger.traced()
    assert [t.row.answer_id for t in traced] == ["a1"]
    got = traced[0]
    assert got.row.route == "declined" and got.row.question is None
    assert got.trace == trace and got.trace.terms == ("password", "reset", "vpn")
    assert np.allclose(got.trace.array(), [0.6, 0.8], atol=1e-3)
    assert ledger.traced(since=T0 + timedelta(minutes=1)) == []


def test_key_terms_are_the_lexical_indexs_content_terms() -> None:
    assert key_terms("How do I reset my VPN password?") == ("password", "reset", "vpn")
    # CJK bigrams without kana ("締め" has one)
    assert key_terms("経費精算の締め切りはいつですか？") == tuple(sorted({"経費", "費精", "精算"}))
    assert len(pack(vector(1, 2, 3))) == 6  # float16: two bytes a dimension


def test_the_row_and_its_trace_are_one_transaction(tmp_path: Any) -> None:
    """A trace that cannot be written (its answer id is taken) takes the row with it: never a
    row without its trace or a trace without its row from one write."""
    with Ledger(f"sqlite:///{tmp_path / 'l.sqlite3'}") as ledger:
        ledger.record(make_row("a1"), make_trace("a1", T0, "en", "m", vector(1, 0), "VPN"))
        engine = ledger._engine
        with engine.begin() as conn:
            conn.execute(answers.delete().where(answers.c.answer_id == "a1"))
        with pytest.raises(sa.exc.IntegrityError):  # the trace of a1 is still there
            ledger.record(make_row("a1"), make_trace("a1", T0, "en", "m", vector(1, 0), "VPN"))
        assert ledger.get("a1") is None
        with engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(question_traces)) == 1


def item(approved_id: str, **changes: Any) -> Approved:
    base = Approved(approved_id, "How do I reset my VPN password?", "Open the VPN portal.", "en",
                    "it-desk", date(2025, 1, 31),
                    (CitedDocument("it/vpn.md", "ab" * 32, "VPN"),), (), "use-v3",
                    pack(vector(1, 0)), (), created_at=T0, updated_at=T0, origin="cli")
    return replace(base, **changes)


def test_approved_answers_round_trip_and_are_listed_newest_first(ledger: Any) -> None:
    first = item("ap-1")
    second = item("ap-2", question="育児休業はいつまで？", language="ja", cited=(),
                  audience=("hr",), marks=("休", "育"), review_on=None,
                  created_at=T0 + timedelta(days=1))
    ledger.add_approved(first)
    ledger.add_approved(second)
    assert ledger.approved("ap-1") == first and ledger.approved("ap-2") == second
    assert [a.id for a in ledger.approved_list()] == ["ap-2", "ap-1"]
    assert ledger.approved("ap-9") is None
    with pytest.raises(Exception):  # noqa: B017 - IntegrityError on SQL, ValueError in memory
        ledger.add_approved(first)


def test_an_approved_answer_is_saved_withdrawn_and_filtered_by_status(ledger: Any) -> None:
    ledger.add_approved(item("ap-1"))
    ledger.add_approved(item("ap-2"))
    gone = replace(item("ap-1"), status="withdrawn", withdrawn_reason="cited document changed")
    assert ledger.save_approved(gone)
    assert not ledger.save_approved(item("ap-3"))
    assert [a.id for a in ledger.approved_list("active")] == ["ap-2"]
    assert ledger.approved_list("withdrawn") == [gone]
