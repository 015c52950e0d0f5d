"""Events API over a real socket: signed requests, answers in threads, retries, follow-ups."""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from fake_responder import FakeResponder
from slack_standin import (
    ADMIN,
    ASKER,
    BOT_ID,
    BOT_USER,
    Running,
    SignedSender,
    SlackStandIn,
    channel_message_event,
    dm_event,
    event_callback,
    mention_event,
    serve,
)

from adapters.slack.server import mount_slack
from adapters.slack.settings import SlackSettings
from bot.ledger.memory import MemoryLedger
from bot.ledger.questions import Questions

CHANNEL, DM = "C0HELP", "D0ASKER"


async def ask(running: Running, standin: SlackStandIn, text: str, **kw: object) -> dict:
    message = standin.user_message(CHANNEL, f"<@{BOT_USER}> {text}", **kw)  # type: ignore[arg-type]
    status, _, _ = await running.slack.event(event_callback(mention_event(message, CHANNEL)))
    assert status == 200
    return message


def answered(standin: SlackStandIn, thread_ts: str, count: int = 1) -> list[str]:
    texts = [t for t in standin.bot_texts(CHANNEL, thread_ts) if "self-service portal" in t]
    return texts if len(texts) >= count else []


async def test_a_mention_is_answered_in_its_thread_with_blocks(running: Running,
                                                               standin: SlackStandIn,
                                                               responder: FakeResponder) -> None:
    message = await ask(running, standin, "How do I reset my VPN password?")

    await standin.wait_for(lambda: answered(standin, message["ts"]))
    question = responder.questions[0]
    assert question.text == "How do I reset my VPN password?"  # mention stripped
    assert (question.user, question.channel, question.is_admin) == (ASKER, "slack", False)
    assert question.conversation == f"{CHANNEL}:{message['ts']}"
    [placeholder] = standin.calls_to("chat.postMessage")
    assert placeholder.args["thread_ts"] == message["ts"]
    assert placeholder.args["text"] == "_Looking into it…_"
    [update] = standin.calls_to("chat.update")
    assert update.args["ts"] == standin.in_thread(CHANNEL, message["ts"])[1]["ts"]
    blocks = update.args["blocks"]
    assert blocks[0]["type"] == "markdown" and "**self-service portal**" in blocks[0]["text"]
    assert "*self-service portal*" in update.args["text"]  # the mrkdwn fallback
    assert "`vpn-password-reset.md`" in blocks[1]["elements"][0]["text"]
    assert blocks[2]["elements"][0]["text"] == "Answered on-prem"
    [buttons] = blocks[3]["elements"]
    assert (blocks[3]["type"], buttons["type"]) == ("context_actions", "feedback_buttons")
    assert (buttons["positive_button"]["value"], buttons["negative_button"]["value"]) == (
        "up:ans0001", "down:ans0001")


async def test_the_work_sign_comes_first_and_goes_when_answered(running: Running,
                                                               standin: SlackStandIn,
                                                               responder: FakeResponder) -> None:
    responder.delay = 0.5
    message = await ask(running, standin, "Where is the printer?")
    [reaction] = await standin.wait_for(lambda: standin.calls_to("reactions.add"))
    assert (reaction.args["timestamp"], reaction.args["name"]) == (message["ts"], "eyes")
    assert not standin.calls_to("chat.update")  # still thinking
    await standin.wait_for(lambda: standin.calls_to("reactions.remove"))
    assert standin.calls_to("chat.update")


async def test_acks_at_once_while_the_answer_takes_long(running: Running, standin: SlackStandIn,
                                                        responder: FakeResponder) -> None:
    responder.delay = 3.5  # longer than Slack's 3 s
    message = standin.user_message(CHANNEL, f"<@{BOT_USER}> slow one")
    status, _, seconds = await running.slack.event(event_callback(mention_event(message, CHANNEL)))
    assert status == 200
    assert seconds < 1.0
    await standin.wait_for(lambda: answered(standin, message["ts"]), timeout=10)


async def test_a_direct_message_is_answered_in_its_thread(running: Running,
                                                          standin: SlackStandIn,
                                                          responder: FakeResponder) -> None:
    message = standin.user_message(DM, "wifi password?")
    await running.slack.event(event_callback(dm_event(message, DM)))
    await standin.wait_for(lambda: standin.calls_to("chat.update"))
    assert responder.questions[0].text == "wifi password?"
    assert standin.calls_to("chat.postMessage")[0].args["thread_ts"] == message["ts"]


