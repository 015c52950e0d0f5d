"""Questions in flight: what a replica needs to answer a question another one could not finish.

A claimed question is *pending* until its answer is shown. Its row carries where to answer and
the question itself (an adapter-defined ``payload``), the replica holding it (``owner``) and a
lease; a replica that dies stops renewing the lease, and any replica's sweep takes the question
over (:meth:`bot.ledger.roles.Inbox.take_expired`). The row is deleted once the question is
answered, so the question text stays no longer than that (whatever ``FIRSTLINE_LOG_QUESTION_TEXT``
says); :func:`keep_lease` renews a lease while slow work runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.background import in_background

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pending:
    """One unanswered question: ``attempts`` counts the times answering it was started."""

    key: str
    channel: str  # the adapter that can answer it: "slack", "teams"
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


@contextlib.asynccontextmanager
async def keep_lease(renew: Callable[[], bool], every: float) -> AsyncIterator[None]:
    """Call ``renew`` (blocking; run in a thread) every ``every`` seconds until the block ends.

    A renewal that fails or returns False is logged: the work goes on, but another replica may
    take the lease over once it expires.
    """

    async def loop() -> None:
        while True:
            await asyncio.sleep(every)
            try:
                if not await asyncio.to_thread(renew):
                    log.warning("a lease could not be renewed (taken over?)")
            except Exception:
                log.exception("renewing a lease failed")

    async with in_background(loop()):
        yield
