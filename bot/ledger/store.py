"""The cost ledger: one row per answer, in any database SQLAlchemy speaks.

Every answer (local, cloud, cache, declined, local-fallback, failed, command) is recorded once
with route, reason, models, tokens, latency, cost and sources, as simonw/llm logs each response.
The same database carries small tables every bot process shares: claimed event ids (so a
Slack retry is answered once), pending questions (so a replica's crash loses none) and named
locks (one reindex at a time). :class:`Ledger` plays all four roles of :mod:`bot.ledger.roles`;
the schema and migrations are in :mod:`bot.ledger.schema`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, fields, is_dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa

from bot.ledger.inbox import SqlInbox, expired_events
from bot.ledger.roles import AnswerLog, EventClaims, Inbox, Locks
from bot.ledger.rows import CLOUD_ROUTES, GROUPINGS, LedgerRow, utcnow
from bot.ledger.schema import answers, create_ledger_engine, events, locks, migrate, write
from bot.ledger.summary import SUMMARY_COLUMNS, summarise

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

_JSON_FIELDS = ("signals", "models", "tokens", "sources")


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


class Ledger(SqlInbox, AnswerLog, EventClaims, Inbox, Locks):
    """The ledger database: answers, feedback, cost summaries, event claims, pending questions
    (:class:`~bot.ledger.inbox.SqlInbox`) and locks.

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
        with write(self._engine) as conn:
            conn.execute(answers.insert(), _to_db(row, self._keep_question))

    def set_feedback(self, answer_id: str, vote: Literal["up", "down"], reason: str = "") -> bool:
        """Store a vote (a later vote replaces it); False when no such answer exists."""
        if vote not in ("up", "down"):
            raise ValueError(f"vote must be 'up' or 'down', not {vote!r}")
        update = answers.update().where(answers.c.answer_id == answer_id).values(
            feedback=vote, feedback_reason=reason or None, feedback_at=utcnow())
        with write(self._engine) as conn:
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

    def conversation_sources(self, conversation: str) -> set[str]:
        query = sa.select(answers.c.sources).where(answers.c.conversation == conversation)
        with self._engine.connect() as conn:
            return {str(s.get("path", "")) for raw in conn.scalars(query)
                    for s in json.loads(raw) if isinstance(s, dict)} - {""}

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
        query = sa.select(*(answers.c[name] for name in SUMMARY_COLUMNS)).where(
            *_window(since, until))
        with self._engine.connect() as conn:
            return summarise(conn.execute(query).mappings(), by)

    def claim_event(self, key: str) -> bool:
        """True for the first claim of ``key`` by any process sharing the database."""
        now = utcnow()
        try:
            with write(self._engine) as conn:
                conn.execute(events.delete().where(expired_events(now)))
                conn.execute(events.insert(), {"key": key, "claimed_at": now})
        except sa.exc.IntegrityError:
            return False
        return True

    def acquire_lock(self, name: str, owner: str, ttl_seconds: float) -> bool:
        """Take (or, for its owner, extend) lock ``name``; an expired lock can be taken over."""
        now = utcnow()
        values = {"owner": owner, "expires_at": now + timedelta(seconds=ttl_seconds)}
        try:
            with write(self._engine) as conn:
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
        with write(self._engine) as conn:
            conn.execute(locks.delete().where(locks.c.name == name, locks.c.owner == owner))

    def close(self) -> None:
        self._engine.dispose()
