"""Whatever breaks, the asker sees a short reply with a reference id — never a trace or silence."""

from __future__ import annotations

import logging
import re

import pytest
from fake_responder import FakeResponder
from slack_standin import (
    ADMIN,
    BOT_USER,
    Running,
    SlackStandIn,
    block_action,
    event_callback,
    mention_event,
    slash_command,
)

from bot.errors import UserFacingError
from bot.types import Notify, Question, Reply, Route

CHANNEL = "C0HELP"
APOLOGY = re.compile(r"Sorry, something went wrong while answering \(reference ([0-9a-f]{8})\)\.")


async def mention(running: Running, standin: SlackStandIn, text: str) -> dict:
    message = standin.user_message(CHANNEL, f"<@{BOT_USER}> {text}")
    await running.slack.event(event_callback(mention_event(message, CHANNEL)))
    return message


async def test_a_question_failing_inside_the_core_gets_an_apology_with_a_reference(
        running: Running, standin: SlackStandIn, responder: FakeResponder,
        caplog: pytest.LogCaptureFixture) -> None:
    responder.fail_on = {"Why is the VPN slow?"}
    caplog.set_level(logging.ERROR)
    message = await mention(running, standin, "Why is the VPN slow?")

    [update] = await standin.wait_for(lambda: standin.calls_to("chat.update"))
    shown = standin.bot_texts(CHANNEL, message["ts"])
    assert len(shown) == 1  # the placeholder became the apology
    match = APOLOGY.fullmatch(update.args["text"])
    assert match, update.args["text"]
    assert "llama" not in str(update.args) and "secret" not in str(update.args)
    # the same reference is in the log, with the traceback
    logged = [r for r in caplog.records if match.group(1) in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert await standin.wait_for(lambda: standin.calls_to("reactions.remove"))


async def test_a_user_facing_error_is_shown_as_written(running: Running, standin: SlackStandIn,
                                                       responder: FakeResponder) -> None:
    async def refuse(question: Question, notify: Notify | None = None) -> Reply:
        raise UserFacingError("That question is too long; please keep it under 2000 characters.")

    responder.handle = refuse  # type: ignore[method-assign]
    await mention(running, standin, "x" * 50)
    [update] = await standin.wait_for(lambda: standin.calls_to("chat.update"))
    assert update.args["text"].startswith("That question is too long")


async def test_a_failed_reply_from_the_core_is_shown_without_buttons(
        running: Running, standin: SlackStandIn, responder: FakeResponder) -> None:
    async def failed(question: Question, notify: Notify | None = None) -> Reply:
        return Reply(text="Sorry, something went wrong while answering (reference 0badc0de).",
                     answer_id="a1", route=Route.FAILED, covered=False, error="0badc0de")

    responder.handle = failed  # type: ignore[method-assign]
    await mention(running, standin, "VPN?")
    [update] = await standin.wait_for(lambda: standin.calls_to("chat.update"))
    assert "0badc0de" in update.args["text"]
    assert [b["type"] for b in update.args["blocks"]] == ["markdown"]


async def test_blocks_slack_rejects_still_deliver_the_words(running: Running,
                                                            standin: SlackStandIn) -> None:
    standin.refuse = lambda method, args: "invalid_blocks" if args.get("blocks") else None
    message = await mention(running, standin, "VPN?")
    await standin.wait_for(lambda: len(standin.calls_to("chat.update")) == 2)
    assert "self-service portal" in standin.bot_texts(CHANNEL, message["ts"])[0]


async def test_without_a_placeholder_the_answer_is_posted(running: Running,
                                                          standin: SlackStandIn) -> None:
    posts = iter(["ratelimited"])
    standin.refuse = lambda method, args: next(posts, None) if method == "chat.postMessage" \
        else None
    message = await mention(running, standin, "VPN?")
    await standin.wait_for(lambda: standin.bot_texts(CHANNEL, message["ts"]))
    assert not standin.calls_to("chat.update")
    assert "self-service portal" in standin.bot_texts(CHANNEL, message["ts"])[0]


async def test_a_failing_slash_command_answers_privately(running: Running, standin: SlackStandIn,
                                                         responder: FakeResponder) -> None:
    responder.fail_on = {"what is my quota"}
    fields = slash_command("what is my quota", ADMIN, CHANNEL, standin.response_url("cmd"))
    status, _, seconds = await running.slack.form(fields)
    # fails right after ack(): still a prompt 200, not bolt's "didn't call ack()" 404 after 3 s
    assert (status, seconds < 1.0) == (200, True)
    [response] = await standin.wait_for(lambda: standin.responses)
    assert APOLOGY.fullmatch(response.args["text"])
    assert response.args["response_type"] == "ephemeral"


async def test_slack_being_down_while_answering_is_logged(running: Running,
                                                          standin: SlackStandIn,
                                                          caplog: pytest.LogCaptureFixture
                                                          ) -> None:
    standin.refuse = lambda method, args: "fatal_error" if method.startswith("chat.") else None
    await mention(running, standin, "VPN?")
    await standin.wait_for(lambda: any("could not show error" in r.getMessage()
                                       for r in caplog.records))


async def test_a_failing_vote_is_acked_and_apologised_for(running: Running,
                                                         standin: SlackStandIn,
                                                         responder: FakeResponder) -> None:
    async def broken(answer_id: str, user: str, vote: str, reason: str = "") -> None:
        raise OSError("database is locked")

    responder.feedback = broken  # type: ignore[method-assign]
    message = {"ts": standin.next_ts(), "text": "an answer", "blocks": []}
    payload = block_action("firstline_vote_up", "ans0001", ADMIN, CHANNEL, message,
                           standin.response_url("vote"))
    status, _, seconds = await running.slack.interaction(payload)
    assert (status, seconds < 1.0) == (200, True)
    [response] = await standin.wait_for(lambda: standin.responses)
    assert APOLOGY.fullmatch(response.args["text"])
