"""Answers streamed into a Teams 1:1 chat, checked by the Bot Connector stand-in's streaming
rules (which refuse what Teams refuses), and the AI label, citations and feedback loop."""

from __future__ import annotations

import json
from typing import Any

import pytest
from teams_helpers import USER_AAD, RunningBot, message
from teams_standins import Posted

import adapters.teams.streaming as streaming

pytestmark = pytest.mark.asyncio(loop_scope="session")

QUESTION = "How do I reset my VPN password?"
ANSWER = "Open the self-service portal and choose **Reset VPN password**."
MESSAGE_ENTITY = "https://schema.org/Message"


@pytest.fixture(autouse=True)
def quick_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """One chunk per 0.1 s (the fake core writes a piece every 0.15 s)."""
    monkeypatch.setattr(streaming, "CHUNK_EVERY_SECONDS", 0.1)


def info(posted: Posted) -> dict[str, Any]:
    found = [e for e in posted.activity.get("entities") or [] if e["type"] == "streaminfo"]
    return found[0] if found else {}


def root_entity(posted: Posted) -> dict[str, Any]:
    return next(e for e in posted.activity["entities"] if e["type"] == MESSAGE_ENTITY)


async def answered(bot: RunningBot, activity: dict[str, Any]) -> list[Posted]:
    """Everything posted to the conversation up to and including the answer."""
    assert await bot.post(activity) == 202
    conversation = activity["conversation"]["id"]
    await bot.cloud.wait_for(conversation, lambda p: p.type == "message")
    await bot.idle()
    return bot.cloud.posted(conversation)


async def test_a_personal_chat_question_streams_informative_chunks_then_final(
        teams_bot: RunningBot):
    posted = await answered(teams_bot, message(teams_bot.cloud, QUESTION))

    assert [p.error for p in posted] == [""] * len(posted)  # nothing Teams would refuse
    first, *chunks, final = posted
    assert (first.type, first.text, info(first)) == (
        "typing", "Searching the documents…",
        {"type": "streaminfo", "streamType": "informative", "streamSequence": 1})
    assert first.status == 201
    stream_id = info(final)["streamId"]
    assert len(chunks) >= 1
    assert all(p.type == "typing" and info(p)["streamType"] == "streaming" for p in chunks)
    assert [info(p)["streamId"] for p in chunks] == [stream_id] * len(chunks)
    assert [info(p)["streamSequence"] for p in chunks] == list(range(2, 2 + len(chunks)))
    texts = [p.text for p in chunks]
    assert all(later.startswith(earlier) for earlier, later in zip(texts, texts[1:], strict=False))
    assert ANSWER.startswith(texts[-1])
    assert final.type == "message" and info(final) == {
        "type": "streaminfo", "streamType": "final", "streamId": stream_id}
    assert final.text.startswith(ANSWER)
    assert stream_id in teams_bot.cloud.streams.completed


