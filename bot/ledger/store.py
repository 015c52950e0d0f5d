"""The cost ledger: one row per answer, in any database SQLAlchemy speaks.

Every answer (local, cloud, cache, declined, local-fallback, failed, command) is recorded once
with route, reason, models, tokens, latency, cost and sources, as simonw/llm logs each response.
The same database carries two small tables every bot process shares: claimed event ids (so a
Slack retry is answered once) and named locks (one reindex at a time).

SQLite, the default, runs in WAL mode with a busy timeout, and each writing transaction starts
with ``BEGIN IMMEDIATE`` so concurrent writers queue instead of failing half-way. PostgreSQL is
reached through psycopg 3 (``postgresql+psycopg://``). The schema grows through the numbered
functions in :data:`MIGRATIONS`, recorded in ``schema_migrations``; never edit one that has
shipped, append a new one (and update the table definitions below to match).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import statistics
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.pool import StaticPool

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

CLOUD_ROUTES = ("cloud",)  # routes whose cost_usd is cloud spend (budgets, "escalated")
GROUPINGS = (None, "day", "route", "channel", "model")
EVENT_TTL = timedelta(days=1)
SQLITE_BUSY_TIMEOUT_MS = 30_000
_PG_MIGRATION_LOCK = 0x66697273746C  # pg_advisory_xact_lock key ("firstl")
_JSON_FIELDS = ("signals", "models", "tokens", "sources")


@dataclass
class LedgerRow:
    """One answer. ``user_hash`` comes from :func:`hash_user`; times are tz-aware UTC."""

    answer_id: str
    created_at: datetime
    channel: str
    user_hash: str
    conversation: str
    route: str
    reason: str
    signals: dict[str, Any]
    models: list[str]
    tokens: dict[str, dict[str, int]]  # model -> {"prompt": n, "completion": n}
    latency_ms: float
    cost_usd: float
    all_cloud_cost_usd: float
    sources: list[dict[str, Any]]  # [{path, title, score}]
    language: str = "en"
    question: str | None = None
    error: str | None = None
    feedback: str | None = None
    feedback_reason: str | None = None
    feedback_at: datetime | None = None


def hash_user(user: str, salt: str = "") -> str:
    """A short stable pseudonym for a user id (HMAC-SHA256 keyed by ``salt``, 16 hex digits)."""
    return hmac.new(salt.encode(), user.encode(), hashlib.sha256).hexdigest()[:16]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend; naive values are taken to be UTC already."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _utc(value)


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
)
events = sa.Table(
    "events", metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("claimed_at", UTCDateTime(), nullable=False),
)
locks = sa.Table(
    "locks", metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("owner", sa.String(255), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
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


MIGRATIONS: list[Callable[[Connection], None]] = [m001_initial]


def migrate(
    engine: Engine, migrations: Sequence[Callable[[Connection], None]] | None = None
) -> list[str]:
    """Apply pending migrations (default :data:`MIGRATIONS`) in one transaction.

    Safe when processes start at once: SQLite serialises on ``BEGIN IMMEDIATE``, PostgreSQL on
    a transaction advisory lock, and the later process finds everything applied. A failing
    migration rolls the whole run back. Returns the names applied now.
    """
    applied: list[str] = []
    with _write(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
        schema_migrations.create(conn, checkfirst=True)
        done = set(conn.scalars(sa.select(schema_migrations.c.name)))
        for migration in MIGRATIONS if migrations is None else migrations:
            if migration.__name__ not in done:
                log.debug("ledger: applying migration %s", migration.__name__)
                migration(conn)
                conn.execute(schema_migrations.insert(),
                             {"name": migration.__name__, "applied_at": _now()})
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
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
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
        cursor.execute("PRAGMA journal_mode = WAL")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # a deferred transaction that later writes can fail with SQLITE_BUSY without waiting
    writes = conn.get_execution_options().get("firstline_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


@contextmanager
def _write(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        conn.execution_options(firstline_write=True)
        with conn.begin():
            yield conn


# --- rows <-> database -------------------------------------------------------------------------
def _json_default(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return str(value)


def _plain(value: Any) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)


def _to_db(row: LedgerRow, keep_question: bool) -> dict[str, Any]:
    values = {f.name: getattr(row, f.name) for f in fields(row)}
    for name in _JSON_FIELDS:
        values[name] = json.dumps(values[name], default=_json_default, ensure_ascii=False)
    for name in ("channel", "route", "language"):
        values[name] = _plain(values[name])
    if not keep_question:
        values["question"] = None
    return values


def _from_db(mapping: Mapping[Any, Any]) -> LedgerRow:
    values = dict(mapping)
    for name in _JSON_FIELDS:
        values[name] = json.loads(values[name])
    return LedgerRow(**values)


def _window(since: datetime | None, until: datetime | None) -> list[sa.ColumnElement[bool]]:
    clauses = []
    if since is not None:
        clauses.append(answers.c.created_at >= since)
    if until is not None:
        clauses.append(answers.c.created_at < until)
    return clauses


class Ledger:
    """The ledger database: answers, feedback, cost summaries, event claims and locks.

    ``keep_question_text=False`` drops question text on write (``FIRSTLINE_LOG_QUESTION_TEXT``
    off); :meth:`from_settings` wires that up. Thread-safe; one instance per process.
    """

    def __init__(self, url: str, *, keep_question_text: bool = True) -> None:
        self._engine = create_ledger_engine(url)
        self._keep_question = keep_question_text
        try:
            applied = migrate(self._engine)
        except Exception:
            self._engine.dispose()
            raise
        if applied:
            log.info("ledger migrated (%s) on %s", ", ".join(applied),
                     self._engine.url.render_as_string(hide_password=True))

    @classmethod
    def from_settings(cls, settings: Settings) -> Ledger:
        return cls(settings.ledger_database_url, keep_question_text=settings.log_question_text)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def record(self, row: LedgerRow) -> None:
        """Write one answer; a second row with the same ``answer_id`` raises IntegrityError."""
        with _write(self._engine) as conn:
            conn.execute(answers.insert(), _to_db(row, self._keep_question))

    def set_feedback(self, answer_id: str, vote: Literal["up", "down"], reason: str = "") -> bool:
        """Store a vote (a later vote replaces it); False when no such answer exists."""
        if vote not in ("up", "down"):
            raise ValueError(f"vote must be 'up' or 'down', not {vote!r}")
        update = answers.update().where(answers.c.answer_id == answer_id).values(
            feedback=vote, feedback_reason=reason or None, feedback_at=_now())
        with _write(self._engine) as conn:
            return conn.execute(update).rowcount > 0

    def get(self, answer_id: str) -> LedgerRow | None:
        query = sa.select(answers).where(answers.c.answer_id == answer_id)
        with self._engine.connect() as conn:
            found = conn.execute(query).mappings().first()
        return None if found is None else _from_db(found)

    def rows(self, since: datetime | None = None, until: datetime | None = None) -> list[LedgerRow]:
        """Answers with ``since <= created_at < until``, oldest first."""
        query = (sa.select(answers).where(*_window(since, until))
                 .order_by(answers.c.created_at, answers.c.answer_id))
        with self._engine.connect() as conn:
            return [_from_db(m) for m in conn.execute(query).mappings()]

    def cloud_spend(self, since: datetime) -> float:
        """Cloud spend (``cost_usd`` of :data:`CLOUD_ROUTES` answers) since ``since``."""
        query = sa.select(sa.func.coalesce(sa.func.sum(answers.c.cost_usd), 0.0)).where(
            answers.c.route.in_(CLOUD_ROUTES), *_window(since, None))
        with self._engine.connect() as conn:
            return float(conn.execute(query).scalar_one())

    def summary(
        self, since: datetime | None = None, until: datetime | None = None, by: str | None = None
    ) -> list[dict[str, Any]]:
        """Totals per group (see :func:`summarise`) for answers in ``[since, until)``."""
        if by not in GROUPINGS:
            raise ValueError(f"by must be one of {GROUPINGS}, not {by!r}")
        query = sa.select(*(answers.c[name] for name in _Bucket.COLUMNS)).where(
            *_window(since, until))
        with self._engine.connect() as conn:
            return summarise(conn.execute(query).mappings(), by)

    def claim_event(self, key: str) -> bool:
        """True for the first claim of ``key`` by any process sharing the database."""
        now = _now()
        try:
            with _write(self._engine) as conn:
                conn.execute(events.delete().where(events.c.claimed_at < now - EVENT_TTL))
                conn.execute(events.insert(), {"key": key, "claimed_at": now})
        except sa.exc.IntegrityError:
            return False
        return True

    def acquire_lock(self, name: str, owner: str, ttl_seconds: float) -> bool:
        """Take (or, for its owner, extend) lock ``name``; an expired lock can be taken over."""
        now = _now()
        values = {"owner": owner, "expires_at": now + timedelta(seconds=ttl_seconds)}
        try:
            with _write(self._engine) as conn:
                held = conn.execute(sa.select(locks).where(locks.c.name == name)).first()
                if held is None:
                    conn.execute(locks.insert(), {"name": name, **values})
                    return True
                takeover = locks.update().where(
                    locks.c.name == name,
                    sa.or_(locks.c.owner == owner, locks.c.expires_at <= now)).values(**values)
                if conn.execute(takeover).rowcount == 0:
                    return False
        except sa.exc.IntegrityError:  # another process inserted the lock first
            return False
        if held.owner != owner:
            log.warning("lock %s of %s expired; taken over by %s", name, held.owner, owner)
        return True

    def release_lock(self, name: str, owner: str) -> None:
        """Release ``name`` if ``owner`` still holds it (a taken-over lock is left alone)."""
        with _write(self._engine) as conn:
            conn.execute(locks.delete().where(locks.c.name == name, locks.c.owner == owner))

    def close(self) -> None:
        self._engine.dispose()


# --- summaries ---------------------------------------------------------------------------------
@dataclass
class _Bucket:
    COLUMNS = ("created_at", "route", "channel", "models", "tokens", "latency_ms",
               "cost_usd", "all_cloud_cost_usd", "feedback")

    answers: int = 0
    escalated: int = 0
    cost_usd: float = 0.0
    all_cloud_cost_usd: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    thumbs_up: int = 0
    thumbs_down: int = 0
    latencies: list[float] = field(default_factory=list)

    def add(self, row: Mapping[Any, Any], tokens: list[dict[str, int]]) -> None:
        self.answers += 1
        self.escalated += row["route"] in CLOUD_ROUTES
        self.cost_usd += row["cost_usd"]
        self.all_cloud_cost_usd += row["all_cloud_cost_usd"]
        self.prompt_tokens += sum(t.get("prompt", 0) for t in tokens)
        self.completion_tokens += sum(t.get("completion", 0) for t in tokens)
        self.thumbs_up += row["feedback"] == "up"
        self.thumbs_down += row["feedback"] == "down"
        self.latencies.append(row["latency_ms"])

    def as_dict(self, key: str) -> dict[str, Any]:
        saving = self.all_cloud_cost_usd - self.cost_usd
        return {
            "key": key, "answers": self.answers, "escalated": self.escalated,
            "escalated_share": self.escalated / self.answers if self.answers else 0.0,
            "cost_usd": self.cost_usd, "all_cloud_cost_usd": self.all_cloud_cost_usd,
            "saving_usd": saving,
            "saving_share": saving / self.all_cloud_cost_usd if self.all_cloud_cost_usd else 0.0,
            "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
            "p50_latency_ms": statistics.median(self.latencies) if self.latencies else 0.0,
            "thumbs_up": self.thumbs_up, "thumbs_down": self.thumbs_down,
        }


def _groups(row: Mapping[Any, Any], by: str | None) -> list[tuple[str, list[dict[str, int]]]]:
    """The keys a row counts toward, each with the token counts that belong to that key."""
    tokens: dict[str, dict[str, int]] = json.loads(row["tokens"])
    if by == "model":  # a row counts toward every model it used, with that model's tokens
        models = list(dict.fromkeys([*json.loads(row["models"]), *tokens]))
        return [(m, [tokens.get(m, {})]) for m in models] or [("(none)", [])]
    if by == "day":
        key = _utc(row["created_at"]).date().isoformat()
    else:
        key = "total" if by is None else str(row[by])
    return [(key, list(tokens.values()))]


def summarise(rows: Iterable[Mapping[Any, Any]], by: str | None) -> list[dict[str, Any]]:
    """Aggregate ledger rows by UTC day, route, channel or model (None: one "total" row).

    Days come out in order; other groups by answers, most first. With ``by="model"`` groups
    overlap (an answer that used two models counts in both), tokens are per model.
    """
    buckets: dict[str, _Bucket] = {"total": _Bucket()} if by is None else {}
    for row in rows:
        for key, tokens in _groups(row, by):
            buckets.setdefault(key, _Bucket()).add(row, tokens)
    out = [bucket.as_dict(key) for key, bucket in buckets.items()]
    if by == "day":
        return sorted(out, key=lambda d: d["key"])
    return sorted(out, key=lambda d: (-d["answers"], d["key"]))
