"""The agent view: suggested prompts (in the person's Slack language) when it is opened, and a
question asked there streamed into its thread."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
import pytest_asyncio
from fake_responder import StreamingFakeResponder
from slack_standin import (
    ASKER,
    Running,
    SlackStandIn,
    assistant_thread_event,
    dm_event,
    event_callback,
    mounted,
)

from adapters.slack.settings import SlackSettings

DM, THREAD = "D0ASKER", "1700000000.000100"


@pytest.fixture
def responder() -> StreamingFakeResponder:
    return StreamingFakeResponder()


async def opened(running: Running, standin: SlackStandIn) -> dict:
    event = assistant_thread_event("assistant_thread_started", ASKER, DM, THREAD)
    status, _, _ = await running.slack.event(event_callback(event))
    assert status == 200
    return await standin.wait_for(lambda: standin.prompts.get((DM, THREAD)))


async def test_opening_the_agent_view_suggests_questions(running: Running,
                                                         standin: SlackStandIn,
                                                         settings: SlackSettings) -> None:
    shown = await opened(running, standin)
    assert [p["message"] for p in shown["prompts"]] == list(settings.suggested_prompts)
    assert shown["title"] == "Ask me about IT, HR, expenses or facilities"


async def test_a_japanese_speaker_gets_japanese_suggestions(running: Running,
                                                           standin: SlackStandIn,
                                                           settings: SlackSettings) -> None:
    standin.locales[ASKER] = "ja-JP"
    shown = await opened(running, standin)
    assert [p["message"] for p in shown["prompts"]] == list(settings.suggested_prompts_ja)
    assert shown["title"] == "IT・人事・経費・総務について質問できます"


@pytest_asyncio.fixture(loop_scope="function")
async def configured(standin: SlackStandIn, responder: StreamingFakeResponder,
                     settings: SlackSettings) -> AsyncIterator[Running]:
    mine = tuple(f"Question {n}?" for n in range(1, 6))
    async with mounted(responder, replace(settings, suggested_prompts=mine)) as running:
        yield running


async def test_configured_suggestions_are_shown_four_at_most(configured: Running,
                                                            standin: SlackStandIn) -> None:
    shown = await opened(configured, standin)
    assert [p["title"] for p in shown["prompts"]] == [f"Question {n}?" for n in range(1, 5)]


async def test_a_question_in_the_agent_thread_is_streamed_there(running: Running,
                                                                standin: SlackStandIn) -> None:
    await opened(running, standin)
    changed = assistant_thread_event("assistant_thread_context_changed", ASKER, DM, THREAD)
    status, _, _ = await running.slack.event(event_callback(changed))
    assert status == 200
    message = standin.user_message(DM, "How do I reset my VPN password?", thread_ts=THREAD)
    await running.slack.event(event_callback(dm_event(message, DM)))
    await standin.wait_for(lambda: standin.calls_to("chat.stopStream"))
    [start] = standin.calls_to("chat.startStream")
    assert (start.args["channel"], start.args["thread_ts"]) == (DM, THREAD)
    assert any("self-service portal" in t for t in standin.bot_texts(DM, THREAD))
