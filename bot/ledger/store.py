"""The cost ledger: one row per answer, in any database SQLAlchemy speaks.

Every answer (local, cloud, cache, approved, declined, local-fallback, failed, command) is
recorded once with route, reason, models, tokens, latency, cost and sources, as simonw/llm logs
each response, with its question's trace (embedding and key terms) beside it.
The same database carries small tables every bot process shares: claimed event ids (so a
Slack retry is answered once), pending questions (so a replica's crash loses none) and named
locks (one reindex at a time). :class:`Ledger` plays all four roles of :mod:`bot.ledger.roles`;
the schema and migrations are in :mod:`bot.ledger.schema`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, fields, is_dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa

from bot.ledger.gaps_sql import SqlGaps
from bot.ledger.inbox import SqlInbox, expired_events
from bot.ledger.roles import (
    AnswerLog,
    ApprovedAnswers,
    EventClaims,
    HandoffClaim,
    Handoffs,
    Inbox,
    Locks,
    TraceLog,
)
from bot.ledger.rows import CLOUD_ROUTES, GROUPINGS, LedgerRow, utc, utcnow
from bot.ledger.schema import answers, create_ledger_engine, events, locks, migrate, write
from bot.ledger.summary import SUMMARY_COLUMNS, summarise
from bot.ledger.tally import Tally, model_tokens, models_of, quantiles
from bot.ledger.tally_sql import token_sums
from bot.ledger.traces import QuestionTrace

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


def _handed_off() -> sa.ColumnElement[int]:
    """1 for an answer handed off to a person."""
    return sa.case((answers.c.handed_off_at.is_not(None), 1), else_=0)


class Ledger(SqlInbox, SqlGaps, AnswerLog, EventClaims, Inbox, Locks, TraceLog,
             ApprovedAnswers, Handoffs):
    """The ledger database: answers, feedback, cost summaries, event claims, pending questions
    (:class:`~bot.ledger.inbox.SqlInbox`), locks, question traces and approved answers
    (:class:`~bot.ledger.gaps_sql.SqlGaps`).

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

    _row_from_db = staticmethod(_from_db)

    def record(self, row: LedgerRow, trace: QuestionTrace | None = None) -> None:
        """Write one answer and its question's trace in one transaction; a second row with the
        same ``answer_id`` raises IntegrityError."""
        with write(self._engine) as conn:
            conn.execute(answers.insert(), _to_db(row, self._keep_question))
            self._write_trace(conn, trace)

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

    # -- the admin console's reads: aggregated in SQL, small results at any row count -------
    def tallies(self, since: datetime | None = None, until: datetime | None = None, *,
                tokens: bool = True) -> list[Tally]:
        """Answers in ``[since, until)`` summed per day, route, models, vote and hand-off,
        with each model's tokens unless ``tokens`` is false (a second grouped query,
        :func:`token_sums`: at 20k rows on SQLite 30 ms alone, 70 ms with the tokens)."""
        keys = (self._day(), answers.c.route, answers.c.models, answers.c.feedback, _handed_off())
        window = self._span(since, until)
        query = (sa.select(*keys, sa.func.count(), sa.func.sum(answers.c.cost_usd),
                           sa.func.sum(answers.c.all_cloud_cost_usd),
                           sa.func.sum(answers.c.latency_ms))
                 .where(*window).group_by(*keys).order_by(keys[0], keys[1]))
        with self._engine.connect() as conn:
            groups = conn.execute(query).all()
            used = token_sums(conn, keys, window) if tokens else {}
        return [Tally(str(day), route, models_of(models), vote, bool(handed), int(n),
                      float(cost), float(cloud), float(latency),
                      model_tokens(used.get((day, route, models, vote, handed), {})))
                for day, route, models, vote, handed, n, cost, cloud, latency in groups]

    def latency_quantiles(self, qs: Sequence[float], since: datetime | None = None,
                          until: datetime | None = None) -> list[float]:
        """Nearest-rank latency quantiles (ms) of the answers in ``[since, until)``:
        PostgreSQL's ``percentile_disc``; on SQLite one scan, sorted here (twice as fast as
        an ``ORDER BY … OFFSET`` per quantile at 100k rows)."""
        window = self._span(since, until)
        with self._engine.connect() as conn:
            if self._engine.dialect.name == "postgresql":
                found = conn.execute(sa.select(*(
                    sa.func.percentile_disc(q).within_group(answers.c.latency_ms) for q in qs))
                    .where(*window)).one()
                return [0.0 if v is None else float(v) for v in found]
            values = conn.execute(sa.select(answers.c.latency_ms).where(*window)).scalars()
            return quantiles(values, qs)

    def latest(self, limit: int, offset: int = 0, *, route: str | None = None,
               feedback: str | None = None) -> list[LedgerRow]:
        """A page of answers, newest first; ``feedback`` "up", "down" or "none" (no vote)."""
        query = sa.select(answers).order_by(answers.c.created_at.desc(),
                                            answers.c.answer_id.desc())
        if route is not None:
            query = query.where(answers.c.route == route)
        if feedback == "none":
            query = query.where(answers.c.feedback.is_(None))
        elif feedback is not None:
            query = query.where(answers.c.feedback == feedback)
        with self._engine.connect() as conn:
            found = conn.execute(query.limit(limit).offset(offset)).mappings()
            return [_from_db(m) for m in found]

    def _span(self, since: datetime | None,
              until: datetime | None) -> list[sa.ColumnElement[bool]]:
        """:func:`_window` for a scan of many rows. On SQLite a window over most of the ledger
        is checked row by row on a table scan: walking the created_at index and fetching each
        row from it is 3-4 times slower then (100k rows). The first and last answer's times
        come from the index."""
        if self._engine.dialect.name != "sqlite" or (since is None and until is None):
            return _window(since, until)
        with self._engine.connect() as conn:
            first, last = conn.execute(sa.select(sa.func.min(answers.c.created_at),
                                                 sa.func.max(answers.c.created_at))).one()
        if first is None or last is None:
            return _window(since, until)
        first, last = utc(first), utc(last)  # (SQLite's min/max come back as text)
        inside = min(until or last, last) - max(since or first, first)
        if inside * 2 < last - first:
            return _window(since, until)
        column = sa.literal_column("+answers.created_at", type_=answers.c.created_at.type)
        return [*([column >= since] if since else []), *([column < until] if until else [])]

    def _day(self) -> sa.ColumnElement[str]:
        """``created_at``'s UTC day as YYYY-MM-DD text (SQLite keeps UTC text)."""
        if self._engine.dialect.name == "sqlite":
            return sa.func.substr(answers.c.created_at, 1, 10, type_=sa.String)
        return sa.func.to_char(sa.func.timezone("UTC", answers.c.created_at), "YYYY-MM-DD",
                               type_=sa.String)
    # -- hand-offs (m004_handoff) --------------------------------------------------------
    def claim_handoff(self, answer_id: str, target: str,
                      stale_before: datetime | None = None) -> HandoffClaim:
        free: sa.ColumnElement[bool] = answers.c.handed_off_at.is_(None)
        if stale_before is not None:
            free = sa.or_(free, sa.and_(answers.c.handoff_reference.is_(None),
                                        answers.c.handed_off_at < stale_before))
        mark = answers.update().where(answers.c.answer_id == answer_id, free).values(
            handed_off_at=utcnow(), handoff_target=target)
        with write(self._engine) as conn:
            if conn.execute(mark).rowcount > 0:
                return "claimed"
            known = conn.execute(sa.select(answers.c.answer_id).where(
                answers.c.answer_id == answer_id)).first()
        return "already" if known is not None else "unknown"

    def release_handoff(self, answer_id: str) -> None:
        undo = answers.update().where(
            answers.c.answer_id == answer_id, answers.c.handoff_reference.is_(None)).values(
            handed_off_at=None, handoff_target=None)
        with write(self._engine) as conn:
            conn.execute(undo)

    def set_handoff_reference(self, answer_id: str, reference: str) -> None:
        link = answers.update().where(answers.c.answer_id == answer_id).values(
            handoff_reference=reference)
        with write(self._engine) as conn:
            conn.execute(link)

    def handed_off_answer(self, reference: str) -> str | None:
        query = sa.select(answers.c.answer_id).where(answers.c.handoff_reference == reference)
        with self._engine.connect() as conn:
            return conn.execute(query).scalar()

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
