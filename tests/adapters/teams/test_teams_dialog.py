"""Dialog logic with botbuilder's in-memory TestAdapter (the HTTP path has its own tests)."""

from __future__ import annotations

import asyncio

import pytest
from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount
from teams_helpers import ADMIN_AAD, FakeResponder

from adapters.teams.app import on_turn_error
from adapters.teams.bot import FirstlineTeamsBot
from adapters.teams.outbound import keep_typing
from bot.errors import UserFacingError


def _adapter(responder: FakeResponder) -> TestAdapter:
    bot = FirstlineTeamsBot(responder, app_id="", admin_ids=(ADMIN_AAD,))
    adapter = TestAdapter(bot.on_turn)
    adapter.on_turn_error = on_turn_error
    return adapter


def _context(adapter: TestAdapter, text: str) -> TurnContext:
    return TurnContext(adapter, Activity(
        type=ActivityTypes.message, text=text, channel_id="test",
        conversation=ConversationAccount(id="Convo1"), recipient=ChannelAccount(id="bot"),
        from_property=ChannelAccount(id="User1")))


def _from_admin(text: str) -> Activity:
    return Activity(type=ActivityTypes.message, text=text,
                    from_property=ChannelAccount(id="29:admin", aad_object_id=ADMIN_AAD))


async def test_a_question_gets_typing_then_a_card() -> None:
    adapter = _adapter(FakeResponder())
    await adapter.send(Activity(type=ActivityTypes.message, channel_id="msteams",
                                text="How do I reset my VPN password?"))
    typing, answer = adapter.get_next_activity(), adapter.get_next_activity()
    assert typing.type == ActivityTypes.typing
    assert answer.attachments[0].content_type == "application/vnd.microsoft.card.adaptive"


async def test_a_channel_without_cards_gets_the_plain_text() -> None:
    adapter = _adapter(FakeResponder())  # TestAdapter's channel is "test"
    await adapter.send("How do I reset my VPN password?")
    adapter.get_next_activity()  # typing
    answer = adapter.get_next_activity()
    assert not answer.attachments
    assert answer.text == (
        "Open the self-service portal and choose **Reset VPN password**.\n\n"
        "Sources: Resetting your VPN password <https://intranet.example/it/vpn>\n\n"
        "Answered on-prem")


async def test_an_admin_command_is_plain_text() -> None:
    adapter = _adapter(FakeResponder())
    await adapter.send(_from_admin("status"))
    assert adapter.get_next_activity().type == ActivityTypes.typing
    assert adapter.get_next_activity().text == "status: all good"


async def test_a_user_facing_error_is_shown_as_written() -> None:
    responder = FakeResponder()
    responder.fail_with = UserFacingError("That question is empty.")
    adapter = _adapter(responder)
    await adapter.send("")
    adapter.get_next_activity()  # typing
    assert adapter.get_next_activity().text == "That question is empty."


async def test_typing_repeats_while_the_answer_takes_long() -> None:
    adapter = TestAdapter()
    context = _context(adapter, "slow question")
    async with keep_typing(context, every=0.02):
        await asyncio.sleep(0.15)
    kinds = [a.type for a in adapter.activity_buffer]
    assert kinds.count(ActivityTypes.typing) >= 3


async def test_a_failing_typing_indicator_does_not_fail_the_turn() -> None:
    adapter = TestAdapter()
    context = _context(adapter, "q")

    async def broken(*_: object) -> None:
        raise ConnectionError("connector down")

    context.send_activity = broken
    async with keep_typing(context, every=0.01):
        await asyncio.sleep(0.03)


@pytest.mark.parametrize("text", ["reindex", "costs"])
async def test_commands_from_non_admins_reach_the_core_marked_as_such(text: str) -> None:
    responder = FakeResponder()
    adapter = _adapter(responder)
    await adapter.send(text)
    assert responder.questions[0].is_admin is False
