""""Ask a person" in Teams: the real core (restricted_core) behind the real Teams adapter,
mounted as `firstline serve` mounts it; the asker's chat and the helpdesk channel are both
conversations of the Bot Connector stand-in (tokens checked both ways)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from restricted_core import restricted_core
from teams_helpers import ADMIN_AAD, USER_AAD, RunningBot, message
from teams_standins import BotFrameworkStandIns, Posted

from adapters.slack.settings import SlackSettings
from adapters.teams.settings import TeamsSettings
from bot.app.serve import build_web_app

pytestmark = pytest.mark.asyncio(loop_scope="session")

HELPDESK = "19:helpdesk0handoff@thread.tacv2"
PII_QUESTION = ("Can I carry paid time off over? I'm EMP-004512, reach me at "
                "taro.yamada@example.co.jp or 090-1234-5678")
TOLD = ("I've passed your question to the IT helpdesk. Someone from the IT helpdesk will reply "
        "to you.")


@pytest.fixture
async def make(settings: TeamsSettings, cloud: BotFrameworkStandIns,
               tmp_path: Path) -> AsyncIterator[Any]:
    runners: list[web.AppRunner] = []
    sessions: list[aiohttp.ClientSession] = []

    async def start(**core_settings: Any) -> RunningBot:
        core = restricted_core(tmp_path / str(len(runners)), handoff_target="teams",
                               **core_settings)
        teams = replace(settings, handoff_conversation=HELPDESK,
                        handoff_service_url=cloud.service_url)
        cloud.require_token = True
        app, _ = build_web_app(core, core.settings, slack=SlackSettings(), teams=teams)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        sessions.append(aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)))
        port = runner.addresses[0][1]
        return RunningBot(f"http://127.0.0.1:{port}", app, core, cloud, sessions[-1])

    yield start
    cloud.absent_from.clear()
    for session in sessions:
        await session.close()
    for runner in runners:
        await runner.cleanup()


async def ask(bot: RunningBot, text: str) -> tuple[dict[str, Any], Posted]:
    activity = message(bot.cloud, text)
    assert await bot.post(activity) == 202
    conversation = activity["conversation"]["id"]
    answer = await bot.cloud.wait_for(conversation, lambda p: p.card is not None)
    return activity, answer


def submit(bot: RunningBot, asked: dict[str, Any], answer: Posted,
           data: dict[str, Any]) -> dict[str, Any]:
    """The message activity Teams sends for an Action.Submit on the answer's card."""
    activity = message(bot.cloud, value=data, conversation=asked["conversation"]["id"])
    activity["replyToId"] = answer.answer.get("id", "")
    return activity


def actions(posted: Posted) -> list[dict[str, Any]]:
    assert posted.card is not None
    return list(posted.card.get("actions") or [])


async def texts_in(bot: RunningBot, conversation: str, wanted: str) -> Posted:
    return await bot.cloud.wait_for(conversation, lambda p: p.text == wanted)


async def test_ask_a_person_posts_a_redacted_card_to_the_helpdesk_channel(make: Any) -> None:
    bot = await make(handoff_on_every_answer=True)
    asked, answer = await ask(bot, PII_QUESTION)
    [person] = [a for a in actions(answer) if a.get("title") == "Ask a person"]
    assert person["data"]["question"] == PII_QUESTION  # the card carries the asker's words
    assert await bot.post(submit(bot, asked, answer, person["data"])) == 202
    post = await bot.cloud.wait_for(HELPDESK, lambda p: p.card is not None)
    assert post.authorized  # the bot's own token, proactively
    shown = json.dumps(post.activity, ensure_ascii=False)
    for secret in ("EMP-004512", "taro.yamada@", "090-1234-5678"):
        assert secret not in shown
    assert "I'm [ID], reach me at [EMAIL] or [PHONE]" in shown and "Test User" in shown
    conversation = asked["conversation"]["id"]
    final = json.dumps(answer.activity)  # a streamed answer: its final message has the button
    assert '"streamType": "final"' in final
    await texts_in(bot, conversation, TOLD)
    row = bot.responder.ledger.get(person["data"]["answer_id"])
    assert row.handed_off_at is not None and row.handoff_target == f"teams:{HELPDESK}"
    assert row.handoff_reference == f"{HELPDESK};messageid={post.answer['id']}"

    assert await bot.post(submit(bot, asked, answer, person["data"])) == 202
    await texts_in(bot, conversation, "This question was already passed to the IT helpdesk.")
    assert len([p for p in bot.cloud.posted(HELPDESK) if p.card]) == 1


async def test_a_channel_the_bot_is_not_in_fails_and_the_button_works_again(make: Any) -> None:
    bot = await make(handoff_on_every_answer=True)
    asked, answer = await ask(bot, "Can I carry paid time off over?")
    [person] = [a for a in actions(answer) if a.get("title") == "Ask a person"]
    bot.cloud.absent_from.add(HELPDESK)
    await bot.post(submit(bot, asked, answer, person["data"]))
    conversation = asked["conversation"]["id"]
    sorry = await bot.cloud.wait_for(conversation, lambda p: p.text.startswith("Sorry, I could"))
    assert "“Ask a person” again" in sorry.text
    assert bot.responder.ledger.get(person["data"]["answer_id"]).handed_off_at is None
    bot.cloud.absent_from.clear()
    await bot.post(submit(bot, asked, answer, person["data"]))
    await texts_in(bot, conversation, TOLD)