async def test_text_held_back_by_the_pace_is_streamed_when_due(
        teams_bot: RunningBot, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(streaming, "CHUNK_EVERY_SECONDS", 0.4)
    teams_bot.responder.piece_seconds = 0.01  # the whole text well within one pace interval
    teams_bot.responder.checking_seconds = 1.5  # then a long pause before the Final

    posted = await answered(teams_bot, message(teams_bot.cloud, QUESTION))

    chunks = [p for p in posted if info(p).get("streamType") == "streaming"]
    assert 1 <= len(chunks) < 4  # paced: fewer updates than the core's four pieces
    assert chunks[-1].text == ANSWER  # the last pieces did not wait for the final message
    assert not [p for p in posted if p.error]


async def test_a_channel_question_gets_one_plain_message(teams_bot: RunningBot):
    activity = message(teams_bot.cloud, QUESTION, kind="channel", mention=True)

    posted = await answered(teams_bot, activity)

    assert not [p for p in posted if info(p)]  # no streaming in channels
    replies = [p for p in posted if p.type == "message"]
    assert len(replies) == 1 and not replies[0].error
    assert replies[0].card is not None
    assert ANSWER in [block.get("text") for block in replies[0].card["body"]]


async def test_a_replaced_draft_never_stays_on_screen(teams_bot: RunningBot):
    teams_bot.responder.draft = "Call the helpdesk and ask them to reset it for you."

    posted = await answered(teams_bot, message(teams_bot.cloud, QUESTION))

    assert [p.error for p in posted] == [""] * len(posted)
    final = posted[-1]
    assert final.text.startswith(ANSWER) and "helpdesk" not in final.text
    assert "helpdesk" not in json.dumps(final.card)
    assert any("helpdesk" in p.text for p in posted[:-1])  # the draft was streamed...
    assert info(final)["streamType"] == "final"  # ...and the final message replaced it


@pytest.mark.parametrize("status", ["Checking with a larger model…",
                                    "より大きなモデルで確認しています…"])
async def test_an_escalation_after_streamed_text_shows_its_status_then_the_answer(
        teams_bot: RunningBot, status: str):
    draft = "Call the helpdesk and ask them to reset it for you."
    teams_bot.responder.draft, teams_bot.responder.escalating = draft, status

    posted = await answered(teams_bot, message(teams_bot.cloud, QUESTION))

    assert [p.error for p in posted] == [""] * len(posted)  # nothing Teams would refuse
    chunks = [p for p in posted if info(p).get("streamType") == "streaming"]
    assert chunks[-1].text == f"{draft}\n\n_{status}_"  # the draft, marked as being checked
    final = posted[-1]
    assert info(final)["streamType"] == "final" and final.text.startswith(ANSWER)
    assert "helpdesk" not in final.text and status not in final.text


async def test_a_status_before_any_text_was_streamed_is_an_informative_update(
        teams_bot: RunningBot, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(streaming, "CHUNK_EVERY_SECONDS", 5.0)  # the draft is held back
    teams_bot.responder.draft = "Call the helpdesk and ask them to reset it for you."
    teams_bot.responder.escalating = "Checking with a larger model…"

    posted = await answered(teams_bot, message(teams_bot.cloud, QUESTION))

    assert [p.error for p in posted] == [""] * len(posted)
    kinds = [(info(p).get("streamType"), p.text[:8]) for p in posted]
    assert kinds[:2] == [("informative", "Searchin"), ("informative", "Checking")], kinds
    assert not any("helpdesk" in p.text for p in posted)  # the draft never reached the chat
    assert posted[-1].text.startswith(ANSWER)


async def test_the_answer_carries_the_ai_label_citations_and_feedback_loop(
        teams_bot: RunningBot):
    posted = await answered(teams_bot, message(teams_bot.cloud, QUESTION))

    final = posted[-1]
    root = root_entity(final)
    assert root["@type"] == "Message" and root["additionalType"] == ["AIGeneratedContent"]
    assert root["citation"] == [{
        "@type": "Claim", "position": 1,
        "appearance": {"@type": "DigitalDocument", "name": "Resetting your VPN password",
                       "abstract": "it/vpn-password-reset.md",
                       "url": "https://intranet.example/it/vpn"}}]
    assert final.text.endswith("[1]")
    assert final.activity["channelData"]["feedbackLoopEnabled"] is True
    channel = await answered(teams_bot, message(teams_bot.cloud, QUESTION, kind="groupChat",
                                                mention=True))
    assert root_entity(channel[-1])["additionalType"] == ["AIGeneratedContent"]


@pytest.mark.parametrize("reaction, vote, typed, reason", [
    ("like", "up", json.dumps({"feedbackText": ""}), ""),
    ("dislike", "down", json.dumps({"feedbackText": "the portal link is gone"}),
     "the portal link is gone"),
])
async def test_teams_feedback_buttons_store_the_vote_and_reason(
        teams_bot: RunningBot, reaction: str, vote: str, typed: str, reason: str):
    posted = await answered(teams_bot, message(teams_bot.cloud, QUESTION))
    stream_id = info(posted[-1])["streamId"]
    invoke = message(teams_bot.cloud, conversation=posted[-1].conversation_id)
    invoke.update(type="invoke", name="message/submitAction", text=None, replyToId=stream_id,
                  value={"actionName": "feedback",
                         "actionValue": {"reaction": reaction, "feedback": typed}})

    assert await teams_bot.post(invoke) == 200

    (answer_id,) = teams_bot.responder.answers
    assert teams_bot.responder.votes == [(answer_id, USER_AAD, vote, reason)]


async def test_teams_feedback_buttons_work_on_a_group_chat_answer_too(teams_bot: RunningBot):
    posted = await answered(teams_bot, message(teams_bot.cloud, QUESTION, kind="groupChat",
                                               mention=True))
    sent_id = posted[-1].answer["id"]  # the id the connector gave the (unstreamed) message
    invoke = message(teams_bot.cloud, conversation=posted[-1].conversation_id, kind="groupChat")
    invoke.update(type="invoke", name="message/submitAction", text=None, replyToId=sent_id,
                  value={"actionName": "feedback", "actionValue": {"reaction": "like"}})

    assert await teams_bot.post(invoke) == 200
    assert [vote for _, _, vote, _ in teams_bot.responder.votes] == ["up"]


async def test_a_stream_teams_ends_for_time_still_delivers_the_answer(teams_bot: RunningBot):
    teams_bot.cloud.streams.limit_seconds = 0.5
    teams_bot.responder.checking_seconds = 1.0  # the final message comes too late
    try:
        posted = await answered(teams_bot, message(teams_bot.cloud, QUESTION))
    finally:
        teams_bot.cloud.streams.limit_seconds = 120.0

    refused = [p for p in posted if p.error]
    assert refused and refused[-1].status == 403  # Teams closed the stream...
    final = posted[-1]
    assert not final.error and not info(final)  # ...so the answer came as a plain message
    assert final.text.startswith(ANSWER) and final.card is not None


async def test_a_failure_mid_stream_ends_the_stream_with_the_apology(teams_bot: RunningBot):
    teams_bot.responder.fail_with = RuntimeError("boom")  # after the status, before any text
    activity = message(teams_bot.cloud, QUESTION)

    posted = await answered(teams_bot, activity)

    assert not [p for p in posted if p.error]
    first, apology = posted
    assert info(first)["streamType"] == "informative"
    assert apology.text.startswith("Sorry, something went wrong while answering (reference ")
    assert info(apology)["streamType"] == "final"  # the chat is free for the next stream
    assert activity["conversation"]["id"] not in teams_bot.cloud.streams.active


async def test_feedback_on_an_unknown_message_is_answered_but_not_stored(
        teams_bot: RunningBot):
    invoke = message(teams_bot.cloud)
    invoke.update(type="invoke", name="message/submitAction", text=None, replyToId="nope",
                  value={"actionName": "feedback", "actionValue": {"reaction": "like"}})

    assert await teams_bot.post(invoke) == 200
    assert teams_bot.responder.votes == []
