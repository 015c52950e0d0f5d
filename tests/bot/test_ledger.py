"""The cost ledger against real databases: SQLite always, PostgreSQL when configured.

Set ``FIRSTLINE_TEST_POSTGRES_URL=postgresql+psycopg://user:password@host/db`` to run every test
here against PostgreSQL too (deploy/test-services.sh starts one on loopback). Each
PostgreSQL test works in a fresh schema that is dropped afterwards. Concurrency tests use real
threads and real (spawned) processes.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from bot.ledger.memory import MemoryLedger
from bot.ledger.roles import Inbox
from bot.ledger.rows import LedgerRow, hash_user
from bot.ledger.schema import (
    MIGRATIONS,
    answers,
    create_ledger_engine,
    events,
    m001_initial,
    migrate,
    pending,
    schema_migrations,
)
from bot.ledger.store import Ledger
from bot.settings import Settings
from bot.types import Route

POSTGRES_ENV = "FIRSTLINE_TEST_POSTGRES_URL"
JST = timezone(timedelta(hours=9))
DAY1 = datetime(2024, 5, 1, tzinfo=UTC)
DAY2 = datetime(2024, 5, 2, tzinfo=UTC)


@contextmanager
def database_url(kind: str, tmp_path: Any) -> Iterator[str]:
    """URL of an empty ledger database: a SQLite file, or a fresh PostgreSQL schema."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"PostgreSQL not configured: set {POSTGRES_ENV}=postgresql+psycopg://"
                    "user:password@host/db (see deploy/test-services.sh)")
    schema = f"ledger_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    with Ledger(ledger_url) as opened:
        yield opened


def make_row(answer_id: str, **changes: Any) -> LedgerRow:
    row = LedgerRow(
        answer_id=answer_id, created_at=datetime.now(UTC), channel="slack",
        user_hash=hash_user("U123", "salt"), conversation="C1:1715000000.0001",
        route="local", reason="retrieval confident", signals={"top_score": 0.82},
        models=["qwen-0.5b"], tokens={"qwen-0.5b": {"prompt": 900, "completion": 80}},
        latency_ms=1234.5, cost_usd=0.00003, all_cloud_cost_usd=0.000183,
        sources=[{"path": "it/vpn.md", "title": "VPN", "score": 0.82}],
    )
    return replace(row, **changes)


# --- spawned worker processes (top level so that spawn can import them) -----------------------
def _write_rows(url: str, start: Any, results: Any, prefix: str, count: int) -> None:
    start.wait(timeout=60)
    with Ledger(url) as ledger:  # every process migrates at the same moment, then writes
        for i in range(count):
            ledger.record(make_row(f"{prefix}-{i:03d}"))
    results.put(prefix)


def _claim(url: str, start: Any, results: Any, owner: str, keys: list[str]) -> None:
    with Ledger(url) as ledger:
        start.wait(timeout=60)
        won = [key for key in keys if ledger.claim_event(key)]
        locked = ledger.acquire_lock("reindex", owner, ttl_seconds=60)
    results.put((owner, won, locked))


def in_processes(
    target: Callable[..., None], url: str, per_process: list[tuple[Any, ...]]
) -> list[Any]:
    """Run ``target(url, barrier, queue, *args)`` in one spawned process per args tuple."""
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Barrier(len(per_process)), ctx.SimpleQueue()
    procs = [ctx.Process(target=target, args=(url, start, results, *args)) for args in per_process]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0] * len(procs)
    return [results.get() for _ in procs]


# --- schema and migrations ------------------------------------------------------------------
def test_migrations_are_recorded_once_and_idempotent(ledger_url: str) -> None:
    Ledger(ledger_url).close()
    Ledger(ledger_url).close()
    engine = create_ledger_engine(ledger_url)
    try:
        assert migrate(engine) == []
        with engine.connect() as conn:
            names = list(conn.scalars(sa.select(schema_migrations.c.name)))
            applied_at = conn.scalar(sa.select(schema_migrations.c.applied_at))
        inspector = sa.inspect(engine)
        columns = [c["name"] for c in inspector.get_columns("answers")]
        indexed = [i["column_names"] for i in inspector.get_indexes("answers")]
    finally:
        engine.dispose()
    assert names == [m.__name__ for m in MIGRATIONS] == [
        "m001_initial", "m002_pending_questions", "m003_gaps_and_approved", "m004_handoff"]
    assert applied_at is not None and applied_at.tzinfo is not None
    assert columns == [f.name for f in fields(LedgerRow)] == list(answers.c.keys())
    assert ["created_at"] in indexed


