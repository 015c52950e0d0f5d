"""Short-lived memory of what this process has seen: Slack retries and the threads it answers.

Slack redelivers an event when it gets no 200 within 3 seconds, and the same message can arrive
twice under different events (``app_mention`` and ``message`` for a mention in a thread). Both
are caught by claiming a key once: the ``event_id`` and ``channel:ts`` of the message.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

Dedupe = Callable[[str], Awaitable[bool]]
"""Claim a key: True the first time it is seen (handle the event), False afterwards (skip).

The default is :class:`SeenRecently` (one process); a shared store can be plugged in here.
"""

# Reasons Slack gives in X-Slack-Retry-Reason when the first delivery may well have reached us
# (we were just slow to answer) — such retries are dropped outright. After "http_error" or
# "connection_failed" the first delivery was not handled (bolt acks before any listener runs),
# so the retry is handled unless its event was already claimed.
RETRIES_ALREADY_RECEIVED = frozenset({"http_timeout", "unknown_error", ""})


def skip_retry(retry_num: str | None, retry_reason: str | None) -> bool:
    """Whether a redelivery must be dropped without looking at its event id."""
    if not retry_num or retry_num == "0":
        return False
    return (retry_reason or "") in RETRIES_ALREADY_RECEIVED


class SeenRecently:
    """An in-memory set whose members expire after ``ttl`` seconds (at most ``size`` kept)."""

    def __init__(self, ttl: float = 3600.0, size: int = 20_000) -> None:
        self.ttl = ttl
        self.size = size
        self._seen: OrderedDict[str, float] = OrderedDict()

    async def __call__(self, key: str) -> bool:
        return self.claim(key)

    def claim(self, key: str) -> bool:
        """Add ``key``; True if it was not already there."""
        self._expire()
        if key in self._seen:
            return False
        self.add(key)
        return True

    def add(self, key: str) -> None:
        self._seen[key] = time.monotonic() + self.ttl
        self._seen.move_to_end(key)
        while len(self._seen) > self.size:
            self._seen.popitem(last=False)

    def __contains__(self, key: object) -> bool:
        self._expire()
        return key in self._seen

    def _expire(self) -> None:
        now = time.monotonic()
        while self._seen:
            key, expiry = next(iter(self._seen.items()))
            if expiry > now:
                break
            self._seen.popitem(last=False)
