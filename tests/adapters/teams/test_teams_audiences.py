"""Document audiences through the real Teams adapter: a member's personal chat answers from the
HR-only document, the same member in a channel gets a public answer and a pointer to a personal
chat, an outsider gets nothing of it — asserted on what the Bot Connector stand-in received.
The member's groups come from the directory file by AAD object id."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from restricted_core import QUESTION, SECRET_FIGURE, restricted_core
from teams_helpers import USER_AAD, RunningBot, message, served
from teams_standins import BotFrameworkStandIns

from adapters.teams.settings import TeamsSettings

pytestmark = pytest.mark.asyncio(loop_scope="session")

THREAD = "19:audiences0@thread.tacv2;messageid=1714550499999"  # its own, not shared


@pytest.fixture
async def teams_core_bot(settings: TeamsSettings, cloud: BotFrameworkStandIns,
                         tmp_path: Path) -> AsyncIterator[RunningBot]:
    (tmp_path / "directory.csv").write_text(f"user,groups\n{USER_AAD},hr\n")
    core = restricted_core(tmp_path, directory=str(tmp_path / "directory.csv"))
    async with served(core, settings, cloud) as bot:
        yield bot


async def answer(bot: RunningBot, activity: dict[str, object]) -> str:
    assert await bot.post(activity) == 202
    conversation = str(activity["conversation"]["id"])  # type: ignore[index]
    posted = await bot.cloud.wait_for(conversation, lambda p: p.type == "message")
    return json.dumps(posted.activity, ensure_ascii=False)


async def test_a_member_in_a_personal_chat_is_answered_from_it(teams_core_bot: RunningBot):
    sent = await answer(teams_core_bot, message(teams_core_bot.cloud, QUESTION))
    assert SECRET_FIGURE in sent


async def test_a_member_in_a_channel_is_pointed_to_a_personal_chat(teams_core_bot: RunningBot):
    activity = message(teams_core_bot.cloud, QUESTION, kind="channel", mention=True,
                       conversation=THREAD)
    sent = await answer(teams_core_bot, activity)
    assert SECRET_FIGURE not in sent and "salary-bands" not in sent
    assert "There is a HR-only document on this; ask me in a direct message." in sent


async def test_an_outsider_gets_nothing_of_it(teams_core_bot: RunningBot):
    activity = message(teams_core_bot.cloud, QUESTION, user="9f8e7d6c-0000-4000-8000-0000000000ff")
    sent = await answer(teams_core_bot, activity)
    assert SECRET_FIGURE not in sent and "salary-bands" not in sent and "HR-only" not in sent
