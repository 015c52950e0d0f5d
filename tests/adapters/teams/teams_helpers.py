"""The fake core and activity builders shared by the Teams adapter tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
from aiohttp import web
from teams_standins import BotFrameworkStandIns

from adapters.teams.app import TEAMS_ENDPOINT, mount_teams
from adapters.teams.settings import TeamsSettings
from bot.errors import UserFacingError
from bot.ledger.questions import Questions
from bot.types import (
    Final,
    Notify,
    Question,
    Replace,
    Reply,
    Responder,
    Route,
    Source,
    Status,
    StreamEvent,
    TextDelta,
)

APP_ID = "00000000-0000-0000-0000-00000000b07"
APP_PASSWORD = "test-client-secret"
BOT_ID = f"28:{APP_ID}"
ADMIN_AAD = "6f1c2f0e-5a3b-4c1d-9e8f-0a1b2c3d4e5f"
USER_AAD = "1b2c3d4e-0000-4000-8000-123456789abc"
COMMANDS = {"reindex", "status", "costs", "help"}


# --- the core, faked (the adapter is what is under test) -----------------------------------
class FakeResponder:
    """Answers like the core's contract says; records what the adapter handed in."""

    def __init__(self) -> None:
        self.questions: list[Question] = []
        self.votes: list[tuple[str, str, str, str]] = []
        self.answers: set[str] = set()
        self.fail_with: BaseException | None = None
        self.reindex_may_finish = asyncio.Event()
        self.background: list[asyncio.Task[None]] = []
        self.draft: str | None = None  # streamed first, then replaced by the answer
        self.piece_seconds = 0.15  # between streamed pieces
        self.checking_seconds = 0.0  # after the last piece, before the Final
        self.escalating: str | None = None  # a status after the draft, before its Replace

    async def stream(self, question: Question,
                     notify: Notify | None = None) -> AsyncIterator[StreamEvent]:
        """Like the core: a status, the text in pieces (a draft replaced, if set), the Final."""
        yield Status("Searching the documents…")
        reply = await self.handle(question, notify)
        if reply.route != Route.COMMAND:
            for piece in self._pieces(self.draft or reply.text):
                await asyncio.sleep(self.piece_seconds)
                yield TextDelta(piece)
            if self.draft is not None:
                await asyncio.sleep(self.piece_seconds)
                if self.escalating is not None:
                    yield Status(self.escalating)
                    await asyncio.sleep(self.piece_seconds)
                yield Replace(reply.text)
        await asyncio.sleep(self.checking_seconds)
        yield Final(reply)

    @staticmethod
    def _pieces(text: str, count: int = 4) -> list[str]:
        size = -(-len(text) // count)
        return [text[i:i + size] for i in range(0, len(text), size)]

    async def handle(self, question: Question, notify: Notify | None = None) -> Reply:
        self.questions.append(question)
        if self.fail_with is not None:
            raise self.fail_with
        word = question.text.strip().lower()
        if word in COMMANDS:
            return self._command(word, question, notify)
        answer_id = f"ans-{uuid.uuid4().hex[:8]}"
        self.answers.add(answer_id)
        source = Source("it/vpn-password-reset.md", "Resetting your VPN password", 0.91,
                        url="https://intranet.example/it/vpn")
        return Reply(text="Open the self-service portal and choose **Reset VPN password**.",
                     answer_id=answer_id, route=Route.LOCAL, sources=(source,),
                     cited=(source.path,))

    def _command(self, word: str, question: Question, notify: Notify | None) -> Reply:
        if not question.is_admin:
            return Reply(text=f"Sorry, `{word}` is for helpdesk admins only.", answer_id="",
                         route=Route.COMMAND, reason="not-admin")
        if word == "reindex" and notify is not None:
            self.background.append(asyncio.create_task(self._reindex(notify)))
            return Reply(text="Reindex started; I'll post the summary here.", answer_id="",
                         route=Route.COMMAND, reason="started")
        return Reply(text=f"{word}: all good", answer_id="", route=Route.COMMAND)

    async def _reindex(self, notify: Notify) -> None:
        await self.reindex_may_finish.wait()
        await notify("Reindex finished: 23 documents, 141 chunks, 0 errors.")

    async def feedback(self, answer_id: str, user: str, vote: Literal["up", "down"],
                       reason: str = "") -> None:
        if answer_id not in self.answers:
            raise UserFacingError("I can't find that answer any more.")
        self.votes.append((answer_id, user, vote, reason))


# --- the adapter under test, running -------------------------------------------------------
@dataclass
class RunningBot:
    url: str
    app: web.Application
    responder: Any  # FakeResponder, or a real Firstline
    cloud: BotFrameworkStandIns
    http: aiohttp.ClientSession

    async def post(self, activity: dict[str, Any], token: str | None = "valid",
                   scheme: str = "Bearer") -> int:
        headers = {"Content-Type": "application/json"}
        if token == "valid":
            token = self.cloud.channel_token()
        if token is not None:
            headers["Authorization"] = f"{scheme} {token}"
        async with self.http.post(f"{self.url}/api/messages", json=activity,
                                  headers=headers) as response:
            return response.status

    async def idle(self) -> None:
        assert await self.app[TEAMS_ENDPOINT].idle(timeout=20)


HOST = "127.0.0.1"  # the bind address the adapter is told about (loopback, like the site)


@asynccontextmanager
async def served(responder: Responder, settings: TeamsSettings,
                 cloud: BotFrameworkStandIns,
                 questions: Questions | None = None) -> AsyncIterator[RunningBot]:
    """The real adapter for ``responder`` on an ephemeral loopback port (token checks on)."""
    cloud.require_token = True
    app = web.Application()
    mount_teams(app, responder, settings, host=HOST, questions=questions)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, HOST, 0).start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            yield RunningBot(f"http://127.0.0.1:{port}", app, responder, cloud, http)
    finally:
        await runner.cleanup()


# --- activities as Teams sends them ----------------------------------------------------------
def message(cloud: BotFrameworkStandIns, text: str = "", *, user: str = USER_AAD,
            conversation: str | None = None, kind: str = "personal",
            mention: bool = False, value: dict[str, Any] | None = None,
            channel_id: str = "msteams") -> dict[str, Any]:
    conversation = conversation or f"a:{uuid.uuid4().hex}"
    activity: dict[str, Any] = {
        "type": "message",
        "id": str(uuid.uuid4().int)[:13],
        "channelId": channel_id,
        "serviceUrl": cloud.service_url,
        "timestamp": "2024-05-01T09:00:00.000Z",
        "from": {"id": f"29:{user}", "name": "Test User", "aadObjectId": user},
        "recipient": {"id": BOT_ID, "name": "Firstline"},
        "conversation": {"id": conversation, "conversationType": kind,
                         "tenantId": "72f988bf-0000-0000-0000-2d7cd011db47"},
        "text": text,
        "textFormat": "plain",
        "locale": "en-US",
        "channelData": {"tenant": {"id": "72f988bf-0000-0000-0000-2d7cd011db47"}},
    }
    if mention:
        activity["text"] = f"<at>Firstline</at> {text}"
        activity["entities"] = [{"type": "mention", "text": "<at>Firstline</at>",
                                 "mentioned": {"id": BOT_ID, "name": "Firstline"}}]
    if value is not None:
        activity["value"] = value
        activity["text"] = ""
    return activity
