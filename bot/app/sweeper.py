"""The sweep that answers questions whose replica died: at start-up, then every few seconds.

Each replica runs one. :meth:`~bot.ledger.roles.Inbox.take_expired` hands each expired question
to exactly one sweeping replica (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite takes one
writer at a time), which answers it through the adapter it came from — or, once it has been
tried more than ``attempts`` times, tells the asker so with a button to ask again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable

from bot.background import in_background
from bot.ledger.pending import Pending
from bot.ledger.questions import Questions
from bot.ledger.roles import Inbox

log = logging.getLogger(__name__)


class Sweeper:
    """Takes over expired questions for the channels this replica serves."""

    def __init__(self, inbox: Inbox, channels: Iterable[Questions], *, attempts: int,
                 every: float) -> None:
        self.inbox = inbox
        self.channels = {q.channel: q for q in channels if q.resumer is not None}
        self.attempts = attempts
        self.every = every
        self.owner = next(iter(self.channels.values())).owner if self.channels else ""

    async def sweep(self) -> int:
        """One pass; returns how many questions it settled."""
        if not self.channels:
            return 0
        lease = max(q.lease_seconds for q in self.channels.values())
        taken = await asyncio.to_thread(self.inbox.take_expired, self.owner, lease,
                                        channels=tuple(self.channels))
        await asyncio.gather(*(self._settle(q) for q in taken))
        return len(taken)

    async def _settle(self, question: Pending) -> None:
        channel = self.channels[question.channel]
        assert channel.resumer is not None
        try:
            async with channel.leased(question.key):
                if question.attempts > self.attempts:
                    log.warning("giving up on question %s after %d attempts", question.key,
                                question.attempts - 1)
                    await channel.resumer.give_up(question)
                    answer_id = None
                else:
                    log.info("answering question %s left by a stopped replica (attempt %d)",
                             question.key, question.attempts)
                    answer_id = await channel.resumer.resume(question)
        except Exception:  # its lease runs out and the next sweep tries again
            log.exception("could not settle pending question %s", question.key)
            return
        await channel.finish(question.key, answer_id)

    async def run(self) -> None:
        """Sweep now and then every :attr:`every` seconds, until cancelled."""
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("the sweep for pending questions failed")
            await asyncio.sleep(self.every)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the sweep in the background while the block runs."""
        async with in_background(self.run()):
            yield
