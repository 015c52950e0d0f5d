"""The ledger's roles, each a small seam with its lifecycle (botbuilder's ``Storage`` is the
model): the answer log, event claims, the inbox of pending questions and named locks; the
question traces and approved answers.

:class:`bot.ledger.store.Ledger` plays all four on one database (SQLite or PostgreSQL), so
replicas sharing it share claims and locks; :class:`bot.ledger.memory.MemoryLedger` plays them
in memory for unit tests. Steps are given only the role they use.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, Protocol

from bot.ledger.approved import Approved
from bot.ledger.pending import Pending
from bot.ledger.rows import LedgerRow
from bot.ledger.tally import Tally
from bot.ledger.traces import QuestionTrace, TracedAnswer


class AnswerLog(Protocol):
    """One row per answer, its feedback, and what the rows add up to."""

    def record(self, row: LedgerRow, trace: QuestionTrace | None = None) -> None:
        """Write one answer (and its question's trace, in the same transaction); a second row
        with the same ``answer_id`` is an error."""
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

    # -- the admin console's reads (bot/app/admin): small results whatever the row count --
    def tallies(self, since: datetime | None = None, until: datetime | None = None, *,
                tokens: bool = True) -> list[Tally]:
        """Answers in ``[since, until)`` summed per day, route, models, vote and hand-off;
        with each model's tokens unless ``tokens`` is false (a second scan in SQL)."""
        ...

    def latency_quantiles(self, qs: Sequence[float], since: datetime | None = None,
                          until: datetime | None = None) -> list[float]:
        """Nearest-rank latency quantiles (ms) of the answers in ``[since, until)``."""
        ...

    def latest(self, limit: int, offset: int = 0, *, route: str | None = None,
               feedback: str | None = None) -> list[LedgerRow]:
        """A page of answers, newest first; ``feedback`` "up", "down" or "none" (no vote)."""
        ...

    def close(self) -> None:
        """Release connections."""
        return None


HandoffClaim = Literal["claimed", "already", "unknown"]


class Handoffs(Protocol):
    """Answers handed off to people: marked once, linked to the helpdesk thread or ticket."""

    def claim_handoff(self, answer_id: str, target: str,
                      stale_before: datetime | None = None) -> HandoffClaim:
        """Mark the answer handed off to ``target`` unless it already is (one caller wins). A
        claim made before ``stale_before`` that never got its reference (its replica died
        mid-delivery) may be claimed again."""
        ...

    def release_handoff(self, answer_id: str) -> None:
        """Undo a claim whose delivery failed, so the asker can try again."""
        ...

    def set_handoff_reference(self, answer_id: str, reference: str) -> None:
        """Where the hand-off went (``C0HELP:1712.0001``, a ticket number)."""
        ...

    def handed_off_answer(self, reference: str) -> str | None:
        """The answer id a helpdesk thread or ticket came from."""
        ...


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


# -- knowledge gaps and approved answers ------------------------------------------------------
class TraceLog(Protocol):
    """The answers' question traces (:mod:`bot.ledger.traces`), for the gaps report."""

    def traced(self, since: datetime | None = None,
               until: datetime | None = None) -> list[TracedAnswer]:
        """Answers in ``[since, until)`` that have a trace, with it, oldest first."""
        ...


class ApprovedAnswers(Protocol):
    """Admin-curated answers (:mod:`bot.ledger.approved`)."""

    def add_approved(self, item: Approved) -> None:
        """Store a new approved answer (its id must be new)."""
        ...

    def save_approved(self, item: Approved) -> bool:
        """Replace the stored answer with ``item.id``; False when there is none."""
        ...

    def approved(self, approved_id: str) -> Approved | None: ...

    def approved_list(self, status: str | None = None) -> list[Approved]:
        """Approved answers (of ``status``, default all), newest first."""
        ...
