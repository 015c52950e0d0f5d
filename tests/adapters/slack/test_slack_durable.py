"""Durable questions in Slack: a question whose replica died is answered by another one's sweep
(in place of the dead one's placeholder), a redelivery after the claim's lease expired is
answered and not twice, and past the attempt limit the asker gets an apology with "Ask again"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from fake_responder import FakeResponder
from slack_standin import (
    ASKER,
    BOT_ID,
    BOT_USER,
    Running,
    SlackStandIn,
    block_action,
    event_callback,
    mention_event,
    mounted,
)

from adapters.slack.blocks import RETRY_ACTION
from adapters.slack.settings import SlackSettings
from bot.app.sweeper import Sweeper
from bot.ledger.memory import MemoryLedger
from bot.ledger.questions import Questions
from bot.settings import Settings, SettingsError

CHANNEL = "C0HELP"


@pytest_asyncio.fixture(loop_scope="function")
async def replica(standin: SlackStandIn, responder: FakeResponder, settings: SlackSettings
                  ) -> AsyncIterator[tuple[Running, Questions]]:
    """A live replica on a shared in-memory ledger (the dead one only left its claims there)."""
    questions = Questions(MemoryLedger(), "slack", "alive", lease_seconds=30)
    async with mounted(responder, settings, questions=questions) as running:
        yield running, questions


def died_while_answering(standin: SlackStandIn, questions: Questions, text: str,
                         attempts: int = 1) -> tuple[dict[str, Any], str]:
    """What a replica killed after its placeholder leaves: the message, a placeholder and a
    pending question whose lease has run out (claimed ``attempts`` times)."""
    message = standin.user_message(CHANNEL, f"<@{BOT_USER}> {text}")
    placeholder = standin._chat_postMessage(
        {"channel": CHANNEL, "thread_ts": message["ts"], "text": "_Looking into it…_"})
    asked = {"channel": CHANNEL, "ts": message["ts"], "thread_ts": message["ts"], "user": ASKER,
             "text": text, "where": "channel", "bot_user_id": BOT_USER, "bot_id": BOT_ID,
             "placeholder_ts": placeholder["ts"]}
    key = f"{CHANNEL}:{message['ts']}"
    for _ in range(attempts):
        questions.inbox.claim_question(key, "slack", asked, "dead", 0)
    return message, placeholder["ts"]


def sweeper(questions: Questions, attempts: int = 3) -> Sweeper:
    return Sweeper(questions.inbox, [questions], attempts=attempts, every=0.05)


def texts(standin: SlackStandIn, message: dict[str, Any]) -> list[str]:
    return standin.bot_texts(CHANNEL, message["ts"])


async def test_the_sweep_answers_in_place_of_the_dead_replicas_placeholder(
        replica: tuple[Running, Questions], standin: SlackStandIn,
        responder: FakeResponder) -> None:
    _, questions = replica
    message, placeholder = died_while_answering(standin, questions, "VPN?")
    assert await sweeper(questions).sweep() == 1
    assert await sweeper(questions).sweep() == 0
    [update] = standin.calls_to("chat.update")
    assert update.args["ts"] == placeholder
    assert len(texts(standin, message)) == 1 and "self-service portal" in texts(standin, message)[0]
    assert [q.text for q in responder.questions] == ["VPN?"]
    assert questions.inbox.done == {f"{CHANNEL}:{message['ts']}": "ans0001"}  # type: ignore[attr-defined]
    assert standin.calls_to("reactions.remove")  # the dead replica's 👀 goes with the answer


async def test_a_redelivery_after_the_lease_expired_is_answered_not_dropped_and_once(
        replica: tuple[Running, Questions], standin: SlackStandIn,
        responder: FakeResponder) -> None:
    running, questions = replica
    message, placeholder = died_while_answering(standin, questions, "VPN?")
    body = event_callback(mention_event(message, CHANNEL))
    await running.slack.event(body, retry=(1, "http_timeout"))
    await standin.wait_for(lambda: standin.calls_to("chat.update"))
    await running.slack.event(body, retry=(2, "http_timeout"))
    await standin.settle()
    assert await sweeper(questions).sweep() == 0
    assert len(responder.questions) == 1
    assert [c.args["ts"] for c in standin.calls_to("chat.update")] == [placeholder]
    assert len(standin.calls_to("chat.postMessage")) == 0  # no second placeholder


async def test_past_the_limit_the_asker_gets_an_apology_and_can_ask_again(
        replica: tuple[Running, Questions], standin: SlackStandIn,
        responder: FakeResponder) -> None:
    running, questions = replica
    message, placeholder = died_while_answering(standin, questions, "VPNのパスワードは?", 3)
    assert await sweeper(questions, attempts=3).sweep() == 1
    assert responder.questions == []
    [apology] = standin.calls_to("chat.update")
    assert apology.args["ts"] == placeholder
    assert "申し訳ありません" in apology.args["text"]
    [button] = [e for b in apology.args["blocks"] if b["type"] == "actions"
                for e in b["elements"]]
    assert (button["action_id"], button["text"]["text"]) == (RETRY_ACTION, "もう一度質問する")
    shown = standin.in_thread(CHANNEL, message["ts"])[-1]
    click = block_action(RETRY_ACTION, button["value"], ASKER, CHANNEL, shown,
                         standin.response_url())
    for _ in range(2):  # a double click asks once
        status, _, _ = await running.slack.interaction(click)
        assert status == 200
    await standin.wait_for(lambda: responder.answered)
    await standin.settle()
    assert [q.text for q in responder.questions] == ["VPNのパスワードは?"]
    assert all(c.args["ts"] == placeholder for c in standin.calls_to("chat.update"))
    assert "self-service portal" in texts(standin, message)[-1]
    assert len(texts(standin, message)) == 1  # the apology became the answer


async def test_an_english_apology_in_english(replica: tuple[Running, Questions],
                                             standin: SlackStandIn) -> None:
    _, questions = replica
    died_while_answering(standin, questions, "How do I reset my VPN password?", 4)
    await sweeper(questions, attempts=3).sweep()
    [apology] = standin.calls_to("chat.update")
    assert apology.args["text"].startswith("Sorry, I could not answer this question")
    assert "Ask again" in str(apology.args["blocks"])


def test_question_settings_must_be_positive() -> None:
    Settings.load(environ={})
    for env, value in (("FIRSTLINE_QUESTION_LEASE_SECONDS", "0"),
                       ("FIRSTLINE_QUESTION_SWEEP_SECONDS", "-1"),
                       ("FIRSTLINE_QUESTION_ATTEMPTS", "0")):
        with pytest.raises(SettingsError) as caught:
            Settings.load(environ={env: value})
        [problem] = caught.value.problems
        assert problem.startswith(env) and "greater than 0" in problem, problem
