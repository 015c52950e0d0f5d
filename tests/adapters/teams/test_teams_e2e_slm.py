"""End to end: signed Teams messages answered by the real core (local SLM, sample KB).

The Bot Framework side is the same stand-ins as elsewhere; nothing in the core is faked.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from teams_helpers import ADMIN_AAD, APP_ID, APP_PASSWORD, USER_AAD, message
from teams_standins import BotFrameworkStandIns, Posted

import adapters.teams.streaming as streaming
from adapters.teams.app import mount_teams
from adapters.teams.settings import TeamsSettings
from bot.settings import Settings

pytestmark = [pytest.mark.slm, pytest.mark.asyncio(loop_scope="session")]


@dataclass
class RealBot:
    url: str
    cloud: BotFrameworkStandIns
    core: Any  # bot.answering.responder.Firstline

    async def say(self, activity: dict[str, Any]) -> str:
        async with aiohttp.ClientSession() as http, http.post(
            f"{self.url}/api/messages", json=activity,
            headers={"Authorization": f"Bearer {self.cloud.channel_token()}"},
        ) as response:
            assert response.status == 202
        return str(activity["conversation"]["id"])

    async def next_message(self, conversation: str, timeout: float = 600, **match: str) -> Posted:
        prefix = match.get("starting", "")
        return await self.cloud.wait_for(
            conversation, lambda p: p.type == "message" and p.text.startswith(prefix), timeout)


@pytest.fixture(scope="module")
async def real_bot(
    cloud: BotFrameworkStandIns, tmp_path_factory: pytest.TempPathFactory, slm_path: Path
) -> AsyncIterator[RealBot]:
    from bot.app.composition import build_firstline

    settings = Settings.load({
        "data_dir": tmp_path_factory.mktemp("firstline-data"), "slm_model": str(slm_path),
        "host": "127.0.0.1"})
    teams = TeamsSettings.load({
        "app_id": APP_ID, "app_password": APP_PASSWORD, "app_type": "MultiTenant",
        "openid_metadata_url": cloud.openid_metadata_url,
        "login_url": cloud.login_url, "admin_ids": ADMIN_AAD})
    core = build_firstline(settings)
    core.indexing.index()
    app = web.Application()
    mount_teams(app, core, teams, host=settings.host)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield RealBot(f"http://127.0.0.1:{runner.addresses[0][1]}", cloud, core)
    finally:
        await runner.cleanup()
        await core.aclose()


async def test_a_vpn_question_gets_a_card_citing_the_kb_and_takes_a_vote(real_bot: RealBot):
    conversation = await real_bot.say(message(real_bot.cloud, "How do I reset my VPN password?"))

    reply = await real_bot.next_message(conversation)

    assert reply.authorized
    card = reply.card
    assert card is not None, reply.text
    texts = [block.get("text", "") for block in card["body"]]
    sources = texts[texts.index("Sources") + 1:]
    assert any("vpn-password-reset" in t for t in sources), texts
    assert any(t.startswith("Answered on-prem") for t in texts)
    thumbs_up = next(a for a in card["actions"] if a["type"] == "Action.Submit")
    await real_bot.say(message(real_bot.cloud, value=thumbs_up["data"],
                               conversation=conversation))
    # the core found the card's answer id on its ledger (else: its UserFacingError text)
    await real_bot.next_message(conversation, timeout=60, starting="Thanks")


async def test_an_admins_reindex_posts_its_summary_when_it_ends(real_bot: RealBot):
    conversation = await real_bot.say(message(real_bot.cloud, "reindex", user=ADMIN_AAD,
                                              conversation=f"a:{uuid.uuid4().hex}"))
    started = await real_bot.next_message(conversation, timeout=60, starting="Reindex started")
    assert started.card is None

    summary = await real_bot.next_message(conversation, starting="Reindex finished")
    assert summary.authorized  # a proactive message: the asking turn had long ended


async def test_a_non_admins_reindex_is_refused_and_logged(
    real_bot: RealBot, caplog: pytest.LogCaptureFixture
):
    conversation = await real_bot.say(message(real_bot.cloud, "reindex", user=USER_AAD))
    refusal = await real_bot.next_message(conversation, timeout=60)
    assert refusal.card is None and "admin" in refusal.text
    assert not real_bot.core.commands.reindex_running
    assert "refused admin command" in caplog.text


def stream_type(posted: Posted) -> str:
    entities = [e for e in posted.activity.get("entities") or [] if e["type"] == "streaminfo"]
    return str(entities[0]["streamType"]) if entities else ""


async def test_a_personal_question_streams_and_teams_feedback_lands_on_its_ledger_row(
    real_bot: RealBot, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(streaming, "CHUNK_EVERY_SECONDS", 0.2)
    # not asked before in this module: a cached answer has no search to report, so no status
    question = "What is the mileage rate for using my own car on a business trip?"
    conversation = await real_bot.say(message(real_bot.cloud, question))
    final = await real_bot.next_message(conversation)

    posted = real_bot.cloud.posted(conversation)
    assert not real_bot.cloud.refused(conversation), real_bot.cloud.refused(conversation)
    kinds = [(p.type, stream_type(p)) for p in posted]
    assert kinds[0] == ("typing", "informative"), kinds
    assert ("typing", "streaming") in kinds
    assert kinds[-1] == ("message", "final")
    root = next(e for e in final.activity["entities"] if e["type"] == "https://schema.org/Message")
    assert root["additionalType"] == ["AIGeneratedContent"]
    assert root["citation"], root  # the sources the answer shows, as citations
    assert final.card is not None
    answer_id = next(a for a in final.card["actions"] if a["type"] == "Action.Submit")[
        "data"]["answer_id"]
    stream_id = next(e for e in final.activity["entities"] if e["type"] == "streaminfo")[
        "streamId"]

    invoke = message(real_bot.cloud, conversation=conversation)
    invoke.update(type="invoke", name="message/submitAction", text=None, replyToId=stream_id,
                  value={"actionName": "feedback", "actionValue": {
                      "reaction": "dislike", "feedback": '{"feedbackText": "link is broken"}'}})
    async with aiohttp.ClientSession() as http, http.post(
        f"{real_bot.url}/api/messages", json=invoke,
        headers={"Authorization": f"Bearer {real_bot.cloud.channel_token()}"},
    ) as response:
        assert response.status == 200

    row = real_bot.core.ledger.get(answer_id)
    assert (row.feedback, row.feedback_reason) == ("down", "link is broken")
