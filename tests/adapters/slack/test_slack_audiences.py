"""Document audiences through the real Slack app: a member asking in a channel gets a public
answer and a pointer to a DM, in a DM the HR-only document answers, and an outsider gets nothing
of it anywhere — asserted on what the Slack stand-in received. Groups come from Slack user
groups (usergroups.users.list) mapped by FIRSTLINE_SLACK_AUDIENCE_GROUPS, and fail closed.

The core is the real Firstline with a model-free embedder and a fake chat model, so the answer
text is fixed and what reaches Slack is exactly what the audience filter let through."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest_asyncio
from aiohttp import web
from slack_standin import (
    ASKER,
    BOT_USER,
    Running,
    SignedSender,
    SlackStandIn,
    dm_event,
    event_callback,
    mention_event,
    serve,
    slack_settings,
)

from adapters.slack import mount_slack
from bot.answering.responder import Firstline
from bot.ledger.memory import MemoryLedger
from bot.models.base import Message
from bot.models.fake import FakeChatModel
from bot.routing.router import RuleRouter
from bot.settings import Settings
from knowledge.fakes import HashingEmbedder
from knowledge.indexer import Indexer
from knowledge.store import KnowledgeStore, open_client

CHANNEL, DM, HR_GROUP = "C0HELP", "D0ASKER", "S0HRTEAM"
QUESTION = "What is the L4 Japan salary band?"
SECRET_FIGURE = "13,200,000"


def echo_first_passage(messages: list[Message]) -> str:
    """Answers with the first passage it was shown, so the reply shows what reached the model."""
    user = messages[-1].content
    first = user.split("[1]", 1)[1].split("\n")[0] if "[1]" in user else ""
    return f"From the documents:{first} [1]"


@pytest_asyncio.fixture(loop_scope="function")
async def running(standin: SlackStandIn, tmp_path: Path) -> AsyncIterator[Running]:
    root = tmp_path / "kb"
    (root / "hr").mkdir(parents=True)
    (root / "hr/salary-bands.md").write_text(
        "---\naudience: [hr]\n---\n# Salary bands\n\nThe L4 Japan salary band is 11,000,000 to "
        f"{SECRET_FIGURE} yen.\n")
    (root / "hr/paid-time-off.md").write_text(
        "# Paid time off\n\nThe salary is paid as usual during paid time off; bands do not "
        "change it.\n")
    store, embedder = KnowledgeStore(open_client(tmp_path / "chroma"), "slackaud"), \
        HashingEmbedder()
    Indexer(store, embedder, 700).index([root])
    settings = Settings.load({"data_dir": tmp_path, "cache_ttl_seconds": 0}, environ={},
                             config_file=tmp_path / "none.toml")
    core = Firstline(settings, local=FakeChatModel(echo_first_passage, name="slm"), store=store,
                     embeddings=embedder, ledger=MemoryLedger(), router=RuleRouter(
                         replace(RuleRouter().config, min_dense=-1.0)))
    standin.usergroups[HR_GROUP] = [ASKER]
    web_app = web.Application()
    app = mount_slack(web_app, core, replace(slack_settings(standin),
                                             audience_groups=(f"{HR_GROUP}=hr",)))
    runner, url = await serve(web_app)
    async with aiohttp.ClientSession() as session:
        yield Running(app, url, SignedSender(f"{url}/slack/events", session))
    await runner.cleanup()


def posted(standin: SlackStandIn) -> str:
    return json.dumps([c.args for c in standin.calls
                       if c.method in ("chat.postMessage", "chat.update")], ensure_ascii=False)


async def finished(standin: SlackStandIn) -> None:
    await standin.wait_for(lambda: standin.calls_to("chat.update"), timeout=20)


async def test_a_member_asking_in_a_channel_is_pointed_to_a_dm(running: Running,
                                                               standin: SlackStandIn) -> None:
    message = standin.user_message(CHANNEL, f"<@{BOT_USER}> {QUESTION}")
    await running.slack.event(event_callback(mention_event(message, CHANNEL)))
    await finished(standin)
    sent = posted(standin)
    assert SECRET_FIGURE not in sent and "salary-bands" not in sent
    assert "There is a HR-only document on this; ask me in a direct message." in sent


async def test_the_member_gets_it_in_a_dm(running: Running, standin: SlackStandIn) -> None:
    message = standin.user_message(DM, QUESTION)
    await running.slack.event(event_callback(dm_event(message, DM)))
    await finished(standin)
    assert SECRET_FIGURE in posted(standin) and "salary-bands" in posted(standin)


async def test_an_outsider_gets_nothing_of_it_even_in_a_dm(running: Running,
                                                           standin: SlackStandIn) -> None:
    standin.usergroups[HR_GROUP] = ["U0SOMEONEELSE"]
    message = standin.user_message(DM, QUESTION)
    await running.slack.event(event_callback(dm_event(message, DM)))
    await finished(standin)
    sent = posted(standin)
    assert SECRET_FIGURE not in sent and "salary-bands" not in sent and "HR-only" not in sent


async def test_a_failed_group_lookup_means_public_documents_only(running: Running,
                                                                 standin: SlackStandIn) -> None:
    standin.failing_usergroups.add(HR_GROUP)
    message = standin.user_message(DM, QUESTION)
    await running.slack.event(event_callback(dm_event(message, DM)))
    await finished(standin)
    assert SECRET_FIGURE not in posted(standin)
