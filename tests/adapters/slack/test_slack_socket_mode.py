"""Socket Mode against a local websocket stand-in: events, commands and clicks, each acked."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web
from fake_responder import FakeResponder
from slack_standin import (
    ADMIN,
    APP_TOKEN,
    BOT_USER,
    SlackStandIn,
    block_action,
    event_callback,
    mention_event,
    slack_settings,
    slash_command,
)

from adapters.slack.server import SocketModeRun, mount_slack, slack_mode, start_socket_mode
from bot.errors import UserFacingError

CHANNEL = "C0HELP"


@pytest_asyncio.fixture(loop_scope="function")
async def socket(standin: SlackStandIn,
                 responder: FakeResponder) -> AsyncIterator[SocketModeRun]:
    run = await start_socket_mode(responder, slack_settings(standin))
    yield run
    await run.close()


async def send(standin: SlackStandIn, kind: str, payload: dict, envelope_id: str,
               retry: int | None = None, reason: str | None = None) -> float:
    """Send one envelope; returns seconds until the app acked it."""
    envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                "accepts_response_payload": kind != "events_api"}
    if kind == "events_api":
        envelope |= {"retry_attempt": retry or 0, "retry_reason": reason or ""}
    sent = await standin.socket_send(envelope)
    await standin.wait_for(lambda: standin.socket_ack(envelope_id))
    acked = next(t for t, m in standin.socket_received if m.get("envelope_id") == envelope_id)
    return acked - sent


async def test_connects_with_the_app_token(socket: SocketModeRun, standin: SlackStandIn) -> None:
    [opened] = standin.calls_to("apps.connections.open")  # once: the URL is handed over
    assert opened.authorization == f"Bearer {APP_TOKEN}"


async def test_a_mention_is_acked_then_answered(socket: SocketModeRun, standin: SlackStandIn,
                                                responder: FakeResponder) -> None:
    responder.delay = 0.5
    message = standin.user_message(CHANNEL, f"<@{BOT_USER}> VPN?")
    started = time.perf_counter()
    ack_seconds = await send(standin, "events_api",
                             event_callback(mention_event(message, CHANNEL)), "env-1")
    assert ack_seconds < 0.5
    assert not standin.calls_to("chat.update")
    [update] = await standin.wait_for(lambda: standin.calls_to("chat.update"))
    assert update.at - started >= 0.5
    assert "self-service portal" in standin.bot_texts(CHANNEL, message["ts"])[0]


async def test_redelivered_envelopes_are_answered_once(socket: SocketModeRun,
                                                       standin: SlackStandIn,
                                                       responder: FakeResponder) -> None:
    message = standin.user_message(CHANNEL, f"<@{BOT_USER}> VPN?")
    body = event_callback(mention_event(message, CHANNEL))
    await send(standin, "events_api", body, "env-1")
    await send(standin, "events_api", body, "env-2", retry=1, reason="timeout")
    await send(standin, "events_api", body, "env-3", retry=2, reason="http_timeout")
    await standin.wait_for(lambda: standin.calls_to("chat.update"))
    await standin.settle()
    assert len(responder.questions) == 1


async def test_a_slash_command_is_acked_and_answered(socket: SocketModeRun,
                                                     standin: SlackStandIn,
                                                     responder: FakeResponder) -> None:
    fields = slash_command("status", ADMIN, CHANNEL, standin.response_url("cmd"))
    assert await send(standin, "slash_commands", fields, "env-cmd") < 0.5
    [response] = await standin.wait_for(lambda: standin.responses)
    assert "Documents: 16" in response.args["text"]
    assert responder.questions[0].is_admin


async def test_a_button_click_is_acked_and_stored(socket: SocketModeRun, standin: SlackStandIn,
                                                  responder: FakeResponder) -> None:
    responder.answered.add("ans0042")
    message = {"ts": standin.next_ts(), "text": "an answer", "blocks": []}
    payload = block_action("firstline_vote_up", "ans0042", ADMIN, CHANNEL, message,
                           standin.response_url("vote"))
    assert await send(standin, "interactive", payload, "env-click") < 0.5
    await standin.wait_for(lambda: responder.votes)
    assert responder.votes == [("ans0042", ADMIN, "up", "")]


async def test_a_refused_app_token_fails_at_start(standin: SlackStandIn,
                                                  responder: FakeResponder) -> None:
    standin.failures["apps.connections.open"] = "invalid_auth"
    with pytest.raises(UserFacingError, match="invalid_auth"):
        await start_socket_mode(responder, slack_settings(standin))


async def test_settings_without_secrets_are_refused(standin: SlackStandIn,
                                                    responder: FakeResponder) -> None:
    settings = slack_settings(standin)
    with pytest.raises(UserFacingError, match="SLACK_SIGNING_SECRET"):
        mount_slack(web.Application(), responder, settings.replace(signing_secret=""))
    with pytest.raises(UserFacingError, match="SLACK_APP_TOKEN"):
        await start_socket_mode(responder, settings.replace(app_token=""))
    with pytest.raises(UserFacingError, match="SLACK_BOT_TOKEN"):
        mount_slack(web.Application(), responder, settings.replace(bot_token=""))


def test_the_mode_follows_the_tokens(standin: SlackStandIn) -> None:
    settings = slack_settings(standin)
    assert slack_mode(settings) == "socket"
    assert slack_mode(settings.replace(app_token="")) == "http"
    assert slack_mode(settings.replace(app_token="", signing_secret="")) is None
    assert slack_mode(settings.replace(bot_token="")) is None