def test_a_failing_migration_rolls_back_everything(ledger_url: str) -> None:
    def m002_broken(conn: sa.Connection) -> None:
        conn.execute(sa.text("CREATE TABLE scratch (x INTEGER)"))
        raise RuntimeError("boom")

    engine = create_ledger_engine(ledger_url)
    try:
        with pytest.raises(RuntimeError):
            migrate(engine, [m001_initial, m002_broken])
        assert sa.inspect(engine).get_table_names() == []  # DDL is transactional, SQLite too
        assert migrate(engine) == ["m001_initial", "m002_pending_questions",
                                   "m003_gaps_and_approved", "m004_handoff"]
    finally:
        engine.dispose()


def test_a_new_migration_is_applied_alone_and_in_order(ledger_url: str) -> None:
    def m002_add_team(conn: sa.Connection) -> None:
        conn.execute(sa.text("ALTER TABLE answers ADD COLUMN team TEXT"))

    Ledger(ledger_url).close()
    engine = create_ledger_engine(ledger_url)
    try:
        assert migrate(engine, [m001_initial, m002_add_team]) == ["m002_add_team"]
        assert migrate(engine, [m001_initial, m002_add_team]) == []
        with engine.connect() as conn:
            names = list(conn.scalars(sa.select(schema_migrations.c.name)
                                      .order_by(schema_migrations.c.applied_at)))
        assert "team" in [c["name"] for c in sa.inspect(engine).get_columns("answers")]
    finally:
        engine.dispose()
    assert names == [*(m.__name__ for m in MIGRATIONS), "m002_add_team"]


# --- one row per answer -----------------------------------------------------------------------
def test_a_row_round_trips_unchanged(ledger: Ledger) -> None:
    row = make_row("a1", question="How do I reset my VPN?", language="ja", error=None,
                   signals={"top_score": 0.82, "nested": {"k": [1, 2]}, "note": "日本語"})
    ledger.record(row)
    assert ledger.get("a1") == row
    assert ledger.get("missing") is None


def test_every_route_writes_exactly_one_row(ledger: Ledger) -> None:
    for route in Route:
        ledger.record(make_row(f"r-{route.value}", route=route, models=[], tokens={},
                               error="ab12cd34" if route is Route.FAILED else None))
    stored = ledger.rows()
    assert sorted(r.route for r in stored) == sorted(r.value for r in Route)
    assert next(r for r in stored if r.route == "failed").error == "ab12cd34"


def test_recording_the_same_answer_twice_fails_and_keeps_one_row(ledger: Ledger) -> None:
    ledger.record(make_row("dup"))
    with pytest.raises(sa.exc.IntegrityError):
        ledger.record(make_row("dup", route="cloud"))
    assert [r.route for r in ledger.rows()] == ["local"]


def test_times_are_stored_as_utc(ledger: Ledger) -> None:
    ledger.record(make_row("tokyo", created_at=datetime(2024, 5, 2, 9, 30, tzinfo=JST)))
    ledger.record(make_row("naive", created_at=datetime(2024, 5, 2, 0, 45)))
    stored = {r.answer_id: r.created_at for r in ledger.rows()}
    assert stored["tokyo"] == datetime(2024, 5, 2, 0, 30, tzinfo=UTC)
    assert stored["naive"] == datetime(2024, 5, 2, 0, 45, tzinfo=UTC)
    assert all(t.tzinfo == UTC for t in stored.values())


def test_rows_window_is_half_open(ledger: Ledger) -> None:
    for hour in (0, 6, 12, 18):
        ledger.record(make_row(f"h{hour}", created_at=DAY1 + timedelta(hours=hour)))
    window = ledger.rows(since=DAY1 + timedelta(hours=6), until=DAY1 + timedelta(hours=18))
    assert [r.answer_id for r in window] == ["h6", "h12"]
    assert [r.answer_id for r in ledger.rows(since=DAY1 + timedelta(hours=12))] == ["h12", "h18"]


