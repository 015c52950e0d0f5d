"""The :class:`~bot.ledger.roles.Inbox` as an adapter sees it: async, for one channel and one
replica, never failing the answer it guards.

An adapter claims a question with where-to-answer and the question itself, keeps the lease while
it answers, and finishes it with the answer id. It also registers a :class:`Resumer`, which the
sweep (:mod:`bot.app.sweeper`) calls for questions whose replica died.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from bot.ledger.pending import Pending, keep_lease
from bot.ledger.roles import Inbox

log = logging.getLogger(__name__)

LEASE_SECONDS = 60.0


def replica_id() -> str:
    """Unique per process start: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Resumer(Protocol):
    """An adapter's way back to an asker, from a stored payload alone."""

    async def resume(self, question: Pending) -> str | None:
        """Answer ``question`` where it was asked; returns the answer id."""
        ...

    async def give_up(self, question: Pending) -> None:
        """Tell the asker it could not be answered, with a button to ask again."""
        ...


class Questions:
    """One channel's pending questions, held by this replica (``owner``)."""

    def __init__(self, inbox: Inbox, channel: str, owner: str | None = None,
                 lease_seconds: float = LEASE_SECONDS) -> None:
        self.inbox = inbox
        self.channel = channel
        self.owner = owner or replica_id()
        self.lease_seconds = lease_seconds
        self.resumer: Resumer | None = None

    async def claim(self, key: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """The payload to answer with (the stored one after a takeover), or None: not ours.
        A failing store does not silence the bot (answered, but not durably)."""
        try:
            claimed = await asyncio.to_thread(self.inbox.claim_question, key, self.channel,
                                              payload, self.owner, self.lease_seconds)
        except Exception:
            log.exception("could not claim %s; answering it without a pending row", key)
            return payload
        return None if claimed is None else claimed.payload

    def leased(self, key: str) -> AbstractAsyncContextManager[None]:
        """Renew ``key``'s lease every third of it while the block runs."""
        return keep_lease(lambda: self.inbox.renew_question(key, self.owner, self.lease_seconds),
                          self.lease_seconds / 3)

    async def update(self, key: str, payload: dict[str, Any]) -> None:
        await self._quietly(self.inbox.update_question, key, self.owner, payload)

    async def finish(self, key: str, answer_id: str | None) -> None:
        await self._quietly(self.inbox.finish_question, key, answer_id)

    async def remember_reply(self, message_id: str | None, answer_id: str) -> None:
        """Note which answer the sent message ``message_id`` carries (for votes that name the
        message), on the ledger every replica shares."""
        if message_id and answer_id:
            await self._quietly(self.inbox.remember_reply, f"{self.channel}:{message_id}",
                                answer_id)

    async def reply_answer(self, message_id: str | None) -> str | None:
        """The answer the sent message ``message_id`` carries (None: unknown or unreadable)."""
        if not message_id:
            return None
        try:
            return await asyncio.to_thread(self.inbox.reply_answer,
                                           f"{self.channel}:{message_id}")
        except Exception:
            log.exception("could not look up the answer of message %s", message_id)
            return None

    async def _quietly(self, call: Any, key: str, *args: Any) -> None:
        try:
            await asyncio.to_thread(call, key, *args)
        except Exception:
            log.exception("the pending question %s could not be updated", key)