async def test_a_follow_up_in_the_thread_gets_the_earlier_turns(running: Running,
                                                                standin: SlackStandIn,
                                                                responder: FakeResponder) -> None:
    first = await ask(running, standin, "How do I reset my VPN password?")
    await standin.wait_for(lambda: answered(standin, first["ts"]))
    # no mention: a plain reply in the thread the bot answered in
    follow = standin.user_message(CHANNEL, "and on my phone?", thread_ts=first["ts"])
    await running.slack.event(event_callback(channel_message_event(follow, CHANNEL)))

    await standin.wait_for(lambda: answered(standin, first["ts"], 2))
    history = responder.questions[1].history
    assert [t.role for t in history] == ["user", "assistant"]
    assert history[0].text == "How do I reset my VPN password?"
    assert "self-service portal" in history[1].text
    assert responder.questions[1].conversation == f"{CHANNEL}:{first['ts']}"


async def test_a_mention_in_a_thread_arriving_twice_is_answered_once(
        running: Running, standin: SlackStandIn, responder: FakeResponder) -> None:
    first = await ask(running, standin, "VPN?")
    await standin.wait_for(lambda: answered(standin, first["ts"]))
    follow = standin.user_message(CHANNEL, f"<@{BOT_USER}> thanks, and MFA?",
                                  thread_ts=first["ts"])
    # Slack sends both an app_mention and a message event for the same message
    await running.slack.event(event_callback(channel_message_event(follow, CHANNEL)))
    await running.slack.event(event_callback(mention_event(follow, CHANNEL)))
    await standin.wait_for(lambda: answered(standin, first["ts"], 2))
    await standin.settle()
    assert len(responder.questions) == 2
    assert responder.questions[1].text == "thanks, and MFA?"


async def test_other_channel_chatter_is_ignored(running: Running, standin: SlackStandIn,
                                                responder: FakeResponder) -> None:
    loose = standin.user_message(CHANNEL, "lunch anyone?")
    await running.slack.event(event_callback(channel_message_event(loose, CHANNEL)))
    unknown_thread = standin.user_message(CHANNEL, "+1", thread_ts=loose["ts"])
    await running.slack.event(event_callback(channel_message_event(unknown_thread, CHANNEL)))
    await standin.settle()
    assert responder.questions == []


async def test_own_and_other_bots_messages_are_ignored(running: Running, standin: SlackStandIn,
                                                       responder: FakeResponder) -> None:
    ours = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "text": "hi",
            "ts": standin.next_ts(), "channel": DM, "channel_type": "im"}
    other = {"type": "message", "subtype": "bot_message", "bot_id": "B0OTHER",
             "text": f"<@{BOT_USER}> status", "ts": standin.next_ts(), "channel": DM,
             "channel_type": "im"}
    other_mention = {**other, "type": "app_mention", "user": "U0OTHERBOT", "channel": CHANNEL}
    edit = {"type": "message", "subtype": "message_changed", "channel": DM,
            "channel_type": "im", "ts": standin.next_ts(), "message": {"text": "edited"}}
    for event in (ours, other, other_mention, edit):
        status, _, _ = await running.slack.event(event_callback(event))
        assert status == 200
    await standin.settle()
    assert responder.questions == []
    assert not standin.calls_to("chat.postMessage", "reactions.add")


async def test_admin_is_decided_by_the_adapter(running: Running, standin: SlackStandIn,
                                               responder: FakeResponder) -> None:
    message = standin.user_message(CHANNEL, f"<@{BOT_USER}> status", user=ADMIN)
    await running.slack.event(event_callback(mention_event(message, CHANNEL)))
    await standin.wait_for(lambda: standin.calls_to("chat.update"))
    assert responder.questions[0].is_admin


# -- request verification ------------------------------------------------------------------
async def test_a_bad_signature_is_rejected(running: Running, standin: SlackStandIn,
                                           responder: FakeResponder) -> None:
    message = standin.user_message(CHANNEL, f"<@{BOT_USER}> hi")
    raw = json.dumps(event_callback(mention_event(message, CHANNEL)))
    headers = running.slack.headers(raw)
    headers["X-Slack-Signature"] = "v0=" + "0" * 64
    status, _, _ = await running.slack.post(raw, headers)
    assert status == 401
    tampered = running.slack.headers(raw)
    status, _, _ = await running.slack.post(raw.replace("hi", "rm -rf"), tampered)
    assert status == 401
    await standin.settle()
    assert responder.questions == []


async def test_a_stale_timestamp_is_rejected(running: Running, standin: SlackStandIn,
                                             responder: FakeResponder) -> None:
    message = standin.user_message(CHANNEL, f"<@{BOT_USER}> hi")
    body = event_callback(mention_event(message, CHANNEL))
    status, _, _ = await running.slack.event(body, timestamp=int(time.time()) - 6 * 60)
    assert status == 401
    await standin.settle()
    assert responder.questions == []


async def test_url_verification_is_answered(running: Running) -> None:
    status, text, _ = await running.slack.event(
        {"type": "url_verification", "token": "legacy", "challenge": "c-123"})
    assert status == 200
    assert "c-123" in text


