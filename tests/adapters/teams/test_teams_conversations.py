"""A user's session with the bot in Teams, over real sockets: a signed activity comes in, the
Bot Connector stand-in records what the bot posted back (with the bot's own bearer token)."""

from __future__ import annotations

import logging

import pytest
from teams_helpers import ADMIN_AAD, USER_AAD, RunningBot, message
from teams_standins import Posted

pytestmark = pytest.mark.asyncio(loop_scope="session")

QUESTION = "How do I reset my VPN password?"


def is_message(posted: Posted) -> bool:
    return posted.type == "message"


def conversation_of(activity: dict[str, object]) -> str:
    return str(activity["conversation"]["id"])  # type: ignore[index]


async def ask(bot: RunningBot, activity: dict[str, object]) -> Posted:
    assert await bot.post(activity) == 202
    return await bot.cloud.wait_for(conversation_of(activity), is_message)


# --- answering ---------------------------------------------------------------------------
async def test_personal_chat_gets_a_card_with_sources_route_and_feedback(teams_bot: RunningBot):
    activity = message(teams_bot.cloud, QUESTION)

    reply = await ask(teams_bot, activity)

    question = teams_bot.responder.questions[0]
    assert (question.text, question.user, question.channel) == (QUESTION, USER_AAD, "teams")
    assert question.conversation == conversation_of(activity)
    assert question.is_admin is False
    assert reply.authorized
    assert reply.reply_to_id == activity["id"]
    card = reply.card
    assert card is not None and card["type"] == "AdaptiveCard"
    texts = [block.get("text", "") for block in card["body"]]
    # streamed in a 1:1 chat: the answer is the message text (as streamed), with its citation
    assert reply.text == "Open the self-service portal and choose **Reset VPN password**.\n\n[1]"
    assert any("Resetting your VPN password" in t for t in texts)
    assert "Answered on-prem" in texts
    votes = {a["title"]: a for a in card["actions"]}
    assert votes["👍 Helpful"]["data"]["vote"] == "up"
    # clients that cannot render cards show the summary / fallbackText
    assert "Resetting your VPN password" in reply.activity["summary"]
    assert card["fallbackText"] == reply.activity["summary"]


async def test_a_typing_indicator_comes_before_the_answer(teams_bot: RunningBot):
    activity = message(teams_bot.cloud, QUESTION)
    await ask(teams_bot, activity)

    kinds = [p.type for p in teams_bot.cloud.posted(conversation_of(activity))]
    assert kinds[0] == "typing" and kinds[-1] == "message"


async def test_a_channel_message_that_mentions_the_bot_is_answered_in_its_thread(
    teams_bot: RunningBot,
):
    thread = "19:3f1a0c@thread.tacv2;messageid=1714550400000"
    activity = message(teams_bot.cloud, QUESTION, kind="channel", mention=True,
                       conversation=thread)

    reply = await ask(teams_bot, activity)

    assert teams_bot.responder.questions[0].text == QUESTION  # the mention is gone
    assert reply.conversation_id == thread and reply.reply_to_id == activity["id"]
    assert reply.card is not None


async def test_a_group_chat_mention_is_answered(teams_bot: RunningBot):
    activity = message(teams_bot.cloud, QUESTION, kind="groupChat", mention=True,
                       conversation="19:meeting_abc@thread.v2")
    reply = await ask(teams_bot, activity)
    assert teams_bot.responder.questions[0].text == QUESTION
    assert reply.card is not None


async def test_channel_chatter_without_a_mention_is_left_alone(teams_bot: RunningBot):
    activity = message(teams_bot.cloud, "lunch at noon?", kind="channel",
                       conversation="19:3f1a0c@thread.tacv2;messageid=1714550400001")

    assert await teams_bot.post(activity) == 202
    await teams_bot.idle()

    assert teams_bot.responder.questions == []
    assert teams_bot.cloud.posted(conversation_of(activity)) == []


# --- feedback from the card ------------------------------------------------------------------
async def test_thumbs_up_from_the_card_is_stored_on_the_answer(teams_bot: RunningBot):
    asked = message(teams_bot.cloud, QUESTION)
    card = (await ask(teams_bot, asked)).card
    assert card is not None
    thumbs_up = next(a for a in card["actions"] if a["type"] == "Action.Submit")

    submit = message(teams_bot.cloud, value=thumbs_up["data"],
                     conversation=conversation_of(asked))
    assert await teams_bot.post(submit) == 202
    thanks = await teams_bot.cloud.wait_for(conversation_of(asked),
                                            lambda p: "Thanks" in p.text)

    answer_id = thumbs_up["data"]["answer_id"]
    assert teams_bot.responder.votes == [(answer_id, USER_AAD, "up", "")]
    assert thanks.authorized and thanks.reply_to_id == submit["id"]
    assert len(teams_bot.responder.questions) == 1  # a vote is not a question


