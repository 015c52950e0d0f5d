"""The ledger's schema and its migrations, and the engine that reaches it.

SQLite, the default, runs in WAL mode with a busy timeout, and each writing transaction starts
with ``BEGIN IMMEDIATE`` so concurrent writers queue instead of failing half-way. PostgreSQL is
reached through psycopg 3 (``postgresql+psycopg://``). The schema grows through the numbered
functions in :data:`MIGRATIONS`, recorded in ``schema_migrations``; never edit one that has
shipped, append a new one (and update the table definitions below to match).
"""

from __future__ import annotations

import logging
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.pool import StaticPool

from bot.ledger.rows import utc, utcnow

if sys.platform != "win32":
    import fcntl
else:  # pragma: no cover - the bot is deployed on Linux
    fcntl = None

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
_PG_MIGRATION_LOCK = 0x66697273746C  # pg_advisory_xact_lock key ("firstl")


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend; naive values are taken to be UTC already."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else utc(value)


# --- the current schema, used by queries (the migrations below build it) ----------------------
metadata = sa.MetaData()
schema_migrations = sa.Table(
    "schema_migrations", metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("applied_at", UTCDateTime(), nullable=False),
)
answers = sa.Table(
    "answers", metadata,
    sa.Column("answer_id", sa.String(64), primary_key=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("user_hash", sa.String(64), nullable=False),
    sa.Column("conversation", sa.Text(), nullable=False),
    sa.Column("route", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("signals", sa.Text(), nullable=False),
    sa.Column("models", sa.Text(), nullable=False),
    sa.Column("tokens", sa.Text(), nullable=False),
    sa.Column("latency_ms", sa.Float(), nullable=False),
    sa.Column("cost_usd", sa.Float(), nullable=False),
    sa.Column("all_cloud_cost_usd", sa.Float(), nullable=False),
    sa.Column("sources", sa.Text(), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("question", sa.Text()),
    sa.Column("error", sa.Text()),
    sa.Column("feedback", sa.String(8)),
    sa.Column("feedback_reason", sa.Text()),
    sa.Column("feedback_at", UTCDateTime()),
    # m004_handoff
    sa.Column("handed_off_at", UTCDateTime()),
    sa.Column("handoff_target", sa.String(255)),
    sa.Column("handoff_reference", sa.String(255)),
)
events = sa.Table(
    "events", metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("claimed_at", UTCDateTime(), nullable=False),
    sa.Column("answer_id", sa.String(64)),
)
pending = sa.Table(
    "pending_questions", metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("payload", sa.Text(), nullable=False),
    sa.Column("owner", sa.String(255), nullable=False),
    sa.Column("lease_until", UTCDateTime(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)
locks = sa.Table(
    "locks", metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("owner", sa.String(255), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
)
question_traces = sa.Table(
    "question_traces", metadata,
    sa.Column("answer_id", sa.String(64), primary_key=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("encoder", sa.String(100), nullable=False),
    sa.Column("vector", sa.LargeBinary(), nullable=False),
    sa.Column("terms", sa.Text(), nullable=False),
)
approved_answers = sa.Table(
    "approved_answers", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("question", sa.Text(), nullable=False),
    sa.Column("answer", sa.Text(), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("owner", sa.String(255), nullable=False),
    sa.Column("review_on", sa.Date()),
    sa.Column("cited", sa.Text(), nullable=False),
    sa.Column("audience", sa.Text(), nullable=False),
    sa.Column("encoder", sa.String(100), nullable=False),
    sa.Column("vector", sa.LargeBinary(), nullable=False),
    sa.Column("marks", sa.Text(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("withdrawn_reason", sa.Text(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("origin", sa.String(255), nullable=False),
)


# --- migrations: append only; each runs once, in order, inside the migration transaction ------
def m001_initial(conn: Connection) -> None:
    """answers (indexed on created_at), events and locks."""
    md = sa.MetaData()
    when = sa.DateTime(timezone=True)
    sa.Table(
        "answers", md,
        sa.Column("answer_id", sa.String(64), primary_key=True),
        sa.Column("created_at", when, nullable=False, index=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("user_hash", sa.String(64), nullable=False),
        sa.Column("conversation", sa.Text(), nullable=False),
        sa.Column("route", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("signals", sa.Text(), nullable=False),  # JSON text, portable everywhere
        sa.Column("models", sa.Text(), nullable=False),
        sa.Column("tokens", sa.Text(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("all_cloud_cost_usd", sa.Float(), nullable=False),
        sa.Column("sources", sa.Text(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("question", sa.Text()),
        sa.Column("error", sa.Text()),
        sa.Column("feedback", sa.String(8)),
        sa.Column("feedback_reason", sa.Text()),
        sa.Column("feedback_at", when),
    )
    sa.Table(
        "events", md,
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("claimed_at", when, nullable=False, index=True),
    )
    sa.Table(
        "locks", md,
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("expires_at", when, nullable=False),
    )
    md.create_all(conn)


def m002_pending_questions(conn: Connection) -> None:
    """pending_questions (durable questions, indexed on lease_until); events.answer_id."""
    md = sa.MetaData()
    when = sa.DateTime(timezone=True)
    sa.Table(
        "pending_questions", md,
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),  # JSON: where to answer, the question
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("lease_until", when, nullable=False, index=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", when, nullable=False),
    )
    md.create_all(conn)
    conn.execute(sa.text("ALTER TABLE events ADD COLUMN answer_id VARCHAR(64)"))


def m003_gaps_and_approved(conn: Connection) -> None:
    """question_traces (each answer's question embedding and key terms, indexed on created_at)
    and approved_answers."""
    md = sa.MetaData()
    when = sa.DateTime(timezone=True)
    sa.Table(
        "question_traces", md,
        sa.Column("answer_id", sa.String(64), primary_key=True),
        sa.Column("created_at", when, nullable=False, index=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("encoder", sa.String(100), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),  # float16
        sa.Column("terms", sa.Text(), nullable=False),  # JSON list
    )
    sa.Table(
        "approved_answers", md,
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("review_on", sa.Date()),
        sa.Column("cited", sa.Text(), nullable=False),  # JSON [{path, sha256, title}]
        sa.Column("audience", sa.Text(), nullable=False),  # JSON list of groups
        sa.Column("encoder", sa.String(100), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("marks", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.Column("origin", sa.String(255), nullable=False),
    )
    md.create_all(conn)


def m004_handoff(conn: Connection) -> None:
    """answers.handed_off_at / handoff_target, and handoff_reference (the helpdesk thread or
    ticket it became; indexed, so a helpdesk reply finds its answer for promotion)."""
    when = sa.DateTime(timezone=True).compile(dialect=conn.dialect)
    for column, kind in (("handed_off_at", when), ("handoff_target", "VARCHAR(255)"),
                         ("handoff_reference", "VARCHAR(255)")):
        conn.execute(sa.text(f"ALTER TABLE answers ADD COLUMN {column} {kind}"))
    conn.execute(sa.text(
        "CREATE INDEX ix_answers_handoff_reference ON answers (handoff_reference)"))


MIGRATIONS: list[Callable[[Connection], None]] = [
    m001_initial, m002_pending_questions, m003_gaps_and_approved, m004_handoff]


def migrate(
    engine: Engine, migrations: Sequence[Callable[[Connection], None]] | None = None
) -> list[str]:
    """Apply pending migrations (default :data:`MIGRATIONS`) in one transaction.

    Safe when processes start at once: SQLite serialises on ``BEGIN IMMEDIATE``, PostgreSQL on
    a transaction advisory lock, and the later process finds everything applied. A failing
    migration rolls the whole run back. Returns the names applied now.
    """
    applied: list[str] = []
    with write(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
        schema_migrations.create(conn, checkfirst=True)
        done = set(conn.scalars(sa.select(schema_migrations.c.name)))
        for migration in MIGRATIONS if migrations is None else migrations:
            if migration.__name__ not in done:
                log.debug("ledger: applying migration %s", migration.__name__)
                migration(conn)
                conn.execute(schema_migrations.insert(),
                             {"name": migration.__name__, "applied_at": utcnow()})
                applied.append(migration.__name__)
    return applied


# --- engine ------------------------------------------------------------------------------------
def create_ledger_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and explicit transactions."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_pre_ping=True)
    database = parsed.database or ""
    if database in ("", ":memory:"):  # one shared connection, else each thread sees its own db
        engine = sa.create_engine(
            parsed, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        if not parsed.query.get("uri"):
            path = Path(database).expanduser()
            path.parent.mkdir(parents=True, exist_ok=True)
            _set_wal_once(path)
        engine = sa.create_engine(parsed)
    sa.event.listen(engine, "connect", _sqlite_connect)
    sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # sqlite3's own transaction handling skips BEGIN before DDL; SQLAlchemy emits it instead
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        _wal(cursor)
    finally:
        cursor.close()


def _wal(cursor: Any) -> None:
    """WAL mode, normally already set by :func:`_set_wal_once` (it persists in the file); for a
    file that could not be prepared that way, switch here and retry while another process does.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
                return
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _set_wal_once(database: Path) -> None:
    """Switch the file to WAL before this process opens any pooled connection, one process at
    a time (an exclusive ``flock`` on ``<file>.lock``): the switch needs an exclusive database
    lock that SQLite does not always wait for, so processes starting together used to fail
    with "database is locked". Later connections find WAL set and change nothing."""
    if fcntl is None:  # not POSIX: the connect hook's retry does it
        return
    with (database.parent / f"{database.name}.lock").open("a") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        try:
            conn = sqlite3.connect(database, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
                                   isolation_level=None)
            try:
                if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
            finally:
                conn.close()
        finally:
            fcntl.flock(guard, fcntl.LOCK_UN)


def _sqlite_begin(conn: Connection) -> None:
    # a deferred transaction that later writes can fail with SQLITE_BUSY without waiting
    writes = conn.get_execution_options().get("firstline_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        conn.execution_options(firstline_write=True)
        with conn.begin():
            yield conn
