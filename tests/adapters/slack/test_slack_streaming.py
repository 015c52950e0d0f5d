"""Streamed answers through the real bolt app and the Slack stand-in: a status while the core
retrieves, chat.startStream / appendStream / stopStream with the answer's last blocks, a
Replace that never leaves its draft, and the placeholder path where Slack does not stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
import pytest_asyncio
from fake_responder import StreamingFakeResponder
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_standin import (
    ASKER,
    BOT_USER,
    TEAM,
    Running,
    SlackStandIn,
    dm_event,
    event_callback,
    mention_event,
    mounted,
)

from adapters.slack.settings import SlackSettings
from adapters.slack.text import to_mrkdwn
from bot.ledger.memory import MemoryLedger
from bot.ledger.questions import Questions

CHANNEL, DM = "C0HELP", "D0ASKER"
QUESTION = "How do I reset my VPN password?"
REPLY = f"To reset it, use the **self-service portal** [1]. ({QUESTION})"
DRAFT = "Probably ask your manager about the VPN, I think."


@pytest.fixture
def responder() -> StreamingFakeResponder:
    return StreamingFakeResponder()


async def mention(running: Running, standin: SlackStandIn, text: str = QUESTION) -> dict:
    message = standin.user_message(CHANNEL, f"<@{BOT_USER}> {text}")
    status, _, _ = await running.slack.event(event_callback(mention_event(message, CHANNEL)))
    assert status == 200
    return message


async def finished(standin: SlackStandIn, count: int = 1) -> None:
    """The answers are shown: their working reactions are taken away."""
    await standin.wait_for(lambda: len(standin.calls_to("reactions.remove")) >= count)


def bot_messages(standin: SlackStandIn, channel: str, thread_ts: str) -> list[dict]:
    return [m for m in standin.in_thread(channel, thread_ts) if m.get("bot_id")]


async def test_a_mention_is_streamed_and_ends_with_sources_route_and_feedback(
        running: Running, standin: SlackStandIn) -> None:
    message = await mention(running, standin)
    await finished(standin)

    [start] = standin.calls_to("chat.startStream")
    assert (start.args["channel"], start.args["thread_ts"]) == (CHANNEL, message["ts"])
    assert (start.args["recipient_user_id"], start.args["recipient_team_id"]) == (ASKER, TEAM)
    assert standin.calls_to("chat.appendStream")
    [stop] = standin.calls_to("chat.stopStream")
    sources, route, feedback = stop.args["blocks"]
    assert "`vpn-password-reset.md`" in sources["elements"][0]["text"]
    assert route["elements"][0]["text"] == "Answered on-prem"
    assert feedback["elements"][0]["positive_button"]["value"] == "up:ans0001"
    [answer] = bot_messages(standin, CHANNEL, message["ts"])
    assert answer["text"] == REPLY and not answer["streaming"]  # Markdown, as the core wrote it
    assert stop.args["ts"] == answer["ts"]
    assert not standin.calls_to("chat.update", "chat.postMessage")  # no placeholder


async def test_slack_is_called_in_batches_not_per_piece(running: Running, standin: SlackStandIn,
                                                        responder: StreamingFakeResponder) -> None:
    responder.piece, responder.gap = 1, 0.01  # ~80 one-character pieces over ~1 s
    await mention(running, standin)
    await finished(standin)
    start, *appends, stop = standin.calls_to("chat.startStream", "chat.appendStream",
                                             "chat.stopStream")
    assert appends and len(appends) <= (stop.at - start.at) / 0.2 + 1  # one per 0.2 s at most
    assert len(appends) < len(REPLY) / 4  # far fewer calls than pieces


async def test_a_dm_is_streamed_without_recipients(running: Running,
                                                   standin: SlackStandIn) -> None:
    message = standin.user_message(DM, QUESTION)
    await running.slack.event(event_callback(dm_event(message, DM)))
    await finished(standin)
    [start] = standin.calls_to("chat.startStream")
    assert start.args["thread_ts"] == message["ts"] and "recipient_user_id" not in start.args
    assert [m["text"] for m in bot_messages(standin, DM, message["ts"])] == [REPLY]


async def test_the_status_shows_while_the_core_retrieves(running: Running, standin: SlackStandIn,
                                                         responder: StreamingFakeResponder) -> None:
    responder.delay = 0.5
    message = await mention(running, standin)
    [status] = await standin.wait_for(lambda: standin.calls_to("assistant.threads.setStatus"))
    assert {k: status.args[k] for k in ("channel_id", "thread_ts", "status")} == {
        "channel_id": CHANNEL, "thread_ts": message["ts"], "status": "Searching the documents…"}
    assert standin.statuses[(CHANNEL, message["ts"])] == "Searching the documents…"
    assert not standin.calls_to("chat.startStream")
    await finished(standin)
    assert (CHANNEL, message["ts"]) not in standin.statuses  # the answer took its place


async def test_a_replaced_draft_does_not_stay_on_screen(running: Running, standin: SlackStandIn,
                                                        responder: StreamingFakeResponder) -> None:
    responder.draft = DRAFT
    message = await mention(running, standin)
    await finished(standin)

    [start] = standin.calls_to("chat.startStream")
    [stop] = standin.calls_to("chat.stopStream")  # the draft's stream, stopped as it was
    assert "blocks" not in stop.args and "markdown_text" not in stop.args
    updates = standin.calls_to("chat.update")
    assert updates[0].args["text"] == to_mrkdwn(REPLY[:12])  # the Replace, shown at once
    assert updates[0].at < standin.calls_to("reactions.remove")[0].at
    [answer] = bot_messages(standin, CHANNEL, message["ts"])
    assert answer["text"] == to_mrkdwn(REPLY) and "feedback" in str(answer["blocks"])
    assert all("manager" not in u.args["text"] for u in updates)


async def test_an_expired_stream_is_finished_by_chat_update(running: Running,
                                                            standin: SlackStandIn) -> None:
    standin.stream_expiry = 0.1  # the pieces keep coming for ~0.8 s
    message = await mention(running, standin)
    await finished(standin)

    assert standin.calls_to("chat.appendStream")  # tried, refused once expired
    [answer] = bot_messages(standin, CHANNEL, message["ts"])
    assert answer["text"] == to_mrkdwn(REPLY)
    assert "up:ans0001" in str(answer["blocks"])
    assert standin.calls_to("chat.update")[-1].args["ts"] == answer["ts"]


async def test_where_slack_does_not_stream_the_placeholder_is_replaced(
        running: Running, standin: SlackStandIn) -> None:
    standin.failures["chat.startStream"] = "not_allowed"
    first = await mention(running, standin)
    await finished(standin)
    second = await mention(running, standin, "Where is the printer?")
    await finished(standin, 2)

    assert len(standin.calls_to("chat.startStream")) == 1  # not tried again
    for asked in (first, second):
        [answer] = bot_messages(standin, CHANNEL, asked["ts"])
        assert "*self-service portal*" in answer["text"]
        assert "feedback_buttons" in str(answer["blocks"])
    placeholder = standin.calls_to("chat.postMessage")[-1]
    assert placeholder.args["text"] == "_Looking into it…_"


async def test_a_failure_after_streaming_began_shows_the_apology_in_its_place(
        running: Running, standin: SlackStandIn, responder: StreamingFakeResponder) -> None:
    responder.draft = DRAFT
    responder.fail_on.add(QUESTION)
    message = await mention(running, standin)
    await standin.wait_for(lambda: bot_messages(standin, CHANNEL, message["ts"]))
    await standin.settle()
    [shown] = bot_messages(standin, CHANNEL, message["ts"])
    assert "reference" in shown["text"] and "secret.gguf" not in shown["text"]


@pytest_asyncio.fixture(loop_scope="function")
async def not_streaming(standin: SlackStandIn, responder: StreamingFakeResponder,
                        settings: SlackSettings) -> AsyncIterator[Running]:
    async with mounted(responder, replace(settings, stream=False)) as running:
        yield running


async def test_the_setting_turns_streaming_off(not_streaming: Running,
                                               standin: SlackStandIn) -> None:
    message = await mention(not_streaming, standin)
    await finished(standin)
    assert not standin.calls_to("chat.startStream", "assistant.threads.setStatus")
    [answer] = bot_messages(standin, CHANNEL, message["ts"])
    assert answer["text"] == to_mrkdwn(REPLY)


async def test_the_pending_question_points_at_the_stream_and_is_done_once_shown(
        standin: SlackStandIn, responder: StreamingFakeResponder,
        settings: SlackSettings) -> None:
    ledger = MemoryLedger()
    questions = Questions(ledger, "slack", "alive", lease_seconds=30)
    responder.hold = asyncio.Event()  # the answer stays in flight until the row is checked
    async with mounted(responder, settings, questions=questions) as running:
        message = await mention(running, standin)
        await standin.wait_for(lambda: standin.calls_to("chat.startStream"))
        key = f"{CHANNEL}:{message['ts']}"
        streamed = bot_messages(standin, CHANNEL, message["ts"])[0]["ts"]
        await standin.wait_for(lambda: ledger._pending[key][0].payload.get("placeholder_ts"))
        assert ledger._pending[key][0].payload["placeholder_ts"] == streamed  # a takeover's
        responder.hold.set()
        await finished(standin)
        await standin.wait_for(lambda: key in ledger.done)  # marked done just after it shows
        assert ledger.done[key] == "ans0001" and key not in ledger._pending


async def test_the_standin_refuses_what_slack_refuses(standin: SlackStandIn) -> None:
    client = AsyncWebClient(token="xoxb-test-token", base_url=standin.api_url)
    with pytest.raises(SlackApiError, match="invalid_arguments"):  # recipients, outside DMs
        await client.chat_startStream(channel=CHANNEL, thread_ts="1.000001")
    started = await client.chat_startStream(channel=DM, thread_ts="1.000001", markdown_text="a")
    await client.chat_appendStream(channel=DM, ts=started["ts"], markdown_text="b")
    await client.chat_stopStream(channel=DM, ts=started["ts"], markdown_text="c")
    assert standin.bot_texts(DM, "1.000001") == ["abc"]
    with pytest.raises(SlackApiError, match="message_not_in_streaming_state"):  # stopped
        await client.chat_appendStream(channel=DM, ts=started["ts"], markdown_text="d")
    standin.stream_expiry = 0.0
    old = await client.chat_startStream(channel=DM, thread_ts="1.000001", markdown_text="a")
    with pytest.raises(SlackApiError, match="message_not_in_streaming_state"):  # expired
        await client.chat_appendStream(channel=DM, ts=old["ts"], markdown_text="b")
    with pytest.raises(SlackApiError, match="invalid_arguments"):  # at most 4 prompts
        await client.assistant_threads_setSuggestedPrompts(
            channel_id=DM, thread_ts="1.000001", prompts=[{"title": "t", "message": "m"}] * 5)


CHECKING = "Checking with a larger model…"


async def test_an_escalation_after_a_streamed_draft_says_so_then_the_cloud_answer_replaces_it(
        running: Running, standin: SlackStandIn, responder: StreamingFakeResponder) -> None:
    responder.draft, responder.escalating = DRAFT, CHECKING  # TextDelta → Status → Replace
    message = await mention(running, standin)
    await finished(standin)

    [said] = [c for c in standin.calls_to("chat.appendStream")
              if CHECKING in c.args["markdown_text"]]
    assert said.args["markdown_text"].endswith(f"\n\n_{CHECKING}_")  # under the draft, italic
    [stop] = standin.calls_to("chat.stopStream")
    assert said.at < stop.at and "markdown_text" not in stop.args
    assert not standin.calls_to("assistant.threads.setStatus")[1:]  # only the first, "Searching"
    updates = standin.calls_to("chat.update")
    assert updates[0].at > stop.at and updates[0].args["text"] == to_mrkdwn(REPLY[:12])
    assert all(CHECKING not in u.args["text"] for u in updates)
    [answer] = bot_messages(standin, CHANNEL, message["ts"])
    assert answer["text"] == to_mrkdwn(REPLY) and CHECKING not in str(answer["blocks"])


async def test_a_failed_escalation_leaves_exactly_the_local_answer(
        running: Running, standin: SlackStandIn, responder: StreamingFakeResponder) -> None:
    responder.escalating = CHECKING  # TextDelta → Status → Final(the same text)
    message = await mention(running, standin)
    await finished(standin)

    [said] = [c for c in standin.calls_to("chat.appendStream")
              if CHECKING in c.args["markdown_text"]]
    [stop] = standin.calls_to("chat.stopStream")  # no more text: the line cannot stay in it
    assert said.at < stop.at and "markdown_text" not in stop.args and "blocks" not in stop.args
    [update] = standin.calls_to("chat.update")
    [answer] = bot_messages(standin, CHANNEL, message["ts"])
    assert update.args["ts"] == answer["ts"] == stop.args["ts"]
    assert answer["text"] == to_mrkdwn(REPLY) and CHECKING not in str(answer)
    assert "up:ans0001" in str(answer["blocks"])


async def test_a_status_after_text_on_a_message_no_longer_streaming_is_updated_in(
        running: Running, standin: SlackStandIn, responder: StreamingFakeResponder) -> None:
    standin.stream_expiry = 0.1  # the stream is over before the status comes
    responder.escalating = "より大きなモデルで確認しています…"
    message = await mention(running, standin, "VPNのパスワードを再設定するには?")
    await finished(standin)

    [said] = [u for u in standin.calls_to("chat.update") if "確認しています" in u.args["text"]]
    assert said.args["text"].endswith("\n\n_より大きなモデルで確認しています…_")
    [answer] = bot_messages(standin, CHANNEL, message["ts"])
    assert standin.calls_to("chat.update")[-1].at > said.at
    assert "確認しています" not in str(answer) and "up:ans0001" in str(answer["blocks"])