async def test_a_thumbs_down_offers_a_person(make: Any) -> None:
    bot = await make()
    asked, answer = await ask(bot, "Can I carry paid time off over?")
    assert all(a.get("title") != "Ask a person" for a in actions(answer))
    [down] = [a for a in actions(answer) if a["type"] == "Action.ShowCard"]
    data = {**down["card"]["actions"][0]["data"], "reason": "old policy"}
    await bot.post(submit(bot, asked, answer, data))
    conversation = asked["conversation"]["id"]
    offer = await bot.cloud.wait_for(
        conversation, lambda p: p.card is not None and "a person can look" in json.dumps(p.card))
    [person] = actions(offer)
    assert person["data"]["question"] == "Can I carry paid time off over?"
    await bot.post(submit(bot, asked, offer, person["data"]))
    await texts_in(bot, conversation, TOLD)
    assert await bot.cloud.wait_for(HELPDESK, lambda p: "paid time off" in json.dumps(p.card))


def promote_submit(bot: RunningBot, post: Posted, data: dict[str, Any], pasted: str,
                   user: str, name: str) -> dict[str, Any]:
    """The message activity Teams sends for the hand-off card's "Promote" in the channel."""
    thread = f"{HELPDESK};messageid={post.answer['id']}"
    activity = message(bot.cloud, value={**data, "firstline_promote_answer": pasted}, user=user,
                       conversation=thread, kind="channel")
    activity["replyToId"] = post.answer["id"]
    activity["from"]["name"] = name
    return activity


async def test_an_admin_promotes_the_pasted_reply_to_an_approved_answer(make: Any) -> None:
    bot = await make(handoff_on_every_answer=True)
    question = "Can I carry paid time off over to next year?"
    asked, answer = await ask(bot, question)
    [person] = [a for a in actions(answer) if a.get("title") == "Ask a person"]
    await bot.post(submit(bot, asked, answer, person["data"]))
    post = await bot.cloud.wait_for(  # the channel is the session's: find this hand-off's card
        HELPDESK, lambda p: person["data"]["answer_id"] in json.dumps(p.card))
    assert post.card is not None
    [box] = [b for b in post.card["body"] if b["type"] == "Input.Text"]
    assert box["label"] == "The answer to approve" and "value" not in box  # prefilled with nothing
    [promote] = [a for a in actions(post) if a["title"] == "Promote to approved answer"]
    assert promote["type"] == "Action.Submit"
    thread = f"{HELPDESK};messageid={post.answer['id']}"
    reply = "Yes: up to 5 days, if your manager approves it in the HR portal by 31 March."

    await bot.post(promote_submit(bot, post, promote["data"], reply, USER_AAD, "Helper"))
    await texts_in(bot, thread, "Only firstline admins can promote a reply to an approved answer.")
    assert bot.responder.ledger.approved_list() == []

    await bot.post(promote_submit(bot, post, promote["data"], "  ", ADMIN_AAD, "Hana Admin"))
    await bot.cloud.wait_for(thread, lambda p: p.text.startswith("Paste the reply the asker"))
    assert bot.responder.ledger.approved_list() == []

    await bot.post(promote_submit(bot, post, promote["data"], reply, ADMIN_AAD, "Hana Admin"))
    done = await bot.cloud.wait_for(thread, lambda p: "Promoted to approved answer" in p.text)
    [item] = bot.responder.ledger.approved_list("active")
    assert (item.question, item.answer, item.owner) == (question, reply, ADMIN_AAD)
    assert item.origin == f"handoff:{person['data']['answer_id']}" and item.review_on is not None
    assert done.authorized and done.text == (
        f"Hana Admin: Promoted to approved answer {item.id}: the bot answers questions like "
        "this one with this reply from now on.")
    updated = await bot.cloud.wait_for(thread, lambda p: p.method == "PUT")
    assert updated.reply_to_id == post.answer["id"] and updated.authorized
    shown = json.dumps(updated.card)
    assert f"Promoted to approved answer {item.id} by Hana Admin" in shown and reply in shown
    assert question in shown and "Input.Text" not in shown and "Action.Submit" not in shown

    await bot.post(promote_submit(bot, post, promote["data"], reply, ADMIN_AAD, "Hana Admin"))
    await texts_in(bot, thread, f"This hand-off was already promoted (approved answer {item.id}).")
    assert len(bot.responder.ledger.approved_list()) == 1

    _, next_time = await ask(bot, question)  # the next asker gets the helpdesk's reply
    assert reply in json.dumps(next_time.activity)
    [vote] = [a for a in actions(next_time) if a["type"] == "Action.Submit"
              and a["data"].get("vote") == "up"]
    assert bot.responder.ledger.get(vote["data"]["answer_id"]).route == "approved"
