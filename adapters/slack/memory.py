"""Short-lived memory of what this process has seen: the threads it answers in.

(Slack's redeliveries, and a message arriving under two events, are caught by claiming the
message's ``channel:ts`` in the ledger's inbox: see :mod:`adapters.slack.handlers`.)
"""

from __future__ import annotations

import time
from collections import OrderedDict


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
