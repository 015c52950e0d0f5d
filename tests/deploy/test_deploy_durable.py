"""No question is lost when ``firstline serve`` dies: real ``firstline serve`` processes, SIGKILLed
after Slack got its ack and while the answer is being generated, then restarted.

Slack is the stand-in (a real HTTP server speaking the Web API, requests signed); Chroma is the
real server; the ledger is a shared SQLite file or a PostgreSQL schema. The model is a small
OpenAI-compatible server in this process that holds the first completion until the test has
killed the replica asking for it, so the kill lands between the ack and the answer every time.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import sqlalchemy as sa
from aiohttp import web
from deploy_helpers import SAMPLES, clean_env
from loopback import free_port, start, stop
from slack_standin import (
    BOT_TOKEN,
    BOT_USER,
    SECRET,
    SignedSender,
    SlackStandIn,
    event_callback,
    mention_event,
)

from bot.ledger.rows import utc, utcnow
from bot.ledger.schema import pending
from bot.ledger.store import Ledger

pytestmark = pytest.mark.asyncio(loop_scope="function")

CHANNEL = "C0HELP"
QUESTION = "How do I reset my VPN password?"
FIRSTLINE = str(Path(sys.executable).parent / "firstline")


@dataclass
class HeldModel:
    """An OpenAI-compatible model server whose completions wait while ``hold`` is set."""

    hold: bool = True
    asked: asyncio.Event = field(default_factory=asyncio.Event)
    requests: int = 0
    url: str = ""

    async def models(self, _: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "held", "object": "model"}]})

    async def chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests += 1
        self.asked.set()
        while self.hold:  # until the replica that asked is dead and the test lets go
            await asyncio.sleep(0.05)
        return web.json_response({
            "model": body.get("model", "held"),
            "usage": {"prompt_tokens": 50, "completion_tokens": 9},
            "choices": [{"index": 0, "finish_reason": "stop", "message": {
                "role": "assistant",
                "content": "Reset it in the self-service portal at https://id.example.com [1]."}}]})


@pytest_asyncio.fixture(loop_scope="function")
async def model() -> AsyncIterator[HeldModel]:
    server = HeldModel()
    app = web.Application()
    app.add_routes([web.get("/v1/models", server.models),
                    web.post("/v1/chat/completions", server.chat)])
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    server.url = f"http://127.0.0.1:{port}/v1"
    yield server
    server.hold = False
    await runner.cleanup()


@pytest_asyncio.fixture(loop_scope="function")
async def standin() -> AsyncIterator[SlackStandIn]:
    server = await SlackStandIn().start()
    yield server
    await server.stop()


class Replicas:
    """`firstline serve` processes sharing one ledger and one Chroma collection."""

    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.tmp = tmp
        self.env = env
        self.processes: list[subprocess.Popen[bytes]] = []

    async def start(self, name: str, **extra: str) -> str:
        """Start a replica; off the event loop, as its start-up asks the model and Slack
        stand-ins served by this loop (its SLM check and Slack's auth.test)."""
        port = free_port()
        env = self.env | {"FIRSTLINE_PORT": str(port), **extra}
        base = f"http://127.0.0.1:{port}"
        log = self.tmp / f"{name}-{len(self.processes)}.log"
        self.processes.append(await asyncio.to_thread(
            start, [FIRSTLINE, "serve"], log, f"{base}/healthz", env=env, cwd=self.tmp))
        return f"{base}/slack/events"

    def kill(self, index: int) -> None:
        self.processes[index].send_signal(signal.SIGKILL)
        assert self.processes[index].wait(timeout=30) == -signal.SIGKILL

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                stop(process)


@pytest.fixture
def replicas(tmp_path: Path, chroma_url: str, ledger_url: str, model: HeldModel,
             standin: SlackStandIn) -> Iterator[Replicas]:
    kb = tmp_path / "kb" / "it"
    kb.mkdir(parents=True)
    shutil.copy(SAMPLES / "it" / "vpn-password-reset.md", kb)
    env = clean_env(
        CHROMA_URL=chroma_url, FIRSTLINE_SLM_URL=model.url, FIRSTLINE_LEDGER_URL=ledger_url,
        FIRSTLINE_COLLECTION=f"durable-{uuid.uuid4().hex[:8]}",
        FIRSTLINE_DATA_DIR=str(tmp_path / "data"), FIRSTLINE_HOST="127.0.0.1",
        FIRSTLINE_CACHE_TTL_SECONDS="0", FIRSTLINE_QUESTION_LEASE_SECONDS="2",
        FIRSTLINE_QUESTION_SWEEP_SECONDS="0.5", SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=standin.api_url,
        FIRSTLINE_SLACK_STREAM="false")  # the placeholder path (streamed: test_slack_streaming)
    subprocess.run([FIRSTLINE, "index", str(tmp_path / "kb")], env=env, cwd=tmp_path,
                   check=True, timeout=600, stdout=subprocess.DEVNULL)
    running = Replicas(tmp_path, env)
    yield running
    running.stop_all()


async def ask_and_kill(replicas: Replicas, standin: SlackStandIn, model: HeldModel,
                       session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    """Ask the replica at ``url``; once Slack has its ack and the model its request, SIGKILL."""
    message = standin.user_message(CHANNEL, f"<@{BOT_USER}> {QUESTION}")
    status, _, _ = await SignedSender(url, session).event(
        event_callback(mention_event(message, CHANNEL), event_id="Ev0DURABLE"))
    assert status == 200  # Slack has its ack: it will not redeliver on its own
    await asyncio.wait_for(model.asked.wait(), 300)
    replicas.kill(0)
    model.hold = False
    return message


async def answers(standin: SlackStandIn, message: dict[str, Any], ledger_url: str,
                  ) -> tuple[list[str], int]:
    """The bot's messages in the thread, once the answer is in and all is quiet; ledger rows."""
    await standin.wait_for(lambda: any("self-service" in t for t in
                                       standin.bot_texts(CHANNEL, message["ts"])), 300)
    await standin.settle(2.0)
    with Ledger(ledger_url) as ledger:
        rows = [r for r in ledger.rows() if r.channel == "slack"]
        left = _pending_rows(ledger_url)
    assert left == 0  # nothing pending: the question text is gone from the ledger
    return standin.bot_texts(CHANNEL, message["ts"]), len(rows)


def _pending_rows(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.count()).select_from(pending)) or 0)
    finally:
        engine.dispose()


