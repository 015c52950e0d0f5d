"""An in-memory ledger for fast unit tests: the four roles of :mod:`bot.ledger.roles` in dicts.

It keeps the rules of the real one (a duplicate answer id is refused, votes replace votes, a lock
is its owner's until it expires) so a unit test that passes here means the same on SQLite; the
integration tests run the real :class:`bot.ledger.store.Ledger`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Literal

from bot.ledger.approved import Approved
from bot.ledger.pending import Pending
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
from bot.ledger.rows import CLOUD_ROUTES, LedgerRow, utcnow
from bot.ledger.summary import summarise
from bot.ledger.tally import Tally, quantiles, tally_rows
from bot.ledger.traces import QuestionTrace, TracedAnswer


class MemoryLedger(AnswerLog, EventClaims, Inbox, Locks, TraceLog, ApprovedAnswers, Handoffs):
    """Answers, claims, pending questions, locks, question traces, approved answers and
    hand-offs in this process only."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._answers: dict[str, LedgerRow] = {}
        self._claimed: set[str] = set()
        self._locks: dict[str, tuple[str, float]] = {}
        self._pending: dict[str, tuple[Pending, str, float]] = {}  # key -> (question, owner, until)
        self._replies: dict[str, str] = {}  # a sent message's key -> its answer id
        self.done: dict[str, str | None] = {}  # answered question key -> answer id
        self._traces: dict[str, QuestionTrace] = {}
        self._approved: dict[str, Approved] = {}
        self._clock = clock
        self._lock = threading.Lock()
        self.closed = False

    def record(self, row: LedgerRow, trace: QuestionTrace | None = None) -> None:
        with self._lock:
            if row.answer_id in self._answers:
                raise ValueError(f"answer {row.answer_id} is already recorded")
            self._answers[row.answer_id] = row
            if trace is not None:
                self._traces[row.answer_id] = trace

    def set_feedback(self, answer_id: str, vote: Literal["up", "down"], reason: str = "") -> bool:
        if vote not in ("up", "down"):
            raise ValueError(f"vote must be 'up' or 'down', not {vote!r}")
        with self._lock:
            row = self._answers.get(answer_id)
            if row is None:
                return False
            self._answers[answer_id] = replace(row, feedback=vote, feedback_reason=reason or None,
                                               feedback_at=utcnow())
        return True

    def get(self, answer_id: str) -> LedgerRow | None:
        return self._answers.get(answer_id)

    def rows(self, since: datetime | None = None, until: datetime | None = None) -> list[LedgerRow]:
        inside = [r for r in self._answers.values()
                  if (since is None or r.created_at >= since)
                  and (until is None or r.created_at < until)]
        return sorted(inside, key=lambda r: (r.created_at, r.answer_id))

    def conversation_sources(self, conversation: str) -> set[str]:
        return {str(s.get("path", "")) for r in self._answers.values()
                if r.conversation == conversation for s in r.sources} - {""}

    def cloud_spend(self, since: datetime) -> float:
        return sum(r.cost_usd for r in self.rows(since) if r.route in CLOUD_ROUTES)

    def summary(self, since: datetime | None = None, until: datetime | None = None,
                by: str | None = None) -> list[dict[str, Any]]:
        mapped = [{**r.__dict__, "models": json.dumps(r.models), "tokens": json.dumps(r.tokens)}
                  for r in self.rows(since, until)]
        return summarise(mapped, by)

    # -- the admin console's reads ---------------------------------------------------------
    def tallies(self, since: datetime | None = None, until: datetime | None = None, *,
                tokens: bool = True) -> list[Tally]:
        return tally_rows(self.rows(since, until), tokens=tokens)

    def latency_quantiles(self, qs: Sequence[float], since: datetime | None = None,
                          until: datetime | None = None) -> list[float]:
        return quantiles((r.latency_ms for r in self.rows(since, until)), qs)

    def latest(self, limit: int, offset: int = 0, *, route: str | None = None,
               feedback: str | None = None) -> list[LedgerRow]:
        vote = None if feedback == "none" else feedback
        chosen = [r for r in reversed(self.rows()) if (route is None or r.route == route)
                  and (feedback is None or r.feedback == vote)]
        return chosen[offset:offset + limit]
    # -- hand-offs ------------------------------------------------------------------------
    def claim_handoff(self, answer_id: str, target: str,
                      stale_before: datetime | None = None) -> HandoffClaim:
        with self._lock:
            row = self._answers.get(answer_id)
            if row is None:
                return "unknown"
            stale = (stale_before is not None and row.handoff_reference is None
                     and row.handed_off_at is not None and row.handed_off_at < stale_before)
            if row.handed_off_at is not None and not stale:
                return "already"
            self._answers[answer_id] = replace(row, handed_off_at=utcnow(), handoff_target=target)
            return "claimed"

    def release_handoff(self, answer_id: str) -> None:
        with self._lock:
            row = self._answers.get(answer_id)
            if row is not None and row.handoff_reference is None:
                self._answers[answer_id] = replace(row, handed_off_at=None, handoff_target=None)

    def set_handoff_reference(self, answer_id: str, reference: str) -> None:
        with self._lock:
            row = self._answers.get(answer_id)
            if row is not None:
                self._answers[answer_id] = replace(row, handoff_reference=reference)

    def handed_off_answer(self, reference: str) -> str | None:
        return next((r.answer_id for r in self._answers.values()
                     if r.handoff_reference == reference), None)

    def claim_event(self, key: str) -> bool:
        with self._lock:
            if key in self._claimed:
                return False
            self._claimed.add(key)
            return True

    def claim_question(self, key: str, channel: str, payload: dict[str, Any], owner: str,
                       lease_seconds: float) -> Pending | None:
        with self._lock:
            if key not in self._claimed:
                self._claimed.add(key)
                question = Pending(key, channel, dict(payload), 1, utcnow())
                self._pending[key] = (question, owner, self._clock() + lease_seconds)
                return question
            return self._take_over(key, owner, lease_seconds)

    def renew_question(self, key: str, owner: str, lease_seconds: float) -> bool:
        with self._lock:
            held = self._pending.get(key)
            if held is None or held[1] != owner:
                return False
            self._pending[key] = (held[0], owner, self._clock() + lease_seconds)
            return True

    def update_question(self, key: str, owner: str, payload: dict[str, Any]) -> bool:
        with self._lock:
            held = self._pending.get(key)
            if held is None or held[1] != owner:
                return False
            self._pending[key] = (replace(held[0], payload=dict(payload)), owner, held[2])
            return True

    def finish_question(self, key: str, answer_id: str | None) -> None:
        with self._lock:
            self._pending.pop(key, None)
            self.done[key] = answer_id

    def take_expired(self, owner: str, lease_seconds: float, limit: int = 20,
                     channels: tuple[str, ...] | None = None) -> list[Pending]:
        with self._lock:
            taken: list[Pending] = []
            for question, _, _ in sorted(self._pending.values(), key=lambda h: h[0].created_at):
                if len(taken) == limit:
                    break
                if channels is not None and question.channel not in channels:
                    continue
                took = self._take_over(question.key, owner, lease_seconds)
                if took is not None:
                    taken.append(took)
            return taken

    def remember_reply(self, key: str, answer_id: str) -> None:
        with self._lock:
            self._replies[key] = answer_id

    def reply_answer(self, key: str) -> str | None:
        with self._lock:
            return self._replies.get(key)

    def _take_over(self, key: str, owner: str, lease_seconds: float) -> Pending | None:
        held = self._pending.get(key)
        if held is None or held[2] > self._clock():
            return None
        question = replace(held[0], attempts=held[0].attempts + 1)
        self._pending[key] = (question, owner, self._clock() + lease_seconds)
        return question

    def acquire_lock(self, name: str, owner: str, ttl_seconds: float) -> bool:
        with self._lock:
            held = self._locks.get(name)
            if held is not None and held[0] != owner and held[1] > self._clock():
                return False
            self._locks[name] = (owner, self._clock() + ttl_seconds)
            return True

    def release_lock(self, name: str, owner: str) -> None:
        with self._lock:
            if self._locks.get(name, ("", 0.0))[0] == owner:
                del self._locks[name]

    # -- question traces and approved answers ------------------------------------------------
    def traced(self, since: datetime | None = None,
               until: datetime | None = None) -> list[TracedAnswer]:
        return [TracedAnswer(self._answers[r.answer_id], self._traces[r.answer_id])
                for r in self.rows(since, until) if r.answer_id in self._traces]

    def add_approved(self, item: Approved) -> None:
        with self._lock:
            if item.id in self._approved:
                raise ValueError(f"approved answer {item.id} already exists")
            self._approved[item.id] = item

    def save_approved(self, item: Approved) -> bool:
        with self._lock:
            if item.id not in self._approved:
                return False
            self._approved[item.id] = item
            return True

    def approved(self, approved_id: str) -> Approved | None:
        return self._approved.get(approved_id)

    def approved_list(self, status: str | None = None) -> list[Approved]:
        items = [a for a in self._approved.values() if status is None or a.status == status]
        return sorted(items, key=lambda a: (-a.created_at.timestamp(), a.id))

    def close(self) -> None:
        self.closed = True