async def test_thumbs_down_carries_the_typed_reason(teams_bot: RunningBot):
    asked = message(teams_bot.cloud, QUESTION)
    card = (await ask(teams_bot, asked)).card
    assert card is not None
    show = next(a for a in card["actions"] if a["type"] == "Action.ShowCard")
    send = show["card"]["actions"][0]
    # Teams merges the inputs of the card into the submitted data
    value = {**send["data"], "reason": "  the portal link is dead  "}

    assert await teams_bot.post(message(teams_bot.cloud, value=value,
                                        conversation=conversation_of(asked))) == 202
    await teams_bot.cloud.wait_for(conversation_of(asked), lambda p: "noted" in p.text)

    assert teams_bot.responder.votes == [
        (send["data"]["answer_id"], USER_AAD, "down", "the portal link is dead")]


async def test_feedback_on_an_unknown_answer_shows_the_cores_message(teams_bot: RunningBot):
    value = {"firstline": "feedback", "answer_id": "ans-gone", "vote": "up"}
    activity = message(teams_bot.cloud, value=value)

    reply = await ask(teams_bot, activity)

    assert reply.text == "I can't find that answer any more."


# --- admin commands -----------------------------------------------------------------------
async def test_an_admins_reindex_reports_back_proactively_when_it_ends(teams_bot: RunningBot):
    activity = message(teams_bot.cloud, "reindex", user=ADMIN_AAD)

    started = await ask(teams_bot, activity)

    assert teams_bot.responder.questions[0].is_admin is True  # listed in upper case: ignored
    assert started.text == "Reindex started; I'll post the summary here."
    assert started.card is None  # command output is plain text
    await teams_bot.idle()  # the turn (and its HTTP request) is over ...
    teams_bot.responder.reindex_may_finish.set()  # ... before the reindex ends
    summary = await teams_bot.cloud.wait_for(
        conversation_of(activity), lambda p: p.text.startswith("Reindex finished"))
    assert summary.authorized  # a fresh connector and token, from the stored reference
    assert summary.text == "Reindex finished: 23 documents, 141 chunks, 0 errors."
    assert summary.activity["recipient"]["aadObjectId"] == ADMIN_AAD


async def test_a_non_admins_reindex_is_refused_politely(teams_bot: RunningBot):
    activity = message(teams_bot.cloud, "reindex", user=USER_AAD)

    refusal = await ask(teams_bot, activity)

    assert teams_bot.responder.questions[0].is_admin is False
    assert refusal.text == "Sorry, `reindex` is for helpdesk admins only."
    teams_bot.responder.reindex_may_finish.set()
    await teams_bot.idle()
    assert teams_bot.responder.background == []  # nothing was started
    assert [p.type for p in teams_bot.cloud.posted(conversation_of(activity))].count(
        "message") == 1


async def test_an_admin_command_in_a_channel_needs_the_mention_only(teams_bot: RunningBot):
    activity = message(teams_bot.cloud, "status", user=ADMIN_AAD, kind="channel", mention=True,
                       conversation="19:ops@thread.tacv2;messageid=1714550400002")
    reply = await ask(teams_bot, activity)
    assert reply.text == "status: all good"


# --- errors ------------------------------------------------------------------------------
async def test_a_core_failure_shows_an_apology_with_a_reference_and_no_internals(
    teams_bot: RunningBot, caplog: pytest.LogCaptureFixture
):
    teams_bot.responder.fail_with = RuntimeError("postgres://admin:hunter2@db:5432 refused")
    activity = message(teams_bot.cloud, QUESTION)

    with caplog.at_level(logging.ERROR):
        apology = await ask(teams_bot, activity)

    assert apology.authorized
    assert apology.text.startswith("Sorry, something went wrong while answering (reference ")
    reference = apology.text.rsplit(" ", 1)[-1].rstrip(").")
    assert "hunter2" not in str(teams_bot.cloud.posted(conversation_of(activity)))
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # the traceback is in the log instead


async def test_the_apology_follows_the_clients_language(teams_bot: RunningBot):
    teams_bot.responder.fail_with = RuntimeError("boom")
    activity = message(teams_bot.cloud, "VPNのパスワードを忘れました")
    activity["locale"] = "ja-JP"

    apology = await ask(teams_bot, activity)

    assert apology.text.startswith("申し訳ありません")


async def test_other_activities_are_answered_inline_and_reach_no_core(teams_bot: RunningBot):
    update = message(teams_bot.cloud)
    update.update(type="conversationUpdate", text=None,
                  membersAdded=[{"id": "28:bot"}, {"id": f"29:{USER_AAD}"}])

    assert await teams_bot.post(update) == 200

    assert teams_bot.responder.questions == []
    assert teams_bot.cloud.posted(conversation_of(update)) == []


async def test_an_invoke_the_bot_does_not_handle_gets_501_inline(teams_bot: RunningBot):
    invoke = message(teams_bot.cloud)
    invoke.update(type="invoke", name="composeExtension/query", text=None, value={})

    assert await teams_bot.post(invoke) == 501
    assert teams_bot.responder.questions == []