async def test_a_killed_replica_s_question_is_answered_once_after_a_restart(
        replicas: Replicas, standin: SlackStandIn, model: HeldModel, ledger_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        url = await replicas.start("a")
        message = await ask_and_kill(replicas, standin, model, session, url)
        await replicas.start("a-restarted")  # its start-up sweep finds the expired question
        texts, rows = await answers(standin, message, ledger_url)
    [placeholder] = standin.calls_to("chat.postMessage")
    assert [c.args["ts"] for c in standin.calls_to("chat.update")] == [
        standin.in_thread(CHANNEL, message["ts"])[1]["ts"]]  # the placeholder, replaced once
    assert placeholder.args["text"] == "_Looking into it…_"
    assert len(texts) == 1 and "self-service" in texts[0]
    assert rows == 1


async def test_two_replicas_sweeping_after_a_kill_answer_exactly_once(
        replicas: Replicas, standin: SlackStandIn, model: HeldModel, ledger_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        url = await replicas.start("a")
        await replicas.start("b")  # sweeping all along
        message = await ask_and_kill(replicas, standin, model, session, url)
        await replicas.start("a-restarted")  # and now a second sweeper races it
        texts, rows = await answers(standin, message, ledger_url)
    assert len(standin.calls_to("chat.update")) == 1
    assert len(texts) == 1 and rows == 1


async def test_a_redelivery_after_the_kill_is_answered_and_not_twice(
        replicas: Replicas, standin: SlackStandIn, model: HeldModel, ledger_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        url = await replicas.start("a")
        other = await replicas.start("b", FIRSTLINE_QUESTION_SWEEP_SECONDS="3600")  # no sweep: the
        message = await ask_and_kill(replicas, standin, model, session, url)  # redelivery
        await _lease_expired(ledger_url)                                       # answers
        body = event_callback(mention_event(message, CHANNEL), event_id="Ev0DURABLE")
        sender = SignedSender(other, session)
        status, _, _ = await sender.event(body, retry=(1, "http_error"))
        assert status == 200
        texts, rows = await answers(standin, message, ledger_url)
        status, _, _ = await sender.event(body, retry=(2, "http_error"))  # answered: dropped
        assert status == 200
        await standin.settle(2.0)
    assert len(standin.calls_to("chat.update")) == 1
    assert len(standin.bot_texts(CHANNEL, message["ts"])) == 1 and rows == 1
    assert model.requests >= 2  # the dead replica's request and the redelivery's


async def _lease_expired(ledger_url: str) -> None:
    """Until the dead replica's claim has run out (read from the ledger, not guessed)."""
    engine = sa.create_engine(ledger_url)
    try:
        while True:
            with engine.connect() as conn:
                until = conn.scalar(sa.select(sa.func.max(pending.c.lease_until)))
            if until is not None and utc(until) < utcnow():
                return
            await asyncio.sleep(0.1)
    finally:
        engine.dispose()
