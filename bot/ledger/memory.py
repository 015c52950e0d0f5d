"""An in-memory ledger for fast unit tests: the four roles of :mod:`bot.ledger.roles` in dicts.

It keeps the rules of the real one (a duplicate answer id is refused, votes replace votes, a lock
is its owner's until it expires) so a unit test that passes here means the same on SQLite; the
integration tests run the real :class:`bot.ledger.store.Ledger`.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from datetime import datetime
from typing import Any, Literal

from bot.ledger.pending import Pending
from bot.ledger.roles import AnswerLog, EventClaims, Inbox, Locks
from bot.ledger.rows import CLOUD_ROUTES, LedgerRow, utcnow
from bot.ledger.summary import summarise


class MemoryLedger(AnswerLog, EventClaims, Inbox, Locks):
    """Answers, claims, pending questions and locks in this process only."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._answers: dict[str, LedgerRow] = {}
        self._claimed: set[str] = set()
        self._locks: dict[str, tuple[str, float]] = {}
        self._pending: dict[str, tuple[Pending, str, float]] = {}  # key -> (question, owner, until)
        self._replies: dict[str, str] = {}  # a sent message's key -> its answer id
        self.done: dict[str, str | None] = {}  # answered question key -> answer id
        self._clock = clock
        self._lock = threading.Lock()
        self.closed = False

    def record(self, row: LedgerRow) -> None:
        with self._lock:
            if row.answer_id in self._answers:
                raise ValueError(f"answer {row.answer_id} is already recorded")
            self._answers[row.answer_id] = row

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

    def close(self) -> None:
        self.closed = True
