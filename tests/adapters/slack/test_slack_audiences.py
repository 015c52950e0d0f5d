"""Document audiences through the real Slack app: a member asking in a channel gets a public
answer and a pointer to a DM, in a DM the HR-only document answers, and an outsider gets nothing
of it anywhere — asserted on what the Slack stand-in received. Groups come from Slack user
groups (usergroups.users.list) mapped by FIRSTLINE_SLACK_AUDIENCE_GROUPS, and fail closed.

The core is tests/restricted_core.py's real Firstline (a model-free embedder, a fake chat model
that repeats the passage it was shown)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest_asyncio
from restricted_core import QUESTION, SECRET_FIGURE, restricted_core
from slack_standin import (
    ASKER,
    BOT_USER,
    Running,
    SlackStandIn,
    dm_event,
    event_callback,
    mention_event,
    mounted,
    slack_settings,
)

CHANNEL, DM, HR_GROUP = "C0HELP", "D0ASKER", "S0HRTEAM"


@pytest_asyncio.fixture(loop_scope="function")
async def running(standin: SlackStandIn, tmp_path: Path) -> AsyncIterator[Running]:
    core = restricted_core(tmp_path)
    standin.usergroups[HR_GROUP] = [ASKER]
    settings = replace(slack_settings(standin), audience_groups=(f"{HR_GROUP}=hr",))
    async with mounted(core, settings) as running:
        yield running


SENDING = ("chat.postMessage", "chat.update", "chat.startStream", "chat.appendStream",
           "chat.stopStream", "assistant.threads.setStatus")


def posted(standin: SlackStandIn) -> str:
    """Everything the bot sent to Slack, streamed pieces and statuses included."""
    return json.dumps([c.args for c in standin.calls if c.method in SENDING],
                      ensure_ascii=False)


async def finished(standin: SlackStandIn) -> None:
    """The answer is shown (streamed or not): the working reaction is taken away."""
    await standin.wait_for(lambda: standin.calls_to("reactions.remove"), timeout=20)


async def test_a_member_asking_in_a_channel_is_pointed_to_a_dm(running: Running,
                                                               standin: SlackStandIn) -> None:
    message = standin.user_message(CHANNEL, f"<@{BOT_USER}> {QUESTION}")
    await running.slack.event(event_callback(mention_event(message, CHANNEL)))
    await finished(standin)
    sent = posted(standin)
    assert SECRET_FIGURE not in sent and "salary-bands" not in sent
    assert "There is a HR-only document on this; ask me in a direct message." in sent


async def test_the_member_gets_it_in_a_dm(running: Running, standin: SlackStandIn) -> None:
    message = standin.user_message(DM, QUESTION)
    await running.slack.event(event_callback(dm_event(message, DM)))
    await finished(standin)
    assert SECRET_FIGURE in posted(standin) and "salary-bands" in posted(standin)


async def test_an_outsider_gets_nothing_of_it_even_in_a_dm(running: Running,
                                                           standin: SlackStandIn) -> None:
    standin.usergroups[HR_GROUP] = ["U0SOMEONEELSE"]
    message = standin.user_message(DM, QUESTION)
    await running.slack.event(event_callback(dm_event(message, DM)))
    await finished(standin)
    sent = posted(standin)
    assert SECRET_FIGURE not in sent and "salary-bands" not in sent and "HR-only" not in sent


async def test_a_failed_group_lookup_means_public_documents_only(running: Running,
                                                                 standin: SlackStandIn) -> None:
    standin.failing_usergroups.add(HR_GROUP)
    message = standin.user_message(DM, QUESTION)
    await running.slack.event(event_callback(dm_event(message, DM)))
    await finished(standin)
    assert SECRET_FIGURE not in posted(standin)