def test_question_text_is_dropped_unless_kept(ledger_url: str) -> None:
    with Ledger(ledger_url, keep_question_text=False) as ledger:
        ledger.record(make_row("q", question="my password is hunter2"))
        assert ledger.get("q").question is None  # type: ignore[union-attr]


def test_from_settings_uses_the_data_dir_and_the_privacy_default(tmp_path: Any) -> None:
    settings = Settings().replace(data_dir=tmp_path / "not" / "yet")
    with Ledger.from_settings(settings) as ledger:
        ledger.record(make_row("q", question="secret"))
        assert ledger.get("q").question is None  # type: ignore[union-attr]
    assert (tmp_path / "not" / "yet" / "ledger.sqlite3").is_file()


def test_hash_user_is_short_stable_and_salted() -> None:
    assert hash_user("U123") == hash_user("U123")
    assert len(hash_user("U123")) == 16 and int(hash_user("U123"), 16) >= 0
    assert hash_user("U123", "a") != hash_user("U123", "b") != hash_user("U124", "b")
    assert "U123" not in hash_user("U123")


# --- feedback ---------------------------------------------------------------------------------
def test_feedback_later_vote_wins(ledger: Ledger) -> None:
    ledger.record(make_row("a1"))
    before = datetime.now(UTC)
    assert ledger.set_feedback("a1", "up") is True
    assert ledger.set_feedback("a1", "down", "wrong VPN client") is True
    row = ledger.get("a1")
    assert row is not None
    assert (row.feedback, row.feedback_reason) == ("down", "wrong VPN client")
    assert row.feedback_at is not None and row.feedback_at >= before - timedelta(seconds=1)
    assert ledger.set_feedback("no-such-answer", "up") is False
    with pytest.raises(ValueError):
        ledger.set_feedback("a1", "meh")  # type: ignore[arg-type]


# --- spend and summaries ----------------------------------------------------------------------
def test_cloud_spend_counts_only_cloud_answers_since(ledger: Ledger) -> None:
    ledger.record(make_row("c0", route="cloud", cost_usd=0.01, created_at=DAY1))
    ledger.record(make_row("c1", route="cloud", cost_usd=0.02, created_at=DAY2))
    ledger.record(make_row("l1", route="local", cost_usd=0.005, created_at=DAY2))
    ledger.record(make_row("f1", route="local-fallback", cost_usd=0.004, created_at=DAY2))
    assert ledger.cloud_spend(DAY2) == pytest.approx(0.02)
    assert ledger.cloud_spend(DAY1) == pytest.approx(0.03)
    assert ledger.cloud_spend(DAY2 + timedelta(days=1)) == 0.0


