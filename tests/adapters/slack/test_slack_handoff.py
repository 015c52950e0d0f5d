""""Ask a person" in Slack: the real core (restricted_core: real Chroma records, in-memory
ledger) behind the real bolt app, mounted as `firstline serve` mounts it, against the Slack
stand-in; the helpdesk channel is a channel of the same stand-in."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio
from restricted_core import QUESTION, SECRET_FIGURE, restricted_core
from slack_standin import (
    ADMIN,
    ASKER,
    BOT_TOKEN,
    BOT_USER,
    SignedSender,
    SlackStandIn,
    block_action,
    dm_event,
    event_callback,
    mention_event,
    serve,
    slack_settings,
)

from adapters.slack.settings import SlackSettings
from adapters.teams.settings import TeamsSettings
from bot.answering.responder import Firstline
from bot.app.serve import build_web_app
from bot.ledger.memory import MemoryLedger
from bot.models.fake import FakeChatModel
from bot.routing.router import RuleRouter
from bot.settings import Settings
from knowledge.fakes import HashingEmbedder
from knowledge.store import KnowledgeStore, open_client

CHANNEL, DM, HELPDESK, HR_GROUP = "C0HELP", "D0ASKER", "C0HELPDESK", "S0HRTEAM"
PII_QUESTION = ("Can I carry paid time off over? I'm EMP-004512, reach me at "
                "taro.yamada@example.co.jp or 090-1234-5678")
TOLD = ("I've passed your question to the IT helpdesk. Someone from the IT helpdesk will reply "
        "to you.")


def empty_core(tmp_path: Path, **settings: Any) -> Firstline:
    """A real core over a store with nothing indexed: every question is declined."""
    store = KnowledgeStore(open_client(tmp_path / "chroma"), "empty")
    core_settings = Settings.load({"data_dir": tmp_path, "cache_ttl_seconds": 0, **settings},
                                  environ={}, config_file=tmp_path / "none.toml")
    return Firstline(core_settings, local=FakeChatModel("unused", name="slm"), store=store,
                     embeddings=HashingEmbedder(), ledger=MemoryLedger(), router=RuleRouter())


@dataclass
class Served:
    core: Firstline
    slack: SignedSender
    standin: SlackStandIn


@pytest_asyncio.fixture(loop_scope="function")
async def make(standin: SlackStandIn, tmp_path: Path) -> AsyncIterator[Any]:
    runners: list[Any] = []
    sessions: list[aiohttp.ClientSession] = []

    async def start(stream: bool = False, empty: bool = False, **core_settings: Any) -> Served:
        build = empty_core if empty else restricted_core
        core = build(tmp_path / str(len(runners)), handoff_target="slack", **core_settings)
        standin.usergroups[HR_GROUP] = [ASKER]
        standin.names[ASKER] = "Taro Yamada"
        settings: SlackSettings = replace(slack_settings(standin), app_token="", stream=stream,
                                          handoff_channel=HELPDESK,
                                          audience_groups=(f"{HR_GROUP}=hr",))
        app, _ = build_web_app(core, core.settings, slack=settings, teams=TeamsSettings())
        runner, url = await serve(app)
        runners.append(runner)
        sessions.append(aiohttp.ClientSession())
        return Served(core, SignedSender(f"{url}/slack/events", sessions[-1]), standin)

    yield start
    for session in sessions:
        await session.close()
    for runner in runners:
        await runner.cleanup()


async def ask(served: Served, text: str, channel: str = CHANNEL) -> dict[str, Any]:
    """Ask and return the answer message as Slack holds it (blocks and all)."""
    standin = served.standin
    message = standin.user_message(channel, text if channel == DM else f"<@{BOT_USER}> {text}")
    event = dm_event(message, channel) if channel == DM else mention_event(message, channel)
    done = len(standin.calls_to("reactions.remove"))
    await served.slack.event(event_callback(event))
    await standin.wait_for(lambda: len(standin.calls_to("reactions.remove")) > done, timeout=20)
    return [m for m in standin.in_thread(channel, message["ts"]) if m.get("bot_id")][-1]


def buttons(message: dict[str, Any], action_id: str = "firstline_handoff") -> list[dict]:
    return [e for b in message.get("blocks") or [] if b["type"] == "actions"
            for e in b["elements"] if e.get("action_id") == action_id]


async def click(served: Served, message: dict[str, Any] | None, value: str,
                channel: str = CHANNEL, **changes: Any) -> float:
    payload = block_action("firstline_handoff", value, ASKER, channel,
                           message or {"ts": "1.000009"}, served.standin.response_url("handoff"))
    if message is None:  # a button on an ephemeral message: Slack sends no message
        payload.pop("message")
        payload["container"]["is_ephemeral"] = True
    payload.update(changes)
    status, body, seconds = await served.slack.interaction(payload)
    assert (status, body) == (200, "")
    return seconds


def helpdesk_posts(standin: SlackStandIn) -> list[dict[str, Any]]:
    return [c.args for c in standin.calls_to("chat.postMessage")
            if c.args.get("channel") == HELPDESK]


async def test_ask_a_person_posts_the_redacted_question_to_the_helpdesk(
        make: Any, standin: SlackStandIn) -> None:
    served = await make(handoff_on_every_answer=True)
    answer = await ask(served, PII_QUESTION)
    [button] = buttons(answer)
    assert button["text"]["text"] == "Ask a person"
    assert await click(served, answer, button["value"]) < 1.0  # acked at once
    [post] = await standin.wait_for(lambda: helpdesk_posts(standin))
    shown = json.dumps(post, ensure_ascii=False)
    for secret in ("EMP-004512", "taro.yamada@", "090-1234-5678"):
        assert secret not in shown
    assert "I'm [ID], reach me at [EMAIL] or [PHONE]" in shown
    assert f"<@{ASKER}>" in shown and "paid time off" in shown.lower()
    assert f"https://test.slack.com/archives/{CHANNEL}/p" in shown  # the asker's thread
    assert [c.authorization for c in standin.calls_to("chat.postMessage")][-1] == (
        f"Bearer {BOT_TOKEN}")
    told = await standin.wait_for(
        lambda: [t for t in standin.bot_texts(CHANNEL, answer["thread_ts"]) if t == TOLD])
    assert told == [TOLD]
    row = served.core.ledger.get(button["value"])
    [posted] = [m for m in standin.messages[HELPDESK]]
    assert row.handed_off_at is not None and row.handoff_target == f"slack:{HELPDESK}"
    assert row.handoff_reference == f"{HELPDESK}:{posted['ts']}"
    assert buttons(posted, "firstline_handoff_promote")[0]["value"] == button["value"]

    await click(served, answer, button["value"])  # the second click
    [again] = await standin.wait_for(lambda: standin.responses)
    assert again.args["text"] == "This question was already passed to the IT helpdesk."
    assert len(helpdesk_posts(standin)) == 1


async def test_a_declined_answer_offers_a_person(make: Any, standin: SlackStandIn) -> None:
    served = await make(empty=True)  # the default: declined answers and 👎 only
    answer = await ask(served, "2台目のモニターは誰が承認しますか?")
    [button] = buttons(answer)
    assert button["text"]["text"] == "担当者に聞く"
    assert served.core.ledger.get(button["value"]).route == "declined"
    await click(served, answer, button["value"])
    [post] = await standin.wait_for(lambda: helpdesk_posts(standin))
    shown = json.dumps(post, ensure_ascii=False)
    assert "2台目のモニターは誰が承認しますか?" in shown and "ボットの回答(declined)" in shown
    told = "ご質問をITヘルプデスクに引き継ぎました。ITヘルプデスクの担当者から連絡があります。"
    await standin.wait_for(lambda: told in standin.bot_texts(CHANNEL, answer["thread_ts"]))


async def test_a_failed_post_tells_the_asker_and_the_button_works_again(
        make: Any, standin: SlackStandIn) -> None:
    served = await make(handoff_on_every_answer=True)
    answer = await ask(served, "Can I carry paid time off over?")
    [button] = buttons(answer)
    standin.refused_channels[HELPDESK] = "not_in_channel"
    await click(served, answer, button["value"])
    [sorry] = await standin.wait_for(lambda: standin.responses)
    assert sorry.args["text"].startswith("Sorry, I could not pass your question to the IT "
                                         "helpdesk just now.")
    assert sorry.args["response_type"] == "ephemeral"
    assert served.core.ledger.get(button["value"]).handed_off_at is None
    del standin.refused_channels[HELPDESK]
    await click(served, answer, button["value"])
    await standin.wait_for(lambda: standin.messages.get(HELPDESK))
    assert served.core.ledger.get(button["value"]).handed_off_at is not None


async def test_a_thumbs_down_offers_a_person_in_its_follow_up(make: Any,
                                                              standin: SlackStandIn) -> None:
    served = await make()  # declined answers and 👎 only
    answer = await ask(served, "Can I carry paid time off over?")
    assert buttons(answer) == []
    [feedback] = [b for b in answer["blocks"] if b["type"] == "context_actions"]
    value = feedback["elements"][0]["negative_button"]["value"]
    payload = block_action("firstline_feedback", value, ASKER, CHANNEL, answer,
                           standin.response_url("vote"), element="feedback_buttons")
    payload["actions"][0]["block_id"] = feedback["block_id"]
    await served.slack.interaction(payload)
    [offer] = await standin.wait_for(lambda: standin.responses)
    assert offer.args["response_type"] == "ephemeral"
    assert offer.args["text"].startswith("Thanks for the feedback! If you like, a person")
    [button] = buttons(offer.args)
    answer_id = value.partition(":")[2]
    assert button["value"] == f"{answer_id}|{answer['ts']}|{answer['thread_ts']}"
    await click(served, None, button["value"])  # clicked on the ephemeral message
    [post] = await standin.wait_for(lambda: helpdesk_posts(standin))
    assert "Can I carry paid time off over?" in json.dumps(post)
    await standin.wait_for(lambda: TOLD in standin.bot_texts(CHANNEL, answer["thread_ts"]))


async def test_the_helpdesk_never_sees_a_restricted_documents_text(
        make: Any, standin: SlackStandIn) -> None:
    served = await make(handoff_on_every_answer=True)
    answer = await ask(served, QUESTION, channel=DM)  # an hr member, in a DM: answered
    assert SECRET_FIGURE in answer["text"]
    [button] = buttons(answer)
    await click(served, answer, button["value"], channel=DM)
    [post] = await standin.wait_for(lambda: helpdesk_posts(standin))
    shown = json.dumps(post, ensure_ascii=False)
    assert SECRET_FIGURE not in shown and "salary-bands" not in shown
    assert "restricted source(s) not named" in shown
    assert "not included" in shown  # the answer is left out, with the reason


async def test_a_streamed_answer_ends_with_the_button(make: Any, standin: SlackStandIn) -> None:
    served = await make(stream=True, handoff_on_every_answer=True)
    answer = await ask(served, "Can I carry paid time off over?", channel=DM)
    assert standin.calls_to("chat.stopStream")
    [button] = buttons(answer)
    await click(served, answer, button["value"], channel=DM)
    await standin.wait_for(lambda: helpdesk_posts(standin))
    assert served.core.ledger.get(button["value"]).handed_off_at is not None


async def test_an_admin_promotes_the_helpdesk_reply_to_an_approved_answer(
        make: Any, standin: SlackStandIn) -> None:
    served = await make(handoff_on_every_answer=True)
    question = "Can I carry paid time off over to next year?"
    answer = await ask(served, question)
    [button] = buttons(answer)
    await click(served, answer, button["value"])
    [post] = await standin.wait_for(lambda: standin.messages.get(HELPDESK))
    reply = "Yes: up to 5 days, if your manager approves it in the HR portal by 31 March."
    standin.user_message(HELPDESK, "Looking into it", user="U0HELPER", thread_ts=post["ts"])
    standin.user_message(HELPDESK, reply, user="U0HELPER", thread_ts=post["ts"])
    [promote] = buttons(post, "firstline_handoff_promote")

    async def press(user: str) -> None:
        payload = block_action("firstline_handoff_promote", promote["value"], user, HELPDESK,
                               post, standin.response_url("promote"))
        status, body, _ = await served.slack.interaction(payload)
        assert (status, body) == (200, "")

    await press("U0HELPER")  # not an admin
    [refused] = await standin.wait_for(lambda: standin.responses)
    assert refused.args["text"] == ("Only firstline admins can promote a reply to an approved "
                                    "answer.")
    assert served.core.ledger.approved_list() == []

    await press(ADMIN)
    done = await standin.wait_for(lambda: [t for t in standin.bot_texts(HELPDESK, post["ts"])
                                           if "Promoted to approved answer" in t])
    [item] = served.core.ledger.approved_list("active")
    assert (item.question, item.answer, item.owner) == (question, reply, ADMIN)
    assert item.origin == f"handoff:{button['value']}" and item.review_on is not None
    assert done == [f"<@{ADMIN}>: Promoted to approved answer {item.id}: the bot answers "
                    "questions like this one with this reply from now on."]
    await press(ADMIN)
    again = await standin.wait_for(lambda: standin.responses[1:])
    assert again[0].args["text"] == (f"This hand-off was already promoted (approved answer "
                                     f"{item.id}).")

    next_time = await ask(served, question)  # the next asker gets the helpdesk's reply
    assert reply in next_time["text"]
    assert "Ask a person" in json.dumps(next_time["blocks"])  # every answer, approved ones too
