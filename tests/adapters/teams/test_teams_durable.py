"""Durable questions in Teams: a question whose replica died is answered proactively in its
conversation by another replica's sweep (with a fresh connector token), a redelivered activity
is answered once, and past the attempt limit the asker gets an apology card with "Ask again"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from teams_helpers import FakeResponder, RunningBot, message, served
from teams_standins import BotFrameworkStandIns, Posted

from adapters.teams.settings import TeamsSettings
from bot.app.sweeper import Sweeper
from bot.ledger.memory import MemoryLedger
from bot.ledger.questions import Questions
from bot.ledger.store import Ledger

pytestmark = pytest.mark.asyncio(loop_scope="session")

QUESTION = "How do I reset my VPN password?"


@pytest_asyncio.fixture(loop_scope="session")
async def replica(settings: TeamsSettings, cloud: BotFrameworkStandIns
                  ) -> AsyncIterator[tuple[RunningBot, Questions]]:
    questions = Questions(MemoryLedger(), "teams", "alive", lease_seconds=30)
    async with served(FakeResponder(), settings, cloud, questions) as bot:
        yield bot, questions


def died_while_answering(questions: Questions, activity: dict[str, Any], attempts: int = 1
                         ) -> None:
    """What a replica killed while answering leaves: a pending question, its lease run out."""
    key = f"teams:{activity['conversation']['id']}:{activity['id']}"
    payload = {"activity": activity, "text": activity["text"], "retry": 0}
    for _ in range(attempts):
        questions.inbox.claim_question(key, "teams", payload, "dead", 0)


def sweep(questions: Questions, attempts: int = 3) -> Sweeper:
    return Sweeper(questions.inbox, [questions], attempts=attempts, every=0.05)


def answers(cloud: BotFrameworkStandIns, conversation: str) -> list[Posted]:
    return [p for p in cloud.posted(conversation)
            if p.type == "message" and p.card and "self-service" in str(p.card)]


async def test_the_sweep_answers_a_dead_replicas_question_proactively(
        replica: tuple[RunningBot, Questions]) -> None:
    bot, questions = replica
    activity = message(bot.cloud, QUESTION)
    died_while_answering(questions, activity)
    assert await sweep(questions).sweep() == 1
    assert await sweep(questions).sweep() == 0
    [answer] = answers(bot.cloud, activity["conversation"]["id"])
    assert answer.authorized  # a fresh connector token, no incoming request to reply to
    assert [q.text for q in bot.responder.questions] == [QUESTION]
    assert list(questions.inbox.done) == [  # type: ignore[attr-defined]
        f"teams:{activity['conversation']['id']}:{activity['id']}"]


async def test_a_redelivered_activity_is_answered_once(
        replica: tuple[RunningBot, Questions]) -> None:
    bot, _ = replica
    activity = message(bot.cloud, QUESTION)
    assert await bot.post(activity) == 202
    assert await bot.post(activity) == 202
    await bot.idle()
    assert len(answers(bot.cloud, activity["conversation"]["id"])) == 1
    assert len(bot.responder.questions) == 1


async def test_past_the_limit_an_apology_card_asks_again_once(
        replica: tuple[RunningBot, Questions]) -> None:
    bot, questions = replica
    activity = {**message(bot.cloud, "VPNのパスワードを忘れました"), "locale": "ja-JP"}
    conversation = activity["conversation"]["id"]
    died_while_answering(questions, activity, attempts=3)
    assert await sweep(questions, attempts=3).sweep() == 1
    [apology] = [p for p in bot.cloud.posted(conversation) if p.card]
    assert bot.responder.questions == []
    assert apology.card is not None and "申し訳ありません" in apology.card["body"][0]["text"]
    [again] = apology.card["actions"]
    assert again["title"] == "もう一度質問する"
    submit = {**message(bot.cloud, value=again["data"], conversation=conversation),
              "replyToId": "card-1"}
    for click in range(2):  # a double click (two activities) asks once
        assert await bot.post({**submit, "id": f"{submit['id']}{click}"}) == 202
        await bot.idle()
    assert [q.text for q in bot.responder.questions] == ["VPNのパスワードを忘れました"]
    assert len(answers(bot.cloud, conversation)) == 1


def feedback_on(cloud: BotFrameworkStandIns, sent: Posted, reaction: str) -> dict[str, Any]:
    """Teams' own 👍/👎 under the message ``sent`` (a ``message/submitAction`` invoke)."""
    ids = [e.get("streamId") for e in sent.activity.get("entities") or []
           if e.get("type") == "streaminfo"]
    invoke = message(cloud, conversation=sent.conversation_id)
    invoke.update(type="invoke", name="message/submitAction", text=None,
                  replyToId=ids[0] if ids else sent.answer["id"],
                  value={"actionName": "feedback", "actionValue": {"reaction": reaction}})
    return invoke


@pytest.mark.parametrize("kind", ["personal", "groupChat"])
async def test_a_vote_after_a_restart_reaches_the_answer_through_the_shared_ledger(
        settings: TeamsSettings, cloud: BotFrameworkStandIns, tmp_path: Any, kind: str) -> None:
    """One replica answers (streamed in a 1:1 chat, plainly in a group chat) and stops; the vote
    on its message arrives at another replica, which finds the answer on the SQLite ledger."""
    responder = FakeResponder()
    with Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite3'}") as ledger:
        async with served(responder, settings, cloud, Questions(ledger, "teams", "a")) as bot:
            activity = message(cloud, QUESTION, kind=kind, mention=kind != "personal")
            assert await bot.post(activity) == 202
            await bot.idle()
        [sent] = answers(cloud, activity["conversation"]["id"])
        async with served(responder, settings, cloud, Questions(ledger, "teams", "b")) as other:
            assert await other.post(feedback_on(cloud, sent, "dislike")) == 200
    (answer_id,) = responder.answers
    assert [(a, vote) for a, _, vote, _ in responder.votes] == [(answer_id, "down")]
