"""The :class:`~bot.ledger.roles.Inbox` role in SQL: pending questions with leases.

A claim inserts its ``events`` row and its ``pending_questions`` row in one transaction, so a
question is never claimed without being pending. Takeovers are conditional UPDATEs (``lease_until
<= now``), which PostgreSQL re-checks after waiting for a row lock and SQLite runs one writer at
a time (``BEGIN IMMEDIATE``): one replica wins. A sweep reads expired rows ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so replicas sweeping together take disjoint questions.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.ledger.pending import Pending
from bot.ledger.rows import utcnow
from bot.ledger.schema import events, pending, write

EVENT_TTL = timedelta(days=1)
REPLY_TTL = timedelta(days=30)  # how long a vote on a sent answer still finds its row
REPLY = "reply:"  # the events key prefix of a sent message (remember_reply)


def _lease(seconds: float) -> datetime:
    return utcnow() + timedelta(seconds=seconds)


class SqlInbox:
    """Mixin for :class:`bot.ledger.store.Ledger`: needs ``self._engine``."""

    _engine: Engine

    def claim_question(self, key: str, channel: str, payload: dict[str, Any], owner: str,
                       lease_seconds: float) -> Pending | None:
        """The question to answer now (first claim, or a takeover of an expired lease)."""
        now = utcnow()
        try:
            with write(self._engine) as conn:
                conn.execute(events.delete().where(expired_events(now)))
                conn.execute(events.insert(), {"key": key, "claimed_at": now})
                conn.execute(pending.insert(), {
                    "key": key, "channel": channel, "owner": owner, "attempts": 1,
                    "payload": json.dumps(payload, ensure_ascii=False),
                    "lease_until": _lease(lease_seconds), "created_at": now})
            return Pending(key, channel, payload, 1, now)
        except sa.exc.IntegrityError:
            pass
        with write(self._engine) as conn:
            if _take_over(conn, key, owner, lease_seconds) == 0:
                return None
            return _pending(conn.execute(sa.select(pending).where(pending.c.key == key))
                            .mappings().one())

    def renew_question(self, key: str, owner: str, lease_seconds: float) -> bool:
        update = pending.update().where(pending.c.key == key, pending.c.owner == owner).values(
            lease_until=_lease(lease_seconds))
        with write(self._engine) as conn:
            return conn.execute(update).rowcount > 0

    def update_question(self, key: str, owner: str, payload: dict[str, Any]) -> bool:
        update = pending.update().where(pending.c.key == key, pending.c.owner == owner).values(
            payload=json.dumps(payload, ensure_ascii=False))
        with write(self._engine) as conn:
            return conn.execute(update).rowcount > 0

    def finish_question(self, key: str, answer_id: str | None) -> None:
        with write(self._engine) as conn:
            conn.execute(pending.delete().where(pending.c.key == key))
            conn.execute(events.update().where(events.c.key == key).values(answer_id=answer_id))

    def remember_reply(self, key: str, answer_id: str) -> None:
        """An ``events`` row ``reply:<key>`` holding the answer id (replaced if it exists)."""
        row = {"key": REPLY + key, "claimed_at": utcnow(), "answer_id": answer_id}
        try:
            with write(self._engine) as conn:
                conn.execute(events.insert(), row)
        except sa.exc.IntegrityError:
            with write(self._engine) as conn:
                conn.execute(events.update().where(events.c.key == row["key"]).values(row))

    def reply_answer(self, key: str) -> str | None:
        query = sa.select(events.c.answer_id).where(
            events.c.key == REPLY + key, events.c.claimed_at >= utcnow() - REPLY_TTL)
        with self._engine.connect() as conn:
            return conn.execute(query).scalar_one_or_none()

    def take_expired(self, owner: str, lease_seconds: float, limit: int = 20,
                     channels: tuple[str, ...] | None = None) -> list[Pending]:
        """Expired questions, oldest first, now ``owner``'s (one more attempt each)."""
        query = (sa.select(pending).where(pending.c.lease_until <= utcnow())
                 .order_by(pending.c.created_at).limit(limit))
        if channels is not None:
            query = query.where(pending.c.channel.in_(channels))
        with write(self._engine) as conn:
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            taken = []
            for row in conn.execute(query).mappings().all():
                _take_over(conn, row["key"], owner, lease_seconds)
                taken.append(_pending({**row, "attempts": row["attempts"] + 1}))
        return taken


def expired_events(now: datetime) -> Any:
    """Claims older than :data:`EVENT_TTL`, sent messages older than :data:`REPLY_TTL`."""
    key, at = events.c.key, events.c.claimed_at
    return sa.or_(sa.and_(at < now - EVENT_TTL, ~key.startswith(REPLY)), at < now - REPLY_TTL)


def _pending(row: Any) -> Pending:
    return Pending(row["key"], row["channel"], json.loads(row["payload"]), row["attempts"],
                   row["created_at"])


def _take_over(conn: Connection, key: str, owner: str, lease_seconds: float) -> int:
    update = pending.update().where(
        pending.c.key == key, pending.c.lease_until <= utcnow()).values(
        owner=owner, lease_until=_lease(lease_seconds), attempts=pending.c.attempts + 1)
    return int(conn.execute(update).rowcount)
