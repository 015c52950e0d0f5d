"""A small stand-in for the core (``bot.types.Responder``), so adapter tests control timing,
failures and commands. The Slack side of these tests is real; only the core is faked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from bot.errors import UserFacingError
from bot.types import (
    Final,
    Notify,
    Question,
    Replace,
    Reply,
    Route,
    Source,
    Status,
    StreamEvent,
    TextDelta,
)

SOURCES = (
    Source("it/vpn-password-reset.md", "VPN password reset", 0.91,
           url=None),
    Source("it/mfa-setup-ja.md", "MFA setup", 0.42),
    Source("hr/leave.html", "Leave policy", 0.30, url="https://intranet.example/leave"),
)
COMMANDS = {"reindex", "status", "costs", "help"}


@dataclass
class FakeResponder:
    delay: float = 0.0
    fail_on: set[str] = field(default_factory=set)  # question texts that blow up
    questions: list[Question] = field(default_factory=list)
    votes: list[tuple[str, str, str, str]] = field(default_factory=list)
    answered: set[str] = field(default_factory=set)
    reindex_gate: asyncio.Event = field(default_factory=asyncio.Event)
    reindexing: asyncio.Task[None] | None = None

    async def handle(self, question: Question, notify: Notify | None = None) -> Reply:
        self.questions.append(question)
        answer_id = f"ans{len(self.questions):04d}"
        word = (question.text.split() or [""])[0].lower()
        if word in COMMANDS:
            return self._command(word, question, notify, answer_id)
        await asyncio.sleep(self.delay)
        if question.text in self.fail_on:
            raise RuntimeError("llama_decode returned -3 at /srv/models/secret.gguf")
        self.answered.add(answer_id)
        return Reply(text=f"To reset it, use the **self-service portal** [1]. ({question.text})",
                     answer_id=answer_id, route=Route.LOCAL, sources=SOURCES,
                     cited=(SOURCES[0].path,), notice=None)

    async def feedback(self, answer_id: str, user: str, vote: str, reason: str = "") -> None:
        if answer_id not in self.answered:
            raise UserFacingError("That answer is too old to rate.")
        self.votes.append((answer_id, user, vote, reason))

    def _command(self, word: str, question: Question, notify: Notify | None,
                 answer_id: str) -> Reply:
        def reply(text: str, reason: str) -> Reply:
            return Reply(text=text, answer_id=answer_id, route=Route.COMMAND, reason=reason)

        if word == "help":
            return reply("Admin commands: `reindex`, `status`, `costs`.", "help")
        if not question.is_admin:
            return reply("Sorry, only firstline admins can run that command.", "not-admin")
        if word == "status":
            return reply("Documents: 16, chunks: 80\nReindex: idle", "status")
        if word == "costs":
            return reply("Since 2025-01-01\n```\nroute  answers\nlocal  12\n```", "costs")
        if self.reindexing is not None and not self.reindexing.done():
            return reply("A reindex is already running.", "reindex-busy")
        self.reindexing = asyncio.get_running_loop().create_task(self._reindex(notify))
        return reply("Reindex started; I'll post progress and a summary here.", "reindex-started")

    async def _reindex(self, notify: Notify | None) -> None:
        assert notify is not None
        await notify("Indexing… 8/16 files")
        await self.reindex_gate.wait()
        await notify("Reindex finished: 16 files, 80 chunks, 0 failed")


@dataclass
class StreamingFakeResponder(FakeResponder):
    """Also a ``StreamingResponder``: a status while "retrieving" (``delay``), then the reply's
    text in ``piece``-character deltas ``gap`` seconds apart — after a ``draft`` that a
    ``Replace`` discards, where one is set — and the ``Final``."""

    piece: int = 5
    gap: float = 0.05
    draft: str = ""
    hold: asyncio.Event | None = None  # when set: the Final waits for it
    escalating: str = ""  # a status after the streamed text: before the Replace of a draft,
    # else (the escalation failed, the local answer stays) before the Final

    async def stream(self, question: Question,
                     notify: Notify | None = None) -> AsyncIterator[StreamEvent]:
        yield Status("Searching the documents…")
        if self.draft:  # a local draft, which the checks (or the cloud) then replace
            async for event in self._pieces(self.draft):
                yield event
        reply = await self.handle(question, notify)
        text = reply.text
        if self.draft:
            if self.escalating:
                yield Status(self.escalating)
                await asyncio.sleep(self.gap)
            yield Replace(text[:12])
            text = text[12:]
        async for event in self._pieces(text):
            yield event
        if self.escalating and not self.draft:
            yield Status(self.escalating)
            await asyncio.sleep(self.gap)
        if self.hold is not None:
            await self.hold.wait()
        yield Final(reply)

    async def _pieces(self, text: str) -> AsyncIterator[StreamEvent]:
        for start in range(0, len(text), self.piece):
            await asyncio.sleep(self.gap)
            yield TextDelta(text[start:start + self.piece])
