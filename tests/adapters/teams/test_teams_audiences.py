"""Document audiences through the real Teams adapter: a member's personal chat answers from the
HR-only document, the same member in a channel gets a public answer and a pointer to a personal
chat, an outsider gets nothing of it — asserted on what the Bot Connector stand-in received.
The member's groups come from the directory file by AAD object id."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from teams_helpers import USER_AAD, RunningBot, message
from teams_standins import BotFrameworkStandIns

from adapters.teams import mount_teams
from adapters.teams.settings import TeamsSettings
from bot.answering.responder import Firstline
from bot.ledger.memory import MemoryLedger
from bot.models.base import Message
from bot.models.fake import FakeChatModel
from bot.routing.router import RuleRouter
from bot.settings import Settings
from knowledge.fakes import HashingEmbedder
from knowledge.indexer import Indexer
from knowledge.store import KnowledgeStore, open_client

pytestmark = pytest.mark.asyncio(loop_scope="session")

QUESTION = "What is the L4 Japan salary band?"
SECRET_FIGURE = "13,200,000"
HOST = "127.0.0.1"  # the bind address the adapter is told about (loopback)
THREAD = "19:audiences0@thread.tacv2;messageid=1714550499999"  # its own, not shared


def echo_first_passage(messages: list[Message]) -> str:
    user = messages[-1].content
    first = user.split("[1]", 1)[1].split("\n")[0] if "[1]" in user else ""
    return f"From the documents:{first} [1]"


@pytest.fixture
async def teams_core_bot(settings: TeamsSettings, cloud: BotFrameworkStandIns,
                         tmp_path: Path) -> AsyncIterator[RunningBot]:
    root = tmp_path / "kb"
    (root / "hr").mkdir(parents=True)
    (root / "hr/salary-bands.md").write_text(
        "---\naudience: [hr]\n---\n# Salary bands\n\nThe L4 Japan salary band is 11,000,000 to "
        f"{SECRET_FIGURE} yen.\n")
    (root / "hr/paid-time-off.md").write_text(
        "# Paid time off\n\nThe salary is paid as usual during paid time off.\n")
    store, embedder = KnowledgeStore(open_client(tmp_path / "chroma"), "teamsaud"), \
        HashingEmbedder()
    Indexer(store, embedder, 700).index([root])
    (tmp_path / "directory.csv").write_text(f"user,groups\n{USER_AAD},hr\n")
    core_settings = Settings.load({"data_dir": tmp_path, "cache_ttl_seconds": 0,
                                   "directory": str(tmp_path / "directory.csv")},
                                  environ={}, config_file=tmp_path / "none.toml")
    core = Firstline(core_settings, local=FakeChatModel(echo_first_passage, name="slm"),
                     store=store, embeddings=embedder, ledger=MemoryLedger(),
                     router=RuleRouter(replace(RuleRouter().config, min_dense=-1.0)))
    cloud.require_token = True
    app = web.Application()
    mount_teams(app, core, settings, host=HOST)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, HOST, 0)
    await site.start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        yield RunningBot(f"http://127.0.0.1:{port}", app, core, cloud, http)  # type: ignore[arg-type]
    await runner.cleanup()


async def answer(bot: RunningBot, activity: dict[str, object]) -> str:
    assert await bot.post(activity) == 202
    conversation = str(activity["conversation"]["id"])  # type: ignore[index]
    posted = await bot.cloud.wait_for(conversation, lambda p: p.type == "message")
    return json.dumps(posted.activity, ensure_ascii=False)


async def test_a_member_in_a_personal_chat_is_answered_from_it(teams_core_bot: RunningBot):
    sent = await answer(teams_core_bot, message(teams_core_bot.cloud, QUESTION))
    assert SECRET_FIGURE in sent


async def test_a_member_in_a_channel_is_pointed_to_a_personal_chat(teams_core_bot: RunningBot):
    activity = message(teams_core_bot.cloud, QUESTION, kind="channel", mention=True,
                       conversation=THREAD)
    sent = await answer(teams_core_bot, activity)
    assert SECRET_FIGURE not in sent and "salary-bands" not in sent
    assert "There is a HR-only document on this; ask me in a direct message." in sent


async def test_an_outsider_gets_nothing_of_it(teams_core_bot: RunningBot):
    activity = message(teams_core_bot.cloud, QUESTION, user="9f8e7d6c-0000-4000-8000-0000000000ff")
    sent = await answer(teams_core_bot, activity)
    assert SECRET_FIGURE not in sent and "salary-bands" not in sent and "HR-only" not in sent