def _tok(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt": prompt, "completion": completion}


@pytest.fixture
def five_answers(ledger: Ledger) -> Ledger:
    """Two days of answers; the expectations below are computed by hand from this table."""
    rows = [  # id, created, channel, route, models, tokens, latency, cost, all-cloud, vote
        ("r1", DAY1 + timedelta(hours=10), "slack", "local", ["slm"],
         {"slm": _tok(1000, 100)}, 1000.0, 0.001, 0.01, "up"),
        ("r2", DAY1 + timedelta(hours=11), "slack", "cloud", ["slm", "gpt"],
         {"slm": _tok(500, 50), "gpt": _tok(2000, 200)}, 3000.0, 0.02, 0.02, "down"),
        # 01:00 in Tokyo on May 2nd is still May 1st in UTC
        ("r3", datetime(2024, 5, 2, 1, 0, tzinfo=JST), "teams", "cache", [],
         {}, 10.0, 0.0, 0.01, None),
        ("r4", DAY2 + timedelta(hours=9), "teams", "cloud", ["gpt"],
         {"gpt": _tok(1000, 100)}, 2000.0, 0.01, 0.01, "up"),
        ("r5", DAY2 + timedelta(hours=15), "cli", "local", ["slm"],
         {"slm": _tok(3000, 300)}, 1500.0, 0.003, 0.03, None),
    ]
    for aid, created, channel, route, models, tokens, latency, cost, cloud, vote in rows:
        ledger.record(make_row(aid, created_at=created, channel=channel, route=route,
                               models=models, tokens=tokens, latency_ms=latency,
                               cost_usd=cost, all_cloud_cost_usd=cloud))
        if vote:
            ledger.set_feedback(aid, "up" if vote == "up" else "down")
    return ledger


def expected(key: str, answers: int, escalated: int, cost: float, cloud: float, prompt: int,
             completion: int, p50: float, up: int, down: int) -> dict[str, Any]:
    saving = cloud - cost
    return {
        "key": key, "answers": answers, "escalated": escalated,
        "escalated_share": pytest.approx(escalated / answers), "cost_usd": pytest.approx(cost),
        "all_cloud_cost_usd": pytest.approx(cloud), "saving_usd": pytest.approx(saving),
        "saving_share": pytest.approx(saving / cloud), "prompt_tokens": prompt,
        "completion_tokens": completion, "p50_latency_ms": pytest.approx(p50),
        "thumbs_up": up, "thumbs_down": down,
    }


def test_summary_total(five_answers: Ledger) -> None:
    assert five_answers.summary() == [
        expected("total", 5, 2, 0.034, 0.08, 7500, 750, 1500.0, 2, 1)]
    total = five_answers.summary()[0]
    assert total["saving_usd"] == pytest.approx(0.046)
    assert total["saving_share"] == pytest.approx(0.575)
    assert total["escalated_share"] == pytest.approx(0.4)


def test_summary_by_day_uses_utc_days(five_answers: Ledger) -> None:
    assert five_answers.summary(by="day") == [
        expected("2024-05-01", 3, 1, 0.021, 0.04, 3500, 350, 1000.0, 1, 1),
        expected("2024-05-02", 2, 1, 0.013, 0.04, 4000, 400, 1750.0, 1, 0),
    ]


def test_summary_by_route(five_answers: Ledger) -> None:
    assert five_answers.summary(by="route") == [
        expected("cloud", 2, 2, 0.03, 0.03, 3500, 350, 2500.0, 1, 1),
        expected("local", 2, 0, 0.004, 0.04, 4000, 400, 1250.0, 1, 0),
        expected("cache", 1, 0, 0.0, 0.01, 0, 0, 10.0, 0, 0),
    ]


def test_summary_by_channel(five_answers: Ledger) -> None:
    assert five_answers.summary(by="channel") == [
        expected("slack", 2, 1, 0.021, 0.03, 3500, 350, 2000.0, 1, 1),
        expected("teams", 2, 1, 0.01, 0.02, 1000, 100, 1005.0, 1, 0),
        expected("cli", 1, 0, 0.003, 0.03, 3000, 300, 1500.0, 0, 0),
    ]


def test_summary_by_model_counts_a_row_for_each_model(five_answers: Ledger) -> None:
    assert five_answers.summary(by="model") == [
        expected("slm", 3, 1, 0.024, 0.06, 4500, 450, 1500.0, 1, 1),
        expected("gpt", 2, 2, 0.03, 0.03, 3000, 300, 2500.0, 1, 1),
        expected("(none)", 1, 0, 0.0, 0.01, 0, 0, 10.0, 0, 0),
    ]


def test_summary_window_and_empty_results(five_answers: Ledger) -> None:
    assert five_answers.summary(since=DAY2) == [
        expected("total", 2, 1, 0.013, 0.04, 4000, 400, 1750.0, 1, 0)]
    empty = five_answers.summary(since=DAY2 + timedelta(days=1))
    assert [(r["key"], r["answers"], r["saving_share"], r["p50_latency_ms"]) for r in empty] \
        == [("total", 0, 0.0, 0.0)]
    assert five_answers.summary(since=DAY2 + timedelta(days=1), by="route") == []
    with pytest.raises(ValueError):
        five_answers.summary(by="user")


# --- concurrency ------------------------------------------------------------------------------
def test_eight_threads_lose_no_row(ledger: Ledger) -> None:
    start = threading.Barrier(8)

    def write(thread: int) -> None:
        start.wait(timeout=30)
        for i in range(50):
            ledger.record(make_row(f"t{thread}-{i:03d}"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(8)))
    assert len({r.answer_id for r in ledger.rows()}) == 400


def test_four_processes_migrate_together_and_lose_no_row(ledger_url: str) -> None:
    done = in_processes(_write_rows, ledger_url, [(f"p{n}", 50) for n in range(4)])
    assert sorted(done) == ["p0", "p1", "p2", "p3"]
    with Ledger(ledger_url) as ledger:
        stored = [r.answer_id for r in ledger.rows()]
    engine = create_ledger_engine(ledger_url)
    try:
        with engine.connect() as conn:
            names = list(conn.scalars(sa.select(schema_migrations.c.name)))
    finally:
        engine.dispose()
    assert len(stored) == len(set(stored)) == 200
    assert names == [m.__name__ for m in MIGRATIONS]


# --- event claims and locks ---------------------------------------------------------------------
def test_an_event_is_claimed_once(ledger: Ledger) -> None:
    assert ledger.claim_event("Ev01") is True
    assert ledger.claim_event("Ev01") is False
    assert ledger.claim_event("Ev02") is True


def test_each_event_is_claimed_by_exactly_one_process(ledger_url: str) -> None:
    keys = [f"Ev{i:02d}" for i in range(25)]
    outcomes = in_processes(_claim, ledger_url, [(f"p{n}", keys) for n in range(4)])
    won = sorted(key for _, keys_won, _ in outcomes for key in keys_won)
    assert won == keys
    assert sum(locked for _, _, locked in outcomes) == 1  # one reindex lock holder


def test_claimed_events_are_purged_after_a_day(ledger_url: str) -> None:
    with Ledger(ledger_url) as ledger:
        assert ledger.claim_event("old") is True
        engine = create_ledger_engine(ledger_url)
        try:
            with engine.begin() as conn:
                conn.execute(events.update().where(events.c.key == "old")
                             .values(claimed_at=datetime.now(UTC) - timedelta(days=1, minutes=1)))
        finally:
            engine.dispose()
        assert ledger.claim_event("new") is True  # purges "old"
        assert ledger.claim_event("old") is True
        assert ledger.claim_event("new") is False


def test_lock_acquire_release_and_expiry(ledger: Ledger) -> None:
    assert ledger.acquire_lock("reindex", "alice", ttl_seconds=60) is True
    assert ledger.acquire_lock("reindex", "bob", ttl_seconds=60) is False
    assert ledger.acquire_lock("reindex", "alice", ttl_seconds=60) is True  # owner extends
    assert ledger.acquire_lock("other", "bob", ttl_seconds=60) is True  # locks are by name
    ledger.release_lock("reindex", "bob")  # not bob's: no effect
    assert ledger.acquire_lock("reindex", "bob", ttl_seconds=60) is False
    ledger.release_lock("reindex", "alice")
    assert ledger.acquire_lock("reindex", "bob", ttl_seconds=0.2) is True
    time.sleep(0.4)
    assert ledger.acquire_lock("reindex", "carol", ttl_seconds=60) is True  # bob's expired
    ledger.release_lock("reindex", "bob")  # bob was taken over: carol keeps the lock
    assert ledger.acquire_lock("reindex", "bob", ttl_seconds=60) is False


# --- pending questions (the Inbox role) ---------------------------------------------------------
SLACK_QUESTION = {"channel": "C1", "thread_ts": "1.0001", "user": "U123", "text": "VPN?"}


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def inbox(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Inbox]:
    """The Inbox role in memory (the unit tests' fake) and on each SQL database."""
    if request.param == "memory":
        yield MemoryLedger()
        return
    with database_url(request.param, tmp_path) as url, Ledger(url) as opened:
        yield opened


def test_a_question_is_claimed_once_while_its_lease_lives(inbox: Inbox) -> None:
    first = inbox.claim_question("C1:1.0002", "slack", SLACK_QUESTION, "a", 60)
    assert first is not None and (first.payload, first.attempts) == (SLACK_QUESTION, 1)
    assert inbox.claim_question("C1:1.0002", "slack", SLACK_QUESTION, "b", 60) is None
    assert inbox.take_expired("b", 60) == []
    inbox.finish_question("C1:1.0002", "answer-1")
    assert inbox.claim_question("C1:1.0002", "slack", SLACK_QUESTION, "b", 0) is None
    assert inbox.take_expired("b", 60) == []  # answered: nothing left to sweep


def test_a_redelivery_after_the_lease_expired_takes_the_question_over(inbox: Inbox) -> None:
    assert inbox.claim_question("k", "slack", SLACK_QUESTION, "dead", 0) is not None
    inbox.update_question("k", "dead", {**SLACK_QUESTION, "placeholder_ts": "1.0003"})
    again = inbox.claim_question("k", "slack", {"as": "redelivered"}, "alive", 60)
    assert again is not None and again.attempts == 2
    assert again.payload == {**SLACK_QUESTION, "placeholder_ts": "1.0003"}  # as stored
    assert inbox.claim_question("k", "slack", SLACK_QUESTION, "third", 60) is None
    assert inbox.renew_question("k", "dead", 60) is False  # no longer the dead one's
    assert inbox.renew_question("k", "alive", 0) is True
    [taken] = inbox.take_expired("sweeper", 60)
    assert (taken.key, taken.channel, taken.attempts) == ("k", "slack", 3)


def test_a_sweep_takes_expired_questions_oldest_first_once(inbox: Inbox) -> None:
    for n in range(3):
        inbox.claim_question(f"k{n}", "teams", {"n": n, "text": "有給休暇は?"}, "dead", 0)
    inbox.claim_question("live", "slack", SLACK_QUESTION, "alive", 60)
    taken = inbox.take_expired("sweeper", 60, limit=2)
    assert [(q.key, q.payload["n"], q.attempts) for q in taken] == [("k0", 0, 2), ("k1", 1, 2)]
    assert inbox.take_expired("other", 60, channels=("slack",)) == []
    assert [q.key for q in inbox.take_expired("other", 60, channels=("teams",))] == ["k2"]
    assert inbox.take_expired("other", 60) == []
    assert taken[0].payload["text"] == "有給休暇は?" and taken[0].created_at.tzinfo is not None


def test_only_the_owner_renews_or_updates_a_question(inbox: Inbox) -> None:
    inbox.claim_question("k", "slack", SLACK_QUESTION, "a", 0)
    assert inbox.update_question("k", "b", {"x": 1}) is False
    assert inbox.update_question("k", "a", {**SLACK_QUESTION, "placeholder_ts": "1.0003"})
    assert inbox.renew_question("k", "b", 60) is False
    [taken] = inbox.take_expired("b", 60)
    assert taken.payload["placeholder_ts"] == "1.0003"
    assert inbox.update_question("k", "a", {}) is False and inbox.renew_question("k", "b", 60)


def test_finishing_a_question_deletes_its_text_and_marks_the_claim(ledger_url: str) -> None:
    with Ledger(ledger_url) as ledger:
        ledger.claim_question("k", "slack", SLACK_QUESTION, "a", 60)
        ledger.finish_question("k", "answer-7")
    engine = create_ledger_engine(ledger_url)
    try:
        with engine.connect() as conn:
            left = conn.execute(sa.select(pending)).all()
            marked = conn.scalar(sa.select(events.c.answer_id).where(events.c.key == "k"))
    finally:
        engine.dispose()
    assert left == [] and marked == "answer-7"


def _sweep(url: str, start: Any, results: Any, owner: str) -> None:
    with Ledger(url) as ledger:
        start.wait(timeout=60)
        taken = []
        for _ in range(10):
            taken += [q.key for q in ledger.take_expired(owner, 600, limit=3)]
    results.put(taken)


def test_replicas_sweeping_together_take_each_question_once(ledger_url: str) -> None:
    keys = [f"q{n:02d}" for n in range(25)]
    with Ledger(ledger_url) as ledger:
        for key in keys:
            ledger.claim_question(key, "slack", SLACK_QUESTION, "crashed", 0)
    swept = in_processes(_sweep, ledger_url, [(f"p{n}",) for n in range(4)])
    assert sorted(key for taken in swept for key in taken) == keys


def _claim_questions(url: str, start: Any, results: Any, owner: str, keys: list[str]) -> None:
    with Ledger(url) as ledger:
        start.wait(timeout=60)
        results.put([k for k in keys if ledger.claim_question(k, "slack", {}, owner, 600)])


def test_each_question_is_claimed_by_exactly_one_process(ledger_url: str) -> None:
    keys = [f"C1:{n:02d}.000" for n in range(25)]
    won = in_processes(_claim_questions, ledger_url, [(f"p{n}", keys) for n in range(4)])
    assert sorted(key for keys_won in won for key in keys_won) == keys


def test_a_renewed_reindex_lock_is_not_taken_over(ledger: Ledger) -> None:
    assert ledger.acquire_lock("reindex", "runner", ttl_seconds=0.3)
    for _ in range(4):  # what keep_lease does while the reindex runs
        time.sleep(0.15)
        assert ledger.acquire_lock("reindex", "runner", ttl_seconds=0.3)
        assert ledger.acquire_lock("reindex", "other", ttl_seconds=60) is False


# --- hand-offs (m004_handoff) ---------------------------------------------------------------------
def test_an_answer_is_handed_off_once_and_linked_to_its_helpdesk_thread(ledger: Ledger) -> None:
    ledger.record(make_row("h1"))
    assert ledger.claim_handoff("h1", "slack:C0HELPDESK") == "claimed"
    assert ledger.claim_handoff("h1", "slack:C0HELPDESK") == "already"
    assert ledger.claim_handoff("nope", "webhook") == "unknown"
    ledger.release_handoff("h1")  # the delivery failed: the asker may press again
    row = ledger.get("h1")
    assert row is not None and row.handed_off_at is None and row.handoff_target is None
    assert ledger.claim_handoff("h1", "slack:C0HELPDESK") == "claimed"
    ledger.set_handoff_reference("h1", "C0HELPDESK:1715000000.000100")
    ledger.release_handoff("h1")  # delivered: no longer released
    row = ledger.get("h1")
    assert row is not None and row.handed_off_at is not None
    assert row.handed_off_at.tzinfo is not None
    assert (row.handoff_target, row.handoff_reference) == (
        "slack:C0HELPDESK", "C0HELPDESK:1715000000.000100")
    assert ledger.handed_off_answer("C0HELPDESK:1715000000.000100") == "h1"
    assert ledger.handed_off_answer("C0HELPDESK:other") is None


def test_concurrent_clicks_hand_off_once(ledger: Ledger) -> None:
    ledger.record(make_row("h2"))
    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(lambda _: ledger.claim_handoff("h2", "webhook"), range(16)))
    assert claims.count("claimed") == 1 and claims.count("already") == 15


