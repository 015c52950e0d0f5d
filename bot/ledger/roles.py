"""The ledger's three roles, each a small seam with its lifecycle (botbuilder's ``Storage`` is
the model): the answer log, event claims, the inbox of pending questions and named locks.

:class:`bot.ledger.store.Ledger` plays all four on one database (SQLite or PostgreSQL), so
replicas sharing it share claims and locks; :class:`bot.ledger.memory.MemoryLedger` plays them
in memory for unit tests. Steps are given only the role they use.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Protocol

from bot.ledger.pending import Pending
from bot.ledger.rows import LedgerRow


class AnswerLog(Protocol):
    """One row per answer, its feedback, and what the rows add up to."""

    def record(self, row: LedgerRow) -> None:
        """Write one answer; a second row with the same ``answer_id`` is an error."""
        ...

    def set_feedback(self, answer_id: str, vote: Literal["up", "down"], reason: str = "") -> bool:
        """Store a vote (a later vote replaces it); False when no such answer exists."""
        ...

    def get(self, answer_id: str) -> LedgerRow | None: ...

    def rows(self, since: datetime | None = None, until: datetime | None = None) -> list[LedgerRow]:
        """Answers with ``since <= created_at < until``, oldest first."""
        ...

    def conversation_sources(self, conversation: str) -> set[str]:
        """Every document path an earlier answer in ``conversation`` showed or cited."""
        ...

    def cloud_spend(self, since: datetime) -> float:
        """Cloud spend since ``since`` (for budgets)."""
        ...

    def summary(self, since: datetime | None = None, until: datetime | None = None,
                by: str | None = None) -> list[dict[str, Any]]:
        """Totals per group (:func:`bot.ledger.summary.summarise`)."""
        ...

    def close(self) -> None:
        """Release connections."""
        return None


class EventClaims(Protocol):
    """At-most-once handling of platform events (a Slack retry is answered once)."""

    def claim_event(self, key: str) -> bool:
        """True for the first claim of ``key`` by anyone sharing this store."""
        ...

    def close(self) -> None:
        return None


class Inbox(Protocol):
    """Questions that must not be lost: claimed with a lease, pending until answered.

    Keys are event keys (as for :class:`EventClaims`, a separate namespace in practice). Exactly
    one caller across replicas gets True for a claim or a question from a sweep at a time.
    """

    def claim_question(self, key: str, channel: str, payload: dict[str, Any], owner: str,
                       lease_seconds: float) -> Pending | None:
        """The question to answer now, or None. The first claim writes the claim and the
        pending row in one transaction; a later one wins only while the question is still
        pending and its lease has expired (its claimer died): it gets the stored question, one
        more attempt counted."""
        ...

    def renew_question(self, key: str, owner: str, lease_seconds: float) -> bool:
        """Extend ``owner``'s lease; False when the question is not (or no longer) its."""
        ...

    def update_question(self, key: str, owner: str, payload: dict[str, Any]) -> bool:
        """Replace the payload (e.g. once a placeholder is posted); False if not ``owner``'s."""
        ...

    def finish_question(self, key: str, answer_id: str | None) -> None:
        """The question is answered: delete its pending row, keep the claim (marked done)."""
        ...

    def take_expired(self, owner: str, lease_seconds: float, limit: int = 20,
                     channels: tuple[str, ...] | None = None) -> list[Pending]:
        """Take over pending questions (of ``channels``, default all) whose lease expired,
        oldest first, each counting one more attempt; replicas sweeping at once get disjoint
        questions."""
        ...

    # -- sent messages (issue 13: feedback that names the message, not the answer) ---------
    def remember_reply(self, key: str, answer_id: str) -> None:
        """Note that the message ``key`` (channel and platform message id) carries answer
        ``answer_id``; kept for :data:`bot.ledger.inbox.REPLY_TTL`. A second note replaces it."""
        ...

    def reply_answer(self, key: str) -> str | None:
        """The answer the message ``key`` carries, or None (unknown, or too old)."""
        ...

    def close(self) -> None:
        return None


class Locks(Protocol):
    """Named leases (one reindex at a time across replicas)."""

    def acquire_lock(self, name: str, owner: str, ttl_seconds: float) -> bool:
        """Take (or, for its owner, extend) lock ``name``; an expired lock can be taken over."""
        ...

    def release_lock(self, name: str, owner: str) -> None:
        """Release ``name`` if ``owner`` still holds it."""
        ...

    def close(self) -> None:
        return None
