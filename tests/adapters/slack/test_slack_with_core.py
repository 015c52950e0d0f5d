"""End to end with the real core (``bot.core.Firstline``, the local GGUF model, the sample
knowledge base) behind the real Slack app — only Slack itself is a stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import PurePath
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from slack_standin import (
    ADMIN,
    ASKER,
    BOT_USER,
    Running,
    SignedSender,
    SlackStandIn,
    event_callback,
    feedback_click,
    mention_event,
    mounted,
    serve,
    slack_settings,
)

from adapters.slack.server import mount_slack
from adapters.slack.text import to_mrkdwn
from bot.types import Final, Notify, Question, Reply, StreamEvent

pytestmark = pytest.mark.slm

CHANNEL = "C0HELP"
PHISHING = "How do I report a phishing email?"  # not asked before: no cached answer
ANSWER_SECONDS = 300.0  # a 2-core CI box needs ~10 s per answer; leave room


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from bot.app.composition import build_firstline
    from bot.settings import Settings

    fl = build_firstline(Settings.load({"data_dir": tmp_path_factory.mktemp("core")}))
    fl.indexing.index()  # the sample knowledge base in knowledge/samples
    yield fl
    asyncio.run(fl.aclose())


@pytest_asyncio.fixture(loop_scope="function")
async def real(standin: SlackStandIn, core: object) -> AsyncIterator[Running]:
    settings = replace(slack_settings(standin), stream=False)  # the placeholder path
    async with mounted(core, settings) as running:
        yield running


async def test_a_vpn_question_is_answered_with_its_source(real: Running, standin: SlackStandIn,
                                                         core: object) -> None:
    message = standin.user_message(CHANNEL, f"<@{BOT_USER}> How do I reset my VPN password?")
    status, _, seconds = await real.slack.event(event_callback(mention_event(message, CHANNEL)))
    assert status == 200 and seconds < 3.0

    [update] = await standin.wait_for(lambda: standin.calls_to("chat.update"), ANSWER_SECONDS)
    assert update.args["channel"] == CHANNEL
    placeholder = standin.calls_to("chat.postMessage")[0]
    assert placeholder.args["thread_ts"] == message["ts"]
    shown = str(update.args["blocks"])
    assert "vpn-password-reset.md" in shown
    assert "Answered on-prem" in shown

    answer = standin.in_thread(CHANNEL, message["ts"])[1]
    click = feedback_click("up", ASKER, CHANNEL, answer, standin.response_url("vote"))
    answer_id = click["actions"][0]["value"].removeprefix("up:")
    await real.slack.interaction(click)
    [thanks] = await standin.wait_for(lambda: standin.responses)
    assert thanks.args["text"] == "Thanks for the feedback!"
    row = await asyncio.to_thread(core.ledger.get, answer_id)  # type: ignore[attr-defined]
    assert row is not None and row.feedback == "up"


async def test_admin_commands_run_in_the_core(real: Running, standin: SlackStandIn) -> None:
    refused = standin.user_message(CHANNEL, f"<@{BOT_USER}> reindex")
    await real.slack.event(event_callback(mention_event(refused, CHANNEL)))
    await standin.wait_for(lambda: standin.calls_to("chat.update"), ANSWER_SECONDS)
    assert "only firstline admins" in standin.bot_texts(CHANNEL, refused["ts"])[0]

    start = standin.user_message(CHANNEL, f"<@{BOT_USER}> reindex", user=ADMIN)
    await real.slack.event(event_callback(mention_event(start, CHANNEL)))
    await standin.wait_for(
        lambda: any("Reindex finished" in t for t in standin.bot_texts(CHANNEL, start["ts"])),
        ANSWER_SECONDS)
    texts = standin.bot_texts(CHANNEL, start["ts"])
    assert texts[0].startswith("Reindex started")


class Recording:
    """The real core, noting each streamed answer's final reply (what Slack must end up showing)."""

    def __init__(self, core: Any) -> None:
        self.core = core
        self.replies: list[Reply] = []

    async def handle(self, question: Question, notify: Notify | None = None) -> Reply:
        return await self.core.handle(question, notify)  # type: ignore[no-any-return]

    async def feedback(self, answer_id: str, user: str, vote: Any, reason: str = "") -> None:
        await self.core.feedback(answer_id, user, vote, reason)

    async def stream(self, question: Question,
                     notify: Notify | None = None) -> AsyncIterator[StreamEvent]:
        async for event in self.core.stream(question, notify):
            if isinstance(event, Final):
                self.replies.append(event.reply)
            yield event


async def test_a_sample_kb_answer_is_streamed_through_slack(standin: SlackStandIn,
                                                           core: object) -> None:
    recording = Recording(core)
    web_app = web.Application()
    mount_slack(web_app, recording, slack_settings(standin))
    runner, url = await serve(web_app)
    try:
        async with aiohttp.ClientSession() as session:
            slack = SignedSender(f"{url}/slack/events", session)
            message = standin.user_message(CHANNEL, f"<@{BOT_USER}> {PHISHING}")
            await slack.event(event_callback(mention_event(message, CHANNEL)))
            await standin.wait_for(lambda: standin.calls_to("reactions.remove"), ANSWER_SECONDS)
    finally:
        await runner.cleanup()
    [reply] = recording.replies
    [status, *_] = standin.calls_to("assistant.threads.setStatus")
    [start] = standin.calls_to("chat.startStream")
    assert status.at < start.at
    [answer] = [m for m in standin.in_thread(CHANNEL, message["ts"]) if m.get("bot_id")]
    assert not answer["streaming"]
    if standin.calls_to("chat.update"):  # a draft was replaced: overwritten with the reply
        assert answer["text"] == to_mrkdwn(reply.text)
    else:
        assert answer["text"] == reply.text
        assert standin.calls_to("chat.stopStream")[-1].args["blocks"]
    assert all(PurePath(path).name in str(answer["blocks"]) for path in reply.cited)
    assert f"up:{reply.answer_id}" in str(answer["blocks"])