def test_a_hand_off_whose_delivery_died_can_be_claimed_again(ledger: Ledger) -> None:
    ledger.record(make_row("h3"))
    assert ledger.claim_handoff("h3", "webhook") == "claimed"  # ... and its replica died
    now = datetime.now(UTC)
    assert ledger.claim_handoff("h3", "webhook", stale_before=now - timedelta(minutes=5)) == (
        "already")  # still being delivered, as far as anyone knows
    assert ledger.claim_handoff("h3", "webhook", stale_before=now + timedelta(seconds=1)) == (
        "claimed")
    ledger.set_handoff_reference("h3", "HD-7")
    assert ledger.claim_handoff("h3", "webhook", stale_before=now + timedelta(hours=1)) == (
        "already")  # delivered: never again


# --- sent messages (votes that name the message: Teams' feedback buttons) ----------------------
def test_a_sent_message_names_its_answer_and_a_second_note_replaces_it(inbox: Inbox) -> None:
    assert inbox.reply_answer("teams:1700000000001") is None
    inbox.remember_reply("teams:1700000000001", "ans-1")
    inbox.remember_reply("teams:1700000000002", "ans-2")
    inbox.remember_reply("teams:1700000000002", "ans-3")  # the message was sent again
    assert inbox.reply_answer("teams:1700000000001") == "ans-1"
    assert inbox.reply_answer("teams:1700000000002") == "ans-3"


def test_sent_messages_outlive_the_days_claims_but_not_a_month(ledger_url: str) -> None:
    with Ledger(ledger_url) as ledger:
        ledger.remember_reply("teams:week-old", "ans-week")
        ledger.remember_reply("teams:too-old", "ans-old")
        aged = {"reply:teams:week-old": timedelta(days=7),
                "reply:teams:too-old": timedelta(days=31)}
        engine = create_ledger_engine(ledger_url)
        try:
            with engine.begin() as conn:
                for key, age in aged.items():
                    conn.execute(events.update().where(events.c.key == key)
                                 .values(claimed_at=datetime.now(UTC) - age))
        finally:
            engine.dispose()
        assert ledger.reply_answer("teams:too-old") is None  # past REPLY_TTL even unpurged
        assert ledger.claim_event("purge-now") is True  # purges what expired
        assert ledger.reply_answer("teams:week-old") == "ans-week"
        with engine.connect() as conn:
            keys = set(conn.execute(sa.select(events.c.key)).scalars())
        assert "reply:teams:too-old" not in keys and "reply:teams:week-old" in keys
