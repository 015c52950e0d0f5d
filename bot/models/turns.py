"""Whose turn it is on the one llama.cpp context, for the answers waiting on the event loop.

One context evaluates one prompt at a time. Answers used to wait for it in worker threads, behind
a plain lock: under a burst of questions every waiting call held one of the default executor's
few threads (so retrieval, ledger writes and acks of other questions queued behind the model),
and the lock handed the context out in no particular order — each answer needs it twice (its
draft, then the verification pass), so the drafts and passes of twenty answers interleaved until
nearly all of them finished at the end of the burst. :class:`Turns` keeps the waiters on the
event loop, without a thread, and serves them first come, first served, except that a call
continuing an answer already on screen (``FINISHING``: the verification pass) goes before new
drafts: answers finish one after another.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

FINISHING, STARTING = 0, 1  # priorities: lower goes first


class Turns:
    """An asyncio lock whose waiters are served by priority, then in arrival order. With
    ``ordered=False`` nobody waits here: callers wait in their worker threads for the model's
    own lock, as before (the baseline in tests/bench)."""

    def __init__(self, ordered: bool = True) -> None:
        self.ordered = ordered
        self._busy = False
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []  # a heap
        self._tickets = itertools.count()

    @asynccontextmanager
    async def turn(self, priority: int = STARTING) -> AsyncIterator[None]:
        """The context is the caller's for the block."""
        if not self.ordered:
            yield
            return
        await self._take(priority)
        try:
            yield
        finally:
            self._hand_over()

    async def _take(self, priority: int) -> None:
        if not self._busy:
            self._busy = True
            return
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._tickets), ready))
        try:
            await ready
        except asyncio.CancelledError:
            if ready.done() and not ready.cancelled():  # handed the turn, then cancelled
                self._hand_over()
            raise

    def _hand_over(self) -> None:
        """The next waiter's turn (the context stays busy), or nobody's."""
        while self._waiting:
            *_, ready = heapq.heappop(self._waiting)
            if not ready.done():
                ready.set_result(None)
                return
        self._busy = False
