"""Several bot replicas over one shared database and one Chroma server: a Slack event is answered
once, and one reindex runs at a time — on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from deploy_helpers import SAMPLES, scaled_settings
from loopback import free_port
from slack_standin import (
    BOT_USER,
    SignedSender,
    SlackStandIn,
    event_callback,
    mention_event,
    slack_settings,
)

from adapters.teams.settings import TeamsSettings
from bot.answering.responder import Firstline
from bot.app.composition import build_firstline
from bot.app.serve import build_web_app
from bot.types import Question

pytestmark = pytest.mark.asyncio(loop_scope="function")

CHANNEL = "C0HELP"
VPN_QUESTION = "How do I reset my VPN password?"


def _small_kb(target: Path) -> Path:
    for name in ("it/vpn-password-reset.md", "it/wifi-networks.txt"):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLES / name, target / name)
    return target


@pytest_asyncio.fixture(loop_scope="function")
async def replicas(tmp_path: Path, chroma_url: str, ledger_url: str,
                   request: pytest.FixtureRequest) -> AsyncIterator[list[Firstline]]:
    """Two bots sharing the ledger database and the Chroma collection, each with its own data
    dir. The SLM URL is the real server's when the test asks for it, else a closed port."""
    slm = (request.getfixturevalue("slm_url") if "slm" in request.keywords
           else f"http://127.0.0.1:{free_port()}/v1")
    shared = {"chroma_url": chroma_url, "ledger_url": ledger_url, "slm_url": slm,
              "collection": f"replicas-{uuid.uuid4().hex[:8]}",
              "knowledge_paths": str(_small_kb(tmp_path / "kb"))}
    bots = [await asyncio.to_thread(build_firstline,
                                    scaled_settings(tmp_path / f"bot{i}", **shared))
            for i in (1, 2)]
    yield bots
    for bot in bots:
        await bot.commands.wait_reindex()
        await bot.aclose()


async def test_each_event_is_claimed_by_one_replica(replicas: list[Firstline]) -> None:
    keys = [f"Ev{n:04d}" for n in range(20)]
    attempts = [(bot, key) for key in keys for bot in replicas for _ in range(2)]
    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(lambda a: (a[1], a[0].ledger.claim_event(a[1])), attempts))
    winners = {key: sum(ok for k, ok in won if k == key) for key in keys}
    assert set(winners.values()) == {1}


async def test_one_reindex_at_a_time_across_replicas(replicas: list[Firstline]) -> None:
    admin = Question("reindex", user="U0ADMIN", is_admin=True)
    first, second = await asyncio.gather(*(bot.handle(admin) for bot in replicas))
    assert sorted([first.reason, second.reason]) == ["reindex-busy", "reindex-started"]
    for bot in replicas:
        await bot.commands.wait_reindex()
    summaries = [bot.commands.last_summary for bot in replicas]
    assert sum(s is not None and s.startswith("Reindex finished: 2 added") for s in summaries) == 1
    # the lock is released with the run: the other replica may reindex now
    again = await replicas[1].handle(admin)
    assert again.reason == "reindex-started"
    await replicas[1].commands.wait_reindex()
    assert replicas[1].commands.last_summary.startswith("Reindex finished: 0 added")


@pytest.mark.slm
async def test_a_slack_event_delivered_to_two_replicas_is_answered_once(
        replicas: list[Firstline]) -> None:
    await asyncio.to_thread(replicas[0].indexing.index)
    standin = await SlackStandIn().start()
    runners, senders = [], []
    async with aiohttp.ClientSession() as session:
        try:
            for bot in replicas:  # Slack in HTTP mode, as behind a Kubernetes Service
                slack = slack_settings(standin).replace(app_token="", stream=False)
                app, mode = build_web_app(bot, bot.settings, slack=slack, teams=TeamsSettings())
                assert mode == "http"
                runner = web.AppRunner(app)
                await runner.setup()
                port = free_port()
                await web.TCPSite(runner, "127.0.0.1", port).start()
                runners.append(runner)
                senders.append(SignedSender(f"http://127.0.0.1:{port}/slack/events", session))
            message = standin.user_message(CHANNEL, f"<@{BOT_USER}> {VPN_QUESTION}")
            payload = event_callback(mention_event(message, CHANNEL))
            statuses = await asyncio.gather(*(s.event(payload) for s in senders))
            assert [status for status, _, _ in statuses] == [200, 200]
            await standin.wait_for(lambda: standin.calls_to("chat.update"), 300.0)
            await standin.settle(1.0)
        finally:
            for runner in runners:
                await runner.cleanup()
            await standin.stop()
    assert len(standin.calls_to("chat.postMessage")) == 1  # one placeholder
    [update] = standin.calls_to("chat.update")  # one answer
    assert "vpn-password-reset.md" in str(update.args["blocks"])
    rows = [r for r in await asyncio.to_thread(replicas[0].ledger.rows) if r.channel == "slack"]
    assert len(rows) == 1