# -- retries -------------------------------------------------------------------------------
async def test_retries_never_answer_twice(running: Running, standin: SlackStandIn,
                                          responder: FakeResponder) -> None:
    responder.delay = 0.3
    message = standin.user_message(CHANNEL, f"<@{BOT_USER}> VPN?")
    body = event_callback(mention_event(message, CHANNEL))
    await running.slack.event(body)
    # a timeout retry, then error retries of the very same event
    for retry in ((1, "http_timeout"), (2, "http_error"), (3, "connection_failed")):
        status, _, _ = await running.slack.event(body, retry=retry)
        assert status == 200
    # the same message under a new event id (redelivered as a fresh envelope)
    await running.slack.event(event_callback(mention_event(message, CHANNEL)))
    await standin.wait_for(lambda: answered(standin, message["ts"]))
    await standin.settle()
    assert len(responder.questions) == 1
    assert len(standin.calls_to("chat.update")) == 1


async def test_a_retry_of_an_event_we_never_got_is_answered(running: Running,
                                                             standin: SlackStandIn,
                                                             responder: FakeResponder) -> None:
    # the first delivery failed (e.g. during a deploy): Slack retries after an HTTP error
    message = standin.user_message(CHANNEL, f"<@{BOT_USER}> VPN?")
    body = event_callback(mention_event(message, CHANNEL))
    status, _, _ = await running.slack.event(body, retry=(1, "http_error"))
    assert status == 200
    await standin.wait_for(lambda: answered(standin, message["ts"]))
    assert len(responder.questions) == 1


async def test_a_timeout_retry_of_an_unseen_event_is_answered_once(
        running: Running, standin: SlackStandIn, responder: FakeResponder) -> None:
    # the claim, not the retry reason, decides: a replica that got the first delivery holds it
    message = standin.user_message(CHANNEL, f"<@{BOT_USER}> VPN?")
    body = event_callback(mention_event(message, CHANNEL))
    await running.slack.event(body, retry=(1, "http_timeout"))
    await running.slack.event(body, retry=(2, "http_timeout"))
    await standin.wait_for(lambda: answered(standin, message["ts"]))
    await standin.settle()
    assert len(responder.questions) == 1


# -- wiring -----------------------------------------------------------------------------------
async def test_one_http_session_serves_all_web_api_calls(running: Running) -> None:
    session = running.app.client.session
    assert session is not None and not session.closed


class BrokenInbox(MemoryLedger):
    def claim_question(self, *args: Any) -> bool:
        raise RuntimeError("database is locked")


async def test_questions_are_claimed_in_the_given_inbox_and_a_broken_one_does_not_silence_the_bot(
        standin: SlackStandIn, responder: FakeResponder, settings: SlackSettings) -> None:
    shared, broken = MemoryLedger(), BrokenInbox()
    web_apps = [web.Application(), web.Application()]
    mount_slack(web_apps[0], responder, settings, questions=Questions(shared, "slack"))
    mount_slack(web_apps[1], responder, settings, questions=Questions(broken, "slack"))
    served = [await serve(app) for app in web_apps]
    try:
        async with aiohttp.ClientSession() as session:
            slack = [SignedSender(f"{url}/slack/events", session) for _, url in served]
            message = standin.user_message(CHANNEL, f"<@{BOT_USER}> VPN?")
            body = event_callback(mention_event(message, CHANNEL))
            await slack[0].event(body)
            await standin.wait_for(lambda: answered(standin, message["ts"]))
            assert await standin.wait_for(lambda: shared.done) == {
                f"{CHANNEL}:{message['ts']}": "ans0001"}
            await slack[1].event(body, retry=(1, "http_error"))  # the store fails: answered
            await standin.wait_for(lambda: answered(standin, message["ts"], 2))
    finally:
        for runner, _ in served:
            await runner.cleanup()


async def test_a_non_numeric_timestamp_is_401_not_500(running: Running,
                                                      responder: FakeResponder) -> None:
    raw = json.dumps({"type": "event_callback", "event_id": "EvX", "event": {}})
    headers = running.slack.headers(raw)
    headers["X-Slack-Request-Timestamp"] = "yesterday"
    status, text, _ = await running.slack.post(raw, headers)
    assert status == 401 and "Traceback" not in text
    assert responder.questions == []


@pytest.mark.parametrize("raw", ['{"type": "event_callback", "event": ', "not json at all",
                                 '["a", "list"]', "payload=%7Bbroken"])
async def test_a_signed_malformed_body_is_400_not_500(running: Running, responder: FakeResponder,
                                                      raw: str) -> None:
    headers = running.slack.headers(raw)
    if raw.startswith("payload="):
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    status, text, _ = await running.slack.post(raw, headers)
    assert status == 400 and "Traceback" not in text
    assert responder.questions == []
