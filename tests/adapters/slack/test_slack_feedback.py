"""👍 / 👎 buttons: interactivity payloads stored with the answer; a 👎 asks for a reason."""

from __future__ import annotations

import json

from fake_responder import FakeResponder
from slack_standin import (
    ASKER,
    BOT_USER,
    Running,
    SlackStandIn,
    block_action,
    event_callback,
    feedback_click,
    mention_event,
    view_submission,
)

CHANNEL = "C0HELP"


async def answer(running: Running, standin: SlackStandIn) -> dict:
    """Ask, wait for the answer, and return the answer message as Slack holds it."""
    question = standin.user_message(CHANNEL, f"<@{BOT_USER}> VPN?")
    await running.slack.event(event_callback(mention_event(question, CHANNEL)))
    await standin.wait_for(lambda: standin.calls_to("chat.update"))
    return standin.in_thread(CHANNEL, question["ts"])[1]


async def click(running: Running, standin: SlackStandIn, message: dict, vote: str,
                answer_id: str | None = None) -> float:
    payload = feedback_click(vote, ASKER, CHANNEL, message, standin.response_url("vote"),
                             answer_id)
    status, body, seconds = await running.slack.interaction(payload)
    assert (status, body) == (200, "")
    return seconds


async def test_a_thumbs_up_is_stored_with_the_answer(running: Running, standin: SlackStandIn,
                                                     responder: FakeResponder) -> None:
    message = await answer(running, standin)
    assert await click(running, standin, message, "up") < 1.0
    [thanks] = await standin.wait_for(lambda: standin.responses)
    assert responder.votes == [("ans0001", ASKER, "up", "")]
    assert thanks.args == {"text": "Thanks for the feedback!", "response_type": "ephemeral",
                           "replace_original": False}


async def test_a_thumbs_down_is_stored_and_asks_for_a_reason(running: Running,
                                                             standin: SlackStandIn,
                                                             responder: FakeResponder) -> None:
    message = await answer(running, standin)
    await click(running, standin, message, "down")
    [opened] = await standin.wait_for(lambda: standin.calls_to("views.open"))
    view = opened.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert opened.args["trigger_id"] == "1337.42.efgh"
    assert json.loads(view["private_metadata"])["answer_id"] == "ans0001"
    await standin.wait_for(lambda: responder.votes)
    assert responder.votes == [("ans0001", ASKER, "down", "")]  # counts even if skipped

    status, body, _ = await running.slack.interaction(
        view_submission(view, ASKER, "  It described the\nold portal "))
    assert (status, body) == (200, "")
    await standin.wait_for(lambda: len(responder.votes) == 2)
    assert responder.votes[1] == ("ans0001", ASKER, "down", "It described the old portal")
    assert not standin.responses  # the dialog was the acknowledgement


async def test_a_thumbs_down_without_a_dialog_still_counts(running: Running,
                                                           standin: SlackStandIn,
                                                           responder: FakeResponder) -> None:
    message = await answer(running, standin)
    standin.failures["views.open"] = "expired_trigger_id"
    await click(running, standin, message, "down")
    [thanks] = await standin.wait_for(lambda: standin.responses)
    assert responder.votes == [("ans0001", ASKER, "down", "")]
    assert thanks.args["text"] == "Thanks for the feedback!"


async def test_a_vote_on_an_unknown_answer_is_explained(running: Running, standin: SlackStandIn,
                                                        responder: FakeResponder) -> None:
    message = await answer(running, standin)
    await click(running, standin, message, "up", answer_id="forgotten")
    [reply] = await standin.wait_for(lambda: standin.responses)
    assert reply.args["text"] == "That answer is too old to rate."
    assert responder.votes == []


async def test_an_older_answers_plain_buttons_still_vote(running: Running, standin: SlackStandIn,
                                                         responder: FakeResponder) -> None:
    message = await answer(running, standin)
    payload = block_action("firstline_vote_down", "ans0001", ASKER, CHANNEL, message,
                           standin.response_url("vote"))
    await running.slack.interaction(payload)
    await standin.wait_for(lambda: responder.votes)
    assert responder.votes == [("ans0001", ASKER, "down", "")]
